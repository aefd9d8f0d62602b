// Host ↔ the diagnostics panel (structured-cloned by VS Code).
import type { RunEvent, RunInfo, RunSnapshot, RunStatus, StepBatch, ValidationPoint } from './run';

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
