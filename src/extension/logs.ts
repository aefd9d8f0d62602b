import { basename } from 'node:path';
import * as vscode from 'vscode';
import { describeEvent } from '../core/detect/describe';
import type { DetectorEvent } from '../core/detect';
import { Inspector } from '../core/logs/inspect';
import type { ColumnMapping } from '../core/logs/columns';
import { LogFormatError } from '../core/logs/documents';
import { isTrainingRow, type MetricsRow } from '../core/logs/rows';
import type { StepBatch } from '../core/protocol';
import { followLogSource } from '../node/logs/follow';
import { findLogSources, formatLabel, type LogSource } from '../node/logs/sources';
import { Run, type RunManager } from './runs';

/** More logs than this in one folder: the user picks which to open. */
const MAX_RUNS_WITHOUT_ASKING = 6;

/** Problems shown per log before they are only counted (a damaged file must not flood the UI). */
const SHOWN_PROBLEMS = 3;

/** Only warnings alert: an info event (a transient spike the run absorbed) is a marker and a table row. */
function isWarning(event: DetectorEvent): boolean {
  return event.severity === 'warning';
}

/**
 * Rows of someone else's log → step batches, validation points and detector events of a Run. A
 * segment (the step counter went back: a run appended to the same file) becomes a run of its own,
 * so its steps neither draw a line back to the start nor mix with the earlier run's.
 */
export class RowFeeder {
  /** The layers of this run's rows so far, in the order first seen (the columns of each batch). */
  private layers: string[] = [];
  private readonly known = new Set<string>();
  private inspector = new Inspector();
  private pending: StepBatch | undefined;
  private segment = 0;
  /** The log line of the last rows' steps (a regraded event names a step a few rows back). */
  private readonly recentLines = new Map<number, number | undefined>();

  constructor(
    private run: Run,
    private readonly onEvent: (line: number | undefined, event: DetectorEvent) => void,
    private readonly nextRun: (segment: number) => Run,
  ) {}

  add(row: MetricsRow): void {
    if (row.segment !== this.segment) {
      this.flush();
      this.segment = row.segment;
      this.run = this.nextRun(row.segment);
      this.layers = [];
      this.known.clear();
      this.inspector = new Inspector();
    }
    if (row.validationLoss !== undefined) {
      this.flush();
      this.run.addValidation({ step: row.step, loss: row.validationLoss });
    }
    if (!isTrainingRow(row)) return;
    // A layer may first come in any row (the Python package leaves out a module that had no gradient).
    let added: string[] | undefined;
    for (const name of row.layers.keys()) if (!this.known.has(name)) (added ??= []).push(name);
    if (added) {
      this.flush();
      for (const name of added) this.known.add(name);
      this.layers.push(...added);
      this.run.addLayers(added);
    }
    // A missing value is NaN in the columns (the charts leave a gap); the detectors see it as missing.
    const b = (this.pending ??= { step: [], lr: [], loss: [], gradNorm: [], layerGradNorms: this.layers.map(() => []) });
    b.step.push(row.step);
    b.lr.push(row.lr ?? NaN);
    b.loss.push(row.loss ?? NaN);
    b.gradNorm.push(row.gradNorm ?? NaN);
    this.layers.forEach((name, i) => b.layerGradNorms![i].push(row.layers.get(name) ?? NaN));
    this.recentLines.set(row.step, row.line);
    if (this.recentLines.size > 64) this.recentLines.delete(this.recentLines.keys().next().value!);
    for (const event of this.inspector.add(row)) {
      this.flush();
      this.run.receive({ type: 'event', event });
      // A regraded copy comes a few rows after its step: its Problems entry goes on its own step's line.
      this.onEvent(this.recentLines.get(event.step) ?? row.line, event);
    }
  }

  /** A rewritten file is read again from its top: the detectors start afresh. */
  restart(): void {
    this.flush();
    this.inspector = new Inspector();
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

/**
 * "Open Training Log…": a log of any format Gradscope reads (a file, a run folder, a folder of
 * runs) becomes one Gradscope run per log, followed live while it grows. Events land in Problems on
 * the log line (or the log_history entry) that raised them.
 */
export class LogViews implements vscode.Disposable {
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('gradscope-logs');

  constructor(
    private readonly runs: RunManager,
    private readonly showPanel: (focus: { runId: string }) => void,
    private readonly output: vscode.OutputChannel,
    private readonly columns: () => ColumnMapping,
  ) {}

  /** Opens every log at `uri` (asking for one when absent); returns each run with the log it follows. */
  async open(uri?: vscode.Uri): Promise<{ run: Run; source: LogSource }[]> {
    const target =
      uri ??
      (
        await vscode.window.showOpenDialog({ title: 'Gradscope: open a training log (a file, a run folder or a folder of runs)', canSelectFiles: true, canSelectFolders: true, canSelectMany: false })
      )?.[0];
    if (!target) return [];
    let sources: LogSource[];
    try {
      sources = await findLogSources(target.fsPath, undefined, (note) => {
        this.output.appendLine(`[${vscode.workspace.asRelativePath(target)}] ${note}`);
        void vscode.window.showWarningMessage(`Gradscope: ${note}`);
      });
    } catch (error) {
      if (error instanceof LogFormatError) {
        void vscode.window.showErrorMessage(`Gradscope: ${error.message.replace(target.fsPath, vscode.workspace.asRelativePath(target))}`);
        return [];
      }
      throw error;
    }
    if (sources.length > MAX_RUNS_WITHOUT_ASKING) {
      // A runs folder may hold dozens of runs: open the ones the user picks.
      const picked = await vscode.window.showQuickPick(
        sources.map((source) => ({ label: source.title, description: formatLabel(source), picked: false, source })),
        { canPickMany: true, title: `Gradscope: ${sources.length} training logs in ${vscode.workspace.asRelativePath(target)}: open which?` },
      );
      if (!picked?.length) return [];
      sources = picked.map((p) => p.source);
    }
    const opened: { run: Run; source: LogSource }[] = [];
    for (const source of sources) {
      const run = await this.follow(source, sources.length > 1 ? `${basename(target.fsPath)}/${source.title}` : basename(target.fsPath));
      opened.push({ run, source });
    }
    if (opened.length) this.showPanel({ runId: opened[0].run.id });
    return opened;
  }

  private async follow(source: LogSource, title: string): Promise<Run> {
    const runs: Run[] = [];
    const newRun = (segment: number) => {
      const part = new Run(`${title}${segment > 0 ? ` (appended run ${segment + 1})` : ''} · ${formatLabel(source)}`, undefined, undefined, undefined, true);
      part.snapshot.source = 'log';
      part.snapshot.startedAt ??= Date.now();
      this.runs.add(part);
      // Stop on any part ends the feed of all; a part that is no longer fed is finished.
      part.follow(() => stopAll());
      runs.at(-1)?.setStatus('finished');
      runs.push(part);
      return part;
    };
    const run = newRun(0);
    const file = source.kind === 'lines' || source.kind === 'trainerState' ? vscode.Uri.file(source.file) : undefined;
    const entries: vscode.Diagnostic[] = [];
    const feeder = new RowFeeder(
      run,
      (logLine, event) => {
        if (!file || !isWarning(event)) return;
        const line = Math.max(0, (logLine ?? 1) - 1);
        const diagnostic = new vscode.Diagnostic(
          new vscode.Range(line, 0, line, 1000),
          describeEvent(event),
          event.kind === 'nonFinite' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning,
        );
        diagnostic.source = 'Gradscope';
        entries.push(diagnostic);
        this.diagnostics.set(file, entries.slice(-500));
      },
      newRun,
    );
    let problems = 0;
    const follower = followLogSource(source, {
      mapping: this.columns(),
      onRow: (row) => feeder.add(row),
      onBatchEnd: () => feeder.flush(),
      onProblem: (message) => {
        problems++;
        if (problems <= SHOWN_PROBLEMS) this.output.appendLine(`[${run.title}] skipped ${message}`);
        if (problems === 1) void vscode.window.showWarningMessage(`Gradscope: ${run.title}: ${message} (further problems go to the Gradscope output)`);
        else if (problems === SHOWN_PROBLEMS + 1) this.output.appendLine(`[${run.title}] more problems are counted, not shown`);
      },
      onRestart: (reason) => {
        feeder.restart();
        entries.length = 0;
        if (file) this.diagnostics.set(file, []);
        void vscode.window.showInformationMessage(`Gradscope: ${reason}; reading it again from the top.`);
      },
    });
    let stopped = false;
    const stopAll = () => {
      if (stopped) return;
      stopped = true;
      follower.stop();
      if (problems > SHOWN_PROBLEMS) this.output.appendLine(`[${run.title}] ${problems} lines or records could not be read in all`);
      for (const part of runs) if (part.status === 'running') part.setStatus('stopped');
    };
    await follower.start();
    return run;
  }

  dispose(): void {
    this.diagnostics.dispose();
  }
}
