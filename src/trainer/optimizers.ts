import type { Tensor, Variable } from '@tensorflow/tfjs';
import type { OptimizerSpec } from '../core/job/spec';
import type { Tf } from './backend';
import { adamConstants, fusedAdam } from './fusedAdam';

export interface NamedTensor {
  name: string;
  tensor: Tensor;
}

/**
 * A first-order optimizer over all trainable weights laid end to end in one flat vector. TF.js's
 * own optimizers run ~14 kernels per variable (each with a fixed cost of tens of µs on wasm); these
 * run the same expressions, in the same order and precision, once over the flat vector, so their
 * weights match TF.js's to the last bit. The learning rate is set before every update and the state
 * (moments, accumulators) survives it.
 */
export interface StepOptimizer {
  setLearningRate(lr: number): void;
  /** Whether update() reads g², which the caller then computes once per step and shares. */
  readonly usesSquares: boolean;
  /**
   * The new flat weights from the flat gradient `g` (and `gSquared` = g² when usesSquares) and the
   * flat weights `w`; updates the state. Call inside a tidy.
   */
  update(g: Tensor, gSquared: Tensor | undefined, w: Tensor): Tensor;
  /**
   * update() as one kernel, where the optimizer and the backend have one (Adam and AdamW on wasm and
   * cpu, see fusedAdam), on the gradient times `scale` and the weights each given as tensors that laid
   * end to end are the flat vector (e.g. per variable): the new weights, one tensor per tensor of `w`
   * and the same to the bit as update()'s, and [2]: Σ (next − w)² and Σ next² (float64 sums, as
   * squareSums' update). Call inside a tidy.
   */
  fusedUpdate?(g: Tensor[], scale: number, w: Tensor[]): { next: Tensor[]; squares: Tensor };
  /** Copies of the state for a rollback snapshot. */
  snapshot(): Promise<NamedTensor[]>;
  restore(state: NamedTensor[]): Promise<void>;
  dispose(): void;
}

type FirstOrderSpec = Exclude<OptimizerSpec, { type: 'lbfgs' }>;

/** An optimizer for `size` flat weights; `fused` (default true): with fusedUpdate where there is one. */
export function createOptimizer(tf: Tf, spec: FirstOrderSpec, size: number, fused = true): StepOptimizer {
  const state = new State(tf, size);
  let lr = spec.lr;
  let update: (g: Tensor, g2: Tensor | undefined, w: Tensor) => Tensor;
  let fusedUpdate: StepOptimizer['fusedUpdate'];
  let usesSquares = true;
  switch (spec.type) {
    case 'sgd':
      usesSquares = false;
      update = (g, _, w) => tf.add(tf.mul(-lr, g), w);
      break;
    case 'momentum': {
      usesSquares = false;
      const accumulation = state.zeros('momentum');
      update = (g, _, w) => {
        const next = tf.add(tf.mul(spec.momentum, accumulation.read()), g);
        accumulation.write(next);
        return spec.nesterov ? tf.add(tf.mul(-lr, tf.add(g, tf.mul(next, spec.momentum))), w) : tf.add(tf.mul(-lr, next), w);
      };
      break;
    }
    case 'adam':
    case 'adamw': {
      const first = state.zeros('m');
      const second = state.zeros('v');
      // β^t as TF.js keeps it: a float32 scalar, multiplied by β after each update.
      const powers = state.scalars({ beta1Power: Math.fround(spec.beta1), beta2Power: Math.fround(spec.beta2) });
      update = (g, g2, w) => {
        // Decoupled weight decay (Loshchilov & Hutter): shrink the weights, then the Adam step.
        const decayed = spec.type === 'adamw' && spec.weightDecay > 0 ? tf.mul(w, 1 - lr * spec.weightDecay) : w;
        const m = tf.add(tf.mul(first.read(), spec.beta1), tf.mul(g, 1 - spec.beta1));
        const v = tf.add(tf.mul(second.read(), spec.beta2), tf.mul(g2!, 1 - spec.beta2));
        const mHat = tf.div(m, Math.fround(1 - powers.beta1Power));
        const vHat = tf.div(v, Math.fround(1 - powers.beta2Power));
        first.write(m);
        second.write(v);
        powers.beta1Power = Math.fround(powers.beta1Power * Math.fround(spec.beta1));
        powers.beta2Power = Math.fround(powers.beta2Power * Math.fround(spec.beta2));
        return tf.add(tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), spec.epsilon)), -lr), decayed);
      };
      const kernel = fused ? fusedAdam(tf) : undefined;
      if (kernel) {
        fusedUpdate = (g, scale, w) => {
          const decay = spec.type === 'adamw' && spec.weightDecay > 0 ? 1 - lr * spec.weightDecay : 1;
          const result = kernel.update(g, scale, first.read(), second.read(), w, adamConstants(spec, powers.beta1Power, powers.beta2Power, lr, decay));
          first.write(result.m);
          second.write(result.v);
          powers.beta1Power = Math.fround(powers.beta1Power * Math.fround(spec.beta1));
          powers.beta2Power = Math.fround(powers.beta2Power * Math.fround(spec.beta2));
          return { next: result.next, squares: result.squares };
        };
      }
      break;
    }
    case 'rmsprop': {
      const meanSquare = state.zeros('rms');
      const moments = state.zeros('momentum');
      update = (g, g2, w) => {
        const ms = tf.add(tf.mul(meanSquare.read(), spec.decay), tf.mul(g2!, 1 - spec.decay));
        const mom = tf.add(tf.mul(moments.read(), spec.momentum), tf.div(tf.mul(g, lr), tf.sqrt(tf.add(ms, spec.epsilon))));
        meanSquare.write(ms);
        moments.write(mom);
        return tf.sub(w, mom);
      };
      break;
    }
    case 'adagrad': {
      const accumulator = state.filled('accumulator', spec.initialAccumulatorValue);
      const epsilon = tf.backend().epsilon();
      update = (g, g2, w) => {
        const sum = tf.add(accumulator.read(), g2!);
        accumulator.write(sum);
        return tf.add(tf.mul(tf.div(g, tf.sqrt(tf.add(sum, epsilon))), -lr), w);
      };
      break;
    }
  }
  return {
    usesSquares,
    setLearningRate: (next) => (lr = next),
    update: (g, g2, w) => update(g, g2, w),
    ...(fusedUpdate ? { fusedUpdate } : {}),
    snapshot: async () => state.snapshot(),
    restore: async (saved) => state.restore(saved),
    dispose: () => state.dispose(),
  };
}

interface Slot {
  read(): Tensor;
  write(value: Tensor): void;
}

/** An optimizer's state: flat tensors kept in variables, and float32 scalars kept on the CPU. */
class State {
  private readonly variables = new Map<string, Variable>();
  private readonly numbers = new Map<string, Record<string, number>>();

  constructor(
    private readonly tf: Tf,
    private readonly size: number,
  ) {}

  zeros(name: string): Slot {
    return this.filled(name, 0);
  }

  filled(name: string, value: number): Slot {
    const variable = this.tf.tidy(() => this.tf.variable(this.tf.fill([this.size], value), false));
    this.variables.set(name, variable);
    return { read: () => variable, write: (next) => variable.assign(next) };
  }

  /** Named numbers the caller reads and writes in place; they are saved with the tensors. */
  scalars<T extends Record<string, number>>(values: T): T {
    this.numbers.set('scalars', values);
    return values;
  }

  snapshot(): NamedTensor[] {
    const tensors = [...this.variables].map(([name, v]) => ({ name, tensor: v.clone() }));
    const scalars = this.numbers.get('scalars');
    const numbers = scalars ? Object.entries(scalars).map(([name, value]) => ({ name: `scalar/${name}`, tensor: this.tf.scalar(value) })) : [];
    return [...tensors, ...numbers];
  }

  restore(saved: NamedTensor[]): void {
    const scalars = this.numbers.get('scalars');
    for (const { name, tensor } of saved) {
      if (name.startsWith('scalar/') && scalars) scalars[name.slice('scalar/'.length)] = tensor.dataSync()[0];
      else this.variables.get(name)?.assign(tensor);
    }
  }

  dispose(): void {
    this.tf.dispose([...this.variables.values()]);
    this.variables.clear();
  }
}
