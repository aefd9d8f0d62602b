import { Absorption } from './absorption';
import type { DetectorEvent, ExplosionEvent, LossSpikeEvent, NonFiniteEvent } from './events';
import { resolveDetectorOptions, type DetectorOptions, type DetectorOptionsInput, type DivergenceOptions, type VanishingOptions } from './options';
import { RollingRobust } from './rollingRobust';
import { SpikeScorer } from './spikeScorer';

export * from './events';
export * from './options';
export { SpikeScorer, type SpikeScore, type SpikeOptions } from './spikeScorer';

/**
 * One logged row's raw values, before any clipping. A missing (undefined) value is missing, not
 * bad: the detectors that need it skip the row (their windows and patience do not advance), and only
 * values that are present are checked for NaN/Infinity.
 */
export interface StepSample {
  step: number;
  loss?: number;
  gradNorm?: number;
  /** The learning rate this row trained with, when known (grades explosions, spots loss-scaler skips). */
  lr?: number;
  /** Per-layer gradient norms, in the order of the layer names the detectors were made with (an undefined entry is missing). */
  layerGradNorms?: ArrayLike<number>;
}

const none: readonly DetectorEvent[] = Object.freeze([]);

/**
 * All detectors behind one call per logged row: fixed memory, no look-ahead, and every event is
 * raised when its own row is fed and names that row's step. The one exception is a regraded copy
 * (`upgradedAt` set): an info spike that the run did not absorb within absorbRows rows is raised
 * again as a warning, naming its own step, from a later row (see events.ts).
 *
 * A segment (a step counter going back: appended or resumed runs) needs a fresh Detectors.
 */
export class Detectors {
  readonly options: DetectorOptions;
  private readonly explosion?: SpikeScorer;
  private readonly explosionAbsorption: Absorption<ExplosionEvent>;
  private readonly lossSpike?: SpikeScorer;
  private readonly lossAbsorption: Absorption<LossSpikeEvent>;
  private readonly divergence?: DivergenceTracker;
  private readonly vanishing?: VanishingTracker;
  private readonly lrLevel: RollingRobust;
  private lrRows = 0;
  private previousLr: number | undefined;
  private lrChanged = false;
  /** Largest gradient norm seen so far (the run's own range). */
  private normMax = 0;
  private zeroNorms = 0;
  private firstZeroNormStep: number | undefined;
  /** Set when the loss went ≤ 0: the log-scale loss checks are off for the rest of the run. */
  private lossOff: { step: number; loss: number } | undefined;

  constructor(readonly layerNames: readonly string[] = [], options?: DetectorOptionsInput) {
    this.options = resolveDetectorOptions(options);
    if (this.options.explosion.enabled) this.explosion = new SpikeScorer(this.options.explosion);
    if (this.options.lossSpike.enabled) this.lossSpike = new SpikeScorer(this.options.lossSpike);
    if (this.options.divergence.enabled) this.divergence = new DivergenceTracker(this.options.divergence);
    if (this.options.vanishing.enabled) this.vanishing = new VanishingTracker(layerNames, this.options.vanishing);
    this.explosionAbsorption = new Absorption(this.options.explosion);
    this.lossAbsorption = new Absorption(this.options.lossSpike);
    this.lrLevel = new RollingRobust(this.options.explosion.levelWindow);
  }

  /** Feeds one logged row; returns the events it raised (a shared empty array when none). */
  observe(sample: StepSample): readonly DetectorEvent[] {
    let events: DetectorEvent[] | undefined;
    const emit = (event: DetectorEvent) => (events ??= []).push(event);
    const { step, loss, gradNorm, lr, layerGradNorms } = sample;

    const nonFinite = nonFiniteEvent(sample, this.layerNames, this.scalerSkipped(lr));
    if (nonFinite) emit(nonFinite);

    if (this.explosion && gradNorm !== undefined) this.observeNorm(step, gradNorm, lr, emit);
    if (loss !== undefined && !this.lossOff) this.observeLoss(step, loss, emit);
    if (this.vanishing && layerGradNorms) this.vanishing.observe(step, layerGradNorms, emit);
    if (lr !== undefined && Number.isFinite(lr)) this.recordLr(lr);
    return events ?? none;
  }

  /** Plain statements about checks that switched themselves off or left rows out, for a run summary. */
  notes(): string[] {
    const notes: string[] = [];
    if (this.lossOff && (this.lossSpike || this.divergence)) {
      notes.push(`loss checks off from step ${this.lossOff.step}: the loss goes ≤ 0 (${this.lossOff.loss}), a signed loss as RL fine-tunes log; loss spikes and divergence need a positive loss`);
    }
    if (this.explosion && this.zeroNorms > 0) {
      notes.push(`${this.zeroNorms} row${this.zeroNorms === 1 ? '' : 's'} with a gradient norm of exactly 0 (first at step ${this.firstZeroNormStep}) left out of the explosion check: no gradient signal, as RL steps where every reward is equal log`);
    }
    return notes;
  }

  private observeNorm(step: number, gradNorm: number, lr: number | undefined, emit: (event: DetectorEvent) => void): void {
    if (!Number.isFinite(gradNorm)) {
      const upgrade = this.explosionAbsorption.settle(step, NaN);
      if (upgrade) emit(upgrade);
      return;
    }
    if (gradNorm <= 0) {
      // An exact zero carries no scale (and has no log): RL steps with equal rewards log it.
      if (this.zeroNorms++ === 0) this.firstZeroNormStep = step;
      return;
    }
    const options = this.options.explosion;
    const seen = this.explosion!.count;
    const score = this.explosion!.observe(gradNorm);
    const previousMax = this.normMax;
    this.normMax = Math.max(this.normMax, gradNorm);
    if (!score?.flagged) {
      const upgrade = this.explosionAbsorption.settle(step, gradNorm);
      if (upgrade) emit(upgrade);
      return;
    }
    const { repeated, upgrade } = this.explosionAbsorption.spike(step);
    if (upgrade) emit(upgrade);
    const lrLevel = this.lrRows >= options.minHistory ? this.lrLevel.median() : NaN;
    const grade: ExplosionEvent['grade'] = repeated ? 'repeated'
      : lr !== undefined && lrLevel > 0 && lr >= options.lrRise * lrLevel ? 'lrRose'
        : seen >= options.minHistory && gradNorm > options.rangeFactor * previousMax ? 'beyondRange'
          : 'pending';
    const event: ExplosionEvent = {
      kind: 'explosion', step, severity: grade === 'pending' ? 'info' : 'warning', grade,
      gradNorm, level: score.level, ratio: score.ratio, zScore: score.zScore, ...(lr !== undefined ? { lr } : {}),
    };
    emit(event);
    this.explosionAbsorption.follow(event);
  }

  private observeLoss(step: number, loss: number, emit: (event: DetectorEvent) => void): void {
    if (!Number.isFinite(loss)) {
      const upgrade = this.lossAbsorption.settle(step, NaN);
      if (upgrade) emit(upgrade);
      return;
    }
    if (loss <= 0) {
      // Loss-based detectors work on a log scale and assume a positive loss (cross-entropy, MSE, …).
      this.lossOff = { step, loss };
      return;
    }
    const score = this.lossSpike?.observe(loss);
    if (score?.flagged) {
      const { repeated, upgrade } = this.lossAbsorption.spike(step);
      if (upgrade) emit(upgrade);
      const event: LossSpikeEvent = {
        kind: 'lossSpike', step, severity: repeated ? 'warning' : 'info', grade: repeated ? 'repeated' : 'pending',
        loss, level: score.level, ratio: score.ratio, zScore: score.zScore,
      };
      emit(event);
      this.lossAbsorption.follow(event);
    } else if (score) {
      const upgrade = this.lossAbsorption.settle(step, loss);
      if (upgrade) emit(upgrade);
    }
    const divergence = this.divergence?.observe(step, loss);
    if (divergence) emit(divergence);
  }

  /** The fp16 loss scaler's mark: the lr repeats the previous row's while it had been changing. */
  private scalerSkipped(lr: number | undefined): boolean {
    return lr !== undefined && this.previousLr !== undefined && lr === this.previousLr && this.lrChanged;
  }

  private recordLr(lr: number): void {
    if (this.previousLr !== undefined) this.lrChanged = lr !== this.previousLr;
    this.previousLr = lr;
    this.lrLevel.push(lr);
    this.lrRows++;
  }
}

function nonFiniteEvent(sample: StepSample, layerNames: readonly string[], scalerSkipped: boolean): NonFiniteEvent | undefined {
  const { loss, gradNorm } = sample;
  const fields: NonFiniteEvent['fields'] = [];
  if (loss !== undefined && !Number.isFinite(loss)) fields.push('loss');
  if (gradNorm !== undefined && !Number.isFinite(gradNorm)) fields.push('gradNorm');
  let layers: string[] | undefined;
  const norms = sample.layerGradNorms;
  if (norms) {
    for (let i = 0; i < norms.length; i++) {
      const norm = norms[i];
      if (norm !== undefined && !Number.isFinite(norm)) (layers ??= []).push(layerNames[i] ?? `layer ${i}`);
    }
    if (layers) fields.push('layerGradNorm');
  }
  if (fields.length === 0) return undefined;
  return {
    kind: 'nonFinite', step: sample.step, severity: 'warning', fields,
    ...(loss !== undefined ? { loss } : {}),
    ...(gradNorm !== undefined ? { gradNorm } : {}),
    ...(layers ? { layers } : {}),
    ...(scalerSkipped && fields.includes('gradNorm') ? { hint: 'lossScalerSkip' as const } : {}),
  };
}

/** Exponentially smoothed loss against its best; each episode is reported once and re-armed on recovery. */
class DivergenceTracker {
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
class VanishingTracker {
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
