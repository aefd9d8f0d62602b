// Job file types after validation (defaults filled in from schema/job.schema.json, which documents them).
import type { DetectorOptionsInput } from '../detect/options';
import type { ScheduleSpec } from '../schedules/spec';

export interface AugmentSpec {
  /** Images: random translation of up to this many pixels, per sample. Default: 0. */
  shift: number;
  /** Standard deviation of gaussian input noise. Default: 0. */
  noise: number;
}

interface DataCommon {
  /** Fraction held out for validation. Default: 0.2. */
  validationSplit: number;
  augment?: AugmentSpec;
}

export type Task = 'classification' | 'regression';

export type DataSpec =
  | (DataCommon & { type: 'mnist'; /** Default: 10000. */ samples: number })
  | (DataCommon & {
      type: 'synthetic';
      /** Default: 'classification'. */ task: Task;
      /** Default: 2000. */ samples: number;
      /** Default: 20. */ features: number;
      /** Default: 3. */ classes: number;
      /** Default: 1. */ noise: number;
      /** Input multiplier. Default: 1. */ scale: number;
    })
  | (DataCommon & { type: 'csv'; path: string; label: string; /** Default: 'classification'. */ task: Task; /** Default: true. */ standardize: boolean })
  | (DataCommon & { type: 'module'; path: string });

export type Activation = 'linear' | 'relu' | 'relu6' | 'elu' | 'selu' | 'sigmoid' | 'tanh' | 'softmax' | 'softplus' | 'swish' | 'gelu';
export type Initializer = 'glorotUniform' | 'glorotNormal' | 'heUniform' | 'heNormal' | 'leCunNormal' | 'zeros' | 'ones';

interface LayerCommon {
  /** Shape of one input sample (first layer only). Default: the data's shape. */
  inputShape?: number[];
}

export type LayerSpec = LayerCommon &
  (
    | { type: 'dense'; units: number; /** Default: 'linear'. */ activation: Activation; /** Default: true. */ useBias: boolean; /** Default: 'glorotUniform'. */ kernelInitializer: Initializer }
    | {
        type: 'conv2d';
        filters: number;
        kernelSize: number;
        /** Default: 1. */ strides: number;
        /** Default: 'valid'. */ padding: 'valid' | 'same';
        activation: Activation;
        kernelInitializer: Initializer;
      }
    | { type: 'maxPooling2d'; /** Default: 2. */ poolSize: number; /** Default: poolSize. */ strides?: number }
    | { type: 'flatten' }
    | { type: 'dropout'; rate: number }
    | { type: 'batchNormalization'; /** Default: 0.99. */ momentum: number; /** Default: 1e-3. */ epsilon: number }
    | { type: 'layerNormalization'; /** Default: 1e-3. */ epsilon: number }
    | { type: 'activation'; activation: Activation }
  );

export type ModelSpec = LayerSpec[] | { type: 'module'; path: string };

export type OptimizerSpec =
  | { type: 'sgd'; lr: number }
  | { type: 'momentum'; lr: number; /** Default: 0.9. */ momentum: number; /** Default: false. */ nesterov: boolean }
  | { type: 'adam'; lr: number; /** Default: 0.9. */ beta1: number; /** Default: 0.999. */ beta2: number; /** Default: 1e-7. */ epsilon: number }
  | { type: 'adamw'; lr: number; beta1: number; beta2: number; epsilon: number; /** Default: 0.01. */ weightDecay: number }
  | { type: 'rmsprop'; lr: number; /** Default: 0.9. */ decay: number; /** Default: 0. */ momentum: number; /** Default: 1e-7. */ epsilon: number }
  | { type: 'adagrad'; lr: number; /** Default: 0.1. */ initialAccumulatorValue: number }
  | { type: 'lbfgs'; /** Initial line-search step. Default: 1. */ lr: number; /** Default: 10. */ historySize: number; /** Default: 20. */ maxLineSearch: number; /** Default: 1e-4. */ c1: number };

export type ClipSpec =
  | { type: 'none' }
  | { type: 'globalNorm'; maxNorm: number }
  | { type: 'value'; clipValue: number }
  | { type: 'agc'; /** Default: 0.01. */ factor: number; /** Default: 1e-3. */ eps: number }
  | { type: 'adaptive'; /** Default: 2.5. */ zThreshold: number; /** Default: 0.97. */ alpha: number; /** Default: 25. */ warmupSteps: number };

export interface GuardSpec {
  /** Default: 'skip'. */
  nonFinite: 'skip' | 'stop';
  /** Default: 'warn'. */
  explosion: 'warn' | 'skip' | 'backoff' | 'rollback' | 'stop';
  /** LR multiplier applied by backoff and rollback. Default: 0.1. */
  backoffFactor: number;
  /** Steps to ramp the multiplier back to 1. Default: 100. */
  recoverySteps: number;
  /** Steps between rollback snapshots. Default: 50. */
  snapshotEvery: number;
}

export interface PlateauCheckSpec {
  /** Default: 'validationLoss'. */
  metric: 'validationLoss' | 'trainLoss';
  /** Steps between checks. Default: one epoch. */
  every?: number;
}

/** A job file (`*.gradscope.json`) after validation. */
export interface JobSpec {
  /** Name of the job, used in run folder names. */
  name: string;
  /** Seed for weights, shuffling, dropout and augmentation. Default: 0. */
  seed: number;
  /** TensorFlow.js backend. Default: 'auto' (tensorflow, then wasm, then cpu). */
  backend: 'auto' | 'tensorflow' | 'wasm' | 'cpu';
  data: DataSpec;
  model: ModelSpec;
  optimizer: OptimizerSpec;
  schedule: ScheduleSpec;
  plateauCheck?: PlateauCheckSpec;
  /** Default: none. */
  clip?: ClipSpec;
  guard?: GuardSpec;
  /** Detector thresholds; see DetectorOptions for the defaults. */
  detect?: DetectorOptionsInput;
  /** Passes over the training data. Default: 1. */
  epochs: number;
  /** Samples per update. Default: 32. */
  batchSize: number;
}
