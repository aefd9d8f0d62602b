import type { KernelFunc, Tensor, TensorInfo } from '@tensorflow/tfjs';
import type { Tf } from './backend';
import { simdKernels, simdKernelsOf, type EmscriptenModule } from './simdKernels';
import { IN_PLACE_BACKENDS, outputOf, valuesOf, type InPlaceBackend } from './squareSums';

/** Adam's (and AdamW's) whole update, and the update's sums of squares, in one pass. */
const FUSED_ADAM = 'GradscopeFusedAdam';

/** The float32 constants of one update, as the tensor ops would make them (see adamConstants). */
export interface AdamConstants {
  beta1: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  /** 1 − β₁ᵗ and 1 − β₂ᵗ (the bias corrections). */
  correction1: number;
  correction2: number;
  epsilon: number;
  negativeLr: number;
  /** AdamW's weight decay factor 1 − lr·wd (1: none, which leaves the weights as they are). */
  decay: number;
}

export interface FusedAdam {
  /**
   * The new flat first and second moments, and the new weights (one tensor per tensor of `w`, of its
   * shape), from the gradient `g` times `scale` (1: as it is), the flat moments `m` and `v` and the
   * weights `w`; `g` and `w` are each a list of tensors whose elements laid end to end are the flat
   * vector (e.g. each variable's gradient, or one flat gradient, and each variable). `squares` is
   * [2]: Σ (next − w)² and Σ next² in float64 (as squareSums' update).
   */
  update(g: Tensor[], scale: number, m: Tensor, v: Tensor, w: Tensor[], constants: AdamConstants): { m: Tensor; v: Tensor; next: Tensor[]; squares: Tensor };
}

/**
 * Adam as one kernel on the backends whose tensors this process can read in place (wasm and cpu).
 * The tensor-op Adam (optimizers.ts) runs ~12 kernels, each a pass over all the weights (on wasm a
 * fixed cost of tens of µs each, on cpu a fresh typed array each); this one reads g, m, v and w once,
 * writes m, v and the new weights once, and measures the update in the same pass. Taking the
 * gradient and the weights per variable, it spares the caller flattening the one and splitting the
 * new weights back into the other. It does the tensor ops' float32 operations in their order, each
 * rounded to float32, so the weights are bit for bit the same: on wasm in a small SIMD module on the
 * backend's own memory (simdKernels; a JavaScript loop there is slower than the backend's kernels,
 * its float64 divisions being scalar), on cpu in JavaScript (Math.fround: a float64 +, −, ×, ÷ or √
 * of float32 values rounded to float32 is the correctly rounded float32 result). Undefined on other
 * backends, and on wasm when the module cannot be instantiated on the backend's memory (then the
 * optimizer keeps its tensor ops).
 */
export function fusedAdam(tf: Tf): FusedAdam | undefined {
  const backend = tf.getBackend();
  if (!(IN_PLACE_BACKENDS as readonly string[]).includes(backend)) return undefined;
  if (backend === 'wasm' && !simdKernels((tf.backend() as unknown as { wasm?: EmscriptenModule }).wasm)) return undefined;
  if (!tf.getKernel(FUSED_ADAM, backend)) tf.registerKernel({ kernelName: FUSED_ADAM, backendName: backend, kernelFunc: adamKernel as unknown as KernelFunc });
  return {
    update: (g, scale, m, v, w, constants) => {
      const inputs: Record<string, Tensor> = { m, v };
      g.forEach((t, i) => (inputs[`g${i}`] = t));
      w.forEach((t, i) => (inputs[`w${i}`] = t));
      const attrs: AdamAttrs = { ...constants, scale: Math.fround(scale), gradients: g.length, weights: w.length };
      const [mNext, vNext, ...rest] = tf.engine().runKernel(FUSED_ADAM, inputs, attrs as unknown as Record<string, number>) as Tensor[];
      return { m: mNext, v: vNext, next: rest.slice(0, w.length), squares: rest[w.length] };
    },
  };
}

interface AdamAttrs extends AdamConstants {
  /** The gradient's factor, as a float32 (tf.mul's scalar). */
  scale: number;
  /** How many tensors the gradient and the weights are given in (inputs g0…, w0…). */
  gradients: number;
  weights: number;
}

const sizeOf = (info: TensorInfo) => info.shape.reduce((a, b) => a * b, 1);

function adamKernel({ inputs, backend, attrs }: { inputs: Record<string, TensorInfo>; backend: InPlaceBackend; attrs: AdamAttrs }): TensorInfo[] {
  const g = Array.from({ length: attrs.gradients }, (_, i) => inputs[`g${i}`]);
  const w = Array.from({ length: attrs.weights }, (_, i) => inputs[`w${i}`]);
  const n = sizeOf(inputs.m);
  for (const [what, list] of [
    ['gradient', g],
    ['weights', w],
  ] as const) {
    const total = list.reduce((sum, info) => sum + sizeOf(info), 0);
    if (total !== n || sizeOf(inputs.v) !== n) throw new Error(`a ${what} of ${total} elements for moments of ${n} and ${sizeOf(inputs.v)}`);
  }
  // The outputs first: on wasm an allocation may grow the heap, which would leave earlier views of it empty.
  const moments = [outputOf(backend, [n]), outputOf(backend, [n])];
  const weights = w.map((info) => outputOf(backend, info.shape));
  const sums = new Float64Array(2);
  const simd = simdKernelsOf(backend);
  const c = attrs;
  // The pieces where a gradient tensor and a weight tensor overlap (each variable, when both are given per variable).
  let gi = 0;
  let gStart = 0;
  let wi = 0;
  let wStart = 0;
  if (simd) {
    const at = (info: TensorInfo) => valuesOf(backend, info).byteOffset;
    const [m, v, mOut, vOut] = [inputs.m, inputs.v, moments[0].info, moments[1].info].map(at);
    for (let k = 0; k < n;) {
      const count = Math.min(sizeOf(g[gi]) - (k - gStart), sizeOf(w[wi]) - (k - wStart));
      const [update, next] = simd.adam(
        at(g[gi]) + 4 * (k - gStart),
        m + 4 * k,
        v + 4 * k,
        at(w[wi]) + 4 * (k - wStart),
        mOut + 4 * k,
        vOut + 4 * k,
        at(weights[wi].info) + 4 * (k - wStart),
        count,
        c.scale,
        c.beta1,
        c.oneMinusBeta1,
        c.beta2,
        c.oneMinusBeta2,
        c.correction1,
        c.correction2,
        c.epsilon,
        c.negativeLr,
        c.decay,
      );
      sums[0] += update;
      sums[1] += next;
      k += count;
      if (k - gStart === sizeOf(g[gi])) gStart += sizeOf(g[gi++]);
      if (k - wStart === sizeOf(w[wi])) wStart += sizeOf(w[wi++]);
    }
  } else {
    const [m, v] = [inputs.m, inputs.v].map((info) => valuesOf(backend, info));
    const [mOut, vOut] = moments.map((o) => o.values());
    for (let k = 0; k < n;) {
      const count = Math.min(sizeOf(g[gi]) - (k - gStart), sizeOf(w[wi]) - (k - wStart));
      adamLoop(valuesOf(backend, g[gi]), k - gStart, valuesOf(backend, w[wi]), weights[wi].values(), k - wStart, m, v, mOut, vOut, k, count, c.scale, c, sums);
      k += count;
      if (k - gStart === sizeOf(g[gi])) gStart += sizeOf(g[gi++]);
      if (k - wStart === sizeOf(w[wi])) wStart += sizeOf(w[wi++]);
    }
  }
  return [...moments.map((o) => o.info), ...weights.map((o) => o.info), outputOf(backend, [2], Float32Array.from(sums)).info];
}

const fround = Math.fround;

/**
 * Adam over `count` elements: the gradient from g[gk] (times `scale`), the weights from w[wk] into
 * wOut[wk], the moments from m[k], v[k] into mOut[k], vOut[k]; adds Σ (w' − w)² and Σ w'² to `sums`.
 * adamKernel's loop on cpu (and the reference of the wasm module's tests), on its own so that it is
 * compiled for typed arrays only.
 */
export function adamLoop(
  g: Float32Array,
  gk: number,
  w: Float32Array,
  wOut: Float32Array,
  wk: number,
  m: Float32Array,
  v: Float32Array,
  mOut: Float32Array,
  vOut: Float32Array,
  k: number,
  count: number,
  scale: number,
  c: AdamConstants,
  sums: Float64Array,
): void {
  const { beta1, oneMinusBeta1, beta2, oneMinusBeta2, correction1, correction2, epsilon, negativeLr, decay } = c;
  let update = 0;
  let weights = 0;
  for (let i = 0; i < count; i++) {
    const gi = fround(g[gk + i] * scale);
    // m = β₁·m + (1 − β₁)·g;  v = β₂·v + (1 − β₂)·g²
    const mi = fround(fround(m[k + i] * beta1) + fround(gi * oneMinusBeta1));
    const vi = fround(fround(v[k + i] * beta2) + fround(fround(gi * gi) * oneMinusBeta2));
    mOut[k + i] = mi;
    vOut[k + i] = vi;
    // next = (m̂ / (√v̂ + ε))·(−lr) + decayed w
    const step = fround(fround(fround(mi / correction1) / fround(fround(Math.sqrt(fround(vi / correction2))) + epsilon)) * negativeLr);
    const wi = w[wk + i];
    const next = fround(step + fround(wi * decay));
    wOut[wk + i] = next;
    const delta = next - wi;
    update += delta * delta;
    weights += next * next;
  }
  sums[0] += update;
  sums[1] += weights;
}

/** The constants as the tensor ops make their scalars: float32 roundings of the float64 expressions. */
export function adamConstants(spec: { beta1: number; beta2: number; epsilon: number }, beta1Power: number, beta2Power: number, lr: number, decay: number): AdamConstants {
  return {
    beta1: fround(spec.beta1),
    oneMinusBeta1: fround(1 - spec.beta1),
    beta2: fround(spec.beta2),
    oneMinusBeta2: fround(1 - spec.beta2),
    correction1: fround(1 - beta1Power),
    correction2: fround(1 - beta2Power),
    epsilon: fround(spec.epsilon),
    negativeLr: fround(-lr),
    decay: fround(decay),
  };
}
