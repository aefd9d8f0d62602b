import type { SpikeOptions } from './spikeScorer';

/** How a spike is graded after it is flagged (counted in logged rows, not step numbers). */
export interface AbsorbOptions {
  /** Rows after a spike within which the run must come back near its level, or the spike becomes a warning. Default: 3. */
  absorbRows: number;
  /**
   * A later row at or below absorbedRatio × the usual range before the spike (the spike's level, or
   * the top of the recent rows when higher: the third largest of the last levelWindow rows or the
   * 75th percentile of the window) counts as back (absorbed). Default: 2.
   */
  absorbedRatio: number;
}

export interface LossSpikeOptions extends SpikeOptions, AbsorbOptions {
  /** Run this detector. Default: true. */
  enabled: boolean;
}

export interface ExplosionOptions extends LossSpikeOptions {
  /**
   * A spike larger than rangeFactor × the largest norm this run had before (once minHistory rows
   * are seen) is outside the run's own range: a warning even if absorbed. Default: 4.
   */
  rangeFactor: number;
  /**
   * A spike on a row whose learning rate is at least lrRise × the median rate of the previous
   * levelWindow rows came right after the LR rose: the classic explosion, a warning. Needs the lr
   * in at least minHistory rows. Default: 2.
   */
  lrRise: number;
}

export interface DivergenceOptions {
  /** Run this detector. Default: true. */
  enabled: boolean;
  /** Logged rows in the running median of the loss (it moves only when half of them are up, so an absorbed spike does not). Default: 20. */
  smoothing: number;
  /** Running median / its lowest value so far that counts as diverged. Default: 4. */
  factor: number;
  /** Running median / its lowest value above which a run counts as rising. Default: 1.5. */
  risingFactor: number;
  /** Consecutive logged rows above risingFactor that count as diverging. Default: 500. */
  risingSteps: number;
}

export interface VanishingOptions {
  /** Run this detector. Default: true. */
  enabled: boolean;
  /** Absolute gradient norm below which a layer counts as vanishing. Default: 1e-7. */
  floor: number;
  /** Layer norm / largest layer norm below which a layer counts as vanishing. Default: 1e-5. */
  ratioToMax: number;
  /** Consecutive logged rows a layer must stay below before it is flagged. Default: 10. */
  patience: number;
}

export interface DetectorOptions {
  /**
   * Global gradient norm far above its running level. Defaults: window 50, levelWindow 12,
   * minHistory 8, ratio 5, zScore 3.5, sureRatio 10, absorbRows 3, absorbedRatio 2, rangeFactor 4, lrRise 2.
   */
  explosion: ExplosionOptions;
  /**
   * Loss far above its running level. Defaults: window 50, levelWindow 12, minHistory 8, ratio 3,
   * zScore 4, sureRatio 20, absorbRows 3, absorbedRatio 2.
   */
  lossSpike: LossSpikeOptions;
  divergence: DivergenceOptions;
  vanishing: VanishingOptions;
}

/** The defaults, as the job schema states them (a unit test keeps the two equal). */
export const defaultDetectorOptions: DetectorOptions = {
  explosion: { enabled: true, window: 50, levelWindow: 12, minHistory: 8, ratio: 5, zScore: 3.5, sureRatio: 10, absorbRows: 3, absorbedRatio: 2, rangeFactor: 4, lrRise: 2 },
  lossSpike: { enabled: true, window: 50, levelWindow: 12, minHistory: 8, ratio: 3, zScore: 4, sureRatio: 20, absorbRows: 3, absorbedRatio: 2 },
  divergence: { enabled: true, smoothing: 20, factor: 4, risingFactor: 1.5, risingSteps: 500 },
  vanishing: { enabled: true, floor: 1e-7, ratioToMax: 1e-5, patience: 10 },
};

export type DetectorOptionsInput = { [K in keyof DetectorOptions]?: Partial<DetectorOptions[K]> };

export function resolveDetectorOptions(input: DetectorOptionsInput = {}): DetectorOptions {
  return {
    explosion: { ...defaultDetectorOptions.explosion, ...input.explosion },
    lossSpike: { ...defaultDetectorOptions.lossSpike, ...input.lossSpike },
    divergence: { ...defaultDetectorOptions.divergence, ...input.divergence },
    vanishing: { ...defaultDetectorOptions.vanishing, ...input.vanishing },
  };
}
