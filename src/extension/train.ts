import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { checkJobText, type JobSpec } from '../core/job/parse';
import { estimateTotalSteps, peakLearningRate } from '../core/job/plan';
import { schedulePresets } from '../core/schedules/presets';
import { parseScheduleSpec } from '../core/schedules';
import { formatProblem } from '../core/job/specError';
import type { TrainRequest } from '../core/protocol';
import { countCsvRows } from '../node/localFiles';
import { buildTrainRequest, type RequestOptions } from '../node/trainRequest';
import { readConfig, runSettings, type Config } from './config';
import type { JobProblems } from './problems';
import { Run, type RunManager } from './runs';

export interface TrainDeps {
  context: vscode.ExtensionContext;
  runs: RunManager;
  problems: JobProblems;
  output: vscode.OutputChannel;
  showPanel(focus?: { runId?: string }): void;
}

const CREATE_EXAMPLE = '$(add) Create example job…';

/** "Train with Schedule": pick a job, pick a schedule, run it in a child process. */
export async function trainWithSchedule(deps: TrainDeps, uri?: vscode.Uri): Promise<Run | undefined> {
  const jobUri = uri ?? (await pickJobFile(deps.context));
  if (!jobUri) return undefined;
  const loaded = await loadJobForRun(deps, jobUri);
  if (!loaded) return undefined;
  const { job, text } = loaded;
  const csvRows = job.data.type === 'csv' ? await countCsvRows(join(dirname(jobUri.fsPath), job.data.path)) : undefined;
  const totalSteps = estimateTotalSteps(job, csvRows) ?? 1000;
  const picked = await vscode.window.showQuickPick(
    schedulePresets(job.schedule, peakLearningRate(job), totalSteps).map((preset) => ({ label: preset.label, detail: preset.detail, preset })),
    { title: `Train ${vscode.workspace.asRelativePath(jobUri)} with schedule`, placeHolder: 'The learning rate of each step', matchOnDetail: true },
  );
  if (!picked) return undefined;
  job.schedule = parseScheduleSpec(picked.preset.spec);
  return startRun(deps, jobUri, text, job, picked.preset.label.replace(/^\$\([^)]*\)\s*/, ''));
}

/**
 * Reads and checks a job file for any run (training, range test, comparison). An invalid job shows
 * its problems (Problems panel, a message naming file, line and field, the cursor on the first);
 * a job that runs user code needs a trusted workspace. Undefined when it cannot run.
 */
export async function loadJobForRun(deps: Pick<TrainDeps, 'problems'>, jobUri: vscode.Uri): Promise<{ job: JobSpec; text: string } | undefined> {
  const document = await vscode.workspace.openTextDocument(jobUri);
  const text = document.getText();
  const { job, problems } = checkJobText(text);
  if (!job) {
    deps.problems.showJobProblems(jobUri, text);
    const first = problems[0];
    const where = vscode.workspace.asRelativePath(jobUri);
    void vscode.window.showErrorMessage(`Gradscope: ${formatProblem(first, where)}${problems.length > 1 ? ` (and ${problems.length - 1} more in Problems)` : ''}`);
    const range = new vscode.Range(first.range!.start.line, first.range!.start.character, first.range!.end.line, first.range!.end.character);
    await vscode.window.showTextDocument(document, { selection: range });
    return undefined;
  }
  const modules = [job.data.type === 'module' ? job.data.path : undefined, !Array.isArray(job.model) ? job.model.path : undefined].filter(Boolean);
  if (modules.length > 0 && !vscode.workspace.isTrusted) {
    const choice = await vscode.window.showErrorMessage(`Gradscope: this job runs code from ${modules.join(' and ')}, which needs a trusted workspace.`, 'Manage Workspace Trust');
    if (choice) void vscode.commands.executeCommand('workbench.trust.manage');
    return undefined;
  }
  return { job, text };
}

/** The settings as they apply to `scope` (a job file); read afresh each time, so a change applies to the next run. */
export function configFor(scope?: vscode.Uri): Config {
  return readConfig(vscode.workspace.getConfiguration('gradscope', scope));
}

/** The runs folder for a job file: the setting, under the job's workspace folder. */
export function runsDirFor(jobUri: vscode.Uri, config = configFor(jobUri)): string {
  const folder = vscode.workspace.getWorkspaceFolder(jobUri)?.uri.fsPath ?? dirname(jobUri.fsPath);
  return join(folder, config.runsDirectory);
}

/**
 * Where a job's runs look for tfjs-node after the job's folder: its own workspace folder first, then
 * every other one (a multi-root workspace may keep node_modules in a sibling folder).
 */
export function searchRootsFor(jobUri: vscode.Uri): string[] {
  const own = vscode.workspace.getWorkspaceFolder(jobUri);
  const folders = vscode.workspace.workspaceFolders ?? [];
  return [...(own ? [own] : []), ...folders.filter((f) => f !== own)].map((f) => f.uri.fsPath);
}

/** The request of every run the extension starts (Train, Find Learning Rate, each Compare strategy). */
export function trainRequestFor(jobUri: vscode.Uri, job: JobSpec, options: RequestOptions = {}, config = configFor(jobUri)): TrainRequest {
  return buildTrainRequest(job, { jobFile: jobUri.fsPath, runsDir: runsDirFor(jobUri, config), searchRoots: searchRootsFor(jobUri) }, runSettings(config), options);
}

export function startRun(deps: TrainDeps, jobUri: vscode.Uri, text: string, job: JobSpec, scheduleLabel: string): Run {
  const request = trainRequestFor(jobUri, job);
  const run = deps.runs.add(new Run(`${job.name} · ${scheduleLabel}`, jobUri, text, request.job, true));
  run.start(deps.context.asAbsolutePath(join('dist', 'trainer.js')), request, (line) => deps.output.appendLine(line));
  deps.showPanel({ runId: run.id });
  void vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Gradscope: training ${run.title}`, cancellable: true },
    (progress, token) =>
      new Promise<void>((resolve) => {
        token.onCancellationRequested(() => run.stop());
        let reported = 0;
        const listener = run.onDidChange((change) => {
          const total = run.snapshot.totalSteps || 1;
          if (change.type === 'steps') {
            const done = (change.batch.step.at(-1) ?? 0) + 1;
            const increment = (100 * (done - reported)) / total;
            reported = done;
            progress.report({ increment, message: `step ${done}/${total} · loss ${change.batch.loss.at(-1)!.toPrecision(3)}` });
          } else if (change.type === 'status' && !['running', 'paused'].includes(change.status)) {
            listener.dispose();
            resolve();
            const text = `Gradscope: ${run.title} ${change.status}${change.message ? ` (${change.message})` : ''}.`;
            if (change.status === 'failed') void vscode.window.showErrorMessage(text);
            else void vscode.window.showInformationMessage(text);
          }
        });
      }),
  );
  return run;
}

export async function pickJobFile(context: vscode.ExtensionContext): Promise<vscode.Uri | undefined> {
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active?.path.endsWith('.gradscope.json')) return active;
  const files = await vscode.workspace.findFiles('**/*.gradscope.json', '**/node_modules/**', 200);
  const items = [...files.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri })), { label: CREATE_EXAMPLE, uri: undefined }];
  const picked = await vscode.window.showQuickPick(items, { title: 'Gradscope: which job?', placeHolder: 'A *.gradscope.json job file' });
  if (!picked) return undefined;
  return picked.uri ?? createExampleJob(context);
}

/** Writes the MNIST example into the workspace and opens it. */
export async function createExampleJob(context: vscode.ExtensionContext): Promise<vscode.Uri | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) {
    void vscode.window.showErrorMessage('Gradscope: open a folder first; the example job is written into it.');
    return undefined;
  }
  const source = vscode.Uri.joinPath(context.extensionUri, 'examples', 'mnist-warmup-cosine.gradscope.json');
  let target = vscode.Uri.joinPath(folder.uri, 'mnist.gradscope.json');
  for (let n = 2; await exists(target); n++) target = vscode.Uri.joinPath(folder.uri, `mnist-${n}.gradscope.json`);
  await vscode.workspace.fs.copy(source, target);
  await vscode.window.showTextDocument(target);
  return target;
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}
