import { dirname, join } from 'node:path';
import type { BackendName } from '../core/protocol';
import { loadAtRuntime } from './loadAtRuntime';

export type Tf = typeof import('@tensorflow/tfjs');

export interface LoadedBackend {
  tf: Tf;
  backend: BackendName;
  /** Why the backend asked for was not used, when it was not. */
  note?: string;
}

/**
 * tfjs-node (from the user's workspace, then from this package) → wasm → cpu. tfjs-node brings its
 * own copy of tfjs, so when it loads, its namespace is the one everything must use.
 */
export async function loadBackend(requested: 'auto' | BackendName, searchPaths: string[]): Promise<LoadedBackend> {
  let note: string | undefined;
  if (requested === 'auto' || requested === 'tensorflow') {
    try {
      const path = require.resolve('@tensorflow/tfjs-node', { paths: [...searchPaths, __dirname] });
      const tf = loadAtRuntime<Tf>(path);
      await tf.ready();
      return { tf, backend: 'tensorflow' };
    } catch (error) {
      if (requested === 'tensorflow') note = `tfjs-node could not be loaded (${firstLine(error)}); using wasm instead`;
    }
  }
  const tf = loadAtRuntime<Tf>('@tensorflow/tfjs');
  if (requested !== 'cpu') {
    try {
      const wasm = loadAtRuntime<typeof import('@tensorflow/tfjs-backend-wasm')>('@tensorflow/tfjs-backend-wasm');
      wasm.setWasmPaths(`${join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '/')}`);
      if (await tf.setBackend('wasm')) return { tf, backend: 'wasm', ...(note ? { note } : {}) };
      note = 'the wasm backend did not initialise; using cpu';
    } catch (error) {
      note = `the wasm backend could not be loaded (${firstLine(error)}); using cpu`;
    }
  }
  await tf.setBackend('cpu');
  return { tf, backend: 'cpu', ...(note ? { note } : {}) };
}

/** Kernels a training step needs that a backend lacks, e.g. wasm has no Conv2DBackpropFilter. */
export function missingKernel(tf: Tf, backend: BackendName, kernels: string[]): string | undefined {
  return kernels.find((kernel) => !tf.getKernel(kernel, backend));
}

export function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}
