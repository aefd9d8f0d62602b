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
  /** (log value − median log) / (1.4826 · MAD of the log-values) over `window`, with a floor on the scale; NaN before minHistory and for rows that are no candidate (below `ratio` and `sureRatio`). */
  readonly zScore: number;
  readonly flagged: boolean;
  /** Top of the usual range before this row: the larger of the third largest of the last levelWindow rows and the 75th percentile of the window. */
  readonly recentHigh: number;
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
  /** Whether each of the last `window` rows was a drop (a ring), and how many were. */
  private readonly recent: Uint8Array;
  private recentHead = 0;
  private lows = 0;

  /**
   * `twoModes`: look for two groups in the window (RL gradient norms); off for losses, where a
   * group of high values is the start of training or a blow-up, not a mode. Default: false.
   */
  constructor(
    private readonly options: SpikeOptions,
    private readonly twoModes = false,
  ) {
    this.levels = new RollingRobust(options.levelWindow);
    this.history = new RollingRobust(options.window);
    this.logRatio = Math.log(options.ratio);
    this.logSure = Math.log(Math.max(options.sureRatio, options.ratio));
    this.recent = new Uint8Array(options.window);
  }

  private recordLow(low: boolean): void {
    this.lows += (low ? 1 : 0) - this.recent[this.recentHead];
    this.recent[this.recentHead] = low ? 1 : 0;
    this.recentHead = (this.recentHead + 1) % this.recent.length;
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
    const scored = this.history.count >= this.options.minHistory;
    let center = this.history.median();
    const level = this.levels.median();
    // A drop below both baselines by `ratio` stays out of them while such drops are the minority of
    // the last `window` rows: in a bimodal run (RL steps whose rewards are all equal give a norm near
    // 0) the low mode would otherwise drag the levels down and make every ordinary row look like a
    // jump. A lasting fall is soon the majority and moves the levels as usual.
    const low = scored && logValue < Math.min(center, level) - this.logRatio;
    const lowsBefore = this.lows;
    this.recordLow(low);
    const shortHigh = this.levels.largest(Math.min(3, this.levels.count));
    const recentHigh = Math.exp(Math.max(shortHigh, this.history.largest(Math.ceil(0.25 * this.history.count))));
    if (low && 2 * lowsBefore < Math.min(this.history.count, this.recent.length)) return unflagged(center, logValue, recentHigh);
    const levelJump = logValue - level;
    // Most rows are no candidate at all; the rest of the tests (and their cost) are for those that are.
    if (logValue - center < this.logRatio && levelJump < this.logSure) {
      this.push(logValue);
      return unflagged(center, logValue, recentHigh);
    }
    // Two modes (RL: steps whose rewards are all equal give a norm near 0, the others ~100× more):
    // when the window splits at a gap of at least `ratio` with a fifth of it or more above, the
    // upper group is the run's usual level and spread, whichever mode has more rows.
    const upper = scored && this.twoModes ? this.history.upperGroupStart(this.logRatio, Math.max(this.options.minHistory, Math.ceil(0.2 * this.history.count))) : -1;
    const from = Math.max(upper, 0);
    center = this.history.median(from);
    const jump = logValue - center;
    let zScore = NaN;
    let flaggedWindow = jump >= this.logRatio;
    let cap = this.logRatio;
    if (scored) {
      const scale = Math.max(1.4826 * this.history.medianAbsoluteDeviation(center, from), SpikeScorer.minScale);
      zScore = jump / scale;
      flaggedWindow &&= zScore >= this.options.zScore;
      cap = Math.max(cap, this.options.zScore * scale);
    }
    // Also above twice the window's median: in a bimodal run (RL steps with no reward signal) the
    // short level can sit in the low mode, and a row back at the usual level is no jump.
    const flaggedLevel = levelJump >= this.logSure && jump >= SpikeScorer.logAboveUsual;
    // And above the third largest of the last levelWindow rows: when a bimodal run spends most rows
    // in its low mode, both medians sit there, and a row of the usual high mode is no jump.
    const aboveRecent = !(logValue <= shortHigh) || this.levels.count < 3;
    const flagged = (flaggedWindow || flaggedLevel) && aboveRecent;
    // A spike enters the history capped, so one outlier does not raise the baselines, while a
    // lasting shift still moves them within half a window (as ZClip feeds back clipped values).
    // (Not in the first minHistory rows: there is no level to protect yet, and a run that starts
    // with a shift, as LoRA norms do, must not stay flagged for rows on end.)
    this.push(flagged && scored ? Math.min(logValue, Math.max(center + cap, level + this.logSure)) : logValue);
    return flaggedLevel && levelJump > jump
      ? { level: Math.exp(level), ratio: Math.exp(levelJump), zScore, flagged, recentHigh }
      : { level: Math.exp(center), ratio: Math.exp(jump), zScore, flagged, recentHigh };
  }

  private push(logValue: number): void {
    this.levels.push(logValue);
    this.history.push(logValue);
  }
}

function unflagged(center: number, logValue: number, recentHigh: number): SpikeScore {
  return { level: Math.exp(center), ratio: Math.exp(logValue - center), zScore: NaN, flagged: false, recentHigh };
}
