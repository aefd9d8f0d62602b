/** Events the streaming detectors raise. `step` is the update index the event belongs to. */
export type DetectorEvent =
  | ExplosionEvent
  | NonFiniteEvent
  | VanishingEvent
  | LossSpikeEvent
  | DivergenceEvent;

export interface ExplosionEvent {
  kind: 'explosion';
  step: number;
  gradNorm: number;
  /** Running median of the gradient norm before this step. */
  level: number;
  ratio: number;
  zScore: number;
}

export interface NonFiniteEvent {
  kind: 'nonFinite';
  step: number;
  /** Which values were NaN or ±Infinity. */
  fields: ('loss' | 'gradNorm' | 'layerGradNorm')[];
  loss: number;
  gradNorm: number;
  /** Layers whose gradient norm was not finite. */
  layers?: string[];
}

export interface VanishingEvent {
  kind: 'vanishing';
  step: number;
  layer: string;
  gradNorm: number;
  /** This layer's norm / the largest layer norm at this step. */
  ratioToMax: number;
}

export interface LossSpikeEvent {
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
  /** Smoothed loss at this step. */
  loss: number;
  /** Best smoothed loss so far. */
  best: number;
  ratio: number;
  /** `aboveBest`: far above the best; `rising`: above it by risingFactor for risingSteps steps. */
  reason: 'aboveBest' | 'rising';
}

export type DetectorEventKind = DetectorEvent['kind'];
