import * as vscode from 'vscode';
import { readConfig } from './config';
import { LogViews } from './logs';
import { DiagnosticsPanel } from './panel';
import { JobProblems } from './problems';
import { openRun } from './openRun';
import { PythonRuns } from './pythonRuns';
import { RunManager } from './runs';
import { TrainingStatusBar } from './statusBar';
import { StrategyTools } from './tools';
import { createExampleJob, trainWithSchedule } from './train';

let runs: RunManager | undefined;

/** The extension-lifetime scope: everything created here is disposed on deactivation. */
export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Gradscope');
  runs = new RunManager();
  const problems = new JobProblems(runs);
  const panel = new DiagnosticsPanel(context.extensionUri, runs, problems);
  const statusBar = new TrainingStatusBar(runs);
  context.subscriptions.push(output, runs, problems, panel, statusBar);

  const manager = runs;
  const deps = { context, runs: manager, problems, output, showPanel: (focus?: { runId?: string; step?: number }) => panel.show(focus) };
  const tools = new StrategyTools(deps);
  const logs = new LogViews(
    manager,
    (focus) => panel.show(focus),
    output,
    () => readConfig(vscode.workspace.getConfiguration('gradscope')).metricsColumns,
  );
  context.subscriptions.push(tools, logs);
  // Opening a log goes through PythonRuns: a run folder the Python package writes becomes controllable.
  const pythonRuns = new PythonRuns(manager, logs, context.extensionUri);
  context.subscriptions.push(pythonRuns);
  const uriArg = (arg: unknown) => (arg instanceof vscode.Uri ? arg : undefined);
  const targetRun = (arg?: { runId?: string }) => (arg?.runId ? manager.get(arg.runId) : undefined) ?? manager.live().at(-1);

  context.subscriptions.push(
    vscode.commands.registerCommand('gradscope.train', (uri?: vscode.Uri) => trainWithSchedule(deps, uri instanceof vscode.Uri ? uri : undefined)),
    vscode.commands.registerCommand('gradscope.stop', async (arg?: { runId?: string }) => {
      const live = manager.live();
      let run = targetRun(arg);
      if (!arg?.runId && live.length > 1) {
        const picked = await vscode.window.showQuickPick(
          live.map((r) => ({ label: r.title, run: r })),
          { title: 'Gradscope: stop which run?' },
        );
        run = picked?.run;
      }
      if (run) run.stop();
      else void vscode.window.showInformationMessage('Gradscope: no run is training.');
    }),
    vscode.commands.registerCommand('gradscope.showPanel', (arg?: { runId?: string; step?: number }) => panel.show(arg)),
    vscode.commands.registerCommand('gradscope.openRun', () => openRun(manager, (focus) => panel.show(focus))),
    vscode.commands.registerCommand('gradscope.createExampleJob', () => createExampleJob(context)),
    vscode.commands.registerCommand('gradscope.findLearningRate', (arg?: unknown) => tools.findLearningRate(uriArg(arg))),
    vscode.commands.registerCommand('gradscope.compareSchedules', (arg?: unknown) => tools.compareSchedules(uriArg(arg))),
    vscode.commands.registerCommand('gradscope.previewSchedule', (arg?: unknown) => tools.previewSchedule(uriArg(arg))),
    vscode.commands.registerCommand('gradscope.openLog', (arg?: unknown) => pythonRuns.openLog(uriArg(arg))),
    // The names of 0.1 (keybindings and scripts may use them): both open any training log now.
    vscode.commands.registerCommand('gradscope.watchMetrics', (arg?: unknown) => pythonRuns.openLog(uriArg(arg))),
    vscode.commands.registerCommand('gradscope.openTensorBoard', (arg?: unknown) => pythonRuns.openLog(uriArg(arg))),
    vscode.commands.registerCommand('gradscope.addPyTorchMonitoring', () => pythonRuns.addMonitoring()),
    vscode.commands.registerCommand('gradscope.watchNewRuns', () => pythonRuns.toggleWatchNewRuns()),
  );
}

/** No child process may outlive the extension: each trainer is asked to stop, then killed if it lingers. */
export async function deactivate(): Promise<void> {
  await runs?.shutdownAll();
}
