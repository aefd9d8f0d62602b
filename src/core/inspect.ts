// Offline inspection: the streaming detectors over a log written by any framework.
import { Detectors, SpikeScorer, type DetectorEvent } from './detect';
import { resolveDetectorOptions } from './detect/options';
import type { DetectorOptionsInput } from './detect/options';
import { isTrainingRow, type MetricsRow } from './logs/rows';

export interface InspectResult {
  /** Training rows seen (steps with a loss, a gradient norm or layer norms). */
  rows: number;
  events: DetectorEvent[];
  /** Fields found in the log (so a user can see why, e.g., no explosion could be checked). */
  fields: { lr: boolean; loss: boolean; gradNorm: boolean; layers: string[] };
  /** What the detectors said about themselves (a check that switched itself off, and why). */
  notes: string[];
}

/**
 * Feeds rows one at a time (memory stays flat however long the log) and collects the events. Rows
 * that hold only validation results or a learning rate are not steps; a new segment (the step
 * counter went back: an appended or resumed run) starts the detectors afresh.
 */
export class Inspector {
  private detectors: Detectors | undefined;
  private segment = -1;
  private layerNames: string[] = [];
  private count = 0;
  private readonly events: DetectorEvent[] = [];
  private readonly seen = { lr: false, loss: false, gradNorm: false };
  private readonly notes = new Set<string>();
  /** Validation results come once an epoch or every few hundred steps: a jump there is a loss spike too (Keras logs nothing else). */
  private validation: SpikeScorer | undefined;
  private validationSegment = -1;
  private readonly validationOptions: ReturnType<typeof resolveDetectorOptions>['lossSpike'];
  /** Reused for every row: the detectors read the norms during `observe` and keep none of them. */
  private layerGradNorms: Float64Array = new Float64Array(0);

  constructor(private readonly options?: DetectorOptionsInput) {
    this.validationOptions = resolveDetectorOptions(options).lossSpike;
  }

  add(row: MetricsRow): readonly DetectorEvent[] {
    const validationEvent = this.checkValidation(row);
    if (!isTrainingRow(row)) {
      if (validationEvent) this.events.push(validationEvent);
      return validationEvent ? [validationEvent] : [];
    }
    if (!this.detectors || row.segment !== this.segment) {
      this.collectNotes();
      // The first training row that names layers fixes their order.
      if (this.layerNames.length === 0) {
        this.layerNames = [...row.layers.keys()];
        this.layerGradNorms = new Float64Array(this.layerNames.length);
      }
      this.detectors = new Detectors(this.layerNames, this.options);
      this.segment = row.segment;
    }
    this.count++;
    this.seen.lr ||= row.lr !== undefined;
    this.seen.loss ||= row.loss !== undefined;
    this.seen.gradNorm ||= row.gradNorm !== undefined;
    let layerGradNorms: Float64Array | undefined;
    if (this.layerNames.length && row.layers.size) {
      layerGradNorms = this.layerGradNorms;
      for (let i = 0; i < this.layerNames.length; i++) layerGradNorms[i] = row.layers.get(this.layerNames[i]) ?? NaN;
    }
    // One object shape for every row (absent values are undefined), so the call stays monomorphic.
    const events = this.detectors.observe({ step: row.step, loss: row.loss, gradNorm: row.gradNorm, lr: row.lr, layerGradNorms });
    if (events.length) this.events.push(...events);
    if (!validationEvent) return events;
    this.events.push(validationEvent);
    return [...events, validationEvent];
  }

  private checkValidation(row: MetricsRow): DetectorEvent | undefined {
    const value = row.validationLoss;
    const spike = this.validationOptions;
    if (value === undefined || !spike.enabled || !Number.isFinite(value) || value <= 0) return undefined;
    if (row.segment !== this.validationSegment) {
      this.validation = new SpikeScorer(spike);
      this.validationSegment = row.segment;
    }
    const score = this.validation!.observe(value);
    if (!score?.flagged) return undefined;
    return { kind: 'lossSpike', series: 'validation', step: row.step, severity: 'info', grade: 'pending', loss: value, level: score.level, ratio: score.ratio, zScore: score.zScore };
  }
  result(): InspectResult {
    this.collectNotes();
    return { rows: this.count, events: this.events, fields: { ...this.seen, layers: this.layerNames }, notes: [...this.notes] };
  }

  private collectNotes(): void {
    const detectors = this.detectors as (Detectors & { notes?: () => string[] }) | undefined;
    for (const note of detectors?.notes?.() ?? []) this.notes.add(note);
  }
}
