import type { DetectorEvent, NonFiniteEvent } from './events';
import { resolveDetectorOptions, type DetectorOptions, type DetectorOptionsInput, type DivergenceOptions, type VanishingOptions } from './options';
import { SpikeScorer } from './spikeScorer';

export * from './events';
export * from './options';
export { SpikeScorer, type SpikeScore, type SpikeOptions } from './spikeScorer';

/** One training step's raw values, before any clipping. */
export interface StepSample {
  step: number;
  /** Absent when the log has no loss at this step: the loss checks skip it. */
  loss?: number;
  /** Absent when the log has no gradient norm at this step: the norm checks skip it. */
  gradNorm?: number;
  /** Learning rate in force, when known. */
  lr?: number;
  /** Per-layer gradient norms, in the order of the layer names the detectors were made with. */
  layerGradNorms?: ArrayLike<number>;
}

const none: readonly DetectorEvent[] = Object.freeze([]);

/**
 * All detectors behind one call per step: fixed memory, no look-ahead, and every event names the
 * step it was fed (never a later one).
 */
export class Detectors {
  readonly options: DetectorOptions;
  private readonly explosion?: SpikeScorer;
  private readonly lossSpike?: SpikeScorer;
  private readonly divergence?: DivergenceTracker;
  private readonly vanishing?: VanishingTracker;

  constructor(readonly layerNames: readonly string[] = [], options?: DetectorOptionsInput) {
    this.options = resolveDetectorOptions(options);
    if (this.options.explosion.enabled) this.explosion = new SpikeScorer(this.options.explosion);
    if (this.options.lossSpike.enabled) this.lossSpike = new SpikeScorer(this.options.lossSpike);
    if (this.options.divergence.enabled) this.divergence = new DivergenceTracker(this.options.divergence);
    if (this.options.vanishing.enabled) this.vanishing = new VanishingTracker(layerNames, this.options.vanishing);
  }

  /** Feeds one step; returns the events it raised (a shared empty array when none). */
  observe(sample: StepSample): readonly DetectorEvent[] {
    let events: DetectorEvent[] | undefined;
    const emit = (event: DetectorEvent) => (events ??= []).push(event);
    const { step, loss, gradNorm, layerGradNorms } = sample;

    const nonFinite = nonFiniteEvent(sample, this.layerNames);
    if (nonFinite) emit(nonFinite);

    if (this.explosion && gradNorm !== undefined && Number.isFinite(gradNorm) && gradNorm > 0) {
      const score = this.explosion.observe(gradNorm);
      if (score?.flagged) emit({ kind: 'explosion', step, gradNorm, level: score.level, ratio: score.ratio, zScore: score.zScore });
    }
    // Loss-based detectors work on a log scale and assume a positive loss (cross-entropy, MSE, …).
    if (loss !== undefined && Number.isFinite(loss) && loss > 0) {
      const score = this.lossSpike?.observe(loss);
      if (score?.flagged) emit({ kind: 'lossSpike', step, loss, level: score.level, ratio: score.ratio, zScore: score.zScore });
      const divergence = this.divergence?.observe(step, loss);
      if (divergence) emit(divergence);
    }
    if (this.vanishing && layerGradNorms) this.vanishing.observe(step, layerGradNorms, emit);
    return events ?? none;
  }
}

function nonFiniteEvent(sample: StepSample, layerNames: readonly string[]): NonFiniteEvent | undefined {
  const fields: NonFiniteEvent['fields'] = [];
  if (sample.loss !== undefined && !Number.isFinite(sample.loss)) fields.push('loss');
  if (sample.gradNorm !== undefined && !Number.isFinite(sample.gradNorm)) fields.push('gradNorm');
  let layers: string[] | undefined;
  const norms = sample.layerGradNorms;
  if (norms) {
    for (let i = 0; i < norms.length; i++) {
      if (!Number.isFinite(norms[i])) (layers ??= []).push(layerNames[i] ?? `layer ${i}`);
    }
    if (layers) fields.push('layerGradNorm');
  }
  if (fields.length === 0) return undefined;
  return { kind: 'nonFinite', step: sample.step, fields, loss: sample.loss ?? NaN, gradNorm: sample.gradNorm ?? NaN, ...(layers ? { layers } : {}) };
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
    return { kind: 'divergence', step, loss: this.smoothed, best: this.best, ratio, reason };
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
      if (!Number.isFinite(norm)) continue;
      const collapsed = norm < this.options.floor || (largest > 0 && norm < this.options.ratioToMax * largest);
      if (!collapsed) {
        this.below[i] = 0;
        continue;
      }
      this.below[i] += 1;
      // Reported once, when the collapse has lasted `patience` steps; recovery re-arms it.
      if (this.below[i] === this.options.patience) {
        emit({ kind: 'vanishing', step, layer: this.names[i], gradNorm: norm, ratioToMax: largest > 0 ? norm / largest : 0 });
      }
    }
  }
}
