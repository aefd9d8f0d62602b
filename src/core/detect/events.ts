/**
 * Events the streaming detectors raise. `step` is the logged step the event belongs to.
 *
 * Every event has a `severity`. Consumers alert (status bar, Problems) only on `warning`; an `info`
 * event is a chart marker and a row in the events table.
 *
 * Regrading: a spike is raised when its own row is fed, graded from what is known then. An `info`
 * spike the run has not absorbed `absorbRows` rows later (or that is followed by another spike before
 * it came back down) is raised again, as a copy with `severity: 'warning'` and `upgradedAt` set to
 * the step whose row decided it. The copy replaces the earlier event with the same kind and step
 * (see `applyEvent`). Only explosions and loss spikes are ever regraded, and only from info to warning.
 */
export type DetectorEvent = ExplosionEvent | NonFiniteEvent | VanishingEvent | LossSpikeEvent | DivergenceEvent;

export type Severity = 'warning' | 'info';

/**
 * Why a spike has its severity:
 * - `transient`: info. Back near its level within absorbRows rows, and (explosions) no larger than
 *   the largest norm this run had before.
 * - `beyondRange`: warning. Larger than `rangeFactor` × every value this run had before.
 * - `lrRose`: warning. The learning rate of this row is at least `lrRise` × its level over the last rows.
 * - `repeated`: warning. Another spike came before this one was absorbed.
 * - `notAbsorbed`: warning. Still above `absorbedRatio` × its level `absorbRows` rows later.
 * - `pending`: info for now; may be regraded within `absorbRows` rows.
 */
export type SpikeGrade = 'transient' | 'beyondRange' | 'lrRose' | 'repeated' | 'notAbsorbed' | 'pending';

interface SpikeFields {
  severity: Severity;
  grade: SpikeGrade;
  /** Set on a regraded copy: the step whose row showed the spike was not absorbed. The copy replaces the event of the same kind and step. */
  upgradedAt?: number;
}

export interface ExplosionEvent extends SpikeFields {
  kind: 'explosion';
  step: number;
  gradNorm: number;
  /** Running level of the gradient norm before this step (median of the last levelWindow rows). */
  level: number;
  ratio: number;
  zScore: number;
  /** The learning rate of this row, when known. */
  lr?: number;
}

export interface NonFiniteEvent {
  kind: 'nonFinite';
  step: number;
  severity: 'warning';
  /** Which values were NaN or ±Infinity (missing values are not checked). */
  fields: ('loss' | 'gradNorm' | 'layerGradNorm' | 'validationLoss')[];
  /** The values as logged; absent when the row had none. */
  loss?: number;
  gradNorm?: number;
  /** The validation loss, when it was the value that was not finite. */
  validationLoss?: number;
  /** Layers whose gradient norm was not finite. */
  layers?: string[];
  /**
   * How many rows in a row, this one included, were not finite, when more than one. A log reader
   * lists the first three of a streak, then its 10th, 100th… (weights gone NaN make every later row so).
   */
  streak?: number;
  /**
   * `lossScalerSkip`: the gradient norm is not finite and the learning rate repeats the previous
   * row's while it had been changing: an fp16 dynamic loss scaler skipped this step (and lowered its
   * scale). A few of these are routine in fp16 training; many in a row are not.
   */
  hint?: 'lossScalerSkip';
}

export interface VanishingEvent {
  kind: 'vanishing';
  step: number;
  severity: 'warning';
  layer: string;
  gradNorm: number;
  /** This layer's norm / the largest layer norm at this step. */
  ratioToMax: number;
}

export interface LossSpikeEvent extends SpikeFields {
  kind: 'lossSpike';
  step: number;
  /** Which loss jumped. Default: the training loss. */
  series?: 'validation';
  loss: number;
  level: number;
  ratio: number;
  zScore: number;
}

export interface DivergenceEvent {
  kind: 'divergence';
  step: number;
  severity: 'warning';
  /** Running median of the loss (the last `smoothing` rows) at this step. */
  loss: number;
  /** The lowest that median has been. */
  best: number;
  ratio: number;
  /** `aboveBest`: far above the best; `rising`: above it by risingFactor for risingSteps steps. */
  reason: 'aboveBest' | 'rising';
}

export type DetectorEventKind = DetectorEvent['kind'];

/** True for a regraded copy of an earlier event (it replaces that event rather than adding one). */
export function isUpgrade(event: { kind: string }): boolean {
  return (event as { upgradedAt?: number }).upgradedAt !== undefined;
}

/**
 * Adds an event to a list the way consumers should: a regraded copy replaces the event of the same
 * kind, step and series (searched from the end, since it is at most a few rows old); anything else
 * is appended. Returns the list.
 */
export function applyEvent<E extends { kind: string; step: number }>(events: E[], event: E): E[] {
  if (isUpgrade(event)) {
    const series = (event as { series?: string }).series;
    for (let i = events.length - 1; i >= 0; i--) {
      if (events[i].kind === event.kind && events[i].step === event.step && (events[i] as { series?: string }).series === series) {
        events[i] = event;
        return events;
      }
    }
  }
  events.push(event);
  return events;
}
