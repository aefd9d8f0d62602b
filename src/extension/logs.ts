
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { describeEvent } from '../core/describeEvent';
import { FileFollower } from '../core/follow';
import { Inspector } from '../core/inspect';
import { MetricsReader, type FieldName, type MetricsRow } from '../core/metricsFormat';
import type { StepBatch } from '../core/protocol';
import { parseJsonLine } from '../core/runlog';
import { findTbRuns, TbFollower } from '../core/tensorboardLog';
import { Run, type RunManager } from './runs';

/** Rows of someone else's log → step batches and detector events of a Run. */
class RowFeeder {
  private layers: string[] | undefined;
  private readonly inspector = new Inspector();
  private pending: StepBatch | undefined;

  constructor(private readonly run: Run, private readonly onEvent: (line: number | undefined, text: string, severity: vscode.DiagnosticSeverity) => void) {}

  add(row: MetricsRow, line?: number): void {
    if (!this.layers) {
      this.layers = [...row.layers.keys()];
      this.run.snapshot.layerNames = this.layers;
    }
    const b = (this.pending ??= { step: [], lr: [], loss: [], gradNorm: [], layerGradNorms: this.layers.map(() => []) });
    b.step.push(row.step);
    b.lr.push(row.lr ?? NaN);
    b.loss.push(row.loss ?? NaN);
    b.gradNorm.push(row.gradNorm ?? NaN);
    this.layers.forEach((name, i) => b.layerGradNorms![i].push(row.layers.get(name) ?? NaN));
    for (const event of this.inspector.add(row)) {
      this.flush();
      this.run.receive({ type: 'event', event });
      this.onEvent(line, describeEvent(event), event.kind === 'nonFinite' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
    }
  }

  /** Sends what was added since the last flush as one batch. */
  flush(): void {
    if (!this.pending || this.pending.step.length === 0) return;
    const batch = this.pending;
    this.pending = undefined;
    this.run.snapshot.totalSteps = Math.max(this.run.snapshot.totalSteps, (batch.step.at(-1) ?? 0) + 1);
    this.run.receive({ type: 'steps', batch });
  }
}

/** "Watch Metrics File…" and "Open TensorBoard Log…": logs from any framework as Gradscope runs. */
export class LogViews implements vscode.Disposable {
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('gradscope-logs');

  constructor(private readonly runs: RunManager, private readonly showPanel: (focus: { runId: string }) => void) {}

  async watchMetrics(uri?: vscode.Uri): Promise<void> {
    const file = uri ?? (await vscode.window.showOpenDialog({ title: 'Gradscope: watch a metrics file', canSelectMany: false, filters: { 'JSON lines': ['jsonl', 'json', 'log'], 'All files': ['*'] } }))?.[0];
    if (!file) return;
    const mapping = vscode.workspace.getConfiguration('gradscope').get<Partial<Record<FieldName, string>>>('metrics.columns', {});
    const run = new Run(`${basename(file.fsPath)} (watching)`, undefined, undefined, undefined, true);
    run.snapshot.source = 'log';
    this.runs.add(run);
    const entries: vscode.Diagnostic[] = [];
    this.diagnostics.set(file, entries);
    const feeder = new RowFeeder(run, (line, text, severity) => {
      const diagnostic = new vscode.Diagnostic(new vscode.Range(Math.max(0, (line ?? 1) - 1), 0, Math.max(0, (line ?? 1) - 1), 1000), text, severity);
      diagnostic.source = 'Gradscope';
      entries.push(diagnostic);
      this.diagnostics.set(file, entries.slice(-500));
    });
    const reader = new MetricsReader(mapping);
    const follower = new FileFollower(file.fsPath, (line, lineNumber) => {
      if (!line.trim()) return;
      try {
        const value = parseJsonLine(line);
        if (typeof value === 'object' && value !== null && !Array.isArray(value)) feeder.add(reader.read(value as Record<string, unknown>), lineNumber);
      } catch {
        // a line that is not JSON (a log message mixed in) is not a metric row
      }
    }, { onRestart: (why) => vscode.window.showInformationMessage(`Gradscope: ${basename(file.fsPath)} was ${why}; reading it again from the top.`) });
    // Batches go out ten times a second, like a trainer's.
    const flusher = setInterval(() => feeder.flush(), 100);
    run.follow(() => {
      follower.stop();
      clearInterval(flusher);
      feeder.flush();
    });
    await follower.start();
    feeder.flush();
    this.showPanel({ runId: run.id });
  }

  /** Opens a TensorBoard log directory, one run per folder of event files, and follows it while it grows. */
  async openTensorBoard(uri?: vscode.Uri): Promise<void> {
    const dir = uri ?? (await vscode.window.showOpenDialog({ title: 'Gradscope: open a TensorBoard log directory', canSelectFiles: false, canSelectFolders: true, canSelectMany: false }))?.[0];
    if (!dir) return;
    if (findTbRuns(dir.fsPath).length === 0) return void vscode.window.showErrorMessage(`Gradscope: no events.out.tfevents.* files under ${vscode.workspace.asRelativePath(dir)}.`);
    const feeders = new Map<string, { run: Run; feeder: RowFeeder; reader: MetricsReader }>();
    const problems: string[] = [];
    const follower = new TbFollower(dir.fsPath, (name, rows) => {
      let entry = feeders.get(name);
      if (!entry) {
        const run = new Run(`${basename(dir.fsPath)}/${name} (following)`, undefined, undefined, undefined, true);
        run.snapshot.source = 'log';
        this.runs.add(run);
        entry = { run, feeder: new RowFeeder(run, () => {}), reader: new MetricsReader() };
        feeders.set(name, entry);
        run.follow(() => stopAll());
      }
      for (const row of rows) entry.feeder.add(entry.reader.read(row));
      entry.feeder.flush();
    }, (file, problem) => problems.push(`${basename(file)} at byte ${problem.offset}: ${problem.message}`));
    let timer: ReturnType<typeof setInterval> | undefined;
    const stopAll = () => {
      if (timer) clearInterval(timer);
      timer = undefined;
      follower.flush();
      for (const { run } of feeders.values()) if (run.status === 'running') run.setStatus('stopped');
    };
    await follower.poll();
    follower.flush();
    if (problems.length) void vscode.window.showWarningMessage(`Gradscope: ${problems.length} record(s) skipped: ${problems.slice(0, 3).join('; ')}`);
    timer = setInterval(() => void follower.poll(), 1000);
    const first = feeders.values().next().value;
    if (first) this.showPanel({ runId: first.run.id });
  }

  dispose(): void {
    this.diagnostics.dispose();
  }
}

