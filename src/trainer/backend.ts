import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tfjs from '@tensorflow/tfjs';
import * as wasm from '@tensorflow/tfjs-backend-wasm';
import type { BackendName } from '../core/protocol';
import { loadAtRuntime, resolveAtRuntime } from './loadAtRuntime';
import { useFasterWasmKernels } from './wasmKernels';
import { useThreadedWasm, wantedThreads } from './wasmThreads';

export type Tf = typeof tfjs;

export interface LoadedBackend {
  tf: Tf;
  backend: BackendName;
  /** Why the backend asked for was not used, or runs on fewer threads than the cores, when so. */
  note?: string;
  /** Threads the kernels run on: wasm's threaded build uses every core; cpu is single-threaded; tfjs-node manages its own. */
  threads?: number;
}

/**
 * tfjs-node (from the user's workspace, then from this package) → wasm → cpu. tfjs-node brings its
 * own copy of tfjs, so when it loads, its namespace is the one everything must use.
 */
export async function loadBackend(requested: 'auto' | BackendName, searchPaths: string[]): Promise<LoadedBackend> {
  let note: string | undefined;
  if (requested === 'auto' || requested === 'tensorflow') {
    const found = findTfjsNode([...searchPaths, __dirname]);
    if (found.path) {
      try {
        const tf = loadAtRuntime<Tf>(found.path);
        await tf.ready();
        return { tf, backend: 'tensorflow' };
      } catch (error) {
        note = `tfjs-node could not be loaded (${firstLine(error)}); using wasm instead`;
      }
    } else if (requested === 'tensorflow' || found.problem) {
      note = `${found.problem ?? 'tfjs-node is not installed'}; using wasm instead`;
    }
  }
  const tf = tfjs;
  if (requested !== 'cpu') {
    try {
      wasm.setWasmPaths(`${wasmBinaryDir()}/`);
      const threading = await useThreadedWasm(tf, wasm, threadedWasmDir(), wantedThreads());
      const notes = [note, threading.note].filter(Boolean).join('; ');
      if (await tf.setBackend('wasm')) {
        useFasterWasmKernels(tf);
        return { tf, backend: 'wasm', threads: threading.threads, ...(notes ? { note: notes } : {}) };
      }
      note = 'the wasm backend did not initialise; using cpu';
    } catch (error) {
      note = `the wasm backend could not be loaded (${firstLine(error)}); using cpu`;
    }
  }
  await tf.setBackend('cpu');
  return { tf, backend: 'cpu', threads: 1, ...(note ? { note } : {}) };
}

/**
 * tfjs-node from the user's workspace or this package. Its installer downloads libtensorflow; where
 * that failed the package is there without its native binding, and loading it would only half-load
 * a second copy of tfjs: check first.
 */
function findTfjsNode(paths: string[]): { path?: string; problem?: string } {
  let manifest: string;
  try {
    manifest = resolveAtRuntime('@tensorflow/tfjs-node/package.json', paths);
  } catch {
    return {};
  }
  const lib = join(dirname(manifest), 'lib');
  const hasBinding = existsSync(lib) && readdirSync(lib).some((dir) => dir.startsWith('napi-v') && existsSync(join(lib, dir, 'tfjs_binding.node')));
  if (!hasBinding) return { problem: `tfjs-node at ${dirname(manifest)} has no native binding (its install could not download libtensorflow)` };
  return { path: dirname(manifest) };
}

/** The bundle ships the .wasm files beside itself (dist/); from sources they are in the package. */
function wasmBinaryDir(): string {
  if (existsSync(join(__dirname, 'tfjs-backend-wasm.wasm'))) return __dirname;
  return dirname(resolveAtRuntime('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
}

/** The threaded build's scripts are written by scripts/build.mjs into dist/ (beside the bundle, or the repo's dist/ from sources). */
function threadedWasmDir(): string | undefined {
  return [__dirname, join(__dirname, '../../dist')].find((dir) => existsSync(join(dir, 'tfjs-backend-wasm-threaded-simd.worker.js')));
}

/** Kernels a training step needs that a backend lacks, e.g. wasm has no Conv2DBackpropFilter. */
export function missingKernel(tf: Tf, backend: BackendName, kernels: string[]): string | undefined {
  return kernels.find((kernel) => !tf.getKernel(kernel, backend));
}

export function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}
