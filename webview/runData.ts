import type { RunEvent, RunSnapshot, StepBatch } from '../src/core/protocol';
import { appendBatch } from '../src/core/stepColumns';

/** The webview's copy of a run: everything so far, so that zooming can re-decimate from all points. */
export class RunData {
  constructor(public snapshot: RunSnapshot) {}

  append(batch: StepBatch): void {
    appendBatch(this.snapshot.batch, batch);
  }

  addEvent(event: RunEvent): void {
    this.snapshot.events.push(event);
  }

  /** Index of a step in the columns (steps are contiguous from 0, but a read-back log may skip). */
  indexOf(step: number): number {
    const steps = this.snapshot.batch.step;
    if (steps[step] === step) return step;
    let lo = 0;
    let hi = steps.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (steps[mid] < step) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Column indices of the steps that have events (they must survive decimation). */
  eventIndices(): number[] {
    return this.snapshot.events.map((e) => this.indexOf(e.step));
  }
}
