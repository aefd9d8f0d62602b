// Schedule specs after validation: every optional field holds its default (filled in from
// schema/job.schema.json, where the defaults are written down). Update k uses the value at k;
// value 0 is the rate before any scheduler step (PyTorch: the lr read after k calls of step()).

export interface ConstantSpec {
  type: 'constant';
  lr: number;
}

export interface StepSpec {
  type: 'step';
  lr: number;
  /** Updates between two decays. */
  stepSize: number;
  /** Decay factor. Default: 0.1. */
  gamma: number;
}

export interface MultistepSpec {
  type: 'multistep';
  lr: number;
  /** Update indices where the rate is multiplied by gamma; a repeated milestone decays twice. */
  milestones: number[];
  /** Decay factor. Default: 0.1. */
  gamma: number;
}

export interface ExponentialSpec {
  type: 'exponential';
  lr: number;
  /** Decay factor per update. */ gamma: number;
}

export interface CosineSpec {
  type: 'cosine';
  lr: number;
  /** Half period in updates; like PyTorch the curve is periodic past tMax. */
  tMax: number;
  /** Minimum learning rate (absolute). Default: 0. */
  etaMin: number;
}

export interface CosineRestartsSpec {
  type: 'cosineRestarts';
  lr: number;
  /** Updates in the first cycle. */
  t0: number;
  /** Growth factor of the cycle length (integer ≥ 1). Default: 1. */
  tMult: number;
  /** Minimum learning rate (absolute). Default: 0. */
  etaMin: number;
}

export interface LinearSpec {
  type: 'linear';
  lr: number;
  /** Factor of lr at update 0, in (0, 1]. Default: 1/3. */
  startFactor: number;
  /** Factor of lr from totalIters on, in [0, 1]. Default: 1. */
  endFactor: number;
  /** Updates to reach endFactor. Default: 5. */
  totalIters: number;
}

export interface PolynomialSpec {
  type: 'polynomial';
  lr: number;
  /** Updates to reach 0. Default: 5. */
  totalIters: number;
  /** Exponent of the decay. Default: 1. */
  power: number;
}

export interface CyclicSpec {
  type: 'cyclic';
  /** Lower bound of the cycle. */
  baseLr: number;
  /** Upper bound of the cycle. */
  maxLr: number;
  /** Updates in the rising half. Default: 2000. */
  stepSizeUp: number;
  /** Updates in the falling half. Default: stepSizeUp. */
  stepSizeDown: number;
  /** Amplitude policy. Default: 'triangular'. */
  mode: 'triangular' | 'triangular2' | 'exp_range';
  /** Amplitude factor per update in exp_range mode. Default: 1. */
  gamma: number;
}

export interface OneCycleSpec {
  type: 'oneCycle';
  /** Peak learning rate. */
  maxLr: number;
  /** Total number of updates in the cycle; later updates keep the final rate. */
  totalSteps: number;
  /** Fraction of the cycle spent rising, in (0, 1). Default: 0.3. */
  pctStart: number;
  /** Shape of the ramps. Default: 'cos'. */
  annealStrategy: 'cos' | 'linear';
  /** Initial lr = maxLr / divFactor. Default: 25. */
  divFactor: number;
  /** Final lr = initial lr / finalDivFactor. Default: 1e4. */
  finalDivFactor: number;
  /** Ramp back down to the initial lr before the final annihilation. Default: false. */
  threePhase: boolean;
}

export interface WarmupLinearSpec {
  type: 'warmupLinear';
  lr: number;
  warmupSteps: number;
  totalSteps: number;
}

export interface WarmupCosineSpec {
  type: 'warmupCosine';
  lr: number;
  warmupSteps: number;
  /** Update where the cosine reaches minLr; the rate stays there afterwards. */
  totalSteps: number;
  /** Learning rate at the end of the decay (absolute). Default: 0. */
  minLr: number;
}

export interface InverseSqrtSpec {
  type: 'inverseSqrt';
  lr: number;
  warmupSteps: number;
  /** Decay timescale. Default: warmupSteps, or 10000 when warmupSteps is 0. */
  timescale?: number;
}

export interface WarmupStableDecaySpec {
  type: 'warmupStableDecay';
  lr: number;
  warmupSteps: number;
  stableSteps: number;
  decaySteps: number;
  /** Floor as a fraction of lr; the warmup starts there too. Default: 0. */
  minLrRatio: number;
  /** Shape of the decay. Default: 'cosine'. */
  decayType: 'cosine' | 'linear' | '1-sqrt';
}

export interface SequentialSpec {
  type: 'sequential';
  /** The schedules, in order; plateau is not allowed inside. */
  schedules: ScheduleSpec[];
  /** Update index where each next schedule starts at its own update 0 (strictly increasing). */
  milestones: number[];
}

export interface PlateauSpec {
  type: 'plateau';
  lr: number;
  /** Whether the metric should go down or up. Default: 'min'. */
  mode: 'min' | 'max';
  /** Multiplier applied on a plateau, in (0, 1). Default: 0.1. */
  factor: number;
  /** Bad checks tolerated before a cut. Default: 10. */
  patience: number;
  /** Minimum change that counts as an improvement. Default: 1e-4. */
  threshold: number;
  /** Threshold relative to the best value, or absolute. Default: 'rel'. */
  thresholdMode: 'rel' | 'abs';
  /** Checks to wait after a cut before counting bad checks again. Default: 0. */
  cooldown: number;
  /** Lower bound of the learning rate. Default: 0. */
  minLr: number;
  /** Cuts smaller than this are ignored. Default: 1e-8. */
  eps: number;
}

export type FixedScheduleSpec =
  | ConstantSpec
  | StepSpec
  | MultistepSpec
  | ExponentialSpec
  | CosineSpec
  | CosineRestartsSpec
  | LinearSpec
  | PolynomialSpec
  | CyclicSpec
  | OneCycleSpec
  | WarmupLinearSpec
  | WarmupCosineSpec
  | InverseSqrtSpec
  | WarmupStableDecaySpec
  | SequentialSpec;

export type ScheduleSpec = FixedScheduleSpec | PlateauSpec;
export type ScheduleType = ScheduleSpec['type'];
