import type { NamedTensorMap, Optimizer, Tensor, Variable } from '@tensorflow/tfjs';

export interface NamedTensor { name: string; tensor: Tensor }
import type { OptimizerSpec } from '../core/jobSpec';
import type { Tf } from './backend';

/** A first-order optimizer whose learning rate is set before every update, keeping its state. */
export interface StepOptimizer {
  setLearningRate(lr: number): void;
  apply(gradients: NamedTensorMap, variables: Variable[]): void;
  /** Copies of the optimizer's state (moments, accumulators) for a rollback snapshot. */
  snapshot(): Promise<NamedTensor[]>;
  restore(state: NamedTensor[]): Promise<void>;
  dispose(): void;
}

type FirstOrderSpec = Exclude<OptimizerSpec, { type: 'lbfgs' }>;

export function createOptimizer(tf: Tf, spec: FirstOrderSpec): StepOptimizer {
  const optimizer = makeTfOptimizer(tf, spec);
  // tfjs optimizers read learningRate at every update; SGD and momentum keep it in a scalar set by setLearningRate.
  const settable = optimizer as unknown as { learningRate: number; setLearningRate?: (lr: number) => void };
  let lr = spec.lr;
  return {
    setLearningRate(next) {
      if (next === lr) return;
      lr = next;
      if (settable.setLearningRate) settable.setLearningRate(next);
      else settable.learningRate = next;
    },
    apply(gradients, variables) {
      if (spec.type === 'adamw' && spec.weightDecay > 0) {
        // Decoupled weight decay (Loshchilov & Hutter): shrink the weights, then the Adam step.
        const keep = 1 - lr * spec.weightDecay;
        tf.tidy(() => variables.forEach((v) => v.assign(tf.mul(v, keep))));
      }
      optimizer.applyGradients(gradients);
    },
    async snapshot() {
      // getWeights returns the live state variables plus a freshly made iteration-count scalar.
      const weights = await optimizer.getWeights();
      const copies = weights.map((w) => ({ name: w.name, tensor: w.tensor.clone() }));
      weights.forEach((w) => (w.tensor instanceof tf.Variable ? undefined : w.tensor.dispose()));
      return copies;
    },
    async restore(state) {
      // setWeights makes new state variables; the ones it replaces would otherwise leak.
      // setWeights reads the iteration count from the first copy and makes variables from the others,
      // keeping none of the copies themselves: they are ours to dispose.
      const previous = await optimizer.getWeights();
      const copies = state.map((w) => ({ name: w.name, tensor: w.tensor.clone() }));
      await optimizer.setWeights(copies);
      tf.dispose([...previous, ...copies].map((w) => w.tensor));
    },
    dispose() {
      optimizer.dispose();
      // tfjs's MomentumOptimizer.dispose does not dispose the learning-rate scalar its SGD base keeps.
      if (optimizer instanceof tf.MomentumOptimizer) (optimizer as unknown as { c?: Tensor }).c?.dispose();
    },
  };
}

function makeTfOptimizer(tf: Tf, spec: FirstOrderSpec): Optimizer {
  switch (spec.type) {
    case 'sgd': return tf.train.sgd(spec.lr);
    case 'momentum': return tf.train.momentum(spec.lr, spec.momentum, spec.nesterov);
    case 'adam':
    case 'adamw': return tf.train.adam(spec.lr, spec.beta1, spec.beta2, spec.epsilon);
    case 'rmsprop': return tf.train.rmsprop(spec.lr, spec.decay, spec.momentum, spec.epsilon);
    case 'adagrad': return tf.train.adagrad(spec.lr, spec.initialAccumulatorValue);
  }
}
