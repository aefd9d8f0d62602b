// The wasm kernels Gradscope replaces (transposed matMuls through XNNPACK, Slice and SplitV straight
// from the heap) compute what the stock ones compute, leave nothing allocated, and can be put back.
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import * as wasm from '@tensorflow/tfjs-backend-wasm';
import type { Tensor } from '@tensorflow/tfjs';
import { useFasterWasmKernels } from '../../src/trainer/wasmKernels';

const filled = (shape: number[], seed: number) =>
  tf.tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.37 + seed)),
    shape,
  );

/** Runs `f` with the stock kernels and with Gradscope's, returning both results' values. */
function bothWays(f: () => Tensor): { stock: Float32Array; fast: Float32Array } {
  const stock = tf.tidy(f).dataSync() as Float32Array;
  const restore = useFasterWasmKernels(tf);
  try {
    return { stock, fast: tf.tidy(f).dataSync() as Float32Array };
  } finally {
    restore();
  }
}

function assertClose(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: size`);
  expected.forEach((value, i) => assert.ok(Math.abs(actual[i] - value) <= 1e-5 * Math.max(1, Math.abs(value)), `${what}, element ${i}: ${actual[i]} vs ${value}`));
}

test('transposed matMuls (plain, fused with bias and relu, rank 3 with a batch of 1) match the stock kernels', async () => {
  wasm.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`);
  assert.ok(await tf.setBackend('wasm'));
  const [m, k, n] = [37, 53, 29];
  for (const [transposeA, transposeB] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ]) {
    const a = filled(transposeA ? [k, m] : [m, k], 1);
    const b = filled(transposeB ? [n, k] : [k, n], 2);
    const bias = filled([n], 3);
    const label = `transposeA=${transposeA} transposeB=${transposeB}`;
    const plain = bothWays(() => tf.matMul(a, b, transposeA, transposeB));
    assertClose(plain.fast, plain.stock, `matMul ${label}`);
    // Against the unfused expression: the stock kernel's scalar loop adds the bias (and clamps) once
    // per block of 48 along the shared dimension, so its transposed fused products are wrong for k > 48.
    const fused = bothWays(() => tf.fused.matMul({ a, b, transposeA, transposeB, bias, activation: 'relu' }));
    const unfused = bothWays(() => tf.relu(tf.add(tf.matMul(a, b, transposeA, transposeB), bias)));
    assertClose(fused.fast, unfused.stock, `fused matMul ${label}`);
    const rank3 = bothWays(() => tf.matMul(tf.expandDims(a, 0), tf.expandDims(b, 0), transposeA, transposeB));
    assertClose(rank3.fast, rank3.stock, `rank-3 matMul ${label}`);
    tf.dispose([a, b, bias]);
  }
  // A real batch keeps the stock kernel: the same bits.
  const a = filled([3, 8, 5], 4);
  const b = filled([3, 6, 5], 5);
  const batched = bothWays(() => tf.matMul(a, b, false, true));
  assert.deepEqual(batched.fast, batched.stock);
  tf.dispose([a, b]);
});

test('the gradients of a dense layer match, and Slice and SplitV give the same bits', async () => {
  assert.ok(await tf.setBackend('wasm'));
  const x = filled([16, 24], 6);
  const w = tf.variable(filled([24, 10], 7));
  const gradient = () => tf.grad((v: Tensor) => tf.sum(tf.square(tf.relu(tf.matMul(x, v)))))(w);
  const grads = bothWays(gradient);
  assertClose(grads.fast, grads.stock, 'dL/dW');
  const flat = filled([1000], 8);
  const matrix = filled([12, 9], 9);
  for (const [label, f] of [
    ['contiguous slice', () => tf.slice(flat, [17], [400])],
    ['row slice of a matrix', () => tf.slice(matrix, [3, 0], [5, 9])],
    ['strided slice of a matrix', () => tf.slice(matrix, [2, 1], [4, 5])],
    ['split into unequal parts', () => tf.concat(tf.split(flat, [600, 7, 393]).map((p, i) => tf.mul(p, i + 1)))],
    [
      'split of a matrix along columns',
      () =>
        tf.concat(
          tf.split(matrix, [4, 5], 1).map((p, i) => tf.mul(p, i + 1)),
          1,
        ),
    ],
  ] as const) {
    const { stock, fast } = bothWays(f);
    assert.deepEqual(fast, stock, label);
  }
  tf.dispose([x, w, flat, matrix]);
});

test('the replacements leave no tensor or wasm buffer behind, and restoring puts the stock kernels back', async () => {
  assert.ok(await tf.setBackend('wasm'));
  const stockMatMul = tf.getKernel('BatchMatMul', 'wasm');
  const a = filled([64, 32], 10);
  const b = filled([64, 16], 11);
  const restore = useFasterWasmKernels(tf);
  assert.notEqual(tf.getKernel('BatchMatMul', 'wasm'), stockMatMul);
  useFasterWasmKernels(tf); // a second call changes nothing
  const before = { tensors: tf.memory().numTensors, buffers: tf.backend().numDataIds() };
  for (let i = 0; i < 3; i++)
    tf.tidy(() => {
      tf.split(tf.reshape(tf.matMul(a, b, true, false), [-1]), [100, 412]);
    });
  assert.equal(tf.memory().numTensors, before.tensors);
  assert.equal(tf.backend().numDataIds(), before.buffers);
  restore();
  assert.equal(tf.getKernel('BatchMatMul', 'wasm'), stockMatMul);
  tf.dispose([a, b]);
});
