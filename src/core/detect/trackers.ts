import type { DetectorEvent } from './events';
import type { DivergenceOptions, VanishingOptions } from './options';

/** Exponentially smoothed loss against its best; each episode is reported once and re-armed on recovery. */
export class DivergenceTracker {
  private readonly decay: number;
  private smoothed = NaN;
  private best = Infinity;
  private seen = 0;
  private risingFor = 0;
  private reported = false;

  constructor(private readonly options: DivergenceOptions) {
    this.decay = 2 ** (-1 / options.smoothing);
  }

  observe(step: number, loss: number): DetectorEvent | undefined {
    this.smoothed = this.seen === 0 ? loss : this.decay * this.smoothed + (1 - this.decay) * loss;
    this.seen += 1;
    // The first half-lives are dominated by the initial loss; a best taken there would be too high.
    if (this.seen < this.options.smoothing) return undefined;
    if (this.smoothed < this.best) this.best = this.smoothed;
    const ratio = this.smoothed / this.best;
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
    return { kind: 'divergence', step, severity: 'warning', loss: this.smoothed, best: this.best, ratio, reason };
  }
}

/** Per layer: how long its norm has been below the floor or far below the largest layer. */
export class VanishingTracker {
  private readonly below: Int32Array;

  constructor(private readonly names: readonly string[], private readonly options: VanishingOptions) {
    this.below = new Int32Array(names.length);
  }

  observe(step: number, norms: ArrayLike<number>, emit: (event: DetectorEvent) => void): void {
    let largest = 0;
    for (let i = 0; i < norms.length; i++) if (norms[i] > largest) largest = norms[i];
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
