import * as vscode from 'vscode';
import { adviceFor } from '../core/eventAdvice';
import { parseWebviewMessage, type HostToWebview, type StepBatch, type WebviewToHost } from '../core/protocol';
import { appendBatch } from '../core/stepColumns';
import type { JobProblems } from './problems';
import type { Run, RunManager } from './runs';
import { webviewHtml } from './webviewHtml';

/**
 * The diagnostics panel's host side. The webview announces itself with `ready` and gets a snapshot
 * of every run (so hiding, reloading or reopening the panel loses nothing); afterwards step batches
 * are forwarded at most 10 times a second.
 */
export class DiagnosticsPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  private pending = new Map<string, StepBatch>();
  private flushTimer: ReturnType<typeof setInterval> | undefined;
  private focus: { runId: string; step?: number } | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly extensionUri: vscode.Uri, private readonly runs: RunManager, private readonly problems: JobProblems) {
    this.disposables.push(runs.onDidAddRun((run) => this.watch(run)));
  }

  /** Opens (or reveals) the panel; optionally shows a run, zoomed to a step. */
  show(focus?: { runId?: string; step?: number }): void {
    const runId = focus?.runId ?? this.runs.focused?.id;
    if (runId) this.focus = { runId, ...(focus?.step !== undefined ? { step: focus.step } : {}) };
    if (this.panel) {
      this.panel.reveal(undefined, true);
      if (this.ready) this.sendFocus();
      return;
    }
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    this.panel = vscode.window.createWebviewPanel('gradscope.diagnostics', 'Gradscope', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
      enableScripts: true,
      localResourceRoots: [dist],
    });
    this.panel.webview.html = webviewHtml(this.panel.webview, dist, 'diagnostics');
    this.panel.webview.onDidReceiveMessage((raw) => this.receive(parseWebviewMessage(raw)), undefined, this.disposables);
    // A hidden webview is torn down; when it shows again it says ready and gets a fresh snapshot.
    this.panel.onDidChangeViewState(() => !this.panel?.visible && (this.ready = false), undefined, this.disposables);
    this.panel.onDidDispose(() => {
      this.panel = undefined;
      this.ready = false;
      this.stopFlushing();
    }, undefined, this.disposables);
  }

  private watch(run: Run): void {
    run.onDidChange((change) => {
      if (!this.panel || !this.ready) return;
      switch (change.type) {
        case 'started':
          this.post({ type: 'snapshot', runs: [run.snapshot], activeRunId: this.focus?.runId });
          break;
        case 'steps': {
          const pending = this.pending.get(run.id);
          if (pending) appendBatch(pending, change.batch);
          else this.pending.set(run.id, structuredClone(change.batch));
          this.startFlushing();
          break;
        }
        case 'event':
          this.flush();
          this.post({ type: 'event', runId: run.id, event: change.event });
          break;
        case 'validation':
          this.flush();
          this.post({ type: 'validation', runId: run.id, point: change.point });
          break;
        case 'status':
          this.flush();
          this.post({ type: 'status', runId: run.id, status: change.status });
          break;
      }
    });
    if (this.panel && this.ready) this.post({ type: 'snapshot', runs: [run.snapshot], activeRunId: run.id });
  }

  private receive(message: WebviewToHost | undefined): void {
    if (!message) return;
    if (message.type === 'ready') {
      this.ready = true;
      this.pending.clear();
      this.post({ type: 'snapshot', runs: this.runs.all().map((run) => run.snapshot), activeRunId: this.focus?.runId ?? this.runs.focused?.id });
      this.sendFocus();
      return;
    }
    if (!('runId' in message)) return; // the tool views' messages go to their own panels
    const run = this.runs.get(message.runId);
    if (!run) return;
    switch (message.type) {
      case 'selectRun': this.runs.focused = run; break;
      case 'stop': run.stop(); break;
      case 'pause': run.pause(); break;
      case 'resume': run.resume(); break;
      case 'setLrMultiplier': run.setLrMultiplier(message.value); break;
      case 'setClipThreshold': run.setClipThreshold(message.value); break;
      case 'revealEvent': void this.revealEvent(run, message.step); break;
    }
  }

  /** Opens the job file at the line the event at `step` is attached to. */
  private async revealEvent(run: Run, step: number): Promise<void> {
    const event = run.snapshot.events.find((e) => e.step === step && adviceFor(e, run.jobText ?? '')) ?? run.snapshot.events.find((e) => e.step === step);
    if (!run.jobUri || !run.jobText || !event) return;
    const advice = adviceFor(event, run.jobText);
    const range = advice ? this.problems.rangeOf(run.jobUri, run.jobText, advice.path) : new vscode.Range(0, 0, 0, 0);
    const editor = await vscode.window.showTextDocument(run.jobUri, { viewColumn: vscode.ViewColumn.One, selection: range, preserveFocus: false });
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  private sendFocus(): void {
    if (this.focus?.step !== undefined) this.post({ type: 'focusStep', runId: this.focus.runId, step: this.focus.step });
  }

  private startFlushing(): void {
    this.flushTimer ??= setInterval(() => this.flush(), 100);
  }

  private stopFlushing(): void {
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.flushTimer = undefined;
    this.pending.clear();
  }

  private flush(): void {
    for (const [runId, batch] of this.pending) this.post({ type: 'steps', runId, batch });
    this.pending.clear();
    if (this.runs.live().length === 0) this.stopFlushing();
  }

  private post(message: HostToWebview): void {
    void this.panel?.webview.postMessage(message);
  }

  dispose(): void {
    this.stopFlushing();
    this.panel?.dispose();
    this.disposables.forEach((d) => d.dispose());
  }
}
