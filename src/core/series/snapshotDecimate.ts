// Host-side decimation of a run for the diagnostics panel: a million-step run is sent as a few
// thousand rows (min/max per pixel column of every series, flagged and non-finite steps kept), and a
// zoomed range is sent again at full pixel resolution when the view asks for it.
import { decimate } from './decimate';
import type { RunSnapshot, StepBatch } from '../protocol';

/** Runs with at most this many rows are sent whole (the view decimates them itself, zooming needs no host). */
export const SEND_WHOLE_ROWS = 20_000;

/** Columns of a batch (every numeric series, the step column aside). */
function columnsOf(batch: StepBatch): number[][] {
  return [batch.lr, batch.loss, batch.gradNorm, batch.clippedNorm, batch.updateRatio, batch.weightNorm, ...(batch.layerGradNorms ?? [])].filter((c): c is number[] => c !== undefined);
}

/** Row indices in [start, end) that keep each column's shape at `width` pixels, plus `keep`. */
export function decimatedRows(batch: StepBatch, width: number, start: number, end: number, keep: number[]): Uint32Array {
  const chosen = new Uint8Array(end - start);
  for (const column of [...columnsOf(batch)]) {
    const indices = decimate(column, width, { start, end, keep, keepNonFinite: true });
    for (let i = 0; i < indices.length; i++) chosen[indices[i] - start] = 1;
  }
  let count = 0;
  for (let i = 0; i < chosen.length; i++) count += chosen[i];
  const rows = new Uint32Array(count);
  for (let i = 0, j = 0; i < chosen.length; i++) if (chosen[i]) rows[j++] = start + i;
  return rows;
}

/** The rows of a batch at the given indices, as a new batch. */
export function pickRows(batch: StepBatch, rows: ArrayLike<number>): StepBatch {
  const pick = (column: number[]) => Array.from(rows, (i) => column[i]);
  return {
    step: pick(batch.step),
    lr: pick(batch.lr),
    loss: pick(batch.loss),
    gradNorm: pick(batch.gradNorm),
    ...(batch.clippedNorm ? { clippedNorm: pick(batch.clippedNorm) } : {}),
    ...(batch.updateRatio ? { updateRatio: pick(batch.updateRatio) } : {}),
    ...(batch.weightNorm ? { weightNorm: pick(batch.weightNorm) } : {}),
    ...(batch.layerGradNorms ? { layerGradNorms: batch.layerGradNorms.map(pick) } : {}),
  };
}

/** First index whose step is >= `step` (steps ascend); shared by the host and the webview. */
export function lowerBound(steps: ArrayLike<number>, step: number): number {
  let lo = 0;
  let hi = steps.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (steps[mid] < step) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Indices of the rows that have events. */
function eventRows(snapshot: RunSnapshot): number[] {
  return snapshot.events.map((e) => lowerBound(snapshot.batch.step, e.step)).filter((i) => i < snapshot.batch.step.length);
}

/**
 * What the panel gets for a run: the snapshot itself when small, else a copy whose batch is decimated
 * to `width` pixel columns (plannedLr likewise), with `rowCount` saying how many rows there really are.
 */
export function snapshotForView(snapshot: RunSnapshot, width: number): RunSnapshot {
  const n = snapshot.batch.step.length;
  if (n <= SEND_WHOLE_ROWS) return snapshot;
  const rows = decimatedRows(snapshot.batch, width, 0, n, eventRows(snapshot));
  const planned = snapshot.plannedLr.length > SEND_WHOLE_ROWS ? decimate(snapshot.plannedLr, width) : undefined;
  return {
    ...snapshot,
    batch: pickRows(snapshot.batch, rows),
    ...(planned ? { plannedLr: Array.from(planned, (i) => snapshot.plannedLr[i]), plannedSteps: Array.from(planned) } : {}),
    rowCount: n,
  };
}

/** Rows of steps [min, max] decimated to `width` pixel columns (answer to the view's `requestRange`). */
export function rangeForView(snapshot: RunSnapshot, min: number, max: number, width: number): StepBatch {
  const steps = snapshot.batch.step;
  // One row either side of the range, so that lines run to the chart's edges.
  const start = Math.max(0, lowerBound(steps, min) - 1);
  const end = Math.min(steps.length, lowerBound(steps, max + 1) + 1);
  const events = eventRows(snapshot).filter((i) => i >= start && i < end);
  return pickRows(snapshot.batch, decimatedRows(snapshot.batch, width, start, end, events));
}
