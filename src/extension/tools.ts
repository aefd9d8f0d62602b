import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { parseTree, findNodeAtLocation } from 'jsonc-parser';
import { toCsv, toMarkdown, sortRows, type CompareRow } from '../core/tools/compareTable';
import { checkJobText, parseJobText } from '../core/job/parse';
import { setPeakLrEdits } from '../core/job/edits';
import { estimateTotalSteps, peakLearningRate } from '../core/job/plan';
import { defaultLrFindOptions, type LrFindResult } from '../core/tools/lrFind';
import type { CompareState, PreviewState, TrainerMessage } from '../core/protocol';
import { createSchedule, plannedRates } from '../core/schedules';
import { applyStrategy, defaultStrategies } from '../core/tools/strategies';
import { compareRows, runStrategies, type StrategyOutcome } from '../node/compareRunner';
import { TrainerProcess } from '../node/trainerProcess';
import { ToolPanel } from './toolPanel';
import { runSettings } from './config';
import { configFor, loadJobForRun, pickJobFile, runsDirFor, searchRootsFor, trainRequestFor, type TrainDeps } from './train';

/** Find Learning Rate, Compare Schedules and Preview Schedule (with its CodeLens). */
export class StrategyTools implements vscode.Disposable, vscode.CodeLensProvider {
  private readonly lrPanel: ToolPanel;
  private readonly comparePanel: ToolPanel;
  private readonly previewPanel: ToolPanel;
  private lastLrFind: { jobUri: vscode.Uri; result: LrFindResult; title: string } | undefined;
  private compare: { state: CompareState; outcomes: StrategyOutcome[]; runsDir: string; name: string } | undefined;
  private previewUri: vscode.Uri | undefined;
  private previewTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly deps: TrainDeps) {
    const uri = deps.context.extensionUri;
    this.lrPanel = new ToolPanel(uri, 'lrFind', 'Gradscope: Learning Rate');
    this.comparePanel = new ToolPanel(uri, 'compare', 'Gradscope: Compare');
    this.previewPanel = new ToolPanel(uri, 'preview', 'Gradscope: Schedule Preview');
    this.disposables.push(
      this.lrPanel,
      this.comparePanel,
      this.previewPanel,
      this.lrPanel.onMessage((m) => m.type === 'applyLr' && void this.applyLr()),
      this.comparePanel.onMessage((m) => {
        if (m.type === 'sortCompare') this.sortCompare(m.column);
        if (m.type === 'exportCompare') void this.exportCompare(m.format);
      }),
      vscode.languages.registerCodeLensProvider({ pattern: '**/*.gradscope.json' }, this),
      vscode.workspace.onDidChangeTextDocument((e) => e.document.uri.toString() === this.previewUri?.toString() && this.schedulePreview()),
    );
  }

  async findLearningRate(uri?: vscode.Uri): Promise<void> {
    const jobUri = uri ?? (await pickJobFile(this.deps.context));
    const loaded = jobUri && (await loadJobForRun(this.deps, jobUri));
    if (!jobUri || !loaded) return;
    const title = `${loaded.job.name}: learning-rate range test`;
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Gradscope: ${title}`, cancellable: true },
      (progress, token) =>
        new Promise<LrFindResult | undefined>((resolve) => {
          let result: LrFindResult | undefined;
          let failure: string | undefined;
          const trainer = new TrainerProcess(this.deps.context.asAbsolutePath(join('dist', 'trainer.js')), trainRequestFor(jobUri, loaded.job, { lrFind: defaultLrFindOptions }), {
            message: (message: TrainerMessage) => {
              if (message.type === 'lrFind') result = message.result;
              if (message.type === 'failed') failure = message.message;
              if (message.type === 'steps')
                progress.report({
                  message: `lr ${message.batch.lr.at(-1)!.toExponential(2)} · loss ${message.batch.loss.at(-1)!.toPrecision(3)}`,
                  increment: (100 * message.batch.step.length) / defaultLrFindOptions.steps,
                });
            },
            output: (line) => this.deps.output.appendLine(`[${title}] ${line}`),
          });
          token.onCancellationRequested(() => void trainer.stop());
          void trainer.stopped.then(() => {
            if (!result && failure) void vscode.window.showErrorMessage(`Gradscope: the range test failed: ${failure}`);
            resolve(result);
          });
        }),
    );
    if (!result) return;
    this.lastLrFind = { jobUri, result, title };
    this.lrPanel.show(`Learning rate: ${loaded.job.name}`);
    this.lrPanel.post({ type: 'lrFind', title, result, currentPeak: peakLearningRate(loaded.job) });
  }

  /** Writes the suggestion into the job file as its peak learning rate (an edit, then saved). */
  private async applyLr(): Promise<void> {
    if (!this.lastLrFind) return;
    const { jobUri, result, title } = this.lastLrFind;
    const document = await vscode.workspace.openTextDocument(jobUri);
    const edits = setPeakLrEdits(document.getText(), result.suggestion);
    if (edits.length === 0) return void vscode.window.showWarningMessage('Gradscope: the job has no learning rate to set.');
    const edit = new vscode.WorkspaceEdit();
    for (const e of edits) edit.replace(jobUri, new vscode.Range(document.positionAt(e.offset), document.positionAt(e.offset + e.length)), e.content);
    await vscode.workspace.applyEdit(edit);
    await document.save();
    this.lrPanel.post({ type: 'lrFind', title, result, currentPeak: result.suggestion, applied: true });
    void vscode.window.showInformationMessage(`Gradscope: peak learning rate set to ${Number(result.suggestion.toPrecision(4))} in ${vscode.workspace.asRelativePath(jobUri)}.`);
  }

  async compareSchedules(uri?: vscode.Uri): Promise<void> {
    const jobUri = uri ?? (await pickJobFile(this.deps.context));
    const loaded = jobUri && (await loadJobForRun(this.deps, jobUri));
    if (!jobUri || !loaded) return;
    const { job } = loaded;
    const strategies = defaultStrategies(job, estimateTotalSteps(job) ?? 1000);
    const picked = await vscode.window.showQuickPick(
      strategies.map((s) => ({ label: s.name, description: s.description, picked: true, strategy: s })),
      { canPickMany: true, title: `Compare strategies on ${job.name}`, placeHolder: 'Same seed and data for each' },
    );
    if (!picked || picked.length === 0) return;
    const items = picked.map((p) => ({ strategy: p.strategy, job: parseJobText(JSON.stringify(applyStrategy(job, p.strategy))) }));
    const state: CompareState = {
      title: `${job.name}: ${items.length} strategies`,
      target: null,
      sortedBy: 'finalValidationLoss',
      rows: [],
      runs: [],
      pending: items.map((i) => i.strategy.name),
      progress: items.map((i) => ({ strategy: i.strategy.name, state: 'queued', step: 0, totalSteps: 0 })),
    };
    const live = new Map<number, StrategyOutcome>();
    this.compare = { state, outcomes: [], runsDir: runsDirFor(jobUri), name: job.name };
    this.comparePanel.show(`Compare: ${job.name}`);
    this.comparePanel.post({ type: 'compare', state });
    const config = configFor(jobUri);
    // Finished runs first, then the ones training, each with its series so far.
    const publish = () => {
      state.runs = [...this.compare!.outcomes.map((o) => o.run), ...[...live.values()].map((o) => o.run)];
      this.comparePanel.post({ type: 'compare', state });
    };
    let publishTimer: ReturnType<typeof setTimeout> | undefined;
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Gradscope: comparing ${items.length} strategies`, cancellable: true }, async (progress, token) => {
      // Cancel stops the running strategies politely; the queued ones never start.
      const cancel = new AbortController();
      token.onCancellationRequested(() => cancel.abort());
      const where = {
        distDir: this.deps.context.asAbsolutePath('dist'),
        jobFile: jobUri.fsPath,
        runsDir: runsDirFor(jobUri, config),
        searchRoots: searchRootsFor(jobUri),
        settings: runSettings(config),
      };
      await runStrategies(
        items,
        where,
        config.compareParallel,
        (outcome, index) => {
          live.delete(index);
          this.compare!.outcomes.push(outcome);
          state.pending = state.pending.filter((name) => name !== outcome.strategy.name);
          state.progress![index] = { ...state.progress![index], state: 'done', step: outcome.run.step.length };
          const { target, rows } = compareRows(this.compare!.outcomes, state.sortedBy);
          Object.assign(state, { target, rows });
          publish();
          progress.report({ increment: 100 / items.length, message: `${outcome.strategy.name}: ${outcome.status}` });
        },
        undefined,
        (outcome, index, totalSteps) => {
          live.set(index, outcome);
          state.progress![index] = { strategy: outcome.strategy.name, state: 'running', step: outcome.run.step.length, totalSteps };
          // At most four updates a second: the series are resent whole.
          publishTimer ??= setTimeout(() => {
            publishTimer = undefined;
            publish();
          }, 250);
        },
        cancel.signal,
      );
      if (cancel.signal.aborted && state.pending.length > 0) {
        state.pending = [];
      }
    });
    if (publishTimer) clearTimeout(publishTimer);
    publish();
  }

  private sortCompare(column: keyof CompareRow): void {
    if (!this.compare) return;
    const { state } = this.compare;
    state.sortedBy = column;
    state.rows = sortRows(state.rows, column);
    this.comparePanel.post({ type: 'compare', state });
  }

  /** Saves the table next to the run logs and opens it. */
  private async exportCompare(format: 'csv' | 'markdown'): Promise<void> {
    if (!this.compare) return;
    const { state, runsDir, name } = this.compare;
    mkdirSync(runsDir, { recursive: true });
    const file = join(runsDir, `compare-${name}-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}.${format === 'csv' ? 'csv' : 'md'}`);
    writeFileSync(file, format === 'csv' ? toCsv(state.rows) : toMarkdown(state.rows));
    await vscode.window.showTextDocument(vscode.Uri.file(file), { viewColumn: vscode.ViewColumn.One, preview: false });
  }

  previewSchedule(uri?: vscode.Uri): void {
    const target = uri ?? vscode.window.activeTextEditor?.document.uri;
    if (!target?.path.endsWith('.gradscope.json')) return void vscode.window.showInformationMessage('Gradscope: open a *.gradscope.json job file to preview its schedule.');
    this.previewUri = target;
    this.previewPanel.show(`Schedule: ${vscode.workspace.asRelativePath(target)}`);
    this.updatePreview();
  }

  private schedulePreview(): void {
    if (this.previewTimer) clearTimeout(this.previewTimer);
    this.previewTimer = setTimeout(() => this.updatePreview(), 250);
  }

  /** The planned rate of every step from the job as it is being edited; plateau and guards as a band. */
  private updatePreview(): void {
    const uri = this.previewUri;
    if (!uri || !this.previewPanel.visible) return;
    const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    void (document ? Promise.resolve(document) : vscode.workspace.openTextDocument(uri)).then((doc) => {
      const { job, problems } = checkJobText(doc.getText());
      const title = vscode.workspace.asRelativePath(uri);
      if (!job) {
        this.previewPanel.post({
          type: 'preview',
          state: { title, totalSteps: 0, stepsNote: '', planned: [], problems: problems.map((p) => `Ln ${p.range!.start.line + 1}: ${p.path} ${p.message}`) },
        });
        return;
      }
      const estimated = estimateTotalSteps(job);
      const totalSteps = estimated ?? 1000;
      const stepsNote =
        estimated !== undefined ? `${job.epochs} epochs × ${Math.ceil(totalSteps / job.epochs)} batches of ${job.batchSize}` : 'the data size is known only when training; showing 1000 steps';
      const planned = Array.from(plannedRates(createSchedule(job.schedule), totalSteps));
      const guard = job.guard;
      const state: PreviewState = { title, totalSteps, stepsNote, planned, problems: [] };
      if (job.schedule.type === 'plateau') {
        const floor = job.schedule.minLr;
        state.band = { low: planned.map(() => floor), label: `plateau cuts (×${job.schedule.factor}) can take it down to ${floor}` };
      } else if (guard && (guard.explosion === 'backoff' || guard.explosion === 'rollback')) {
        state.band = { low: planned.map((lr) => lr * guard.backoffFactor), label: `a ${guard.explosion} cuts it by ×${guard.backoffFactor}, recovering over ${guard.recoverySteps} steps` };
      }
      this.previewPanel.post({ type: 'preview', state });
    });
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const root = parseTree(document.getText());
    const node = root && findNodeAtLocation(root, ['schedule']);
    const key = node?.parent?.children?.[0];
    if (!key) return [];
    const range = new vscode.Range(document.positionAt(key.offset), document.positionAt(key.offset + key.length));
    return [
      new vscode.CodeLens(range, { title: '$(graph-line) Preview schedule', command: 'gradscope.previewSchedule', arguments: [document.uri] }),
      new vscode.CodeLens(range, { title: 'Find learning rate', command: 'gradscope.findLearningRate', arguments: [document.uri] }),
    ];
  }

  dispose(): void {
    if (this.previewTimer) clearTimeout(this.previewTimer);
    this.disposables.forEach((d) => d.dispose());
  }
}
