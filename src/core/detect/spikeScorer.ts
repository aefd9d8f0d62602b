import { RollingRobust } from './rollingRobust';

export interface SpikeOptions {
  /** Steps in the running window of log-values. Default: 50. */
  window: number;
  /** Values seen before the z-score test applies; before that (from the second value) the ratio alone decides. Default: 8. */
  minHistory: number;
  /** Value / running median above which a step can be a spike. */
  ratio: number;
  /** Robust z-score of the log-value that must also be exceeded. */
  zScore: number;
}

export interface SpikeScore {
  /** Running median before this step (the "level"), in the value's own units. */
  readonly level: number;
  /** Value / level. */
  readonly ratio: number;
  /** (log value − median log) / (1.4826 · MAD of log values), with a floor on the scale; NaN before minHistory. */
  readonly zScore: number;
  readonly flagged: boolean;
}

/**
 * Why both tests: the ratio says the jump is large in practice, the z-score that it is large for this
 * run's noise. A run whose norm climbs steadily early on has a wide window and a low z; a quiet run
 * with a small wobble has a high z but a low ratio. Neither alone separates healthy from exploding
 * on the reference traces; together they raise no alarm on the healthy ones.
 *
 * In the first steps a z-score over a handful of values means nothing, yet that is exactly when a
 * too-high learning rate explodes (Adam's first update moves every weight by about lr). So until
 * minHistory values are seen, the ratio alone decides; healthy runs stay under 2× there.
 */
export class SpikeScorer {
  /** A log-scale spread below this (≈10 %) is noise too small to make a z-score meaningful. */
  private static readonly minScale = 0.1;
  private readonly window: RollingRobust;
  private readonly logRatio: number;

  constructor(private readonly options: SpikeOptions) {
    this.window = new RollingRobust(options.window);
    this.logRatio = Math.log(options.ratio);
  }

  /** Scores a positive finite value and adds it to the history; undefined for the very first value. */
  observe(value: number): SpikeScore | undefined {
    let logValue = Math.log(value);
    let score: SpikeScore | undefined;
    if (this.window.count > 0) {
      const center = this.window.median();
      const aboveRatio = logValue - center >= this.logRatio;
      let zScore = NaN;
      let cap = center + this.logRatio;
      let flagged = aboveRatio;
      if (this.window.count >= this.options.minHistory) {
        const scale = Math.max(1.4826 * this.window.medianAbsoluteDeviation(center), SpikeScorer.minScale);
        zScore = (logValue - center) / scale;
        flagged = aboveRatio && zScore >= this.options.zScore;
        cap = center + this.options.zScore * scale;
      }
      score = { level: Math.exp(center), ratio: Math.exp(logValue - center), zScore, flagged };
      // A spike enters the history capped, so one outlier does not raise the level, while a lasting
      // shift still moves it within half a window (as ZClip feeds back clipped values).
      if (flagged) logValue = Math.min(logValue, cap);
    }
    this.window.push(logValue);
    return score;
  }
}
