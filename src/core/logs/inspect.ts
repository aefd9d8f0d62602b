// Offline inspection: the streaming detectors over a log written by any framework.
import { applyEvent, Detectors, type DetectorEvent } from '../detect';
import { resolveDetectorOptions } from '../detect/options';
import type { DetectorOptionsInput } from '../detect/options';
import { isTrainingRow, type MetricsRow } from './rows';

export interface InspectResult {
  /** Training rows seen (steps with a loss, a gradient norm or layer norms). */
  rows: number;
  /** Every event as finally graded (an info spike the run did not absorb is there as its warning). */
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
  /** Every layer seen so far, in the order first seen (a log may leave out a layer without a gradient, even in its first rows). */
  private readonly layerNames: string[] = [];
  private readonly layerSet = new Set<string>();
  private count = 0;
  private readonly events: DetectorEvent[] = [];
  private readonly seen = { lr: false, loss: false, gradNorm: false };
  private readonly notes = new Set<string>();
  private readonly resolved: ReturnType<typeof resolveDetectorOptions>;
  /** The training-row count when each event was raised (to tell an absorbed spike from a pending one). */
  private readonly raisedAtRow = new WeakMap<DetectorEvent, number>();
  /** Rows fed to the detectors, the row of the last non-finite event, and how many rows in a row were. */
  private fed = 0;
  private nonFiniteRow = -2;
  private nonFiniteStreak = 0;
  private nonFiniteFrom = 0;
  /** Reused for every row: the detectors read the norms during `observe` and keep none of them. A layer the row lacks is undefined (missing, not NaN). */
  private readonly layerGradNorms: (number | undefined)[] = [];

  constructor(private readonly options?: DetectorOptionsInput) {
    this.resolved = resolveDetectorOptions(options);
  }

  add(row: MetricsRow): readonly DetectorEvent[] {
    const training = isTrainingRow(row);
    // A row with only an lr is no sample; one with only a validation loss feeds the validation checks.
    if (!training && row.validationLoss === undefined) return [];
    if (!this.detectors || row.segment !== this.segment) {
      this.collectNotes();
      this.detectors = new Detectors(this.layerNames, this.options);
      this.segment = row.segment;
    }
    // A layer is a layer from the first row that has it on: the Python package leaves out a module
    // that had no gradient, so a layer may first come in any row.
    if (row.layers.size) {
      for (const name of row.layers.keys()) {
        if (this.layerSet.has(name)) continue;
        this.layerSet.add(name);
        this.layerNames.push(name);
        this.detectors.addLayer(name);
      }
    }
    if (training) {
      this.count++;
      this.seen.lr ||= row.lr !== undefined;
      this.seen.loss ||= row.loss !== undefined;
      this.seen.gradNorm ||= row.gradNorm !== undefined;
    }
    let layerGradNorms: (number | undefined)[] | undefined;
    if (row.layers.size) {
      layerGradNorms = this.layerGradNorms;
      for (let i = 0; i < this.layerNames.length; i++) layerGradNorms[i] = row.layers.get(this.layerNames[i]);
    }
    // One object shape for every row (absent values are undefined), so the call stays monomorphic.
    let events = this.detectors.observe({ step: row.step, loss: row.loss, gradNorm: row.gradNorm, lr: row.lr, validationLoss: row.validationLoss, layerGradNorms });
    this.fed++;
    if (events.length) events = this.foldNonFinite(events, row.step);
    // A regraded copy replaces the event it upgrades: the result is the events as finally graded.
    for (const event of events) {
      applyEvent(this.events, event);
      this.raisedAtRow.set(event, this.count);
    }
    return events;
  }

  /**
   * Every event as finally graded. A spike raised as `pending` that was not upgraded within
   * absorbRows rows was absorbed: it is `transient`. One in the last rows is still pending.
   */
  result(): InspectResult {
    this.collectNotes();
    const events = this.events.map((event) => {
      if (!('grade' in event) || event.grade !== 'pending') return event;
      const absorbRows = event.kind === 'explosion' ? this.resolved.explosion.absorbRows : this.resolved.lossSpike.absorbRows;
      const raisedAt = this.raisedAtRow.get(event);
      return raisedAt !== undefined && this.count - raisedAt >= absorbRows ? { ...event, grade: 'transient' as const } : event;
    });
    const notes = [...this.notes, ...(this.streakNote ? [this.streakNote] : [])];
    return { rows: this.count, events, fields: { ...this.seen, layers: [...this.layerNames] }, notes };
  }

  /**
   * Weights gone NaN make every later row non-finite: of a streak, the first three rows' events are
   * kept, then the 10th, 100th… (with the streak's length), and a note says how long it lasted.
   */
  private foldNonFinite(events: readonly DetectorEvent[], step: number): readonly DetectorEvent[] {
    const index = events.findIndex((event) => event.kind === 'nonFinite');
    if (index < 0) return events;
    const streak = this.fed - 1 === this.nonFiniteRow + 1 ? this.nonFiniteStreak + 1 : 1;
    if (streak === 1) {
      this.nonFiniteFrom = step;
      if (this.streakNote) this.notes.add(this.streakNote); // the streak before has ended
      this.streakNote = undefined;
    }
    this.nonFiniteRow = this.fed - 1;
    this.nonFiniteStreak = streak;
    if (streak > 3) this.streakNote = `non-finite values on ${streak} rows in a row from step ${this.nonFiniteFrom} to ${step}: listed are the first 3 and the 10th, 100th… of them`;
    if (streak > 3 && !isPowerOfTen(streak)) return events.filter((_, i) => i !== index);
    if (streak === 1) return events;
    return events.map((event, i) => (i === index ? { ...event, streak } : event));
  }

  /** The note of the latest streak longer than three rows (it may still be growing). */
  private streakNote: string | undefined;

  private collectNotes(): void {
    for (const note of this.detectors?.notes() ?? []) this.notes.add(note);
  }
}

function isPowerOfTen(n: number): boolean {
  while (n % 10 === 0) n /= 10;
  return n === 1;
}
