import type { StepBatch } from '../protocol';

/** One step as the trainer reports it. */
export interface StepRow {
  step: number;
  lr: number;
  loss: number;
  gradNorm: number;
  clippedNorm: number;
  updateRatio: number;
  /** ‖w‖ over all trainable weights before this step's update. */
  weightNorm: number;
  layerGradNorms: number[];
}

/** Accumulates rows column by column and hands them out as a StepBatch (one IPC message for many steps). */
export class StepColumns {
  private batch: StepBatch = StepColumns.empty(0);

  constructor(private readonly layerCount: number) {
    this.batch = StepColumns.empty(layerCount);
  }

  get length(): number {
    return this.batch.step.length;
  }

  push(row: StepRow): void {
    const b = this.batch;
    b.step.push(row.step);
    b.lr.push(row.lr);
    b.loss.push(row.loss);
    b.gradNorm.push(row.gradNorm);
    b.clippedNorm!.push(row.clippedNorm);
    b.updateRatio!.push(row.updateRatio);
    b.weightNorm!.push(row.weightNorm);
    row.layerGradNorms.forEach((norm, i) => b.layerGradNorms![i].push(norm));
  }

  /** The rows so far, and starts a new batch. */
  take(): StepBatch {
    const out = this.batch;
    this.batch = StepColumns.empty(this.layerCount);
    return out;
  }

  private static empty(layers: number): StepBatch {
    return { step: [], lr: [], loss: [], gradNorm: [], clippedNorm: [], updateRatio: [], weightNorm: [], layerGradNorms: Array.from({ length: layers }, () => []) };
  }
}

/** Appends one batch to another (the host keeps all points of a run this way). */
export function appendBatch(target: StepBatch, more: StepBatch): void {
  const before = target.step.length;
  append(target.step, more.step);
  append(target.lr, more.lr);
  append(target.loss, more.loss);
  append(target.gradNorm, more.gradNorm);
  if (more.clippedNorm) append((target.clippedNorm ??= []), more.clippedNorm);
  if (more.updateRatio) append((target.updateRatio ??= []), more.updateRatio);
  if (more.weightNorm) append((target.weightNorm ??= []), more.weightNorm);
  if (more.layerGradNorms) {
    // A layer first seen in this batch (a log left it out of its first rows) has a gap before it.
    const columns = (target.layerGradNorms ??= []);
    while (columns.length < more.layerGradNorms.length) columns.push(new Array<number>(before).fill(NaN));
    more.layerGradNorms.forEach((column, i) => append(columns[i], column));
  }
}

/** push(...values) in slices: spreading more than ~100k arguments overflows the call stack. */
function append(target: number[], values: readonly number[]): void {
  for (let i = 0; i < values.length; i += 50_000) target.push(...values.slice(i, i + 50_000));
}
