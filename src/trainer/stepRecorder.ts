import type { RunEvent, StepBatch } from '../core/protocol';
import type { RunLogWriter } from '../node/runlog';
import { StepColumns, type StepRow } from '../core/series/stepColumns';

/** Where a training loop's rows and events go (the host, through the IPC channel). */
export interface StepSink {
  steps(batch: StepBatch): void;
  event(event: RunEvent): void;
}

/**
 * Records a loop's steps and events: each row goes to the run log and, batched, to the host. A
 * row waits for the size of its update, which the next readback brings (see GradientStep), so
 * `record` holds it and `completeUpdate` writes it. The first row goes out at once (the host shows
 * progress as soon as there is some); later ones at most every `intervalMs`.
 */
export class StepRecorder {
  private readonly columns: StepColumns;
  private pending: StepRow | undefined;
  private lastSent = -Infinity;

  constructor(
    private readonly layerNames: string[],
    private readonly log: RunLogWriter,
    private readonly sink: StepSink,
    /** Longest time between two batches sent to the host. Default: 100 ms. */
    private readonly intervalMs = 100,
  ) {
    this.columns = new StepColumns(layerNames.length);
  }

  emit(event: RunEvent): void {
    this.log.appendEvent(event);
    this.sink.event(event);
  }

  /** Holds a step's row until its update's size is known; its updateRatio is filled in then. */
  record(row: StepRow): void {
    this.pending = row;
  }

  /** Σ Δw² of the held row's update (NaN when unknown): writes the row. */
  completeUpdate(updateSquare: number): void {
    const row = this.pending;
    if (!row) return;
    this.pending = undefined;
    row.updateRatio = Math.sqrt(updateSquare) / row.weightNorm;
    const { layerGradNorms, ...scalars } = row;
    const flat: Record<string, number> = { ...scalars };
    this.layerNames.forEach((name, i) => (flat[`gradNorm/${name}`] = layerGradNorms[i]));
    this.log.appendMetrics(flat);
    this.columns.push(row);
    if (Date.now() - this.lastSent >= this.intervalMs) this.send();
  }

  /** Sends what is batched (at the end of a run). */
  send(): void {
    if (this.columns.length > 0) this.sink.steps(this.columns.take());
    this.lastSent = Date.now();
  }
}
