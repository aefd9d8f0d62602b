import type { DetectorEvent } from './events';
import type { DivergenceOptions, VanishingOptions } from './options';
import { RollingRobust } from './rollingRobust';

/**
 * The loss's running median against the lowest it has been; each episode is reported once and
 * re-armed on recovery. A median of the last `smoothing` rows follows a falling loss without lag (an
 * exponential average lags it and never gets down to its low, so a loss that fell to 0.7 and
 * climbed back to 4 looked only 3× above a "best" of 1.3), and moves only when half the window is
 * up: a spike the run absorbs within a few rows is the loss-spike check's, not a divergence.
 */
export class DivergenceTracker {
  private readonly recent: RollingRobust;
  private best = Infinity;
  private risingFor = 0;
  private reported = false;

  constructor(private readonly options: DivergenceOptions) {
    this.recent = new RollingRobust(Math.max(3, Math.round(options.smoothing)));
  }

  observe(step: number, loss: number): DetectorEvent | undefined {
    this.recent.push(loss);
    // A median of a few rows would say little: wait until the window is full.
    if (this.recent.count < this.recent.capacity) return undefined;
    const level = this.recent.median();
    if (level < this.best) this.best = level;
    const ratio = level / this.best;
    if (ratio <= this.options.risingFactor) {
      this.risingFor = 0;
      this.reported = false;
      return undefined;
    }
    this.risingFor += 1;
    if (this.reported) return undefined;
    const reason = ratio >= this.options.factor ? 'aboveBest' : this.risingFor >= this.options.risingSteps ? 'rising' : undefined;
    if (!reason) return undefined;
    this.reported = true;
    return { kind: 'divergence', step, severity: 'warning', loss: level, best: this.best, ratio, reason };
  }
}

/** Per layer: how long its norm has been below the floor or far below the largest layer. */
export class VanishingTracker {
  private below: Int32Array;

  constructor(
    /** The layers' names, in the order of the norms; a layer added later comes after the others (see addLayer). */
    private readonly names: readonly string[],
    private readonly options: VanishingOptions,
  ) {
    this.below = new Int32Array(names.length);
  }

  /** One more layer, after the others, whose name `names` now holds. */
  addLayer(): void {
    const below = new Int32Array(this.below.length + 1);
    below.set(this.below);
    this.below = below;
  }

  /** `norms` in the order of the names; an undefined entry is missing (the layer had no gradient that row). */
  observe(step: number, norms: ArrayLike<number | undefined>, emit: (event: DetectorEvent) => void): void {
    let largest = 0;
    for (let i = 0; i < norms.length; i++) {
      const norm = norms[i];
      if (norm !== undefined && norm > largest) largest = norm;
    }
    const count = Math.min(norms.length, this.below.length);
    for (let i = 0; i < count; i++) {
      const norm = norms[i];
      if (norm === undefined || !Number.isFinite(norm)) continue;
      const collapsed = norm < this.options.floor || (largest > 0 && norm < this.options.ratioToMax * largest);
      if (!collapsed) {
        this.below[i] = 0;
        continue;
      }
      this.below[i] += 1;
      // Reported once, when the collapse has lasted `patience` steps; recovery re-arms it.
      if (this.below[i] === this.options.patience) {
        emit({ kind: 'vanishing', step, severity: 'warning', layer: this.names[i], gradNorm: norm, ratioToMax: largest > 0 ? norm / largest : 0 });
      }
    }
  }
}
