import { Absorption } from './absorption';
import type { DetectorEvent, ExplosionEvent, LossSpikeEvent } from './events';
import { nonFiniteEvent } from './nonFinite';
import type { StepSample } from './sample';
import { resolveDetectorOptions, type DetectorOptions, type DetectorOptionsInput } from './options';
import { RollingRobust } from './rollingRobust';
import { SpikeScorer, type SpikeScore } from './spikeScorer';
import { DivergenceTracker, VanishingTracker } from './trackers';

export * from './events';
export * from './options';
export { SpikeScorer, type SpikeScore, type SpikeOptions } from './spikeScorer';
export type { StepSample } from './sample';

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
  private readonly validation?: SpikeScorer;
  private readonly validationAbsorption: Absorption<LossSpikeEvent>;
  private validationOff: { step: number; loss: number } | undefined;
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
  /** Rows fed so far (the index of the row being fed, during observe). */
  private row = -1;
  /** The last few explosions raised as info (at most absorbRows + 1), with their rows: a loss that does not come back regrades them. */
  private infoExplosions: { event: ExplosionEvent; row: number }[] = [];
  /** Row of the loss spike being followed. */
  private lossSpikeRow = -1;

  private readonly names: string[];

  constructor(layerNames: readonly string[] = [], options?: DetectorOptionsInput) {
    this.names = [...layerNames];
    this.options = resolveDetectorOptions(options);
    if (this.options.explosion.enabled) this.explosion = new SpikeScorer(this.options.explosion, true);
    if (this.options.lossSpike.enabled) {
      this.lossSpike = new SpikeScorer(this.options.lossSpike);
      this.validation = new SpikeScorer(this.options.lossSpike);
    }
    if (this.options.divergence.enabled) this.divergence = new DivergenceTracker(this.options.divergence);
    if (this.options.vanishing.enabled) this.vanishing = new VanishingTracker(this.names, this.options.vanishing);
    this.explosionAbsorption = new Absorption(this.options.explosion);
    this.lossAbsorption = new Absorption(this.options.lossSpike);
    this.validationAbsorption = new Absorption(this.options.lossSpike);
    this.lrLevel = new RollingRobust(this.options.explosion.levelWindow);
  }

  /** The layers whose norms `layerGradNorms` holds, in its order. */
  get layerNames(): readonly string[] {
    return this.names;
  }

  /**
   * A layer first seen after the run's first rows (a log leaves out a module that had no gradient):
   * from the next row on, `layerGradNorms` holds its norm after the others'.
   */
  addLayer(name: string): void {
    this.names.push(name);
    this.vanishing?.addLayer();
  }

  /** Feeds one logged row; returns the events it raised (a shared empty array when none). */
  observe(sample: StepSample): readonly DetectorEvent[] {
    // No closure per row: the events go to a field that emit() fills (most rows raise none).
    this.raised = undefined;
    const emit = this.emitBound;
    const { step, loss, gradNorm, lr, layerGradNorms, validationLoss } = sample;
    this.row++;

    const nonFinite = nonFiniteEvent(sample, this.layerNames, this.scalerSkipped(lr));
    if (nonFinite) emit(nonFinite);

    if (this.explosion && gradNorm !== undefined) this.observeNorm(step, gradNorm, lr, emit);
    if (loss !== undefined && !this.lossOff) this.observeLoss(step, loss, emit);
    if (validationLoss !== undefined && this.validation && !this.validationOff) this.observeValidation(step, validationLoss, emit);
    if (this.vanishing && layerGradNorms) this.vanishing.observe(step, layerGradNorms, emit);
    if (lr !== undefined && Number.isFinite(lr)) this.recordLr(lr);
    const events = this.raised;
    this.raised = undefined;
    return events ?? none;
  }

  /** The events of the row being observed. */
  private raised: DetectorEvent[] | undefined;
  private readonly emitBound = (event: DetectorEvent): void => {
    (this.raised ??= []).push(event);
  };

  /** Plain statements about checks that switched themselves off or left rows out, for a run summary. */
  notes(): string[] {
    const notes: string[] = [];
    if (this.lossOff && (this.lossSpike || this.divergence)) {
      notes.push(
        `loss checks off from step ${this.lossOff.step}: the loss goes ≤ 0 (${this.lossOff.loss}): a signed loss, as RL fine-tunes log, or one rounded to 0; loss spikes and divergence need a positive loss`,
      );
    }
    if (this.validationOff && this.validation) {
      notes.push(`validation-loss spikes off from step ${this.validationOff.step}: the validation loss goes ≤ 0 (${this.validationOff.loss})`);
    }
    if (this.explosion && this.zeroNorms > 0) {
      notes.push(
        `${this.zeroNorms} row${this.zeroNorms === 1 ? '' : 's'} with a gradient norm of exactly 0 (first at step ${this.firstZeroNormStep}) left out of the explosion check: no gradient at all (RL steps where every reward is equal, or dead units)`,
      );
    }
    return notes;
  }

  private observeNorm(step: number, gradNorm: number, lr: number | undefined, emit: (event: DetectorEvent) => void): void {
    if (!Number.isFinite(gradNorm)) {
      this.emitExplosionUpgrade(this.explosionAbsorption.settle(step, NaN), emit);
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
      this.emitExplosionUpgrade(this.explosionAbsorption.settle(step, gradNorm), emit);
      return;
    }
    // In its first minHistory rows a run has no level yet (LoRA norms start near 0, RL runs in their
    // low mode): a jump there is graded by the loss (see emitLossUpgrade), not by the norm's own rows.
    const early = seen < options.minHistory;
    const { repeated, upgrade } = early ? { repeated: false, upgrade: undefined } : this.explosionAbsorption.spike(step, gradNorm);
    this.emitExplosionUpgrade(upgrade, emit);
    const lrLevel = this.lrRows >= options.minHistory ? this.lrLevel.median() : NaN;
    const grade: ExplosionEvent['grade'] = repeated
      ? 'repeated'
      : lr !== undefined && lrLevel > 0 && lr >= options.lrRise * lrLevel
        ? 'lrRose'
        : seen >= options.minHistory && gradNorm > options.rangeFactor * previousMax
          ? 'beyondRange'
          : 'pending';
    const event: ExplosionEvent = {
      kind: 'explosion',
      step,
      severity: grade === 'pending' ? 'info' : 'warning',
      grade,
      gradNorm,
      level: score.level,
      ratio: score.ratio,
      zScore: score.zScore,
      ...(lr !== undefined ? { lr } : {}),
    };
    emit(event);
    if (!early) this.explosionAbsorption.follow(event, score.recentHigh);
    if (event.severity === 'info') {
      this.infoExplosions.push({ event, row: this.row });
      if (this.infoExplosions.length > this.options.lossSpike.absorbRows + 1) this.infoExplosions.shift();
    }
  }

  private observeLoss(step: number, loss: number, emit: (event: DetectorEvent) => void): void {
    if (!Number.isFinite(loss)) {
      this.emitLossUpgrade(step, this.lossAbsorption.settle(step, NaN), emit);
      return;
    }
    if (loss <= 0) {
      // Loss-based detectors work on a log scale and assume a positive loss (cross-entropy, MSE, …).
      this.lossOff = { step, loss };
      return;
    }
    const score = this.lossSpike?.observe(loss);
    if (score?.flagged) {
      const { repeated, upgrade } = this.lossAbsorption.spike(step, loss);
      this.emitLossUpgrade(step, upgrade, emit);
      const event = lossSpikeEvent(step, loss, score, repeated);
      emit(event);
      this.lossAbsorption.follow(event, score.recentHigh);
      this.lossSpikeRow = this.row;
    } else if (score) {
      this.emitLossUpgrade(step, this.lossAbsorption.settle(step, loss), emit);
    }
    const divergence = this.divergence?.observe(step, loss);
    if (divergence) emit(divergence);
  }

  private observeValidation(step: number, loss: number, emit: (event: DetectorEvent) => void): void {
    if (!Number.isFinite(loss)) {
      const upgrade = this.validationAbsorption.settle(step, NaN);
      if (upgrade) emit(upgrade);
      return;
    }
    if (loss <= 0) {
      this.validationOff = { step, loss };
      return;
    }
    const score = this.validation!.observe(loss);
    if (!score?.flagged) {
      const upgrade = score && this.validationAbsorption.settle(step, loss);
      if (upgrade) emit(upgrade);
      return;
    }
    const { repeated, upgrade } = this.validationAbsorption.spike(step, loss);
    if (upgrade) emit(upgrade);
    const event = lossSpikeEvent(step, loss, score, repeated, 'validation');
    emit(event);
    this.validationAbsorption.follow(event, score.recentHigh);
  }

  private emitExplosionUpgrade(upgrade: ExplosionEvent | undefined, emit: (event: DetectorEvent) => void): void {
    if (!upgrade) return;
    emit(upgrade);
    this.infoExplosions = this.infoExplosions.filter(({ event }) => event.step !== upgrade.step);
  }

  /**
   * A loss spike the run did not absorb is regraded, and so is an info explosion raised with it or
   * since: the norm may be back, but the run is not.
   */
  private emitLossUpgrade(step: number, upgrade: LossSpikeEvent | undefined, emit: (event: DetectorEvent) => void): void {
    if (!upgrade) return;
    emit(upgrade);
    for (const { event, row } of this.infoExplosions) {
      if (row < this.lossSpikeRow) continue;
      this.explosionAbsorption.forget(event);
      emit({ ...event, severity: 'warning', grade: 'notAbsorbed', upgradedAt: step });
    }
    this.infoExplosions = this.infoExplosions.filter(({ row }) => row < this.lossSpikeRow);
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

/** A loss spike as raised at its own row: a warning when another came before it was absorbed, info (pending) otherwise. */
function lossSpikeEvent(step: number, loss: number, score: SpikeScore, repeated: boolean, series?: 'validation'): LossSpikeEvent {
  return {
    kind: 'lossSpike',
    ...(series ? { series } : {}),
    step,
    severity: repeated ? 'warning' : 'info',
    grade: repeated ? 'repeated' : 'pending',
    loss,
    level: score.level,
    ratio: score.ratio,
    zScore: score.zScore,
  };
}
