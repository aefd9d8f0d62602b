// Every message between the trainer child process, the extension host and the webview.
// Trainer ↔ host messages travel over the fork IPC channel with `serialization: 'advanced'`, so NaN
// and Infinity survive; host ↔ webview messages are structured-cloned by VS Code.
import type { DetectorEvent, DetectorEventKind } from './detect/events';
import { COLUMNS, type CompareRow } from './tools/compareTable';
import type { JobSpec } from './job/spec';
import type { LrFindOptions, LrFindResult } from './tools/lrFind';

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

/** Trainer child → host. */
export type TrainerMessage =
  | {
      type: 'started';
      runDir: string;
      backend: BackendName;
      /** Why the backend asked for was not used, if it was not. */
      backendNote?: string;
      /** Threads the backend's kernels run on (absent for tfjs-node, which manages its own). */
      threads?: number;
      parameterCount: number;
      layerNames: string[];
      totalSteps: number;
      /** Planned learning rate of every update. */
      plannedLr: number[];
    }
  | { type: 'steps'; batch: StepBatch }
  | { type: 'event'; event: RunEvent }
  | { type: 'epoch'; epoch: number; /** The last step of the epoch. */ step: number; trainLoss: number; validationLoss?: number; validationAccuracy?: number }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'lrFind'; result: LrFindResult }
  | { type: 'finished'; summary: RunSummary }
  | { type: 'failed'; message: string; runDir?: string };

/** What the host asks the trainer child to run (the first message it sends). */
export interface TrainRequest {
  /** The validated job, with command-line or UI overrides applied. */
  job: JobSpec;
  /** The job file, for messages; relative paths in the job resolve against its folder. */
  jobFile?: string;
  jobDir: string;
  runsDir: string;
  /** Overrides the job's backend. */
  backend?: JobSpec['backend'];
  /** Stops after this many updates. */
  maxSteps?: number;
  /** Where to look for a user's @tensorflow/tfjs-node (workspace folders). */
  searchPaths: string[];
  /** A learning-rate range test instead of training (the job's schedule is replaced by the sweep). */
  lrFind?: LrFindOptions;
}

/** Host → trainer child. */
export type TrainerCommand =
  | { type: 'start'; request: TrainRequest }
  | { type: 'stop' }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'setLrMultiplier'; value: number }
  | { type: 'setClipThreshold'; value: number };

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

/** One strategy of a comparison: its table row and its series, for the overlay charts. */
export interface CompareRun {
  strategy: string;
  step: number[];
  lr: number[];
  loss: number[];
  gradNorm: number[];
  events: RunEvent[];
}

export interface CompareState {
  title: string;
  target: number | null;
  sortedBy: keyof CompareRow;
  rows: CompareRow[];
  runs: CompareRun[];
  /** Strategies still to run or running. */
  pending: string[];
  /** Each strategy's progress, in the order they were picked. Default: none (nothing to show). */
  progress?: CompareProgress[];
}

/** How far one strategy of a comparison has got. */
export interface CompareProgress {
  strategy: string;
  state: 'queued' | 'running' | 'done';
  /** Updates done so far. */
  step: number;
  /** Updates the run plans; 0 until it has started. */
  totalSteps: number;
}

export interface PreviewState {
  title: string;
  totalSteps: number;
  /** How totalSteps was found (from epochs, batch size and data size, or a guess). */
  stepsNote: string;
  planned: number[];
  /** The range the actual rate can move in: plateau cuts and guard backoffs only go down. */
  band?: { low: number[]; label: string };
  problems: string[];
}

/** Host → diagnostics panel. */
export type DiagnosticsToWebview =
  /** Full data of some runs (the focused and overlaid ones); other runs keep what the view has. */
  | { type: 'snapshot'; runs: RunSnapshot[]; activeRunId?: string }
  /** Every run of the window, for the run list (no data). */
  | { type: 'runs'; runs: RunInfo[] }
  | { type: 'steps'; runId: string; batch: StepBatch }
  | { type: 'event'; runId: string; event: RunEvent }
  | { type: 'validation'; runId: string; point: ValidationPoint }
  | { type: 'status'; runId: string; status: RunStatus; endedAt?: number }
  | { type: 'focusStep'; runId: string; step: number }
  /** Rows of steps [min, max] of a large run, decimated to the width asked for (answer to `requestRange`). */
  | { type: 'range'; runId: string; min: number; max: number; batch: StepBatch };

/** Host → a tool view (range test, comparison, schedule preview). */
export type ToolToWebview =
  | { type: 'lrFind'; title: string; result: LrFindResult; currentPeak?: number; applied?: boolean }
  | { type: 'compare'; state: CompareState }
  | { type: 'preview'; state: PreviewState };

/** Host → any webview. Each view switches over its own union (DiagnosticsToWebview, ToolToWebview). */
export type HostToWebview = DiagnosticsToWebview | ToolToWebview;

/** Diagnostics panel → host. */
export type DiagnosticsToHost =
  /** `show`: runs the view still overlays (from its saved state); `width`: chart width in pixels, for decimation. */
  | { type: 'ready'; show?: string[]; width?: number }
  | { type: 'selectRun'; runId: string }
  /** The runs drawn together (focused first); the host sends the snapshots the view lacks. */
  | { type: 'showRuns'; runIds: string[] }
  | { type: 'requestRange'; runId: string; min: number; max: number; width: number }
  | { type: 'stop'; runId: string }
  | { type: 'pause'; runId: string }
  | { type: 'resume'; runId: string }
  | { type: 'setLrMultiplier'; runId: string; value: number }
  | { type: 'setClipThreshold'; runId: string; value: number }
  | { type: 'revealEvent'; runId: string; step: number };

/** A tool view → host. */
export type ToolToHost =
  | { type: 'ready' }
  | { type: 'applyLr' }
  | { type: 'sortCompare'; column: keyof CompareRow }
  | { type: 'exportCompare'; format: 'csv' | 'markdown' };

/** Webview → host. Untrusted: the host checks each with parseWebviewMessage. */
export type WebviewToHost = DiagnosticsToHost | ToolToHost;

/** Validates a message from the webview; undefined for anything malformed. */
export function parseWebviewMessage(message: unknown): WebviewToHost | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const m = message as Record<string, unknown>;
  const runId = typeof m.runId === 'string' && m.runId.length <= 200 ? m.runId : undefined;
  const positive = typeof m.value === 'number' && Number.isFinite(m.value) && m.value > 0 ? m.value : undefined;
  switch (m.type) {
    case 'ready': {
      const show = Array.isArray(m.show) ? m.show.filter((id): id is string => typeof id === 'string' && id.length <= 200).slice(0, 50) : undefined;
      const width = typeof m.width === 'number' && Number.isInteger(m.width) && m.width > 0 && m.width <= 10_000 ? m.width : undefined;
      return { type: 'ready', ...(show ? { show } : {}), ...(width ? { width } : {}) };
    }
    case 'showRuns':
      return Array.isArray(m.runIds) && m.runIds.length <= 50 && m.runIds.every((id) => typeof id === 'string' && id.length <= 200) ? { type: 'showRuns', runIds: m.runIds as string[] } : undefined;
    case 'requestRange': {
      const ok = runId && Number.isFinite(m.min) && Number.isFinite(m.max) && (m.min as number) <= (m.max as number) && Number.isInteger(m.width) && (m.width as number) > 0 && (m.width as number) <= 10_000;
      return ok ? { type: 'requestRange', runId, min: m.min as number, max: m.max as number, width: m.width as number } : undefined;
    }
    case 'selectRun':
    case 'stop':
    case 'pause':
    case 'resume':
      return runId ? { type: m.type, runId } : undefined;
    case 'setLrMultiplier':
    case 'setClipThreshold':
      return runId && positive !== undefined ? { type: m.type, runId, value: positive } : undefined;
    case 'revealEvent':
      return runId && Number.isInteger(m.step) && (m.step as number) >= 0 ? { type: 'revealEvent', runId, step: m.step as number } : undefined;
    case 'applyLr':
      return { type: 'applyLr' };
    case 'sortCompare':
      return typeof m.column === 'string' && (COLUMNS as string[]).includes(m.column) ? { type: 'sortCompare', column: m.column as keyof CompareRow } : undefined;
    case 'exportCompare':
      return m.format === 'csv' || m.format === 'markdown' ? { type: 'exportCompare', format: m.format } : undefined;
    default:
      return undefined;
  }
}
