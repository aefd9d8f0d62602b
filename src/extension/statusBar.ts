import * as vscode from 'vscode';
import type { RunEvent, RunSummary } from '../core/protocol';
import { readConfig } from './config';
import type { Run, RunManager } from './runs';

type State = { kind: 'idle' } | { kind: 'running'; run: Run } | { kind: 'alert'; run: Run; severity: 'warning' | 'error'; text: string; step: number };

/**
 * The status bar item as a small state machine: hidden when idle; progress while a run goes; an
 * alert (warning or error background) once the focused run has an explosion, a non-finite value or
 * a guard stop. A click opens the panel at the latest event.
 */
export class TrainingStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('gradscope.status', vscode.StatusBarAlignment.Left, 100);
  private state: State = { kind: 'idle' };
  private runListener: vscode.Disposable | undefined;
  private lastRender = 0;
  private readonly disposables: vscode.Disposable[] = [this.item];

  constructor(runs: RunManager) {
    this.item.name = 'Gradscope';
    this.disposables.push(runs.onDidAddRun((run) => run.live && this.follow(run)));
    this.disposables.push(vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('gradscope.statusBar') && this.render(true)));
  }

  private follow(run: Run): void {
    this.runListener?.dispose();
    this.state = { kind: 'running', run };
    this.runListener = run.onDidChange((change) => {
      if (change.type === 'event') this.onEvent(run, change.event);
      else if (change.type === 'status' && ['finished', 'stopped', 'failed'].includes(change.status)) this.onEnd(run, change.status, change.summary);
      this.render(change.type !== 'steps');
    });
    this.render(true);
  }

  private onEvent(run: Run, event: RunEvent): void {
    const { alertOn } = readConfig(vscode.workspace.getConfiguration('gradscope')).statusBar;
    if (alertOn === 'none') return;
    // An info event (a transient spike the run absorbed) is a marker in the panel, not an alert.
    if ('severity' in event && event.severity === 'info') return;
    const current = this.state.kind === 'alert' ? this.state.severity : undefined;
    if (event.kind === 'nonFinite') {
      if (current !== 'error') this.state = { kind: 'alert', run, severity: 'error', text: `Non-finite ${event.fields[0] === 'loss' ? 'loss' : 'gradient'} at step ${event.step}`, step: event.step };
    } else if (event.kind === 'explosion' || (alertOn === 'any' && event.kind !== 'guard')) {
      if (!current)
        this.state = {
          kind: 'alert',
          run,
          severity: 'warning',
          text: event.kind === 'explosion' ? `Gradient explosion at step ${event.step}` : `${event.kind} at step ${event.step}`,
          step: event.step,
        };
    }
  }

  private onEnd(run: Run, status: string, summary: RunSummary | undefined): void {
    if (summary?.stopReason === 'guard') {
      const step = run.snapshot.batch.step.at(-1) ?? 0;
      this.state = { kind: 'alert', run, severity: 'error', text: `Stopped by the guard at step ${step}`, step };
    } else if (status === 'failed') {
      this.state = { kind: 'alert', run, severity: 'error', text: 'Training failed', step: run.snapshot.batch.step.at(-1) ?? 0 };
    } else if (this.state.kind === 'running') {
      this.state = { kind: 'idle' };
    }
  }

  /** Progress text is refreshed at most 4 times a second; state changes at once. */
  private render(force: boolean): void {
    const now = Date.now();
    if (!force && now - this.lastRender < 250) return;
    this.lastRender = now;
    const { enabled } = readConfig(vscode.workspace.getConfiguration('gradscope')).statusBar;
    if (!enabled || this.state.kind === 'idle') {
      this.item.hide();
      return;
    }
    const { run } = this.state;
    const b = run.snapshot.batch;
    const last = b.step.length - 1;
    // A log may lack a value (no gradient norm in a Keras log): show what there is, never "NaN".
    const value = (label: string, v: number | undefined) => (v !== undefined && !Number.isNaN(v) ? ` · ${label} ${v.toPrecision(2)}` : '');
    const step = run.snapshot.source === 'log' || run.snapshot.source === 'pytorch' ? `step ${b.step[last]}` : `step ${b.step[last] + 1}/${run.snapshot.totalSteps}`;
    const progress = last >= 0 ? `${step}${value('loss', b.loss[last])}${value('‖g‖', b.gradNorm[last])}` : 'starting…';
    if (this.state.kind === 'running') {
      this.item.text = `$(pulse) ${progress}`;
      this.item.backgroundColor = undefined;
      this.item.command = { title: 'Show Diagnostics Panel', command: 'gradscope.showPanel', arguments: [{ runId: run.id }] };
    } else {
      this.item.text = `$(${this.state.severity === 'error' ? 'error' : 'warning'}) ${this.state.text}`;
      this.item.backgroundColor = new vscode.ThemeColor(this.state.severity === 'error' ? 'statusBarItem.errorBackground' : 'statusBarItem.warningBackground');
      this.item.command = { title: 'Show the event', command: 'gradscope.showPanel', arguments: [{ runId: run.id, step: this.state.step }] };
    }
    this.item.tooltip = this.tooltip(run, progress);
    this.item.show();
  }

  private tooltip(run: Run, progress: string): vscode.MarkdownString {
    const args = encodeURIComponent(JSON.stringify([{ runId: run.id }]));
    const counts = new Map<string, number>();
    for (const event of run.snapshot.events) counts.set(event.kind, (counts.get(event.kind) ?? 0) + 1);
    const events = [...counts].map(([kind, n]) => `${n} ${kind}`).join(', ') || 'no events';
    const md = new vscode.MarkdownString(
      `**Gradscope** · ${run.title} (${run.status}${run.snapshot.backend ? ` on ${run.snapshot.backend}` : ''})\n\n${progress}\n\n${events}\n\n[$(graph-line) Show Panel](command:gradscope.showPanel?${args})` +
        (run.hasProcess ? ` · [$(debug-stop) Stop](command:gradscope.stop?${args})` : ''),
      true,
    );
    md.isTrusted = { enabledCommands: ['gradscope.showPanel', 'gradscope.stop'] };
    return md;
  }

  dispose(): void {
    this.runListener?.dispose();
    this.disposables.forEach((d) => d.dispose());
  }
}
