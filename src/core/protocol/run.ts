// What a run is made of, for every channel: its steps, events, status and summary.
import type { DetectorEvent, DetectorEventKind } from '../detect/events';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

/** Per-step metrics, column by column (one array per field, all the same length). */
export interface StepBatch {
  step: number[];
  /** Learning rate actually used (after backoff, plateau cuts and the user's multiplier). */
  lr: number[];
  loss: number[];
  /** Global L2 norm of the gradient before clipping. */
  gradNorm: number[];
  /** Global norm after clipping; equal to gradNorm when nothing was clipped. */
  clippedNorm?: number[];
  /** layerGradNorms[i][row]: gradient norm of layer i (names in `started.layerNames`). */
  layerGradNorms?: number[][];
  /** ‖update‖ / ‖weights‖ over all trainable weights. */
  updateRatio?: number[];
  /** ‖weights‖ over all trainable weights, before the step's update. */
  weightNorm?: number[];
}

export type GuardAction = 'warn' | 'skip' | 'backoff' | 'rollback' | 'stop';

/** What a guard did about a detector event. */
export interface GuardEvent {
  kind: 'guard';
  step: number;
  action: GuardAction;
  cause: DetectorEventKind;
  /** Learning-rate multiplier in force after the action (backoff, rollback). */
  lrMultiplier?: number;
}

/** A plateau schedule cut the learning rate. */
export interface LrCutEvent {
  kind: 'lrCut';
  step: number;
  lr: number;
  previousLr: number;
}

export type RunEvent = DetectorEvent | GuardEvent | LrCutEvent;
export type RunEventKind = RunEvent['kind'];

/** Every kind of run event (a record of another kind in a run log, e.g. the Python package's control changes, is not one). */
export const RUN_EVENT_KINDS: ReadonlySet<string> = new Set(
  Object.keys({ explosion: true, nonFinite: true, vanishing: true, lossSpike: true, divergence: true, guard: true, lrCut: true } satisfies Record<RunEventKind, true>),
);

export type RunStatus = 'running' | 'paused' | 'finished' | 'stopped' | 'failed';

/**
 * Why a run ended. 'completed': every planned step ran. 'user': asked to stop (the Stop button,
 * Ctrl-C, the host going away). 'guard': a guard's `stop` action (explosion or non-finite value).
 * 'nonFinite': L-BFGS met a non-finite loss or gradient it cannot step from. 'sweepEnd': a range test
 * ended its sweep early (the loss blew up). 'error': the run failed.
 */
export type StopReason = 'completed' | 'user' | 'guard' | 'nonFinite' | 'sweepEnd' | 'error';

export interface RunSummary {
  status: Exclude<RunStatus, 'running' | 'paused'>;
  /** Why the run ended; decide on this, not on `message` (which is for people). Absent in logs written before it existed. */
  stopReason: StopReason;
  steps: number;
  finalLoss: number;
  /** Number of events of each kind. */
  eventCounts: Partial<Record<RunEventKind, number>>;
  durationMs: number;
  backend: BackendName;
  /** Threads the backend's kernels ran on (absent for tfjs-node, which manages its own). */
  threads?: number;
  message?: string;
}

/** Everything the panel needs to draw a run from scratch (answer to `ready`). */
export interface RunSnapshot {
  runId: string;
  title: string;
  status: RunStatus;
  backend?: BackendName;
  layerNames: string[];
  totalSteps: number;
  plannedLr: number[];
  /** The step of each plannedLr value when plannedLr is decimated; absent, plannedLr[i] is step i's. */
  plannedSteps?: number[];
  batch: StepBatch;
  events: RunEvent[];
  /** Validation results, one per epoch, at the epoch's last step. */
  validation: ValidationPoint[];
  /**
   * Where the data comes from: a Gradscope trainer (controllable), a log another program writes, or
   * a run folder the gradscope Python package writes (a log, controllable through its control.json).
   * Default: trainer.
   */
  source?: RunSource;
  clipThreshold?: number;
  /** When the run started (ms since the epoch), for the run list and the header's duration. */
  startedAt?: number;
  /** When the run ended (ms since the epoch); absent while it runs. */
  endedAt?: number;
  /**
   * Set when `batch` is a min/max decimation of the run's rows (large runs): how many rows the run
   * really has. The view asks for finer rows of a zoomed range with `requestRange`.
   */
  rowCount?: number;
}

/** One line of the diagnostics panel's run list: enough to pick a run without its data. */
export interface RunInfo {
  runId: string;
  title: string;
  status: RunStatus;
  startedAt?: number;
  /** Rows (steps) so far. */
  steps: number;
  events: number;
  source?: RunSource;
}

export type RunSource = 'trainer' | 'log' | 'pytorch';

export interface ValidationPoint {
  step: number;
  loss: number;
  accuracy?: number;
}
