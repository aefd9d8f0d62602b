import { resolve } from 'node:path';
import * as vscode from 'vscode';
import { applyEvent } from '../core/detect/events';
import type { JobSpec } from '../core/job/spec';
import type { RunEvent, RunSnapshot, RunStatus, RunSummary, StepBatch, TrainerMessage, TrainRequest, ValidationPoint } from '../core/protocol';
import { appendBatch } from '../core/series/stepColumns';
import { TrainerProcess } from '../node/trainerProcess';

export type RunChange =
  | { type: 'started' }
  /** Layers first seen after the run's first rows: the view needs their names (and the snapshot's padded columns). */
  | { type: 'layers' }
  | { type: 'steps'; batch: StepBatch }
  | { type: 'event'; event: RunEvent }
  | { type: 'validation'; point: ValidationPoint }
  | { type: 'status'; status: RunStatus; summary?: RunSummary; message?: string };

let counter = 0;

/**
 * What Stop, Pause/Resume, LR× and Clip act on: a trainer child (IPC), the control file of a run the
 * Python package writes, … A run without one (a plain log) can only stop being followed.
 */
export interface RunController {
  /** Asks the run to stop; false when nothing was asked (the run can no longer be reached). */
  stop(): boolean;
  pause(): boolean;
  resume(): boolean;
  setLrMultiplier(value: number): void;
  setClipThreshold(value: number): void;
  dispose?(): void;
}

/** A Gradscope trainer child, over its IPC channel. */
class TrainerController implements RunController {
  constructor(private readonly trainer: TrainerProcess) {}
  stop(): boolean {
    void this.trainer.stop();
    return true;
  }
  pause(): boolean {
    this.trainer.send({ type: 'pause' });
    return true;
  }
  resume(): boolean {
    this.trainer.send({ type: 'resume' });
    return true;
  }
  setLrMultiplier(value: number): void {
    this.trainer.send({ type: 'setLrMultiplier', value });
  }
  setClipThreshold(value: number): void {
    this.trainer.send({ type: 'setClipThreshold', value });
  }
}

/**
 * One run, live or read back from its log. It owns its run scope: the trainer process, its
 * listeners and timers. Everything in the scope goes when the run ends or the run is disposed.
 */
export class Run implements vscode.Disposable {
  readonly id = `run-${++counter}`;
  readonly snapshot: RunSnapshot;
  runDir: string | undefined;
  summary: RunSummary | undefined;
  private trainer: TrainerProcess | undefined;
  private controller: RunController | undefined;
  /** Stops what feeds a run that is not a training process (a followed log). */
  private stopper: (() => void) | undefined;
  private readonly scope: vscode.Disposable[] = [];
  private readonly changed = new vscode.EventEmitter<RunChange>();
  readonly onDidChange = this.changed.event;

  constructor(
    readonly title: string,
    /** The job file the run came from; events attach to it. */
    readonly jobUri: vscode.Uri | undefined,
    /** The job file's text as run (quick fixes and advice are computed against it). */
    readonly jobText: string | undefined,
    readonly job: JobSpec | undefined,
    readonly live: boolean,
  ) {
    this.snapshot = {
      runId: this.id,
      title,
      status: live ? 'running' : 'finished',
      layerNames: [],
      totalSteps: 0,
      plannedLr: [],
      batch: { step: [], lr: [], loss: [], gradNorm: [] },
      events: [],
      validation: [],
      startedAt: Date.now(),
    };
    if (job?.clip?.type === 'globalNorm') this.snapshot.clipThreshold = job.clip.maxNorm;
    this.scope.push(this.changed);
  }

  get status(): RunStatus {
    return this.snapshot.status;
  }

  /** Starts the trainer child for this run. */
  start(trainerScript: string, request: TrainRequest, log: (line: string) => void): void {
    this.trainer = new TrainerProcess(trainerScript, request, {
      message: (message) => this.receive(message, log),
      output: (line) => log(line),
    });
    this.controller = new TrainerController(this.trainer);
    void this.trainer.stopped.then((exit) => {
      if (this.status === 'running' || this.status === 'paused') {
        this.setStatus('failed', undefined, `the trainer exited unexpectedly (${exit.signal ?? `code ${exit.code}`})`);
      }
      this.trainer = undefined;
      this.controller = undefined;
    });
  }

  /** Feeds a message, from the trainer or from a run log being read. */
  receive(message: TrainerMessage, log: (line: string) => void = () => {}): void {
    const s = this.snapshot;
    switch (message.type) {
      case 'started':
        Object.assign(s, { backend: message.backend, layerNames: message.layerNames, totalSteps: message.totalSteps, plannedLr: message.plannedLr });
        this.runDir = message.runDir;
        log(`[${this.title}] training on ${message.backend}: ${message.parameterCount} parameters, ${message.totalSteps} steps; run log ${message.runDir}`);
        if (message.backendNote) log(`[${this.title}] ${message.backendNote}`);
        this.changed.fire({ type: 'started' });
        break;
      case 'steps':
        appendBatch(s.batch, message.batch);
        this.changed.fire({ type: 'steps', batch: message.batch });
        break;
      case 'event':
        // A regraded copy (an info spike the run did not absorb) replaces the event it upgrades.
        applyEvent(s.events, message.event);
        this.changed.fire({ type: 'event', event: message.event });
        break;
      case 'epoch':
        if (message.validationLoss !== undefined) {
          const point = { step: message.step, loss: message.validationLoss, ...(message.validationAccuracy !== undefined ? { accuracy: message.validationAccuracy } : {}) };
          s.validation.push(point);
          this.changed.fire({ type: 'validation', point });
        }
        log(
          `[${this.title}] epoch ${message.epoch + 1}: train loss ${message.trainLoss.toPrecision(4)}${message.validationLoss !== undefined ? `, validation loss ${message.validationLoss.toPrecision(4)}` : ''}${message.validationAccuracy !== undefined ? `, accuracy ${(100 * message.validationAccuracy).toFixed(1)}%` : ''}`,
        );
        break;
      case 'log':
        log(`[${this.title}] ${message.level}: ${message.message}`);
        break;
      case 'finished':
        this.summary = message.summary;
        this.setStatus(message.summary.status, message.summary, message.summary.message);
        break;
      case 'failed':
        this.setStatus('failed', undefined, message.message);
        break;
    }
  }

  /**
   * Layers a log names after its first rows (the Python package leaves out a module that had no
   * gradient): charted after the others, with a gap over the rows before. Batches that follow carry
   * their columns.
   */
  addLayers(names: readonly string[]): void {
    const s = this.snapshot;
    const added = names.filter((name) => !s.layerNames.includes(name));
    if (added.length === 0) return;
    s.layerNames = [...s.layerNames, ...added];
    const columns = (s.batch.layerGradNorms ??= []);
    while (columns.length < s.layerNames.length) columns.push(new Array<number>(s.batch.step.length).fill(NaN));
    this.changed.fire({ type: 'layers' });
  }

  /** A validation result read from a log (a trainer sends them in its `epoch` messages). */
  addValidation(point: ValidationPoint): void {
    this.snapshot.validation.push(point);
    this.changed.fire({ type: 'validation', point });
  }

  /**
   * Makes a followed run controllable (Stop, Pause, LR×, Clip act through `controller`); `source`
   * tells the view which kind of run it is now. The view redraws the run with its controls.
   */
  control(controller: RunController, source: NonNullable<RunSnapshot['source']>): void {
    this.controller?.dispose?.();
    this.controller = controller;
    this.snapshot.source = source;
    this.scope.push({ dispose: () => controller.dispose?.() });
    this.changed.fire({ type: 'started' });
  }

  /** Whether Stop, Pause, LR× and Clip reach the run. */
  get controllable(): boolean {
    return this.controller !== undefined;
  }

  stop(): void {
    // A controlled run ends when its source says so (the trainer's summary, the loop's summary.json).
    if (this.controller?.stop()) return;
    const stopper = this.stopper;
    if (stopper) {
      this.stopper = undefined;
      stopper();
      this.setStatus('stopped');
    }
  }

  /** A run fed by something else than a trainer (a followed log); `stop` ends the feed. */
  follow(stop: () => void): void {
    this.stopper = stop;
  }

  pause(): void {
    if (this.status !== 'running' || !this.controller?.pause()) return;
    this.setStatus('paused');
  }

  resume(): void {
    if (this.status !== 'paused' || !this.controller?.resume()) return;
    this.setStatus('running');
  }

  setLrMultiplier(value: number): void {
    this.controller?.setLrMultiplier(value);
  }

  setClipThreshold(value: number): void {
    this.snapshot.clipThreshold = value;
    this.controller?.setClipThreshold(value);
  }

  setStatus(status: RunStatus, summary?: RunSummary, message?: string): void {
    // An end is final: a second one (a stop that raced the end of the log) would be reported twice.
    const current = this.snapshot.status;
    if (current === 'finished' || current === 'stopped' || current === 'failed') return;
    this.snapshot.status = status;
    const ended = status === 'finished' || status === 'stopped' || status === 'failed';
    if (ended && this.snapshot.startedAt !== undefined) this.snapshot.endedAt = summary ? this.snapshot.startedAt + summary.durationMs : Date.now();
    this.changed.fire({ type: 'status', status, ...(summary ? { summary } : {}), ...(message ? { message } : {}) });
    if (ended) this.endScope();
  }

  /** Whether something still feeds the run (a trainer child or a followed log) that Stop would end. */
  get hasProcess(): boolean {
    return this.trainer !== undefined || this.stopper !== undefined;
  }

  /** Stops the child politely (it closes its run log), killing it after `graceMs`; resolves when it is gone. */
  async shutdown(graceMs: number): Promise<void> {
    await this.trainer?.stop(graceMs);
  }

  private endScope(): void {
    // Listeners of a finished run are released on the next tick, after they saw the final status.
    setTimeout(() => this.scope.splice(0).forEach((d) => d.dispose()), 0);
  }

  dispose(): void {
    this.stopper?.();
    void this.trainer?.kill();
    this.scope.splice(0).forEach((d) => d.dispose());
  }
}

/**
 * How many finished runs a window keeps. A long session (watching logs, comparing, re-running) would
 * otherwise hold every run's columns forever; twenty is more than the run list can usefully show, and
 * any older run can be opened again from its log with Open Run….
 */
export const KEPT_FINISHED_RUNS = 20;

/** The runs of this window: the extension-lifetime scope that owns every run scope. */
export class RunManager implements vscode.Disposable {
  private readonly runs = new Map<string, Run>();
  private readonly added = new vscode.EventEmitter<Run>();
  private readonly removed = new vscode.EventEmitter<Run>();
  readonly onDidAddRun = this.added.event;
  /** A finished run was dropped to keep at most `keptFinished` (it is disposed after this fires). */
  readonly onDidRemoveRun = this.removed.event;
  /** The run the status bar and the panel show first: the latest started or selected. */
  focused: Run | undefined;

  /** @param keptFinished how many finished runs to keep (default KEPT_FINISHED_RUNS); live runs are always kept. */
  constructor(private readonly keptFinished = KEPT_FINISHED_RUNS) {}

  add(run: Run): Run {
    this.runs.set(run.id, run);
    this.focused = run;
    this.added.fire(run);
    this.prune();
    return run;
  }

  /** Drops the oldest finished runs beyond the bound (never a live or the focused one). */
  private prune(): void {
    const finished = this.all().filter((run) => run.status !== 'running' && run.status !== 'paused' && run !== this.focused);
    for (const run of finished.slice(0, Math.max(0, finished.length - this.keptFinished))) {
      this.runs.delete(run.id);
      this.removed.fire(run);
      run.dispose();
    }
  }

  /** Drops a run from the list and disposes it (a reopened run folder replaces its earlier entry). */
  remove(run: Run): void {
    if (!this.runs.delete(run.id)) return;
    if (this.focused === run) this.focused = undefined;
    this.removed.fire(run);
    run.dispose();
  }

  /** The run whose log is written to (or was read from) `dir`, if this window has one. */
  byFolder(dir: string): Run | undefined {
    const wanted = resolve(dir);
    return this.all().find((run) => run.runDir !== undefined && resolve(run.runDir) === wanted);
  }

  get(id: string): Run | undefined {
    return this.runs.get(id);
  }

  all(): Run[] {
    return [...this.runs.values()];
  }

  live(): Run[] {
    return this.all().filter((run) => run.status === 'running' || run.status === 'paused');
  }

  /** Deactivation: no child process may outlive the extension, and each leaves a complete run log. */
  async shutdownAll(graceMs = 3000): Promise<void> {
    await Promise.all(this.all().map((run) => run.shutdown(graceMs)));
  }

  dispose(): void {
    this.all().forEach((run) => run.dispose());
    this.added.dispose();
    this.removed.dispose();
  }
}
