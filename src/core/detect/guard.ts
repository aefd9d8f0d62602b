import { isUpgrade, type DetectorEvent } from './events';
import type { GuardSpec } from '../job/spec';
import type { GuardAction } from '../protocol';

export const defaultGuard: GuardSpec = { nonFinite: 'skip', explosion: 'warn', backoffFactor: 0.1, recoverySteps: 100, snapshotEvery: 50 };

export interface GuardDecision {
  /** Apply this step's update. */
  apply: boolean;
  /** The action taken, when one was (warn is only the detector's own event, not an action). */
  action?: Exclude<GuardAction, 'warn'>;
  cause?: DetectorEvent['kind'];
}

/** What to do about one step's events. Non-finite values win: they must never reach the weights. */
export function decideGuard(events: readonly DetectorEvent[], guard: GuardSpec): GuardDecision {
  if (events.some((e) => e.kind === 'nonFinite')) return { apply: false, action: guard.nonFinite, cause: 'nonFinite' };
  // A regraded copy (upgradedAt) re-reports a spike the guard already acted on at its own step.
  if (events.some((e) => e.kind === 'explosion' && !isUpgrade(e)) && guard.explosion !== 'warn') {
    const action = guard.explosion;
    return { apply: action === 'backoff', action, cause: 'explosion' };
  }
  return { apply: true };
}

/**
 * The guard's learning-rate multiplier: a cut multiplies it by `factor`, and it then climbs back to
 * 1 geometrically (linearly in log space) over `recoverySteps`. A cut during recovery cuts from
 * where the ramp is.
 */
export class LrBackoff {
  private cutStep = 0;
  private logAtCut = 0;

  constructor(
    private readonly factor: number,
    private readonly recoverySteps: number,
  ) {}

  multiplier(step: number): number {
    if (this.logAtCut === 0) return 1;
    const remaining = Math.max(0, 1 - (step - this.cutStep) / this.recoverySteps);
    return Math.exp(this.logAtCut * remaining);
  }

  /** Cuts at `step`; returns the new multiplier. */
  cut(step: number): number {
    this.logAtCut = Math.log(this.multiplier(step) * this.factor);
    this.cutStep = step;
    return this.multiplier(step);
  }
}

/**
 * ZClip-style adaptive clipping statistics: EMA of the gradient norm's mean and variance; a norm more
 * than zThreshold standard deviations above the mean is clipped to mean + zThreshold·std, and the
 * clipped value (not the spike) updates the statistics.
 */
export class AdaptiveClipStats {
  private mean = 0;
  private variance = 0;
  private seen = 0;
  private warmup: number[] = [];

  constructor(
    private readonly zThreshold: number,
    private readonly alpha: number,
    private readonly warmupSteps: number,
  ) {}

  /** The largest norm allowed for this step (Infinity during warmup), then records the norm as used. */
  limit(norm: number): number {
    if (!Number.isFinite(norm)) return Infinity;
    if (this.seen < this.warmupSteps) {
      this.seen++;
      this.warmup.push(norm);
      if (this.seen === this.warmupSteps) {
        this.mean = this.warmup.reduce((a, b) => a + b, 0) / this.warmup.length;
        this.variance = this.warmup.reduce((a, b) => a + (b - this.mean) ** 2, 0) / this.warmup.length;
        this.warmup = [];
      }
      return Infinity;
    }
    const std = Math.sqrt(this.variance);
    const limit = this.mean + this.zThreshold * std;
    const used = Math.min(norm, limit);
    this.mean = this.alpha * this.mean + (1 - this.alpha) * used;
    this.variance = this.alpha * this.variance + (1 - this.alpha) * (used - this.mean) ** 2;
    return limit;
  }
}
