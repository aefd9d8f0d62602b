import { RollingRobust } from './rollingRobust';

export interface SpikeOptions {
  /** Logged rows in the running window of log-values (median and spread). Default: 50. */
  window: number;
  /**
   * Logged rows behind the short level: the median of the last `levelWindow` values. It follows a
   * level that decays or grows (memorisation, warmup, the LR schedule), so a trend does not hide a
   * jump of sureRatio; a median of 12 still ignores up to 5 outliers (and a bimodal run's low mode). Default: 12.
   */
  levelWindow: number;
  /** Rows seen before the z-score test applies; before that (from the second row) the ratio alone decides. Default: 8. */
  minHistory: number;
  /** Value / running median above which a row can be a spike. */
  ratio: number;
  /** Robust z-score of the log-value that must also be exceeded. */
  zScore: number;
  /**
   * Value / short level (median of the last levelWindow rows) at or above which a row is a spike
   * whatever the spread: a trend or heavy tails widen the spread enough to hide 10–17× jumps.
   */
  sureRatio: number;
}

export interface SpikeScore {
  /** The level the value was measured against, in the value's own units (before this row). */
  readonly level: number;
  /** Value / level. */
  readonly ratio: number;
  /** (log value − median log) / (1.4826 · MAD of the log-values) over `window`, with a floor on the scale; NaN before minHistory. */
  readonly zScore: number;
  readonly flagged: boolean;
}

/**
 * Two baselines, because one cannot do both jobs:
 * - the **window** (50 rows): the median of the log-values and their robust spread (1.4826·MAD).
 *   A row at least `ratio` times the median and `zScore` spreads above it is a spike. Both tests,
 *   because the ratio says the jump is large in practice and the z-score that it is large for this
 *   run's noise; and a long median is not lifted by a run of rising rows (an instability building).
 * - the **level** (median of the last `levelWindow` rows) follows a norm that decays 2000× over 40
 *   rows (a memorising fine-tune) or climbs through warmup; a row at least `sureRatio` times it is a
 *   spike whatever the spread, provided it is also above twice the window's median (so a bimodal
 *   run's return from its low mode is no jump). Over a window that spans such a trend the spread is
 *   wide, and heavy-tailed runs are wide anyway: either would hide a 10× jump from the z-score.
 *
 * In the first rows a z-score over a handful of values means nothing, yet that is exactly when a
 * too-high learning rate explodes (Adam's first update moves every weight by about lr). So until
 * minHistory values are seen, the ratio alone decides.
 */
export class SpikeScorer {
  /** A log-scale spread below this (≈10 %) is noise too small to make a z-score meaningful. */
  private static readonly minScale = 0.1;
  private static readonly logAboveUsual = Math.log(2);
  private readonly levels: RollingRobust;
  private readonly history: RollingRobust;
  private readonly logRatio: number;
  private readonly logSure: number;

  constructor(private readonly options: SpikeOptions) {
    this.levels = new RollingRobust(options.levelWindow);
    this.history = new RollingRobust(options.window);
    this.logRatio = Math.log(options.ratio);
    this.logSure = Math.log(Math.max(options.sureRatio, options.ratio));
  }

  /** Rows scored so far. */
  get count(): number {
    return this.history.count;
  }

  /** Scores a positive finite value and adds it to the history; undefined for the very first value. */
  observe(value: number): SpikeScore | undefined {
    const logValue = Math.log(value);
    if (this.history.count > 0) return this.score(logValue);
    this.levels.push(logValue);
    this.history.push(logValue);
    return undefined;
  }

  private score(logValue: number): SpikeScore {
    const center = this.history.median();
    const jump = logValue - center;
    let zScore = NaN;
    let flaggedWindow = jump >= this.logRatio;
    let cap = this.logRatio;
    if (this.history.count >= this.options.minHistory) {
      const scale = Math.max(1.4826 * this.history.medianAbsoluteDeviation(center), SpikeScorer.minScale);
      zScore = jump / scale;
      flaggedWindow &&= zScore >= this.options.zScore;
      cap = Math.max(cap, this.options.zScore * scale);
    }
    const level = this.levels.median();
    const levelJump = logValue - level;
    // Also above twice the window's median: in a bimodal run (RL steps with no reward signal) the
    // short level can sit in the low mode, and a row back at the usual level is no jump.
    const flaggedLevel = levelJump >= this.logSure && jump >= SpikeScorer.logAboveUsual;
    const flagged = flaggedWindow || flaggedLevel;
    // A spike enters the history capped, so one outlier does not raise the baselines, while a
    // lasting shift still moves them within half a window (as ZClip feeds back clipped values).
    const kept = flagged ? Math.min(logValue, Math.max(center + cap, level + this.logSure)) : logValue;
    this.levels.push(kept);
    this.history.push(kept);
    return flaggedLevel && levelJump > jump
      ? { level: Math.exp(level), ratio: Math.exp(levelJump), zScore, flagged }
      : { level: Math.exp(center), ratio: Math.exp(jump), zScore, flagged };
  }
}
