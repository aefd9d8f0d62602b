// Benchmark, not a test: the cost of Gradscope's diagnostics on the seed MLP (784-128-64-10, Adam,
// batch 128, MNIST), measured side by side in one run against a plain tfjs loop and model.fit on
// the same backend, in interleaved rounds; medians and their ratios are printed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Scalar, Tensor } from '@tensorflow/tfjs';
import { parseJobText } from '../src/core/job';
import { RunLogWriter } from '../src/core/runlog';
import { seededUniform } from '../src/core/random';
import type { BackendName } from '../src/core/protocol';
import { loadBackend, type Tf } from '../src/trainer/backend';
import { BatchMaker, loadDataset, type Dataset } from '../src/trainer/data';
import { lossFunction, trainFirstOrder } from '../src/trainer/loop';
import { buildModel, inputShapeFor } from '../src/trainer/model';
import { RunControl } from '../src/trainer/runControl';
import { pytorchStepMs } from './pytorch';

const root = join(__dirname, '..');
const job = parseJobText(JSON.stringify({
  name: 'bench', seed: 1, data: { type: 'mnist', samples: 10000, validationSplit: 0 },
  model: [{ type: 'flatten', inputShape: [28, 28] }, { type: 'dense', units: 128, activation: 'relu' }, { type: 'dense', units: 64, activation: 'relu' }, { type: 'dense', units: 10, activation: 'softmax' }],
  optimizer: { type: 'adam', lr: 0.001 }, schedule: { type: 'constant', lr: 0.001 }, epochs: 1, batchSize: 128,
}));

type Variant = 'plain' | 'fit' | 'gradscope';

async function timeVariant(tf: Tf, dataset: Dataset, variant: Variant, steps: number): Promise<number> {
  Math.random = seededUniform(1);
  const built = buildModel(tf, job.model, dataset, root);
  const lossOf = lossFunction(tf, dataset, built.outputsProbabilities);
  const batches = new BatchMaker(dataset, undefined, 1);
  const batchOf = (i: number) => {
    const indices = Uint32Array.from({ length: job.batchSize }, (_, k) => (i * job.batchSize + k) % dataset.train.count);
    return batches.make(dataset.train, indices, true);
  };
  // One untimed step so that kernels and optimizer state exist before the clock starts.
  const warm = tf.train.adam(0.001);
  const w = batchOf(0);
  tf.tidy(() => {
    warm.minimize(() => lossOf(tf.tensor(w.y, [job.batchSize, 10]), built.model.apply(tf.tensor(w.x, inputShapeFor(built.model, job.batchSize))) as Tensor));
  });
  warm.dispose();
  let start = performance.now();
  if (variant === 'plain') {
    const optimizer = tf.train.adam(0.001);
    for (let i = 0; i < steps; i++) {
      const { x: xs, y: ys } = batchOf(i);
      const loss = tf.tidy(() => {
        const x = tf.tensor(xs, inputShapeFor(built.model, job.batchSize));
        const y = tf.tensor(ys, [job.batchSize, 10]);
        return optimizer.minimize(() => lossOf(y, built.model.apply(x, { training: true }) as Tensor), true) as Scalar;
      });
      loss.dataSync(); // a loop that logs its loss reads it back every step, as Gradscope does
      loss.dispose();
    }
    optimizer.dispose();
  } else if (variant === 'fit') {
    const n = steps * job.batchSize;
    const all = Uint32Array.from({ length: n }, (_, k) => k % dataset.train.count);
    const { x: xs, y: ys } = batches.make(dataset.train, all, true);
    const x = tf.tensor(xs, inputShapeFor(built.model, n));
    const y = tf.tensor(ys, [n, 10]);
    built.model.compile({ optimizer: tf.train.adam(0.001), loss: 'categoricalCrossentropy' });
    start = performance.now(); // the upload of the whole set is not a training step
    await built.model.fit(x, y, { batchSize: job.batchSize, epochs: 1, shuffle: false, verbose: 0 });
    tf.dispose([x, y]);
  } else {
    // The run folder is made and removed outside the timed window: it is not a per-step cost.
    const dir = mkdtempSync(join(tmpdir(), 'gradscope-bench-'));
    const log = RunLogWriter.create(dir, 'bench', job);
    start = performance.now();
    await trainFirstOrder({ tf, job, dataset, built, totalSteps: steps, log, control: new RunControl(), out: { steps() {}, event() {}, epoch() {} } });
    const elapsed = performance.now() - start;
    log.close({});
    rmSync(dir, { recursive: true, force: true });
    built.model.dispose();
    return elapsed / steps;
  }
  const elapsed = performance.now() - start;
  built.model.dispose();
  return elapsed / steps;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(): Promise<void> {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  const results: string[] = [];
  let wasmGradscope: number | undefined;
  for (const requested of (process.env.BENCH_BACKENDS?.split(',') ?? ['tensorflow', 'wasm', 'cpu']) as BackendName[]) {
    const { tf, backend, note } = await loadBackend(requested, [root]);
    if (backend !== requested) {
      results.push(`${requested}: not available (${note ?? `got ${backend}`})`);
      continue;
    }
    // Validation off: the benchmark times training steps only. The full train split is 62 batches.
    const dataset = await loadDataset(job.data, 1, root, join(root, 'dist'), tf);
    const steps = backend === 'cpu' ? 20 : 60;
    const times: Record<Variant, number[]> = { plain: [], fit: [], gradscope: [] };
    for (let round = 0; round < (backend === 'cpu' ? Math.min(3, rounds) : rounds); round++) {
      // Rotate the order: a variant that runs right after model.fit's large upload pays for its garbage.
      const order: Variant[] = ['plain', 'fit', 'gradscope'];
      for (let k = 0; k < round % 3; k++) order.push(order.shift()!);
      for (const variant of order) times[variant].push(await timeVariant(tf, dataset, variant, steps));
    }
    const [plain, fit, gradscope] = [median(times.plain), median(times.fit), median(times.gradscope)];
    if (backend === 'wasm') wasmGradscope = gradscope;
    results.push(
      `${backend}: ms/step (median of ${times.plain.length} interleaved rounds of ${steps} steps): plain minimize ${plain.toFixed(2)}, model.fit ${fit.toFixed(2)}, Gradscope ${gradscope.toFixed(2)}`,
      `  Gradscope / plain = ${(gradscope / plain).toFixed(3)}  (diagnostics cost ${(100 * (gradscope - plain) / gradscope).toFixed(1)}% of step time; target < 3%)`,
      `  model.fit / plain = ${(fit / plain).toFixed(3)};  Gradscope steps/s: ${(1000 / gradscope).toFixed(1)}`,
    );
  }
  const torch = pytorchStepMs();
  if (torch === undefined) results.push('PyTorch: not installed (apt-get install python3-torch libopenblas0-pthread to compare)');
  else if (wasmGradscope !== undefined) results.push(`PyTorch 1-thread CPU: ${torch.toFixed(2)} ms/step; Gradscope on wasm / PyTorch = ${(wasmGradscope / torch).toFixed(2)}`);
  console.log(results.join('\n'));
}

void main();
