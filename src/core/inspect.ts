// Offline inspection: the streaming detectors over a log written by any framework.
import { Detectors, type DetectorEvent } from './detect';
import type { DetectorOptionsInput } from './detect/options';
import type { MetricsRow } from './metricsFormat';

export interface InspectResult {
  rows: number;
  events: DetectorEvent[];
  /** Fields found in the log (so a user can see why, e.g., no explosion could be checked). */
  fields: { lr: boolean; loss: boolean; gradNorm: boolean; layers: string[] };
}

/** Feeds rows one at a time (memory stays flat however long the log) and collects the events. */
export class Inspector {
  private detectors: Detectors | undefined;
  private layerNames: string[] = [];
  private count = 0;
  private readonly events: DetectorEvent[] = [];
  private readonly seen = { lr: false, loss: false, gradNorm: false };

  constructor(private readonly options?: DetectorOptionsInput) {}

  add(row: MetricsRow): DetectorEvent[] {
    if (!this.detectors) {
      // The first row that names layers fixes their order.
      this.layerNames = [...row.layers.keys()];
      this.detectors = new Detectors(this.layerNames, this.options);
    }
    this.count++;
    this.seen.lr ||= row.lr !== undefined;
    this.seen.loss ||= row.loss !== undefined;
    this.seen.gradNorm ||= row.gradNorm !== undefined;
    const events = this.detectors.observe({
      step: row.step,
      // A missing value is not a non-finite one: it is left out of the checks that need it.
      loss: row.loss ?? 1,
      gradNorm: row.gradNorm ?? 1,
      ...(this.layerNames.length ? { layerGradNorms: this.layerNames.map((name) => row.layers.get(name) ?? 1) } : {}),
    });
    this.events.push(...events);
    return [...events];
  }

  result(): InspectResult {
    return { rows: this.count, events: this.events, fields: { ...this.seen, layers: this.layerNames } };
  }
}
