// Gradscope's flat optimizers against TF.js's own: the same losses (to 1e-6) over 50 steps, on the
// cpu and (single-threaded) wasm backends, with a learning rate that changes every step.
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import * as wasm from '@tensorflow/tfjs-backend-wasm';
import type { LayersModel, Optimizer, Scalar, Tensor, Variable } from '@tensorflow/tfjs';
import type { OptimizerSpec } from '../../src/core/job/spec';
import { seededUniform } from '../../src/core/random';
import { GradientStep } from '../../src/trainer/gradientStep';
import { adamConstants, adamLoop, fusedAdam } from '../../src/trainer/fusedAdam';
import { simdKernels } from '../../src/trainer/simdKernels';
import { createOptimizer } from '../../src/trainer/optimizers';

type FirstOrder = Exclude<OptimizerSpec, { type: 'lbfgs' }>;

const specs: FirstOrder[] = [
  { type: 'sgd', lr: 0.05 },
  { type: 'momentum', lr: 0.05, momentum: 0.9, nesterov: false },
  { type: 'momentum', lr: 0.05, momentum: 0.9, nesterov: true },
  { type: 'adam', lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
  { type: 'adamw', lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: 0.05 },
  { type: 'rmsprop', lr: 0.01, decay: 0.9, momentum: 0.5, epsilon: 1e-7 },
  { type: 'adagrad', lr: 0.1, initialAccumulatorValue: 0.1 },
];
const STEPS = 50;

function tfjsOptimizer(spec: FirstOrder): Optimizer {
  switch (spec.type) {
    case 'sgd':
      return tf.train.sgd(spec.lr);
    case 'momentum':
      return tf.train.momentum(spec.lr, spec.momentum, spec.nesterov);
    case 'adam':
    case 'adamw':
      return tf.train.adam(spec.lr, spec.beta1, spec.beta2, spec.epsilon);
    case 'rmsprop':
      return tf.train.rmsprop(spec.lr, spec.decay, spec.momentum, spec.epsilon);
    case 'adagrad':
      return tf.train.adagrad(spec.lr, spec.initialAccumulatorValue);
  }
}

function makeModel(): LayersModel {
  Math.random = seededUniform(3);
  const model = tf.sequential();
  model.add(tf.layers.dense({ inputShape: [12], units: 16, activation: 'relu' }));
  model.add(tf.layers.dense({ units: 8, activation: 'tanh' }));
  model.add(tf.layers.dense({ units: 4, activation: 'softmax' }));
  return model;
}

const lossOf = (y: Tensor, out: Tensor) => tf.mean(tf.metrics.categoricalCrossentropy(y, out)) as Scalar;

function batch(step: number): { x: Tensor; y: Tensor } {
  const random = seededUniform(100 + step);
  const x = tf.tensor2d(
    Float32Array.from({ length: 32 * 12 }, () => random() * 4 - 2),
    [32, 12],
  );
  const labels = Array.from({ length: 32 }, (_, i) => (x.dataSync()[i * 12] > 0 ? 1 : 0) + (x.dataSync()[i * 12 + 1] > 0 ? 2 : 0));
  return { x, y: tf.tidy(() => tf.oneHot(labels, 4).toFloat()) };
}

/** The learning rate of step s: it changes every step, as a schedule makes it. */
const lrAt = (spec: FirstOrder, s: number) => spec.lr * (1 + 0.5 * Math.cos(s / 5));

/** TF.js's path: variableGrads, then the optimizer's applyGradients (AdamW: decay first, as Gradscope did before). */
function referenceLosses(spec: FirstOrder): number[] {
  const model = makeModel();
  const variables = model.trainableWeights.map((w) => w.read() as Variable);
  const optimizer = tfjsOptimizer(spec);
  const settable = optimizer as unknown as { learningRate: number; setLearningRate?: (lr: number) => void };
  const losses: number[] = [];
  for (let s = 0; s < STEPS; s++) {
    const lr = lrAt(spec, s);
    if (settable.setLearningRate) settable.setLearningRate(lr);
    else settable.learningRate = lr;
    const { x, y } = batch(s);
    const { value, grads } = tf.variableGrads(() => lossOf(y, model.apply(x) as Tensor), variables);
    losses.push(value.dataSync()[0]);
    if (spec.type === 'adamw') tf.tidy(() => variables.forEach((v) => v.assign(tf.mul(v, 1 - lr * spec.weightDecay))));
    optimizer.applyGradients(grads);
    tf.dispose([x, y, value, ...Object.values(grads)]);
  }
  optimizer.dispose();
  model.dispose();
  return losses;
}

function gradscopeLosses(spec: FirstOrder, segmentMatrixLimit?: number, inPlaceSums?: boolean): number[] {
  const model = makeModel();
  const variables = model.trainableWeights.map((w) => w.read() as Variable);
  const step = new GradientStep(tf, model, variables, lossOf, segmentMatrixLimit, inPlaceSums);
  const optimizer = createOptimizer(tf, spec, step.size);
  const losses: number[] = [];
  for (let s = 0; s < STEPS; s++) {
    const { x, y } = batch(s);
    losses.push(step.computeGradients(x, y, undefined).loss);
    optimizer.setLearningRate(lrAt(spec, s));
    step.apply(1, optimizer);
    tf.dispose([x, y]);
  }
  step.dispose();
  optimizer.dispose();
  model.dispose();
  return losses;
}

for (const backend of ['cpu', 'wasm']) {
  test(`flat optimizers give TF.js's losses to 1e-6 over ${STEPS} steps (${backend})`, async () => {
    wasm.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`);
    assert.ok(await tf.setBackend(backend));
    for (const spec of specs) {
      const expected = referenceLosses(spec); // TF.js's momentum optimizer keeps a scalar after dispose()
      const before = tf.memory().numTensors;
      const actual = gradscopeLosses(spec);
      assert.ok(expected[STEPS - 1] < expected[0], `${spec.type} trains (${expected[0]} → ${expected[STEPS - 1]})`);
      expected.forEach((loss, s) => assert.ok(Math.abs(actual[s] - loss) <= 1e-6, `${spec.type}${'nesterov' in spec && spec.nesterov ? ' (nesterov)' : ''} step ${s}: ${actual[s]} vs TF.js ${loss}`));
      assert.equal(tf.memory().numTensors, before, `${spec.type} leaks no tensors`);
    }
  });
}

test('the per-variable gradient norms are the same from the in-place sums, the indicator matrix and the split', async () => {
  for (const backend of ['cpu', 'wasm']) {
    assert.ok(await tf.setBackend(backend));
    const norms = (limit: number | undefined, inPlace: boolean) => {
      const model = makeModel();
      const variables = model.trainableWeights.map((w) => w.read() as Variable);
      const step = new GradientStep(tf, model, variables, lossOf, limit, inPlace);
      const { x, y } = batch(0);
      const stats = step.computeGradients(x, y, undefined);
      const expected = tf.tidy(() => {
        const { grads } = tf.variableGrads(() => lossOf(y, model.apply(x) as Tensor), variables);
        return variables.map((v) => tf.sum(tf.square(grads[v.name])).dataSync()[0]);
      });
      const weightSquare = tf.tidy(() => variables.reduce((sum, v) => sum + tf.sum(tf.square(v)).dataSync()[0], 0));
      step.skip();
      tf.dispose([x, y]);
      step.dispose();
      model.dispose();
      return { actual: Array.from(stats.gradSquares), expected, weightSquare: stats.weightSquare, expectedWeightSquare: weightSquare };
    };
    for (const [limit, inPlace] of [
      [undefined, true],
      [undefined, false],
      [0, false],
    ] as const) {
      const { actual, expected, weightSquare, expectedWeightSquare } = norms(limit, inPlace);
      const label = `${backend}, ${inPlace ? 'in-place sums' : `limit ${limit}`}`;
      expected.forEach((value, i) => assert.ok(Math.abs(actual[i] - value) <= 1e-6 * Math.max(1, value), `${label}, variable ${i}: ${actual[i]} vs ${value}`));
      assert.ok(Math.abs(weightSquare - expectedWeightSquare) <= 1e-6 * Math.max(1, expectedWeightSquare), `${label}, Σw²: ${weightSquare} vs ${expectedWeightSquare}`);
    }
    // Training through each path gives the same losses (the sums feed only the diagnostics).
    const reference = gradscopeLosses(specs[3]);
    assert.deepEqual(gradscopeLosses(specs[3], undefined, false), reference);
    assert.deepEqual(gradscopeLosses(specs[3], 0, false), reference);
  }
});

test("the update's size and Σw² read back a step late match the weights, after updates, a skip and a rollback", async () => {
  for (const backend of ['cpu', 'wasm']) {
    assert.ok(await tf.setBackend(backend));
    for (const inPlace of [true, false]) {
      const model = makeModel();
      const variables = model.trainableWeights.map((w) => w.read() as Variable);
      const step = new GradientStep(tf, model, variables, lossOf, undefined, inPlace);
      const optimizer = createOptimizer(tf, specs[3], step.size);
      const weights = () => tf.tidy(() => tf.concat(variables.map((v) => tf.reshape(v, [-1]))));
      const square = (t: Tensor) => tf.tidy(() => tf.sum(tf.square(t)).dataSync()[0]);
      const label = `${backend}, ${inPlace ? 'in-place sums' : 'tensor ops'}`;
      let before = weights();
      let expectedUpdate = NaN;
      for (let s = 0; s < 6; s++) {
        const { x, y } = batch(s);
        const stats = step.computeGradients(x, y, undefined);
        tf.dispose([x, y]);
        // The references are float32 sums; the in-place ones accumulate in float64 (hence 1e-5).
        const close = (actual: number, expected: number, what: string) =>
          assert.ok(Number.isNaN(expected) ? Number.isNaN(actual) : Math.abs(actual - expected) <= 1e-5 * Math.max(1e-6, expected), `${label}, step ${s}, ${what}: ${actual} vs ${expected}`);
        close(stats.weightSquare, square(before), 'Σw²');
        close(stats.previousUpdateSquare, expectedUpdate, 'Σ Δw²');
        if (s === 2) {
          step.skip();
          expectedUpdate = 0;
        } else {
          if (s === 4) {
            // A rollback writes the variables, then resyncs, before the update.
            tf.tidy(() => variables.forEach((v) => v.assign(tf.mul(v, 0.5))));
            step.resync();
            before.dispose();
            before = weights();
          }
          optimizer.setLearningRate(0.01);
          step.apply(1, optimizer);
          const after = weights();
          expectedUpdate = tf.tidy(() => tf.sum(tf.square(tf.sub(after, before))).dataSync()[0]);
          before.dispose();
          before = after;
        }
      }
      const last = step.finalUpdateSquare();
      assert.ok(Math.abs(last - expectedUpdate) <= 1e-5 * Math.max(1e-6, expectedUpdate), `${label}, final Σ Δw²: ${last} vs ${expectedUpdate}`);
      before.dispose();
      step.dispose();
      optimizer.dispose();
      model.dispose();
    }
  }
});

test('the fused Adam kernel writes the tensor-op Adam’s weights to the bit and measures its update (cpu, wasm)', async () => {
  // Elsewhere there is no fused kernel: the optimizer keeps its tensor ops.
  assert.equal(fusedAdam({ getBackend: () => 'webgl' } as unknown as typeof tf), undefined);
  for (const backend of ['cpu', 'wasm']) {
    assert.ok(await tf.setBackend(backend));
    for (const [spec, clip] of [
      [specs[3], undefined],
      [specs[4], undefined],
      [specs[3], { type: 'value', clipValue: 0.01 }], // a flat clipped gradient for per-variable weights
    ] as const) {
      const run = (fused: boolean) => {
        const model = makeModel();
        const variables = model.trainableWeights.map((w) => w.read() as Variable);
        const step = new GradientStep(tf, model, variables, lossOf);
        const optimizer = createOptimizer(tf, spec, step.size, fused);
        assert.equal(optimizer.fusedUpdate !== undefined, fused, `${backend} ${spec.type}: fused kernel ${fused ? 'present' : 'absent'}`);
        const measured: number[] = [];
        for (let s = 0; s < 12; s++) {
          const { x, y } = batch(s);
          const stats = step.computeGradients(x, y, clip);
          measured.push(stats.previousUpdateSquare, stats.weightSquare);
          tf.dispose([x, y]);
          optimizer.setLearningRate(lrAt(spec, s));
          step.apply(s % 3 === 1 ? 0.7 : 1, optimizer); // a clipped step scales the gradient first
        }
        measured.push(step.finalUpdateSquare());
        const weights = variables.map((v) => Array.from(v.dataSync()));
        step.dispose();
        optimizer.dispose();
        model.dispose();
        return { weights, measured };
      };
      const before = tf.memory().numTensors;
      const fused = run(true);
      assert.equal(tf.memory().numTensors, before, `${backend} ${spec.type}: the fused path leaks no tensors`);
      const reference = run(false);
      assert.deepEqual(fused.weights, reference.weights, `${backend} ${spec.type}: the same weights`);
      reference.measured.forEach((value, i) =>
        assert.ok(Number.isNaN(value) ? Number.isNaN(fused.measured[i]) : Math.abs(fused.measured[i] - value) <= 1e-6 * value, `${backend} ${spec.type}, sum ${i}: ${fused.measured[i]} vs ${value}`),
      );
    }
  }
});

test('the SIMD module gives the JavaScript loops’ values on an unshared and a shared memory, and is absent without one', () => {
  assert.equal(simdKernels(undefined), undefined);
  assert.equal(simdKernels({}), undefined);
  const n = 1003; // 250 lanes of 4 and a tail of 3
  const random = seededUniform(7);
  const inputs = [0, 1, 2, 3].map((i) => Float32Array.from({ length: n }, () => (i === 2 ? random() * 1e-3 : random() * 2 - 1)));
  const c = adamConstants({ beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }, 0.9 ** 3, 0.999 ** 3, 0.01, 1 - 0.01 * 0.05);
  for (const scale of [1, Math.fround(0.7)]) {
    const expected = [0, 1, 2].map(() => new Float32Array(n));
    const expectedSums = new Float64Array(2);
    adamLoop(inputs[0], 0, inputs[3], expected[2], 0, inputs[1], inputs[2], expected[0], expected[1], 0, n, scale, c, expectedSums);
    const expectedSquares = inputs[0].reduce((sum, x) => sum + x * x, 0);
    for (const shared of [false, true]) {
      const label = `${shared ? 'shared' : 'unshared'} memory, scale ${scale}`;
      const { Memory } = (globalThis as unknown as { WebAssembly: { Memory: new (descriptor: object) => { buffer: ArrayBuffer } } }).WebAssembly;
      const memory = new Memory(shared ? { initial: 1, maximum: 4, shared: true } : { initial: 1 });
      const kernels = simdKernels(shared ? { wasmMemory: memory } : { asm: { memory } });
      assert.ok(kernels, `the module instantiates on ${label}`);
      const heap = new Float32Array(memory.buffer);
      const at = (i: number) => (i * n + 1) * 4; // offsets that are not 16-byte aligned
      inputs.forEach((values, i) => heap.set(values, at(i) / 4));
      const sums = kernels.adam(
        at(0),
        at(1),
        at(2),
        at(3),
        at(4),
        at(5),
        at(6),
        n,
        scale,
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
      expected.forEach((values, i) => assert.deepEqual(heap.slice(at(4 + i) / 4, at(4 + i) / 4 + n), values, `${label}: output ${i}`));
      sums.forEach((sum, i) => assert.ok(Math.abs(sum - expectedSums[i]) <= 1e-12 * expectedSums[i], `${label}: sum ${i}: ${sum} vs ${expectedSums[i]}`));
      const squares = kernels.squares(at(0), n);
      assert.ok(Math.abs(squares - expectedSquares) <= 1e-12 * expectedSquares, `${label}: Σ x² ${squares} vs ${expectedSquares}`);
    }
  }
});
