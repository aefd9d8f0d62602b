import type { PlateauSpec } from './spec';

/** What one metric check did to the learning rate. */
export interface PlateauStep {
  readonly lr: number;
  /** True when this check cut the rate. */
  readonly reduced: boolean;
  /** Consecutive checks without improvement, after this one. */
  readonly badChecks: number;
}

/**
 * ReduceLROnPlateau semantics: the cut happens on the (patience+1)-th consecutive check without
 * improvement; during cooldown bad checks are not counted, but improvements still move the best.
 */
export class PlateauScheduler {
  private currentLr: number;
  private best: number;
  private badChecks = 0;
  private cooldownLeft = 0;

  constructor(
    readonly spec: PlateauSpec,
    lr: number = spec.lr,
  ) {
    this.currentLr = lr;
    this.best = spec.mode === 'min' ? Infinity : -Infinity;
  }

  get lr(): number {
    return this.currentLr;
  }

  /** Feed one metric value (e.g. validation loss); returns the rate to use from now on. */
  observe(metric: number): PlateauStep {
    if (this.isBetter(metric)) {
      this.best = metric;
      this.badChecks = 0;
    } else {
      this.badChecks += 1;
    }
    if (this.cooldownLeft > 0) {
      this.cooldownLeft -= 1;
      this.badChecks = 0;
    }
    let reduced = false;
    if (this.badChecks > this.spec.patience) {
      const next = Math.max(this.currentLr * this.spec.factor, this.spec.minLr);
      if (this.currentLr - next > this.spec.eps) {
        this.currentLr = next;
        reduced = true;
      }
      this.cooldownLeft = this.spec.cooldown;
      this.badChecks = 0;
    }
    return { lr: this.currentLr, reduced, badChecks: this.badChecks };
  }

  private isBetter(metric: number): boolean {
    // NaN is never an improvement (and compares false everywhere below).
    const { mode, threshold, thresholdMode } = this.spec;
    if (mode === 'min') return metric < (thresholdMode === 'rel' ? this.best * (1 - threshold) : this.best - threshold);
    return metric > (thresholdMode === 'rel' ? this.best * (1 + threshold) : this.best + threshold);
  }
}
