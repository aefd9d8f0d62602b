// Learning-rate range test (Smith 2015; fastai's lr_find): sweep the rate exponentially from fresh
// weights, stop when the loss blows up, and read a peak rate off the loss curve.
import { Detectors } from '../detect';

export interface LrFindOptions {
  /** First learning rate of the sweep. Default: 1e-7. */
  startLr: number;
  /** Last learning rate of the sweep. Default: 10. */
  endLr: number;
  /** Updates in the sweep. Default: 100. */
  steps: number;
  /** Stop once the smoothed loss exceeds this multiple of its best. Default: 4. */
  divergeFactor: number;
  /** Weight of the past in the loss average (bias-corrected EMA). Default: 0.98. */
  smoothing: number;
}

export const defaultLrFindOptions: LrFindOptions = { startLr: 1e-7, endLr: 10, steps: 100, divergeFactor: 4, smoothing: 0.98 };

/** The schedule of the sweep: an exponential from startLr reaching endLr at the last step. */
export function sweepSchedule(options: LrFindOptions): { type: 'exponential'; lr: number; gamma: number } {
  return { type: 'exponential', lr: options.startLr, gamma: (options.endLr / options.startLr) ** (1 / Math.max(1, options.steps - 1)) };
}

/** Bias-corrected exponential moving average, fed one loss at a time; tells when the sweep should stop. */
export class SweepMonitor {
  private average = 0;
  private count = 0;
  private best = Infinity;
  readonly smoothed: number[] = [];

  constructor(private readonly options: LrFindOptions) {}

  /** Adds a loss; returns why the sweep should stop, if it should. */
  observe(loss: number): string | undefined {
    if (!Number.isFinite(loss)) return 'the loss is not finite';
    this.count++;
    this.average = this.options.smoothing * this.average + (1 - this.options.smoothing) * loss;
    const value = this.average / (1 - this.options.smoothing ** this.count);
    this.smoothed.push(value);
    if (value < this.best) this.best = value;
    if (this.count > 1 && value > this.options.divergeFactor * this.best) return `the smoothed loss passed ${this.options.divergeFactor}× its best`;
    return undefined;
  }
}

export interface LrFindMethods {
  /** Rate of the steepest descent of the smoothed loss against log(lr). Sensitive to noise. */
  steepest: number;
  /** A tenth of the rate at the smoothed loss's minimum. Often too cautious, never too bold. */
  minimumDiv10: number;
  /** fastai's valley: halfway down the longest stretch where the loss keeps falling. */
  valley: number;
}

export interface LrFindResult {
  /** The suggested peak learning rate (see suggest). */
  suggestion: number;
  methods: LrFindMethods;
  /** The first rate at which the gradient norm exploded, when it did within the sweep. */
  explosionLr?: number;
  lrs: number[];
  losses: number[];
  smoothedLosses: number[];
  /** Why the sweep ended before its last step, if it did. */
  stoppedEarly?: string;
}

/**
 * Suggests a peak rate from a sweep. Each published rule fails somewhere: the steepest slope picks a
 * single noisy dip, minimum/10 depends on where the noisy curve bottoms out, and valley (the longest
 * descent) is safe but often 10× too cautious. The suggestion is their median, so one fooled rule
 * cannot move it, capped at a third of the rate where the gradient norm explodes for good (an
 * explosion followed by more within a few steps; a lone spike is not the edge of stability).
 */
export function suggest(lrs: number[], losses: number[], smoothed: number[], gradNorms: number[], stoppedEarly?: string): LrFindResult {
  const n = smoothed.length;
  if (n < 5) throw new Error(`the sweep ended after ${n} steps (${stoppedEarly ?? 'too few steps'}); lower startLr or give more steps`);
  // fastai skips the first 10 and last 5 points for the slope: warm-up noise and the blow-up.
  const from = Math.min(10, Math.floor(n / 4));
  const to = Math.max(from + 2, n - 5);
  let steepestIndex = from;
  let steepestSlope = Infinity;
  for (let i = from + 1; i < to; i++) {
    const slope = (smoothed[i] - smoothed[i - 1]) / (Math.log(lrs[i]) - Math.log(lrs[i - 1]));
    if (slope < steepestSlope) {
      steepestSlope = slope;
      steepestIndex = i;
    }
  }
  let minIndex = 0;
  for (let i = 1; i < n; i++) if (smoothed[i] < smoothed[minIndex]) minIndex = i;
  const methods: LrFindMethods = { steepest: lrs[steepestIndex], minimumDiv10: lrs[minIndex] / 10, valley: lrs[valleyIndex(smoothed)] };
  const explosionLr = explosionRate(lrs, losses, gradNorms);
  const median = [methods.steepest, methods.valley, methods.minimumDiv10].sort((a, b) => a - b)[1];
  const suggestion = explosionLr !== undefined ? Math.min(median, explosionLr / 3) : median;
  return { suggestion, methods, ...(explosionLr !== undefined ? { explosionLr } : {}), lrs, losses, smoothedLosses: smoothed, ...(stoppedEarly ? { stoppedEarly } : {}) };
}

/** fastai's valley: the longest decreasing subsequence of the loss; halfway along it. */
export function valleyIndex(losses: number[]): number {
  const n = losses.length;
  const lengths = new Array<number>(n).fill(1);
  let start = 0;
  let end = 0;
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (losses[i] < losses[j] && lengths[i] < lengths[j] + 1) lengths[i] = lengths[j] + 1;
      if (lengths[end] < lengths[i]) {
        end = i;
        start = end - lengths[end];
      }
    }
  }
  const sections = (end - start) / 3;
  return Math.min(n - 1, Math.max(0, start + Math.floor(sections) + Math.floor(sections / 2)));
}

/** The rate at the first explosion (or non-finite value) that is followed by at least two more within five steps. */
export function explosionRate(lrs: number[], losses: number[], gradNorms: number[]): number | undefined {
  const detectors = new Detectors([], { lossSpike: { enabled: false }, divergence: { enabled: false }, vanishing: { enabled: false } });
  const flagged: number[] = [];
  for (let i = 0; i < lrs.length; i++) {
    const events = detectors.observe({ step: i, loss: losses[i], gradNorm: gradNorms[i] });
    if (events.some((e) => e.kind === 'explosion' || e.kind === 'nonFinite')) flagged.push(i);
  }
  const first = flagged.find((i) => flagged.filter((j) => j > i && j <= i + 5).length >= 2);
  return first === undefined ? undefined : lrs[first];
}
