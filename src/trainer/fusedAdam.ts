import type { KernelFunc, Tensor, TensorInfo } from '@tensorflow/tfjs';
import type { Tf } from './backend';
import { FUSED_ADAM_WASM, FUSED_ADAM_WASM_SHARED } from './fusedAdamWasm';
import { IN_PLACE_BACKENDS, outputOf, valuesOf, type InPlaceBackend } from './squareSums';

/** Adam's (and AdamW's) whole update over flat tensors, and the update's sums of squares, in one pass. */
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
   * The new first and second moments and weights from the gradient `g`, the moments and the weights
   * `w` (all flat, of one size), and [2]: Σ (next − w)² and Σ next² in float64 (as squareSums' update).
   */
  update(g: Tensor, m: Tensor, v: Tensor, w: Tensor, constants: AdamConstants): { m: Tensor; v: Tensor; next: Tensor; squares: Tensor };
}

/**
 * Adam as one kernel on the backends whose tensors this process can read in place (wasm and cpu).
 * The tensor-op Adam (optimizers.ts) runs ~12 kernels, each a pass over all the weights (on wasm a
 * fixed cost of tens of µs each, on cpu a fresh typed array each); this one reads g, m, v and w once
 * and writes m, v and the new weights once, and measures the update in the same pass. It does the
 * tensor ops' float32 operations in their order, each rounded to float32, so the weights are bit for
 * bit the same: on wasm in a small SIMD module on the backend's own memory (scripts/wasm/fusedAdam.wat;
 * a JavaScript loop there is slower than the backend's kernels, its float64 divisions being scalar),
 * on cpu in JavaScript (Math.fround: a float64 +, −, ×, ÷ or √ of float32 values rounded to float32
 * is the correctly rounded float32 result). Undefined on other backends, and on wasm when the module
 * cannot be instantiated on the backend's memory (then the optimizer keeps its tensor ops).
 */
export function fusedAdam(tf: Tf): FusedAdam | undefined {
  const backend = tf.getBackend();
  if (!(IN_PLACE_BACKENDS as readonly string[]).includes(backend)) return undefined;
  if (backend === 'wasm' && !simdAdam((tf.backend() as unknown as WasmBackend).wasm)) return undefined;
  if (!tf.getKernel(FUSED_ADAM, backend)) tf.registerKernel({ kernelName: FUSED_ADAM, backendName: backend, kernelFunc: adamKernel as unknown as KernelFunc });
  return {
    update: (g, m, v, w, constants) => {
      const [mNext, vNext, next, squares] = tf.engine().runKernel(FUSED_ADAM, { g, m, v, w }, { ...constants }) as Tensor[];
      return { m: mNext, v: vNext, next, squares };
    },
  };
}

function adamKernel({ inputs, backend, attrs }: { inputs: { g: TensorInfo; m: TensorInfo; v: TensorInfo; w: TensorInfo }; backend: InPlaceBackend; attrs: AdamConstants }): TensorInfo[] {
  const n = inputs.g.shape.reduce((a, b) => a * b, 1);
  for (const info of [inputs.m, inputs.v, inputs.w]) if (info.shape.reduce((a, b) => a * b, 1) !== n) throw new Error(`tensors of ${n} and ${info.shape.join('×')} elements`);
  // The outputs first: on wasm an allocation may grow the heap, which would leave earlier views of it empty.
  const outputs = [outputOf(backend, n), outputOf(backend, n), outputOf(backend, n)];
  const simd = backend.typedArrayFromHeap && simdAdam((backend as unknown as WasmBackend).wasm);
  if (simd) {
    const at = (info: TensorInfo) => valuesOf(backend, info).byteOffset;
    const { beta1, oneMinusBeta1, beta2, oneMinusBeta2, correction1, correction2, epsilon, negativeLr, decay } = attrs;
    const [mOut, vOut, wOut] = outputs.map((o) => at(o.info));
    const sums = simd(at(inputs.g), at(inputs.m), at(inputs.v), at(inputs.w), mOut, vOut, wOut, n, beta1, oneMinusBeta1, beta2, oneMinusBeta2, correction1, correction2, epsilon, negativeLr, decay);
    return [...outputs.map((o) => o.info), outputOf(backend, 2, Float32Array.from(sums)).info];
  }
  const [mOut, vOut, wOut] = outputs.map((o) => o.values());
  const sums = adamLoop(valuesOf(backend, inputs.g), valuesOf(backend, inputs.m), valuesOf(backend, inputs.v), valuesOf(backend, inputs.w), mOut, vOut, wOut, attrs);
  return [...outputs.map((o) => o.info), outputOf(backend, 2, sums).info];
}

const fround = Math.fround;

/** What this file uses of the WebAssembly API (tsconfig's libs do not declare it). */
interface WasmMemory {
  buffer: ArrayBuffer | SharedArrayBuffer;
}
const { WebAssembly: Wasm } = globalThis as unknown as {
  WebAssembly: {
    Memory: abstract new (...args: never[]) => WasmMemory;
    Module: new (bytes: Uint8Array) => object;
    Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  };
};

/** The Emscripten module of tfjs's wasm backend: the threaded build exports its memory as wasmMemory, the other in asm. */
interface WasmBackend {
  wasm?: { wasmMemory?: WasmMemory; asm?: { memory?: WasmMemory } };
}

/** fusedAdam.wat's adam(g, m, v, w, mOut, vOut, wOut, n, β₁, 1 − β₁, β₂, 1 − β₂, 1 − β₁ᵗ, 1 − β₂ᵗ, ε, −lr, decay): [Σ Δw², Σ w'²]. */
type SimdAdam = (...args: number[]) => [number, number];

const simdModules = new WeakMap<object, SimdAdam | null>();

/** The SIMD module instantiated on the backend's memory, once per backend module; undefined if it cannot be. */
export function simdAdam(wasm: WasmBackend['wasm']): SimdAdam | undefined {
  if (!wasm) return undefined;
  let adam = simdModules.get(wasm);
  if (adam === undefined) {
    adam = null;
    try {
      const memory = wasm.wasmMemory ?? wasm.asm?.memory;
      if (memory instanceof Wasm.Memory) {
        const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
        const module = new Wasm.Module(Buffer.from(shared ? FUSED_ADAM_WASM_SHARED : FUSED_ADAM_WASM, 'base64'));
        adam = new Wasm.Instance(module, { env: { memory } }).exports.adam as SimdAdam;
      }
    } catch {
      adam = null; // no SIMD, or a memory the module cannot import: the tensor ops instead
    }
    simdModules.set(wasm, adam);
  }
  return adam ?? undefined;
}

/** The loop of adamKernel on cpu (and the reference of the wasm module's tests), on its own so that it is compiled for typed arrays only. */
export function adamLoop(g: Float32Array, m: Float32Array, v: Float32Array, w: Float32Array, mOut: Float32Array, vOut: Float32Array, wOut: Float32Array, c: AdamConstants): Float32Array {
  const { beta1, oneMinusBeta1, beta2, oneMinusBeta2, correction1, correction2, epsilon, negativeLr, decay } = c;
  let update = 0;
  let weights = 0;
  for (let k = 0; k < g.length; k++) {
    const gk = g[k];
    // m = β₁·m + (1 − β₁)·g;  v = β₂·v + (1 − β₂)·g²
    const mk = fround(fround(m[k] * beta1) + fround(gk * oneMinusBeta1));
    const vk = fround(fround(v[k] * beta2) + fround(fround(gk * gk) * oneMinusBeta2));
    mOut[k] = mk;
    vOut[k] = vk;
    // next = (m̂ / (√v̂ + ε))·(−lr) + decayed w
    const step = fround(fround(fround(mk / correction1) / fround(fround(Math.sqrt(fround(vk / correction2))) + epsilon)) * negativeLr);
    const wk = w[k];
    const next = fround(step + fround(wk * decay));
    wOut[k] = next;
    const delta = next - wk;
    update += delta * delta;
    weights += next * next;
  }
  return Float32Array.of(update, weights);
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
