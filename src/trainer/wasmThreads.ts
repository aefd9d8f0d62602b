import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Script } from 'node:vm';
import type * as tfjs from '@tensorflow/tfjs';
import type * as wasmBackend from '@tensorflow/tfjs-backend-wasm';
import { firstLine } from './backend';
import { loadAtRuntime } from './loadAtRuntime';

const GLUE = 'tfjs-backend-wasm-threaded-simd.js';
const WORKER = 'tfjs-backend-wasm-threaded-simd.worker.js';
const BINARY = 'tfjs-backend-wasm-threaded-simd.wasm';
/** Written by scripts/build.mjs when it made the core count and the worker pool settable. */
const PATCH_MARKER = '// gradscope-threads-patch';
/** How long the threaded module may take to start before we give up on it. */
const INIT_TIMEOUT_MS = 15_000;

export interface WasmThreading {
  /** Threads the wasm kernels run on (1 when single-threaded). */
  threads: number;
  /** Why fewer threads than asked for are used, when that is so. */
  note?: string;
}

/**
 * The thread count to ask for: GRADSCOPE_WASM_THREADS when set (a benchmark compares 1 and N),
 * else every core Node may use. Default: os.availableParallelism().
 */
export function wantedThreads(): number {
  const forced = Number(process.env.GRADSCOPE_WASM_THREADS);
  return Number.isInteger(forced) && forced >= 1 ? forced : availableParallelism();
}

/**
 * Makes tfjs's 'wasm' backend the threaded SIMD build, with pthread workers that Node's
 * worker_threads can load. tfjs itself turns threads off in Node (its workers are created from
 * `blob:` URLs, tensorflow/tfjs#3830); here the workers load the worker script from a file and
 * evaluate the Emscripten glue from a file (the approach of the unmerged tensorflow/tfjs#8059,
 * done from outside the package). Call before the first tf.setBackend('wasm').
 *
 * Returns the threads in use. On any failure the single-threaded backend is restored, and the
 * reason is returned as the note.
 */
export async function useThreadedWasm(tf: typeof tfjs, wasm: typeof wasmBackend, assetsDir: string | undefined, threads: number): Promise<WasmThreading> {
  if (threads <= 1) return { threads: 1 };
  const problem = assetsDir === undefined ? 'the threaded wasm scripts are not built (run npm run build)' : preflight(assetsDir);
  if (problem) return { threads: 1, note: `wasm runs on one thread: ${problem}` };
  const dir = assetsDir!;
  const singleThreaded = tf.findBackendFactory('wasm');
  tf.removeBackend('wasm');
  wasm.setThreadsCount(threads);
  tf.registerBackend(
    'wasm',
    async () => {
      const module = await startModule(dir, threads);
      const backend = new wasm.BackendWasm(module); // starts the thread pool's pthreads
      // Emscripten keeps a worker running a pthread ref'd, and the pool's threads run for good: the
      // process would never exit on its own. They only work while the main thread waits on them.
      const pthreads = (module as unknown as { PThread?: { runningWorkers: { unref(): void }[]; unusedWorkers: { unref(): void }[] } }).PThread;
      [...(pthreads?.runningWorkers ?? []), ...(pthreads?.unusedWorkers ?? [])].forEach((worker) => worker.unref());
      return backend;
    },
    2,
  );
  try {
    if (!(await tf.setBackend('wasm'))) throw new Error('the threaded backend did not initialise');
    const running = wasm.getThreadsCount();
    return { threads: running, ...(running < threads ? { note: `wasm runs on ${running} of the ${threads} threads asked for` } : {}) };
  } catch (error) {
    tf.removeBackend('wasm');
    wasm.setThreadsCount(1);
    if (singleThreaded) tf.registerBackend('wasm', singleThreaded, 2);
    return { threads: 1, note: `wasm runs on one thread: the threaded build failed (${firstLine(error)})` };
  }
}

/** What would make the threaded module fail in a way that cannot be caught (a worker that throws kills the process). */
function preflight(dir: string): string | undefined {
  if (typeof SharedArrayBuffer !== 'function') return 'SharedArrayBuffer is not available';
  for (const file of [GLUE, WORKER, BINARY]) if (!existsSync(join(dir, file))) return `${file} is missing from ${dir}`;
  try {
    // Node has WebAssembly, but its type lives in the DOM library, which Node code does not load.
    const wasm = (globalThis as unknown as { WebAssembly: { Memory: new (options: { initial: number; maximum: number; shared: boolean }) => unknown } }).WebAssembly;
    new wasm.Memory({ initial: 1, maximum: 1, shared: true });
  } catch {
    return 'this Node has no shared WebAssembly memory';
  }
  const glue = readFileSync(join(dir, GLUE), 'utf8');
  if (!glue.startsWith(PATCH_MARKER)) return `${GLUE} could not be patched at build time (a tfjs-backend-wasm version Gradscope does not know)`;
  try {
    new Script(readFileSync(join(dir, WORKER), 'utf8'), { filename: WORKER });
  } catch (error) {
    return `${WORKER} does not parse (${firstLine(error)})`;
  }
  return undefined;
}

/** The backend module tfjs's own init() would make, from the files in `dir`, with `threads` threads. */
async function startModule(dir: string, threads: number): Promise<wasmBackend.BackendWasm['wasm']> {
  type Factory = (config: Record<string, unknown>) => Promise<wasmBackend.BackendWasm['wasm'] & { cwrap: (...args: unknown[]) => unknown }>;
  const factory = loadAtRuntime<Factory>(join(dir, GLUE));
  const config = {
    locateFile: (path: string) => join(dir, path),
    // The workers importScripts() this: a path, not the Blob tfjs would give them.
    mainScriptUrlOrBlob: join(dir, GLUE),
    // The C++ side uses min(threads, logical cores / 2): report twice the threads we want.
    logicalCores: 2 * threads,
    // The caller runs one share of the work itself, so threads - 1 workers suffice.
    pthreadPoolSize: threads - 1,
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer from the pthread workers within ${INIT_TIMEOUT_MS / 1000} s`)), INIT_TIMEOUT_MS)));
  try {
    const module = await Promise.race([factory(config), timeout]);
    module.tfjs = {
      init: module.cwrap('init', null, []),
      initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
      getThreadsCount: module.cwrap('get_threads_count', 'number', []),
      registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
      disposeData: module.cwrap('dispose_data', null, ['number']),
      dispose: module.cwrap('dispose', null, []),
    } as wasmBackend.BackendWasm['wasm']['tfjs'];
    return module;
  } finally {
    clearTimeout(timer);
  }
}
