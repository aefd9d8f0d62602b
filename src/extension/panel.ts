import * as vscode from 'vscode';
import { adviceFor } from '../core/job/advice';
import { parseWebviewMessage, type DiagnosticsToHost, type DiagnosticsToWebview, type RunInfo, type StepBatch } from '../core/protocol';
import { rangeForView, snapshotForView } from '../core/series/snapshotDecimate';
import { appendBatch } from '../core/series/stepColumns';
import type { JobProblems } from './problems';
import type { Run, RunManager } from './runs';
import { webviewHtml } from './webviewHtml';

/** Chart width assumed until the view says its own (pixels; decimation keeps ≤ 4 rows per pixel). */
const DEFAULT_WIDTH = 1600;

/**
 * The diagnostics panel's host side. The webview announces itself with `ready` and gets the run list
 * plus the data of the runs it draws (the focused one and the overlaid ones), so hiding, reloading or
 * reopening the panel loses nothing; afterwards step batches of those runs are forwarded at most 10
 * times a second. Large runs are sent decimated, and a zoomed range is sent again on request.
 *
 * Lifetimes: the panel's own listeners live in `panelScope`, disposed with the panel (reopening it ten
 * times leaves one set); the listener on each run lives in the run's scope, added once per run.
 */
export class DiagnosticsPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  private pending = new Map<string, StepBatch>();
  private flushTimer: ReturnType<typeof setInterval> | undefined;
  private focus: { runId: string; step?: number } | undefined;
  /** Runs whose data the view has (it gets their live messages); the rest are only in its run list. */
  private readonly shown = new Set<string>();
  /** Runs the view draws, focused first, as it last said. */
  private wanted: string[] = [];
  private width = DEFAULT_WIDTH;
  private listStale = false;
  private readonly panelScope: vscode.Disposable[] = [];
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly runs: RunManager,
    private readonly problems: JobProblems,
  ) {
    this.disposables.push(
      runs.onDidAddRun((run) => this.watch(run)),
      runs.onDidRemoveRun((run) => {
        this.shown.delete(run.id);
        this.pending.delete(run.id);
        this.postRunList();
      }),
    );
    runs.all().forEach((run) => this.watch(run));
  }

  /** Listeners attached to webviews and panels right now (for the lifetime test). */
  get listenerCount(): number {
    return this.panelScope.length;
  }

  /** Opens (or reveals) the panel; optionally shows a run, zoomed to a step. */
  show(focus?: { runId?: string; step?: number }): void {
    const runId = focus?.runId ?? this.runs.focused?.id;
    if (runId) this.focus = { runId, ...(focus?.step !== undefined ? { step: focus.step } : {}) };
    if (this.panel) {
      this.panel.reveal(undefined, true);
      if (this.ready) {
        if (runId) this.sendRuns([runId, ...this.wanted.filter((id) => id !== runId)], runId);
        this.sendFocus();
      }
      return;
    }
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    const panel = vscode.window.createWebviewPanel(
      'gradscope.diagnostics',
      'Gradscope',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      {
        enableScripts: true,
        localResourceRoots: [dist],
      },
    );
    this.panel = panel;
    panel.webview.html = webviewHtml(panel.webview, dist, 'diagnostics');
    panel.webview.onDidReceiveMessage((raw) => this.receive(parseWebviewMessage(raw) as DiagnosticsToHost | undefined), undefined, this.panelScope);
    // A hidden webview is torn down; when it shows again it says ready and gets a fresh snapshot.
    panel.onDidChangeViewState(
      () => {
        if (this.panel?.visible) return;
        this.ready = false;
        this.shown.clear();
      },
      undefined,
      this.panelScope,
    );
    panel.onDidDispose(
      () => {
        this.panel = undefined;
        this.ready = false;
        this.shown.clear();
        this.stopFlushing();
        this.panelScope.splice(0).forEach((d) => d.dispose());
      },
      undefined,
      this.panelScope,
    );
  }

  private watch(run: Run): void {
    // In the run's scope: released when the run ends, so this is registered exactly once per run.
    run.onDidChange((change) => {
      if (!this.panel || !this.ready) return;
      if (!this.shown.has(run.id)) {
        // Not drawn: only its line in the run list changes.
        // Steps and events change its counts: the list goes out with the next flush (at most 10 a second).
        if (change.type === 'steps' || change.type === 'event') {
          this.listStale = true;
          this.startFlushing();
        } else this.postRunList();
        if (change.type === 'started' && this.focus?.runId === run.id) this.sendRuns([run.id, ...this.wanted], run.id);
        return;
      }
      switch (change.type) {
        case 'started':
        case 'layers':
          // The snapshot has every row so far, the steps not yet sent included: they must not come twice.
          this.pending.delete(run.id);
          this.post({ type: 'snapshot', runs: [snapshotForView(run.snapshot, this.width)] });
          if (change.type === 'started') this.postRunList();
          break;
        case 'steps': {
          const pending = this.pending.get(run.id);
          if (pending) appendBatch(pending, change.batch);
          else this.pending.set(run.id, structuredClone(change.batch));
          this.listStale = true;
          this.startFlushing();
          break;
        }
        case 'event':
          this.flush();
          this.post({ type: 'event', runId: run.id, event: change.event });
          this.listStale = true;
          this.startFlushing();
          break;
        case 'validation':
          this.flush();
          this.post({ type: 'validation', runId: run.id, point: change.point });
          break;
        case 'status':
          this.flush();
          this.post({ type: 'status', runId: run.id, status: change.status, ...(run.snapshot.endedAt !== undefined ? { endedAt: run.snapshot.endedAt } : {}) });
          this.postRunList();
          break;
      }
    });
    // A new run is focused (as RunManager.add does): the view draws it, alongside what it overlays.
    if (this.runs.focused === run) this.focus = { runId: run.id };
    if (this.panel && this.ready) this.sendRuns([run.id, ...this.wanted.filter((id) => id !== run.id)], run.id);
  }

  private receive(message: DiagnosticsToHost | undefined): void {
    if (!message) return;
    switch (message.type) {
      case 'ready': {
        this.ready = true;
        this.pending.clear();
        this.shown.clear();
        if (message.width) this.width = message.width;
        const focused = this.focus?.runId ?? this.runs.focused?.id;
        const wanted = [...(focused ? [focused] : []), ...(message.show ?? []).filter((id) => id !== focused)];
        this.sendRuns(wanted, focused);
        this.sendFocus();
        return;
      }
      case 'showRuns':
        this.sendRuns(message.runIds);
        return;
    }
    const run = this.runs.get(message.runId);
    if (!run) return;
    switch (message.type) {
      case 'selectRun':
        this.runs.focused = run;
        this.focus = { runId: run.id };
        break;
      case 'requestRange':
        this.post({ type: 'range', runId: run.id, min: message.min, max: message.max, batch: rangeForView(run.snapshot, message.min, message.max, message.width) });
        break;
      case 'stop':
        run.stop();
        break;
      case 'pause':
        run.pause();
        break;
      case 'resume':
        run.resume();
        break;
      case 'setLrMultiplier':
        run.setLrMultiplier(message.value);
        break;
      case 'setClipThreshold':
        run.setClipThreshold(message.value);
        break;
      case 'revealEvent':
        void this.revealEvent(run, message.step);
        break;
    }
  }

  /** The run list, and the data of the wanted runs the view does not have yet (never every run's). */
  private sendRuns(runIds: string[], activeRunId?: string): void {
    this.wanted = runIds.filter((id) => this.runs.get(id));
    const fresh = this.wanted.filter((id) => !this.shown.has(id)).map((id) => this.runs.get(id)!);
    this.postRunList();
    this.flush();
    fresh.forEach((run) => this.shown.add(run.id));
    if (fresh.length || activeRunId) this.post({ type: 'snapshot', runs: fresh.map((run) => snapshotForView(run.snapshot, this.width)), ...(activeRunId ? { activeRunId } : {}) });
  }

  private postRunList(): void {
    this.listStale = false;
    const runs: RunInfo[] = this.runs.all().map((run) => ({
      runId: run.id,
      title: run.title,
      status: run.status,
      steps: run.snapshot.batch.step.length,
      events: run.snapshot.events.length,
      ...(run.snapshot.startedAt !== undefined ? { startedAt: run.snapshot.startedAt } : {}),
      ...(run.snapshot.source ? { source: run.snapshot.source } : {}),
    }));
    this.post({ type: 'runs', runs });
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
    if (this.listStale) this.postRunList();
    if (this.runs.live().length === 0) this.stopFlushing();
  }

  private post(message: DiagnosticsToWebview): void {
    void this.panel?.webview.postMessage(message);
  }

  dispose(): void {
    this.stopFlushing();
    this.panel?.dispose();
    this.panelScope.splice(0).forEach((d) => d.dispose());
    this.disposables.forEach((d) => d.dispose());
  }
}
