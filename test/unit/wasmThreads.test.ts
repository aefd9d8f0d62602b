// The threaded wasm backend: it runs with the threads asked for from the scripts build.mjs writes,
// computes what the single-threaded build computes, and falls back with a reason when it cannot start.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import * as wasm from '@tensorflow/tfjs-backend-wasm';
import { useThreadedWasm } from '../../src/trainer/wasmThreads';

const dist = join(__dirname, '../../dist');

test('without the built scripts the backend stays single-threaded and says why', async () => {
  const result = await useThreadedWasm(tf, wasm, join(__dirname, 'no-such-dir'), 2);
  assert.equal(result.threads, 1);
  assert.match(result.note ?? '', /^wasm runs on one thread: tfjs-backend-wasm-threaded-simd\.js is missing/);
  assert.ok(tf.findBackendFactory('wasm'), 'the single-threaded wasm backend is still registered');
});

test(
  'two threads from dist/ compute the same matMul as the cpu backend',
  { skip: existsSync(join(dist, 'tfjs-backend-wasm-threaded-simd.worker.js')) ? false : 'run npm run build first' },
  async () => {
    await tf.setBackend('cpu');
    const a = tf.tensor2d(
      Float32Array.from({ length: 64 * 96 }, (_, i) => Math.sin(i)),
      [64, 96],
    );
    const b = tf.tensor2d(
      Float32Array.from({ length: 96 * 32 }, (_, i) => Math.cos(i)),
      [96, 32],
    );
    const expected = tf.matMul(a, b).dataSync();
    wasm.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`);
    const result = await useThreadedWasm(tf, wasm, dist, 2);
    assert.deepEqual(result, { threads: 2 });
    assert.equal(tf.getBackend(), 'wasm');
    const actual = tf.matMul(a, b).dataSync();
    expected.forEach((value, i) => assert.ok(Math.abs(actual[i] - value) < 1e-4, `element ${i}: ${actual[i]} vs ${value}`));
  },
);
