// Benchmark, not a test (npm run bench). On the seed MLP (784-128-64-10, Adam, batch 128, MNIST),
// each measured side by side in one run, in interleaved rotated rounds, printing medians and ratios:
// - Gradscope's instrumented step against a plain tfjs `optimizer.minimize` loop and model.fit, on
//   each backend (issue #14 goal 1);
// - wasm on 1 thread against every core (goal 2), and PyTorch on the same thread counts (goal 3);
// - extension activation and the trainer's first step after the fork (goal 5);
// - the kernels of one step of each loop, and tf.matMul on wasm for each product of the step, with
//   the stock kernels and Gradscope's (GFLOP/s per shape: the floor of the PyTorch comparison).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Scalar, Tensor, Variable } from '@tensorflow/tfjs';
import { parseJobText } from '../src/core/job/parse';
import { RunLogWriter } from '../src/node/runlog';
import { seededUniform } from '../src/core/random';
import type { BackendName } from '../src/core/protocol';
import { loadBackend, type Tf } from '../src/trainer/backend';
import { BatchMaker, loadDataset, shuffled, type Dataset } from '../src/trainer/data';
import { lossFunction, trainFirstOrder } from '../src/trainer/loop';
import { buildModel, inputShapeFor } from '../src/trainer/model';
import { GradientStep } from '../src/trainer/gradientStep';
import { createOptimizer } from '../src/trainer/optimizers';
import { RunControl } from '../src/trainer/runControl';
import { useFasterWasmKernels } from '../src/trainer/wasmKernels';
import { wantedThreads } from '../src/trainer/wasmThreads';
import { findTorchPython, pytorchStepMs } from './pytorch';
import { activationMs, firstStepMs, median, quantile } from './startup';

const root = join(__dirname, '..');
const job = parseJobText(
  JSON.stringify({
    name: 'bench',
    seed: 1,
    data: { type: 'mnist', samples: 10000, validationSplit: 0 },
    model: [
      { type: 'flatten', inputShape: [28, 28] },
      { type: 'dense', units: 128, activation: 'relu' },
      { type: 'dense', units: 64, activation: 'relu' },
      { type: 'dense', units: 10, activation: 'softmax' },
    ],
    optimizer: { type: 'adam', lr: 0.001 },
    schedule: { type: 'constant', lr: 0.001 },
    epochs: 1,
    batchSize: 128,
  }),
);

type Variant = 'plain' | 'fit' | 'gradscope';
/** Untimed steps at the start of the plain and Gradscope loops (optimizer state, first-use kernels). */
const WARM_STEPS = 3;

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
    for (let i = 0; i < WARM_STEPS + steps; i++) {
      if (i === WARM_STEPS) start = performance.now();
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
    // The clock starts when the first WARM_STEPS steps are done, as in the plain loop: a run's
    // set-up (flat weights, optimizer state, first-use kernels) is not a per-step cost.
    const stopAfter = ({ step }: { step: number }) => {
      if (step === WARM_STEPS - 1) start = performance.now();
      return undefined;
    };
    await trainFirstOrder({ tf, job, dataset, built, totalSteps: WARM_STEPS + steps, log, control: new RunControl(), stopAfter, out: { steps() {}, event() {}, epoch() {} } });
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

/**
 * Gradscope's step and a plain `minimize` step paired step by step: Gradscope's loop trains one
 * model, and between two of its steps (in its stopAfter hook) a plain loop takes one step on a twin
 * model. Each pair runs within milliseconds, so the machine's load moves both alike. With `stock`
 * (wasm) the twin runs on TF.js's stock kernels (without Gradscope's replacements, see
 * wasmKernels.ts): what a plain TF.js loop costs outside Gradscope. (A separate pairing: a third
 * loop between the two would slow Gradscope's turn, which then follows 11 ms of other work and
 * yields to the event loop more often.) The plain loop takes the batches Gradscope's loop takes
 * (each epoch in the job's shuffled order), so both do the same data work and the twin follows the
 * same trajectory. Returns the per-step times (ms) of each, warm-up steps excluded.
 */
async function pairedSteps(tf: Tf, dataset: Dataset, steps: number, stock = false): Promise<{ plain: number[]; gradscope: number[] }> {
  Math.random = seededUniform(1);
  const ours = buildModel(tf, job.model, dataset, root);
  Math.random = seededUniform(1);
  const twin = buildModel(tf, job.model, dataset, root);
  const lossOf = lossFunction(tf, dataset, twin.outputsProbabilities);
  const batches = new BatchMaker(dataset, undefined, 1);
  const optimizer = tf.train.adam(0.001);
  const plain: number[] = [];
  const gradscope: number[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'gradscope-bench-'));
  const log = RunLogWriter.create(dir, 'bench', job);
  // Gradscope's batches (trainFirstOrder): each epoch's shuffled order, cut into batches, the last one short.
  const perEpoch = Math.ceil(dataset.train.count / job.batchSize);
  const orders = Array.from({ length: Math.ceil((WARM_STEPS + steps) / perEpoch) }, (_, epoch) => shuffled(dataset.train.count, job.seed * 1000 + epoch));
  let resumed = performance.now();
  const stopAfter = ({ step }: { step: number }) => {
    const reached = performance.now();
    if (step >= WARM_STEPS) gradscope.push(reached - resumed);
    // Already installed, this only returns what puts the stock kernels back (outside the timed window).
    if (stock) useFasterWasmKernels(tf)();
    const start = performance.now();
    const epoch = Math.floor(step / perEpoch);
    const first = (step - epoch * perEpoch) * job.batchSize;
    const indices = orders[epoch].subarray(first, Math.min(dataset.train.count, first + job.batchSize));
    const { x: xs, y: ys } = batches.make(dataset.train, indices, true);
    const loss = tf.tidy(() => {
      const x = tf.tensor(xs, inputShapeFor(twin.model, indices.length));
      const y = tf.tensor(ys, [indices.length, 10]);
      return optimizer.minimize(() => lossOf(y, twin.model.apply(x, { training: true }) as Tensor), true) as Scalar;
    });
    loss.dataSync(); // a loop that logs its loss reads it back every step, as Gradscope does
    loss.dispose();
    const end = performance.now();
    if (step >= WARM_STEPS) plain.push(end - start);
    if (stock) useFasterWasmKernels(tf);
    resumed = performance.now();
    return undefined;
  };
  await trainFirstOrder({ tf, job, dataset, built: ours, totalSteps: WARM_STEPS + steps, log, control: new RunControl(), stopAfter, out: { steps() {}, event() {}, epoch() {} } });
  log.close({});
  rmSync(dir, { recursive: true, force: true });
  optimizer.dispose();
  ours.model.dispose();
  twin.model.dispose();
  return { plain, gradscope };
}

/** Kernels of one step of the plain loop and of Gradscope's (its device side: GradientStep with the job's optimizer). */
async function kernelsPerStep(tf: Tf, dataset: Dataset): Promise<{ plain: number; gradscope: number }> {
  Math.random = seededUniform(1);
  const built = buildModel(tf, job.model, dataset, root);
  const lossOf = lossFunction(tf, dataset, built.outputsProbabilities);
  const { x: xs, y: ys } = new BatchMaker(dataset, undefined, 1).make(
    dataset.train,
    Uint32Array.from({ length: job.batchSize }, (_, k) => k),
    true,
  );
  const x = tf.tensor(xs, inputShapeFor(built.model, job.batchSize));
  const y = tf.tensor(ys, [job.batchSize, 10]);
  const adam = tf.train.adam(0.001);
  const plain = () => {
    const loss = tf.tidy(() => adam.minimize(() => lossOf(y, built.model.apply(x, { training: true }) as Tensor), true) as Scalar);
    loss.dataSync();
    loss.dispose();
  };
  const variables = built.model.trainableWeights.map((w) => w.read() as Variable);
  const step = new GradientStep(tf, built.model, variables, lossOf);
  const optimizer = createOptimizer(tf, job.optimizer as Exclude<typeof job.optimizer, { type: 'lbfgs' }>, step.size);
  const ours = () => {
    step.computeGradients(x, y, job.clip);
    optimizer.setLearningRate(0.001);
    step.apply(1, optimizer);
  };
  for (let i = 0; i < 2; i++) [plain, ours].forEach((f) => f());
  const counts = { plain: (await tf.profile(plain)).kernels.length, gradscope: (await tf.profile(ours)).kernels.length };
  step.dispose();
  optimizer.dispose();
  adam.dispose();
  tf.dispose([x, y]);
  built.model.dispose();
  return counts;
}

/**
 * tf.matMul on wasm for each product of the seed MLP's step (batch 128): the forward x·W, and the
 * backward dW = xᵀ·dy (transposeA) and dx = dy·Wᵀ (transposeB), with TF.js's stock kernels and with
 * Gradscope's (which run the transposed forms through XNNPACK). GFLOP/s = 2·m·k·n / time.
 */
function matMulTable(tf: Tf, threads: number): string[] {
  const shapes: [string, number, number, number, boolean, boolean][] = [
    ['x·W1', 128, 784, 128, false, false],
    ['h1·W2', 128, 128, 64, false, false],
    ['h2·W3', 128, 64, 10, false, false],
    ['dW1 = xᵀ·dy1', 784, 128, 128, true, false],
    ['dW2 = h1ᵀ·dy2', 128, 128, 64, true, false],
    ['dW3 = h2ᵀ·dy3', 64, 128, 10, true, false],
    ['dh1 = dy2·W2ᵀ', 128, 64, 128, false, true],
    ['dh2 = dy3·W3ᵀ', 128, 10, 64, false, true],
  ];
  const time = (f: () => Tensor) => {
    const times: number[] = [];
    for (let i = 0; i < 65; i++) {
      const start = performance.now();
      const out = f();
      out.dataSync();
      if (i >= 5) times.push(performance.now() - start);
      out.dispose();
    }
    return median(times);
  };
  const restore = useFasterWasmKernels(tf);
  const rows = shapes.map(([label, m, k, n, transposeA, transposeB]) => {
    const a = tf.randomUniform(transposeA ? [k, m] : [m, k], -1, 1);
    const b = tf.randomUniform(transposeB ? [n, k] : [k, n], -1, 1);
    // The weights change every step, so XNNPACK packs b afresh each time: a fresh b for each call.
    const product = () => tf.tidy(() => tf.matMul(a, tf.add(b, 0), transposeA, transposeB));
    restore();
    const stockMs = time(product);
    useFasterWasmKernels(tf);
    const oursMs = time(product);
    tf.dispose([a, b]);
    const gflops = (ms: number) => ((2 * m * k * n) / ms / 1e6).toFixed(1).padStart(5);
    return `  ${label.padEnd(14)} ${`${m}×${k}×${n}`.padEnd(12)} ${transposeA ? 'transposeA' : transposeB ? 'transposeB' : 'plain     '}  stock ${stockMs.toFixed(3)} ms ${gflops(stockMs)} GFLOP/s   Gradscope ${oursMs.toFixed(3)} ms ${gflops(oursMs)} GFLOP/s`;
  });
  return [`matMul on wasm (${threads} thread${threads > 1 ? 's' : ''}), m×k×n, median of 60, load average ${loadavg()[0].toFixed(1)}:`, ...rows];
}

async function main(): Promise<void> {
  if (process.env.BENCH_CHILD) return child();
  const rounds = Number(process.env.BENCH_ROUNDS ?? 15);
  const lines: string[] = [
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, load average ${loadavg()[0].toFixed(1)} (ratios are measured side by side; absolute times move with the load)`,
  ];
  /** Which parts to run (comma-separated). Default: all of steps, matmul, threads, startup, monitor. */
  const parts = new Set(process.env.BENCH_PARTS?.split(',') ?? ['steps', 'matmul', 'threads', 'startup', 'monitor']);
  let wasmThreads = wantedThreads();
  const backends = parts.has('steps') ? (process.env.BENCH_BACKENDS?.split(',') ?? ['tensorflow', 'wasm', 'cpu']) : parts.has('matmul') ? ['wasm'] : [];
  for (const requested of backends as BackendName[]) {
    const { tf, backend, note, threads } = await loadBackend(requested, [root]);
    if (backend !== requested) {
      lines.push(`${requested}: not available (${note ?? `got ${backend}`})`);
      continue;
    }
    if (backend === 'wasm') wasmThreads = threads ?? 1;
    if (backend === 'wasm' && parts.has('matmul')) lines.push(...matMulTable(tf, wasmThreads));
    if (!parts.has('steps')) continue;
    // Validation off: the benchmark times training steps only. The full train split is 78 batches.
    const dataset = await loadDataset(job.data, 1, root, join(root, 'dist'), tf);
    const label = `${backend}${threads ? ` (${threads} thread${threads > 1 ? 's' : ''})` : ''}`;
    const pairs = backend === 'cpu' ? 30 : 300;
    const paired = await pairedSteps(tf, dataset, pairs);
    const ratios = paired.gradscope.map((g, i) => g / paired.plain[i]);
    const [plain, gradscope] = [median(paired.plain), median(paired.gradscope)];
    const kernels = await kernelsPerStep(tf, dataset);
    lines.push(
      `${label}: ${pairs} steps paired step by step: plain minimize ${plain.toFixed(2)} ms/step, Gradscope with every diagnostic ${gradscope.toFixed(2)} (medians); kernels per step: plain ${kernels.plain}, Gradscope ${kernels.gradscope}`,
      `  Gradscope / plain minimize = ${median(ratios).toFixed(3)} (median of the ${pairs} pairs' ratios; quartiles ${quantile(ratios, 0.25).toFixed(2)}–${quantile(ratios, 0.75).toFixed(2)}); goal ≤ 1.00`,
    );
    if (backend === 'wasm') {
      const stock = await pairedSteps(tf, dataset, 60, true);
      const stockRatios = stock.gradscope.map((g, i) => g / stock.plain[i]);
      lines.push(
        `  the plain loop on TF.js's stock wasm kernels (outside Gradscope), paired apart: ${median(stock.plain).toFixed(2)} ms/step; Gradscope / it = ${median(stockRatios).toFixed(3)} (60 pairs; quartiles ${quantile(stockRatios, 0.25).toFixed(2)}–${quantile(stockRatios, 0.75).toFixed(2)})`,
      );
    }
    // model.fit cannot be paired step by step: whole runs in rotated rounds against plain minimize.
    const steps = backend === 'cpu' ? 6 : 20;
    const times: Record<Variant, number[]> = { plain: [], fit: [], gradscope: [] };
    for (let round = 0; round < (backend === 'cpu' ? 2 : 4); round++) {
      const order: Variant[] = round % 2 ? ['fit', 'plain'] : ['plain', 'fit'];
      for (const variant of order) times[variant].push(await timeVariant(tf, dataset, variant, steps));
    }
    lines.push(
      `  model.fit / plain minimize = ${(median(times.fit) / median(times.plain)).toFixed(3)} (whole runs of ${steps} steps, ${times.fit.length} rotated rounds);  Gradscope steps/s: ${(1000 / gradscope).toFixed(1)}`,
    );
  }
  if (parts.has('threads')) lines.push(...threadsAndPytorch(Math.max(3, Math.ceil(rounds / 3)), availableParallelism(), wasmThreads));
  if (parts.has('startup')) lines.push(...(await startup(wasmThreads)));
  if (parts.has('monitor')) lines.push(...pytorchMonitor());
  console.log(lines.join('\n'));
}

/** The Python package's cost on a PyTorch loop (issue #12): bench/pytorch_monitor.py's report. */
function pytorchMonitor(): string[] {
  const python = findTorchPython();
  if (!python) return ['gradscope.Monitor: not measured (no python3 that imports torch; apt-get install python3-torch)'];
  const result = spawnSync(python, [join(__dirname, 'pytorch_monitor.py')], { encoding: 'utf8' });
  if (result.status !== 0) return [`gradscope.Monitor: the benchmark failed: ${(result.stderr || result.stdout).trim().split('\n').at(-1)}`];
  return result.stdout.trimEnd().split('\n');
}

async function startup(wasmThreads: number): Promise<string[]> {
  const lines: string[] = [];
  const activation = activationMs(7);
  lines.push(
    'error' in activation
      ? `start-up: extension activation could not be measured (${activation.error})`
      : `start-up: extension activation ${activation.activateMs.toFixed(1)} ms (require ${activation.requireMs.toFixed(1)} ms), median of 7 fresh processes (goal < 50 ms)`,
  );
  const first = await firstStepMs(5, wasmThreads);
  lines.push(
    'error' in first
      ? `start-up: the trainer's first step could not be measured (${first.error})`
      : `start-up: trainer fork → started ${first.startedMs.toFixed(0)} ms → first steps message ${first.firstStepMs.toFixed(0)} ms (MNIST example, wasm, ${wasmThreads} thread${wasmThreads > 1 ? 's' : ''}; median of 5; goal < 1000 ms)`,
  );
  return lines;
}

/**
 * Gradscope's step on wasm with 1 and with `threads` threads (each in its own process: the thread
 * count is fixed when the backend starts), and PyTorch's on the same thread counts, in interleaved
 * rotated rounds.
 */
function threadsAndPytorch(rounds: number, cores: number, threads: number): string[] {
  const python = findTorchPython();
  type Runner = { name: string; run: () => number | undefined };
  const gradscopeOn = (n: number): Runner => ({
    name: `gradscope-${n}`,
    run: () => {
      const result = spawnSync(process.execPath, ['--import', 'tsx', __filename], { encoding: 'utf8', env: { ...process.env, BENCH_CHILD: '1', GRADSCOPE_WASM_THREADS: String(n) } });
      const value = Number(result.stdout.trim().split('\n').at(-1));
      return result.status === 0 && Number.isFinite(value) ? value : undefined;
    },
  });
  const torchOn = (n: number): Runner => ({ name: `torch-${n}`, run: () => (python ? pytorchStepMs(python, n) : undefined) });
  const runners = [gradscopeOn(1), ...(threads > 1 ? [gradscopeOn(threads)] : []), ...(python ? [torchOn(1), ...(threads > 1 ? [torchOn(threads)] : [])] : [])];
  const times = new Map<string, number[]>(runners.map((r) => [r.name, []]));
  for (let round = 0; round < rounds; round++) {
    const order = [...runners.slice(round % runners.length), ...runners.slice(0, round % runners.length)];
    for (const runner of order) {
      const value = runner.run();
      if (value !== undefined) times.get(runner.name)!.push(value);
    }
  }
  const at = (name: string) => (times.get(name)?.length ? median(times.get(name)!) : undefined);
  const lines: string[] = [];
  const one = at('gradscope-1');
  const many = at(`gradscope-${threads}`);
  if (threads <= 1) lines.push(`threads: wasm runs on 1 thread (${cores} core${cores > 1 ? 's' : ''} available); no speedup to measure`);
  else if (one !== undefined && many !== undefined)
    lines.push(
      `threads: Gradscope on wasm, ${threads} threads ${many.toFixed(2)} ms/step vs 1 thread ${one.toFixed(2)}: speedup ×${(one / many).toFixed(2)} (median of ${rounds} rounds, one process each)`,
    );
  else lines.push('threads: a Gradscope child run failed');
  if (!python) {
    lines.push('PyTorch: not found (neither python3 on the PATH nor /usr/bin/python3 imports torch; apt-get install python3-torch)');
    return lines;
  }
  for (const n of threads > 1 ? [threads, 1] : [1]) {
    const torch = at(`torch-${n}`);
    const ours = n === 1 ? one : many;
    if (torch === undefined || ours === undefined) lines.push(`PyTorch ${n} thread(s): a run failed`);
    else
      lines.push(
        `PyTorch (${python}) ${n} thread${n > 1 ? 's' : ''}: ${torch.toFixed(2)} ms/step; Gradscope on wasm with ${n} thread${n > 1 ? 's' : ''} / PyTorch = ${(ours / torch).toFixed(2)}× (goal ≤ 4)`,
      );
  }
  return lines;
}

/** A child of the threads comparison: Gradscope's wasm step with GRADSCOPE_WASM_THREADS threads; prints ms/step. */
async function child(): Promise<void> {
  const { tf, backend } = await loadBackend('wasm', [root]);
  if (backend !== 'wasm') throw new Error(`wasm is not available (got ${backend})`);
  const dataset = await loadDataset(job.data, 1, root, join(root, 'dist'), tf);
  // A longer warm-up than the runs' own: the JIT settles the step's JavaScript (its sums of squares
  // among it) within the first few dozen steps, and PyTorch's loop is timed warm too.
  await timeVariant(tf, dataset, 'gradscope', 30);
  const times: number[] = [];
  for (let run = 0; run < 3; run++) times.push(await timeVariant(tf, dataset, 'gradscope', 60));
  console.log(Math.min(...times));
}

void main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
