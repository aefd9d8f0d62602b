import { SIMD_KERNELS_WASM, SIMD_KERNELS_WASM_SHARED } from './simdKernelsWasm';

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

/** The Emscripten module of tfjs's wasm backend (its `wasm`): the threaded build exports its memory as wasmMemory, the other in asm. */
export interface EmscriptenModule {
  wasmMemory?: WasmMemory;
  asm?: { memory?: WasmMemory };
}

/** scripts/wasm/kernels.wat's functions; pointers are byte offsets into the backend's heap. */
export interface SimdKernels {
  /**
   * adam(g, m, v, w, mOut, vOut, wOut, n, scale, β₁, 1 − β₁, β₂, 1 − β₂, 1 − β₁ᵗ, 1 − β₂ᵗ, ε, −lr, decay):
   * writes n elements of m', v', w'; returns [Σ (w' − w)², Σ w'²] in float64.
   */
  adam(...args: number[]): [number, number];
  /** squares(x, n): Σ x² over n float32 elements, in float64. */
  squares(x: number, n: number): number;
}

const instances = new WeakMap<object, SimdKernels | null>();

/**
 * The SIMD kernels instantiated on the tfjs wasm backend's own memory (once per backend module), so
 * that they read and write its tensors in place: the module imports the memory, as shared for the
 * threaded build's. Undefined without such a memory or WebAssembly SIMD; the callers then keep
 * their other paths.
 */
export function simdKernels(wasm: EmscriptenModule | undefined): SimdKernels | undefined {
  if (!wasm) return undefined;
  let kernels = instances.get(wasm);
  if (kernels === undefined) {
    kernels = null;
    try {
      const memory = wasm.wasmMemory ?? wasm.asm?.memory;
      if (memory instanceof Wasm.Memory) {
        const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
        const module = new Wasm.Module(Buffer.from(shared ? SIMD_KERNELS_WASM_SHARED : SIMD_KERNELS_WASM, 'base64'));
        const { exports } = new Wasm.Instance(module, { env: { memory } });
        kernels = { adam: exports.adam as SimdKernels['adam'], squares: exports.squares as SimdKernels['squares'] };
      }
    } catch {
      kernels = null; // no SIMD, or a memory the module cannot import
    }
    instances.set(wasm, kernels);
  }
  return kernels ?? undefined;
}

/** The SIMD kernels for a backend's kernel function: the wasm backend's, when they can be instantiated. */
export function simdKernelsOf(backend: object): SimdKernels | undefined {
  const wasm = (backend as { wasm?: EmscriptenModule }).wasm;
  return wasm && 'typedArrayFromHeap' in backend ? simdKernels(wasm) : undefined;
}
