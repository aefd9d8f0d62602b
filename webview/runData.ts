import type { RunEvent, RunSnapshot, StepBatch } from '../src/core/protocol';
import { applyEvent } from '../src/core/detect/events';
import { lowerBound } from '../src/core/series/snapshotDecimate';

export { lowerBound };
import { appendBatch } from '../src/core/series/stepColumns';

/** Rows to draw: a batch and the index range [start, end) of it that falls in the x range. */
export interface Rows {
  batch: StepBatch;
  start: number;
  end: number;
}

/**
 * The webview's copy of a run: everything so far for small runs, a host-decimated copy for large ones
 * (`snapshot.rowCount` set) plus, when zoomed, the finer rows of the visible range the host sent.
 */
export class RunData {
  /** Finer rows of [min, max] from the host (large runs only). */
  private detail: { min: number; max: number; batch: StepBatch } | undefined;

  constructor(public snapshot: RunSnapshot) {}

  /** Whether the view holds a decimated copy and must ask the host for a zoomed range's rows. */
  get decimated(): boolean {
    return this.snapshot.rowCount !== undefined;
  }

  /** Rows the run really has (more than the view holds when decimated). */
  get rowCount(): number {
    return Math.max(this.snapshot.rowCount ?? 0, this.snapshot.batch.step.length);
  }

  /** The last step with data, or -1. */
  get lastStep(): number {
    return this.snapshot.batch.step.at(-1) ?? -1;
  }

  append(batch: StepBatch): void {
    appendBatch(this.snapshot.batch, batch);
    if (this.snapshot.rowCount !== undefined) this.snapshot.rowCount += batch.step.length;
  }

  addEvent(event: RunEvent): void {
    // A regraded copy (an info spike the run did not absorb) replaces the event it upgrades.
    applyEvent(this.snapshot.events, event);
  }

  setDetail(min: number, max: number, batch: StepBatch): void {
    this.detail = { min, max, batch };
  }

  /** Whether the host's finer rows cover [min, max]. */
  hasDetail(min: number, max: number): boolean {
    return this.detail !== undefined && this.detail.min <= min && this.detail.max >= max;
  }

  /** The rows to draw for an x range (all rows without one). */
  rows(range?: { min: number; max: number }): Rows {
    const batch = range && this.detail && this.hasDetail(range.min, range.max) ? this.detail.batch : this.snapshot.batch;
    if (!range) return { batch, start: 0, end: batch.step.length };
    // One row either side, so that lines run to the chart's edges.
    return { batch, start: Math.max(0, lowerBound(batch.step, range.min) - 1), end: Math.min(batch.step.length, lowerBound(batch.step, range.max + 1) + 1) };
  }
}
