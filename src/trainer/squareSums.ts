import type { KernelFunc, Tensor, TensorInfo } from '@tensorflow/tfjs';
import type { Tf } from './backend';
import { simdKernelsOf } from './simdKernels';

/** Σ x² over consecutive segments of a flat tensor (attr `sizes`): one value per segment. */
const SEGMENT_SQUARES = 'GradscopeSegmentSquares';
/** Σ (next − w)² and Σ next² of two flat tensors of one size: two values. */
const UPDATE_SQUARES = 'GradscopeUpdateSquares';
/** Σ x² of each of several tensors (or of all together): one value each (or one). */
const TENSOR_SQUARES = 'GradscopeTensorSquares';
/** Backends whose tensors live in memory this process can read in place. */
export const IN_PLACE_BACKENDS = ['wasm', 'cpu'] as const;

/** What the kernels use of a backend: the wasm one reads its heap in place; the cpu one keeps typed arrays. */
export interface InPlaceBackend {
  typedArrayFromHeap?(info: TensorInfo): Float32Array;
  makeOutput?(shape: number[], dtype: string, memoryOffset?: number, values?: Float32Array): TensorInfo;
  makeTensorInfo?(shape: number[], dtype: string, values: Float32Array): TensorInfo;
  readSync(dataId: object): unknown;
}

/**
 * The diagnostics' sums of squares as single passes over memory, for the backends whose tensor data
 * this process can read in place (wasm and cpu). With tensor ops they cost several kernels each, and
 * a Sum on wasm is a serial scalar loop; the per-variable sums were a matMul against a weights ×
 * variables indicator matrix that does not stay in cache (2.6 MB for the seed MLP). These read the
 * data once and accumulate in float64 (so they differ from float32 kernels in the last digits, being
 * the more exact of the two); on wasm in SIMD (simdKernels) where the module can be instantiated,
 * else in JavaScript. Undefined when the current backend is another one.
 */
export function inPlaceSquareSums(tf: Tf): SquareSums | undefined {
  const backend = tf.getBackend();
  if (!(IN_PLACE_BACKENDS as readonly string[]).includes(backend)) return undefined;
  if (!tf.getKernel(SEGMENT_SQUARES, backend)) {
    tf.registerKernel({ kernelName: SEGMENT_SQUARES, backendName: backend, kernelFunc: segmentSquares as KernelFunc });
    tf.registerKernel({ kernelName: UPDATE_SQUARES, backendName: backend, kernelFunc: updateSquares as KernelFunc });
    tf.registerKernel({ kernelName: TENSOR_SQUARES, backendName: backend, kernelFunc: tensorSquares as unknown as KernelFunc });
  }
  return {
    segments: (x, sizes) => tf.engine().runKernel(SEGMENT_SQUARES, { x }, { sizes }),
    update: (next, w) => tf.engine().runKernel(UPDATE_SQUARES, { next, w }),
    tensors: (tensors, total = false) => {
      const inputs: Record<string, Tensor> = {};
      tensors.forEach((t, i) => (inputs[`x${i}`] = t));
      return tf.engine().runKernel(TENSOR_SQUARES, inputs, { count: tensors.length, total });
    },
  };
}

export interface SquareSums {
  /** [sizes.length]: Σ x² over each consecutive segment of the flat `x` (the sizes add up to its size). */
  segments(x: Tensor, sizes: number[]): Tensor;
  /** [2]: Σ (next − w)² and Σ next², of two flat tensors of one size (an update's size, and the weights' it leaves). */
  update(next: Tensor, w: Tensor): Tensor;
  /** [tensors.length]: Σ x² of each tensor; with `total`, [1]: of all of them. */
  tensors(tensors: Tensor[], total?: boolean): Tensor;
}

/** The float32 values of a tensor, read in place (a view of the wasm heap, or the cpu backend's own array). */
export function valuesOf(backend: InPlaceBackend, info: TensorInfo): Float32Array {
  if (info.dtype !== 'float32') throw new Error(`sums of squares need float32 tensors, not ${info.dtype}`);
  return backend.typedArrayFromHeap ? backend.typedArrayFromHeap(info) : (backend.readSync(info.dataId) as Float32Array);
}

function output(backend: InPlaceBackend, values: Float32Array): TensorInfo {
  return outputOf(backend, [values.length], values).info;
}

/**
 * A new float32 output of this shape, holding `values` when given; `values()` is where to write it
 * (on wasm a view of the heap: take it after every allocation, as one may grow the heap).
 */
export function outputOf(backend: InPlaceBackend, shape: number[], values?: Float32Array): { info: TensorInfo; values(): Float32Array } {
  // The wasm backend's makeOutput(shape, dtype, offset, values); the cpu one's makeOutput takes other arguments.
  if (backend.typedArrayFromHeap) {
    const info = backend.makeOutput!(shape, 'float32', undefined, values);
    return { info, values: () => backend.typedArrayFromHeap!(info) };
  }
  const array = values ?? new Float32Array(shape.reduce((a, b) => a * b, 1));
  return { info: backend.makeTensorInfo!(shape, 'float32', array), values: () => array };
}

function segmentSquares({ inputs, backend, attrs }: { inputs: { x: TensorInfo }; backend: InPlaceBackend; attrs: { sizes: number[] } }): TensorInfo {
  const x = valuesOf(backend, inputs.x);
  const simd = simdKernelsOf(backend);
  const { sizes } = attrs;
  const sums = new Float32Array(sizes.length);
  let start = 0;
  for (let s = 0; s < sizes.length; s++) {
    const end = start + sizes[s];
    sums[s] = simd ? simd.squares(x.byteOffset + 4 * start, sizes[s]) : squareSum(x, start, end);
    start = end;
  }
  if (start !== x.length) throw new Error(`segments of ${start} elements in a tensor of ${x.length}`);
  return output(backend, sums);
}

/** Σ x² of each input x0, x1, … (attr `count` of them), or of all of them together (attr `total`). */
function tensorSquares({ inputs, backend, attrs }: { inputs: Record<string, TensorInfo>; backend: InPlaceBackend; attrs: { count: number; total: boolean } }): TensorInfo {
  const simd = simdKernelsOf(backend);
  const sums = new Float64Array(attrs.count);
  for (let i = 0; i < attrs.count; i++) {
    const x = valuesOf(backend, inputs[`x${i}`]);
    sums[i] = simd ? simd.squares(x.byteOffset, x.length) : squareSum(x, 0, x.length);
  }
  return output(backend, attrs.total ? Float32Array.of(sums.reduce((a, b) => a + b, 0)) : Float32Array.from(sums));
}

/** Σ x[k]² for start ≤ k < end, in float64; four accumulators, so that each add need not wait for the last. */
function squareSum(x: Float32Array, start: number, end: number): number {
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  // The remainder first, in the same loop shape, so that both loops run on every call (a loop that
  // runs only sometimes deoptimizes the function each time it first does).
  const body = start + ((end - start) % 4);
  for (let k = start; k < body; k++) a0 += x[k] * x[k];
  for (let k = body; k < end; k += 4) {
    const x0 = x[k];
    const x1 = x[k + 1];
    const x2 = x[k + 2];
    const x3 = x[k + 3];
    a0 += x0 * x0;
    a1 += x1 * x1;
    a2 += x2 * x2;
    a3 += x3 * x3;
  }
  return a0 + a1 + (a2 + a3);
}

function updateSquares({ inputs, backend }: { inputs: { next: TensorInfo; w: TensorInfo }; backend: InPlaceBackend }): TensorInfo {
  const a = valuesOf(backend, inputs.next);
  const b = valuesOf(backend, inputs.w);
  const n = a.length;
  if (b.length !== n) throw new Error(`tensors of ${n} and ${b.length} elements`);
  let d0 = 0;
  let d1 = 0;
  let w0 = 0;
  let w1 = 0;
  // The remainder first, in the same loop shape (see squareSum).
  const body = n % 2;
  for (let k = 0; k < body; k++) {
    d0 += (a[k] - b[k]) * (a[k] - b[k]);
    w0 += a[k] * a[k];
  }
  for (let k = body; k < n; k += 2) {
    const a0 = a[k];
    const a1 = a[k + 1];
    const e0 = a0 - b[k];
    const e1 = a1 - b[k + 1];
    d0 += e0 * e0;
    d1 += e1 * e1;
    w0 += a0 * a0;
    w1 += a1 * a1;
  }
  return output(backend, Float32Array.of(d0 + d1, w0 + w1));
}
