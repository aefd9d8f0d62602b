import type { LayersModel, Scalar, Tensor, Variable } from '@tensorflow/tfjs';
import type { ClipSpec } from '../core/job/spec';
import type { Tf } from './backend';
import type { StepOptimizer } from './optimizers';
import { inPlaceSquareSums, type SquareSums } from './squareSums';

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
 * The device side of a training step, on all trainable weights laid end to end in one flat vector
 * (a copy of the model's variables). computeGradients runs the forward and backward pass and reads
 * every diagnostic back at once; apply then scales the gradient, runs the optimizer over the flat
 * vector and measures the update. The update's size, and Σw² of the weights it leaves, are read
 * back with the next step's values, so each step costs exactly one readback. On wasm and cpu the
 * sums of squares are single passes over memory (see squareSums; the update's are one pass over the
 * old and new weights), and the gradient stays per variable: an optimizer with a fused update (Adam
 * and AdamW, see fusedAdam) takes it so and writes the variables directly, measuring the update in
 * the same pass (the flat copy is made again only if another update needs it); others flatten it.
 * Elsewhere the sums are tensor ops, and g² feeds both the per-variable norms and Adam's second
 * moment.
 */
export class GradientStep {
  private readonly sizes: number[];
  /**
   * The flat weights, equal to the model's variables (see resync) except after fused updates, which
   * write the variables alone (see flatWeights).
   */
  private readonly weights: Variable;
  /** Whether fused updates wrote the variables since the flat weights were last made from them. */
  private flatStale = false;
  /** How many trainable weights there are. */
  readonly size: number;
  /** Single-pass sums of squares, when the backend has them. */
  private readonly sums: SquareSums | undefined;
  /** [N, variables] indicator: one matMul turns g² into each variable's Σ g² (small models, without `sums` only). */
  private readonly segments: Tensor | undefined;
  /**
   * [2]: Σ Δw² of the last update (0 for a skipped step) and Σw² of the weights it left, read back
   * with the next step's values.
   */
  private pending: Tensor | undefined;
  /** Whether something other than apply/skip wrote the weights since (a rollback): Σw² is measured again. */
  private weightsRewritten = false;
  /**
   * This step's gradient: flat, with g² when computing the norms made it anyway (the update reuses
   * it), or per variable (`parts`, with the single-pass sums: a fused update takes it so, others
   * flatten it).
   */
  private gradient: Gradient | undefined;

  constructor(
    private readonly tf: Tf,
    private readonly model: LayersModel,
    private readonly variables: Variable[],
    private readonly lossOf: (labels: Tensor, outputs: Tensor) => Scalar,
    /**
     * Largest indicator matrix (weights × variables entries) worth keeping for the per-variable
     * sums; above it they are one SplitV and a Sum per variable. Default: 2²² (16 MB).
     */
    segmentMatrixLimit = 2 ** 22,
    /** Use the single-pass sums where the backend has them. Default: true (false: the tensor ops, for tests). */
    inPlaceSums = true,
  ) {
    this.sizes = variables.map((v) => v.size);
    const offsets: number[] = [];
    let total = 0;
    for (const size of this.sizes) {
      offsets.push(total);
      total += size;
    }
    this.size = total;
    this.weights = tf.tidy(() => tf.variable(this.flatten(variables), false));
    this.sums = inPlaceSums ? inPlaceSquareSums(tf) : undefined;
    if (!this.sums && total * variables.length <= segmentMatrixLimit) {
      const indicator = new Float32Array(total * variables.length);
      this.sizes.forEach((size, i) => {
        for (let k = offsets[i]; k < offsets[i] + size; k++) indicator[k * variables.length + i] = 1;
      });
      this.segments = tf.tensor2d(indicator, [total, variables.length]);
    }
  }

  computeGradients(x: Tensor, y: Tensor, clip: ClipSpec | undefined): StepStats {
    const { tf, variables, sums } = this;
    const previous = this.pending;
    // Σw² comes with the last update's size, computed from the weights it wrote, unless there was no
    // update yet or something else has written the weights since.
    const measureWeights = !previous || this.weightsRewritten;
    const { gradient, stats } = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => this.lossOf(y, this.model.apply(x, { training: true }) as Tensor), variables);
      const ordered = variables.map((v) => grads[v.name]);
      let gradient: Gradient;
      let gradSquares: Tensor;
      if (sums) {
        // Each variable's Σ g² read in place; the gradient stays per variable until an update needs it flat.
        gradSquares = sums.tensors(ordered);
        gradient = { parts: ordered };
      } else {
        const raw = this.flatten(ordered);
        const rawSquares = tf.square(raw);
        gradSquares = this.segments
          ? tf.matMul(tf.reshape(rawSquares, [1, this.size]), this.segments)
          : tf.stack((variables.length === 1 ? [rawSquares] : tf.split(rawSquares, this.sizes)).map((part) => tf.sum(part)));
        gradient = { g: raw, g2: rawSquares };
      }
      // Only what this step has goes into the readback; absent values are NaN on the CPU side.
      const parts = [tf.reshape(value, [1]), tf.reshape(gradSquares, [variables.length])];
      if (previous) parts.push(previous);
      if (measureWeights) parts.push(this.weightSquare());
      if (clip?.type === 'value' || clip?.type === 'agc') {
        const clipped = this.flatten(
          variables.map((v, i) => (clip.type === 'value' ? tf.clipByValue(ordered[i], -clip.clipValue, clip.clipValue) : adaptiveUnitClip(tf, ordered[i], v, clip.factor, clip.eps))),
        );
        gradient = sums ? { g: clipped } : { g: clipped, g2: tf.square(clipped) };
        parts.push(sums ? sums.segments(clipped, [this.size]) : tf.reshape(tf.sum(gradient.g2!), [1]));
      }
      return { gradient, stats: tf.concat(parts) };
    });
    previous?.dispose();
    this.pending = undefined;
    this.weightsRewritten = false;
    this.gradient = gradient;
    const values = stats.dataSync() as Float32Array;
    stats.dispose();
    const count = variables.length;
    let next = 1 + count;
    const previousUpdateSquare = previous ? values[next++] : NaN;
    let weightSquare = previous ? values[next++] : NaN;
    if (measureWeights) weightSquare = values[next++];
    const clippedSquare = clip?.type === 'value' || clip?.type === 'agc' ? values[next++] : NaN;
    return { loss: values[0], weightSquare, gradSquares: values.slice(1, 1 + count), previousUpdateSquare, clippedNorm: Math.sqrt(clippedSquare) };
  }

  /** Applies the gradient scaled by `scale` through the optimizer, remembering the update's size and the new Σw². */
  apply(scale: number, optimizer: StepOptimizer): void {
    const { tf, variables, sums } = this;
    const gradient = this.takeGradient();
    this.pending = tf.tidy(() => {
      if (sums && optimizer.fusedUpdate) {
        // One pass scales the gradient, updates the variables and measures the update (the same
        // weights as update()'s, see fusedAdam), without flattening the gradient or splitting the weights.
        const { next, squares } = optimizer.fusedUpdate('parts' in gradient ? gradient.parts : [gradient.g], scale, variables);
        variables.forEach((v, i) => v.assign(next[i]));
        this.flatStale = true;
        return squares;
      }
      const weights = this.flatWeights();
      const { g, g2 } = 'parts' in gradient ? { g: this.flatten(gradient.parts), g2: undefined } : gradient;
      const scaled = scale === 1 ? g : tf.mul(g, scale);
      const squares = optimizer.usesSquares ? (scale === 1 && g2 ? g2 : tf.square(scaled)) : undefined;
      const next = optimizer.update(scaled, squares, weights);
      const measured = sums ? sums.update(next, weights) : tf.stack([tf.sum(tf.square(tf.sub(next, weights))), tf.sum(tf.square(next))]);
      // One SplitV (its slices run inside the kernel, without the engine's per-kernel cost).
      const parts = variables.length === 1 ? [next] : tf.split(next, this.sizes);
      variables.forEach((v, i) => v.assign(tf.reshape(parts[i], v.shape)));
      weights.assign(next);
      return measured;
    });
    this.weightsRewritten = false;
    disposeGradient(tf, gradient);
  }

  /** Drops this step's gradient without an update (a skipped step). */
  skip(): void {
    const { tf } = this;
    disposeGradient(tf, this.takeGradient());
    this.pending = tf.tidy(() => tf.concat([tf.zeros([1]), this.weightSquare()]));
    this.weightsRewritten = false;
  }

  /** Takes the model's variables as the flat weights again, after something else wrote them (a rollback). */
  resync(): void {
    this.tf.tidy(() => this.weights.assign(this.flatten(this.variables)));
    this.flatStale = false;
    this.weightsRewritten = true;
  }

  /** Σ Δw² of the last update, read at the end of a run. */
  finalUpdateSquare(): number {
    if (!this.pending) return NaN;
    const value = this.pending.dataSync()[0];
    this.pending.dispose();
    this.pending = undefined;
    return value;
  }

  dispose(): void {
    if (this.gradient) disposeGradient(this.tf, this.gradient);
    this.pending?.dispose();
    this.tf.dispose(this.segments ? [this.weights, this.segments] : [this.weights]);
  }

  /** [1]: Σw² of the weights as they are now. Call inside a tidy. */
  private weightSquare(): Tensor {
    const { tf } = this;
    return this.sums ? this.sums.tensors(this.variables, true) : tf.reshape(tf.sum(tf.square(this.flatWeights())), [1]);
  }

  /** The flat weights, made again from the variables if fused updates wrote them since. Call inside a tidy. */
  private flatWeights(): Variable {
    if (this.flatStale) this.weights.assign(this.flatten(this.variables));
    this.flatStale = false;
    return this.weights;
  }

  private flatten(tensors: Tensor[]): Tensor {
    const flat = tensors.map((t) => this.tf.reshape(t, [-1]));
    return flat.length === 1 ? flat[0] : this.tf.concat(flat);
  }

  private takeGradient(): Gradient {
    const gradient = this.gradient;
    if (!gradient) throw new Error('no gradients computed for this step');
    this.gradient = undefined;
    return gradient;
  }
}

type Gradient = { g: Tensor; g2?: Tensor } | { parts: Tensor[] };

function disposeGradient(tf: Tf, gradient: Gradient): void {
  tf.dispose('parts' in gradient ? gradient.parts : gradient.g2 ? [gradient.g, gradient.g2] : gradient.g);
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
