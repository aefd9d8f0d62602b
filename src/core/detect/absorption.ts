import type { ExplosionEvent, LossSpikeEvent } from './events';
import type { AbsorbOptions } from './options';

type Spike = ExplosionEvent | LossSpikeEvent;

/**
 * Follows the last spike of one signal until the run absorbs it: a later row back at or below
 * absorbedRatio × the spike's level. Rows are logged rows that carry the value, not step numbers.
 * Fixed memory: one open spike at a time.
 */
export class Absorption<E extends Spike> {
  private open: E | undefined;
  private rows = 0;

  constructor(private readonly options: AbsorbOptions) {}

  /** A spike is open: the run has not come back since it. */
  get isOpen(): boolean {
    return this.open !== undefined;
  }

  /**
   * A row that is not a spike (`value` NaN for a non-finite one, which never counts as back).
   * Returns the open spike's warning copy when this row is the last chance to come back and it did not.
   */
  settle(step: number, value: number): E | undefined {
    const open = this.open;
    if (!open) return undefined;
    if (value <= this.options.absorbedRatio * open.level) {
      this.open = undefined;
      return undefined;
    }
    this.rows += 1;
    if (this.rows < this.options.absorbRows) return undefined;
    this.open = undefined;
    return open.severity === 'info' ? { ...open, severity: 'warning', grade: 'notAbsorbed', upgradedAt: step } : undefined;
  }

  /**
   * A new spike. When one was still open, returns that one's warning copy (if it was info) and
   * `repeated`: a run that spikes again before coming back is not absorbing its spikes.
   */
  spike(step: number): { repeated: boolean; upgrade?: E } {
    const open = this.open;
    if (!open) return { repeated: false };
    this.open = undefined;
    return { repeated: true, ...(open.severity === 'info' ? { upgrade: { ...open, severity: 'warning', grade: 'repeated', upgradedAt: step } } : {}) };
  }

  /** Starts following `event` (the spike just raised). */
  follow(event: E): void {
    this.open = event;
    this.rows = 0;
  }
}
