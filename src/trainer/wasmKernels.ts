import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import type { Tf } from './backend';

/** What the replacement kernels use of the wasm backend (BackendWasm's methods). */
interface WasmBackend {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object): void;
}

const installed = new WeakMap<object, KernelConfig[]>();

/**
 * Replaces two wasm kernels whose stock forms are far slower than they need to be, with kernels that
 * give the same values:
 *
 * - BatchMatMul and _FusedMatMul run XNNPACK only when neither input is transposed; with transposeA or
 *   transposeB they fall back to a scalar blocked loop about 8× slower (~3 GFLOP/s against 20–40 on
 *   one thread). A dense layer's backward pass is exactly those two forms (dW = xᵀ·dy, dx = dy·Wᵀ), so
 *   a training step spent most of its time there. The replacement transposes the flagged input with
 *   the wasm Transpose kernel (a memory-bound copy) and runs the untransposed kernel, which goes to
 *   XNNPACK. Batched products (a leading dimension above 1) keep the original kernel. The products
 *   differ from the scalar loop's only in the order of the float32 additions (a few ulps).
 * - Slice (and SplitV, made of Slices) copies the whole input out of the wasm heap before copying
 *   the slice it wants: splitting n weights into k variables moved k·n floats. The replacement copies
 *   a contiguous slice straight from the heap (bit for bit the same values).
 *
 * Call after tf.setBackend('wasm'); repeated calls do nothing. Returns a function that puts the stock
 * kernels back (the benchmark times stock TF.js with it).
 */
export function useFasterWasmKernels(tf: Tf): () => void {
  if (!installed.has(tf)) {
    const transpose = tf.getKernel('Transpose', 'wasm');
    const originals: KernelConfig[] = [];
    const replace = (name: string, make: (original: KernelFunc) => KernelFunc) => {
      const original = tf.getKernel(name, 'wasm');
      if (!original) return;
      originals.push(original);
      tf.unregisterKernel(name, 'wasm');
      tf.registerKernel({ ...original, kernelFunc: make(original.kernelFunc) });
    };
    if (transpose) for (const name of ['BatchMatMul', '_FusedMatMul']) replace(name, (matMul) => untransposing(matMul, transpose.kernelFunc));
    replace('Slice', (slice) => contiguousSlice(tf, slice));
    // The stock SplitV calls the stock Slice directly, not through the registry.
    const slice = tf.getKernel('Slice', 'wasm');
    if (slice) replace('SplitV', () => splitAlong(tf, slice.kernelFunc));
    installed.set(tf, originals);
  }
  return () => {
    for (const original of installed.get(tf) ?? []) {
      tf.unregisterKernel(original.kernelName, 'wasm');
      tf.registerKernel(original);
    }
    installed.delete(tf);
  };
}

function untransposing(matMul: KernelFunc, transpose: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, attrs } = args;
    const backend = args.backend as WasmBackend;
    const { transposeA, transposeB } = (attrs ?? {}) as NamedAttrMap & { transposeA?: boolean; transposeB?: boolean };
    const a = inputs.a as TensorInfo;
    const b = inputs.b as TensorInfo;
    if ((!transposeA && !transposeB) || !unbatched(a) || !unbatched(b)) return matMul(args);
    const swapped = (x: TensorInfo) => {
      const perm = x.shape.map((_, i) => i);
      [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
      return transpose({ inputs: { x }, backend, attrs: { perm } }) as TensorInfo;
    };
    const aT = transposeA ? swapped(a) : a;
    const bT = transposeB ? swapped(b) : b;
    try {
      return matMul({ inputs: { ...inputs, a: aT, b: bT }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
    } finally {
      if (transposeA) backend.disposeData(aT.dataId);
      if (transposeB) backend.disposeData(bT.dataId);
    }
  };
}

/** Whether every dimension before the last two is 1 (XNNPACK's path takes one matrix pair only). */
function unbatched(x: TensorInfo): boolean {
  return x.shape.length >= 2 && x.shape.slice(0, -2).every((d) => d === 1);
}

function contiguousSlice(tf: Tf, slice: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    const { begin, size } = args.attrs as unknown as { begin: number | number[]; size?: number | number[] };
    if (x.dtype === 'string') return slice(args);
    const [start, extent] = tf.slice_util.parseSliceParams(x as never, begin, size);
    if (!tf.slice_util.isSliceContinous(x.shape, start, extent)) return slice(args);
    const backend = args.backend as WasmBackend;
    const offset = tf.slice_util.computeFlatOffset(start, tf.util.computeStrides(x.shape));
    const count = extent.reduce((a, b) => a * b, 1);
    const out = backend.makeOutput(extent, x.dtype);
    backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(x).subarray(offset, offset + count));
    return out;
  };
}

function splitAlong(tf: Tf, slice: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number | number[] };
    const along = tf.util.parseAxisParam(axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as never, numOrSizeSplits, along);
    const begin = x.shape.map(() => 0);
    return sizes.map((s) => {
      const size = [...x.shape];
      size[along] = s;
      const piece = slice({ inputs: { x }, backend: args.backend, attrs: { begin: [...begin], size } }) as TensorInfo;
      begin[along] += s;
      return piece;
    });
  };
}
