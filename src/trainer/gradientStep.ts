import type { LayersModel, NamedTensorMap, Scalar, Tensor, Variable } from '@tensorflow/tfjs';
import type { ClipSpec } from '../core/jobSpec';
import type { Tf } from './backend';

/** What one readback brought to the CPU. */
export interface StepStats {
  loss: number;
  /** Σ g² of each trainable variable, before clipping. */
  gradSquares: Float32Array;
  /** Σ w² over all trainable weights before this update. */
  weightSquare: number;
  /** Σ Δw² of the previous step's update (NaN when there was none). */
  previousUpdateSquare: number;
  /** Global norm after value or AGC clipping (NaN for other clip modes: they scale on the CPU's word). */
  clippedNorm: number;
}

/**
 * The device side of a training step. computeGradients runs the forward and backward pass and reads
 * every diagnostic back at once; apply then scales, applies and measures the update. The update's
 * size is read back with the next step's values, so each step costs exactly one readback.
 */
export class GradientStep {
  private pendingUpdateSquare: Scalar | undefined;
  private gradients: NamedTensorMap | undefined;
  /**
   * The weights before the latest update. Variable.assign shares the data instead of copying it, and
   * optimizers replace a variable's data rather than writing into it, so this costs no copy.
   */
  private previous: Variable[] | undefined;

  constructor(
    private readonly tf: Tf,
    private readonly model: LayersModel,
    private readonly variables: Variable[],
    private readonly lossOf: (labels: Tensor, outputs: Tensor) => Scalar,
  ) {}

  computeGradients(x: Tensor, y: Tensor, clip: ClipSpec | undefined): StepStats {
    const { tf, variables } = this;
    const previous = this.pendingUpdateSquare;
    const { grads, stats } = tf.tidy(() => {
      const { value, grads: raw } = tf.variableGrads(() => this.lossOf(y, this.model.apply(x, { training: true }) as Tensor), variables);
      const ordered = variables.map((v) => raw[v.name]);
      const gradSquares = ordered.map((g) => tf.sum(tf.square(g)));
      const weightSquare = tf.addN(variables.map((v) => tf.sum(tf.square(v))));
      let clipped = raw;
      let clippedSquare: Scalar = tf.scalar(NaN);
      if (clip?.type === 'value' || clip?.type === 'agc') {
        clipped = {};
        variables.forEach((v, i) => (clipped[v.name] = clip.type === 'value' ? tf.clipByValue(ordered[i], -clip.clipValue, clip.clipValue) : adaptiveUnitClip(tf, ordered[i], v, clip.factor, clip.eps)));
        clippedSquare = tf.addN(variables.map((v) => tf.sum(tf.square(clipped[v.name])))) as Scalar;
      }
      const stats = tf.stack([value, weightSquare, previous ?? tf.scalar(NaN), clippedSquare, ...gradSquares]);
      return { grads: clipped, stats };
    });
    previous?.dispose();
    this.pendingUpdateSquare = undefined;
    this.gradients = grads;
    const values = stats.dataSync() as Float32Array;
    stats.dispose();
    return {
      loss: values[0],
      weightSquare: values[1],
      previousUpdateSquare: values[2],
      clippedNorm: Math.sqrt(values[3]),
      gradSquares: values.slice(4),
    };
  }

  /** Applies the gradients scaled by `scale` through `applyUpdate`, remembering the update's size. */
  apply(scale: number, applyUpdate: (gradients: NamedTensorMap) => void): void {
    const { tf, variables } = this;
    const gradients = this.takeGradients();
    if (this.previous) this.previous.forEach((p, i) => p.assign(variables[i]));
    else this.previous = variables.map((v) => tf.variable(v, false));
    const previous = this.previous;
    const scaled = scale === 1 ? gradients : tf.tidy(() => Object.fromEntries(Object.entries(gradients).map(([name, g]) => [name, tf.mul(g, scale)])));
    applyUpdate(scaled);
    this.pendingUpdateSquare = tf.tidy(() => tf.addN(variables.map((v, i) => tf.sum(tf.square(tf.sub(v, previous[i]))))) as Scalar);
    if (scaled !== gradients) tf.dispose(Object.values(scaled));
    tf.dispose(Object.values(gradients));
  }

  /** Drops this step's gradients without an update (a skipped step). */
  skip(): void {
    this.tf.dispose(Object.values(this.takeGradients()));
    this.pendingUpdateSquare = this.tf.scalar(0);
  }

  /** Σ Δw² of the last update, read at the end of a run. */
  finalUpdateSquare(): number {
    if (!this.pendingUpdateSquare) return NaN;
    const value = this.pendingUpdateSquare.dataSync()[0];
    this.pendingUpdateSquare.dispose();
    this.pendingUpdateSquare = undefined;
    return value;
  }

  dispose(): void {
    if (this.gradients) this.tf.dispose(Object.values(this.gradients));
    this.pendingUpdateSquare?.dispose();
    if (this.previous) this.tf.dispose(this.previous);
  }

  private takeGradients(): NamedTensorMap {
    const gradients = this.gradients;
    if (!gradients) throw new Error('no gradients computed for this step');
    this.gradients = undefined;
    return gradients;
  }
}

/**
 * Adaptive gradient clipping (Brock et al. 2021): each output unit's gradient norm is kept below
 * factor × max(its weight norm, eps). Units are the last axis (dense and conv kernels); a bias is
 * clipped element by element.
 */
function adaptiveUnitClip(tf: Tf, gradient: Tensor, weight: Tensor, factor: number, eps: number): Tensor {
  const axes = gradient.rank > 1 ? Array.from({ length: gradient.rank - 1 }, (_, i) => i) : [];
  const unitNorm = (t: Tensor) => (axes.length ? tf.sqrt(tf.sum(tf.square(t), axes, true)) : tf.abs(t));
  const maxNorm = tf.mul(tf.maximum(unitNorm(weight), eps), factor);
  const gradNorm = tf.maximum(unitNorm(gradient), 1e-6);
  return tf.mul(gradient, tf.minimum(tf.div(maxNorm, gradNorm), 1));
}
