import type { ExplosionEvent, LossSpikeEvent } from './events';
import type { AbsorbOptions } from './options';

type Spike = ExplosionEvent | LossSpikeEvent;

/**
 * Follows the last spike of one signal until the run absorbs it: a later row back at or below
 * absorbedRatio × the run's usual range before the spike (the larger of its level and the top of
 * the recent rows, SpikeScore.recentHigh, so a noisy or bimodal run's ordinary high rows count as
 * back). Rows are logged rows that carry the value, not step numbers.
 * Fixed memory: one open spike at a time.
 */
export class Absorption<E extends Spike> {
  private open: E | undefined;
  private backBelow = 0;
  private rows = 0;

  constructor(private readonly options: AbsorbOptions) {}

  /**
   * A row that is not a spike (`value` NaN for a non-finite one, which never counts as back).
   * Returns the open spike's warning copy when this row is the last chance to come back and it did not.
   */
  settle(step: number, value: number): E | undefined {
    const open = this.open;
    if (!open) return undefined;
    if (value <= this.backBelow) {
      this.open = undefined;
      return undefined;
    }
    this.rows += 1;
    if (this.rows < this.options.absorbRows) return undefined;
    this.open = undefined;
    return open.severity === 'info' ? { ...open, severity: 'warning', grade: 'notAbsorbed', upgradedAt: step } : undefined;
  }

  /**
   * A new spike of `value`. When one was still open and this one is above its usual range too,
   * returns that one's warning copy (if it was info) and `repeated`: a run that spikes again before
   * coming back is not absorbing its spikes. A spike within the usual range closes the open one.
   */
  spike(step: number, value: number): { repeated: boolean; upgrade?: E } {
    const open = this.open;
    this.open = undefined;
    if (!open || value <= this.backBelow) return { repeated: false };
    return { repeated: true, ...(open.severity === 'info' ? { upgrade: { ...open, severity: 'warning', grade: 'repeated', upgradedAt: step } } : {}) };
  }

  /** Stops following `event` (regraded elsewhere). */
  forget(event: E): void {
    if (this.open === event) this.open = undefined;
  }

  /** Starts following `event` (the spike just raised); `usual` is the top of the run's usual range before it. */
  follow(event: E, usual: number): void {
    this.open = event;
    this.backBelow = this.options.absorbedRatio * Math.max(event.level, usual);
    this.rows = 0;
  }
}
