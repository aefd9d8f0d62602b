/**
 * TensorBoard's smoothing: an exponential moving average debiased like Adam's moments, so the first
 * points are not pulled towards zero. `weight` 0 returns the values; non-finite values pass through
 * unsmoothed and do not enter the average (with `positiveOnly`, default false, neither do values <= 0). Same result as TensorBoard's `smooth` in vz_line_chart.
 */
export function ema(values: ArrayLike<number>, weight: number, start = 0, end = values.length, options: { positiveOnly?: boolean } = {}): Float64Array {
  const out = new Float64Array(end - start);
  let last = 0;
  let count = 0;
  for (let i = start; i < end; i++) {
    const v = values[i];
    // On a log axis 0 (a dead layer) is not averaged in, or the smoothed line would sink towards it.
    if (!Number.isFinite(v) || (options.positiveOnly && v <= 0)) {
      out[i - start] = v;
      continue;
    }
    last = last * weight + (1 - weight) * v;
    count++;
    const debias = weight === 1 ? 1 : 1 - weight ** count;
    out[i - start] = last / debias;
  }
  return out;
}

/** An EMA in progress over a column that only grows: `extend` smooths the new rows only. */
export class RunningEma {
  private last = 0;
  private count = 0;
  readonly out: number[] = [];

  /** @param weight TensorBoard's smoothing weight in [0, 1). @param positiveOnly values <= 0 pass through (log axes); default false. */
  constructor(
    readonly weight: number,
    readonly positiveOnly = false,
  ) {}

  get length(): number {
    return this.out.length;
  }

  /** Smooths values[length, end). Same values as `ema(values, weight, 0, end)`. */
  extend(values: ArrayLike<number>, end: number): number[] {
    for (let i = this.out.length; i < end; i++) {
      const v = values[i];
      if (!Number.isFinite(v) || (this.positiveOnly && v <= 0)) {
        this.out.push(v);
        continue;
      }
      this.last = this.last * this.weight + (1 - this.weight) * v;
      this.count++;
      this.out.push(this.last / (this.weight === 1 ? 1 : 1 - this.weight ** this.count));
    }
    return this.out;
  }
}
