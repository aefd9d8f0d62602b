// What a user does to a run (stop it, kill it, pause it, turn the LR down) and what it leaves behind;
// determinism, tensor hygiene, backend fallback and the CLI around the trainer.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseJobText } from '../../src/core/job/parse';
import type { TrainerMessage } from '../../src/core/protocol';
import { loadBackend } from '../../src/trainer/backend';
import { runJob } from '../../src/trainer/run';
import { RunControl } from '../../src/trainer/runControl';
import { exampleJob, lrJumpJob, openRunLog, readAll, root, tinyJob, train } from './harness';

const longJob = () => tinyJob({ epochs: 400 });

describe('controlling a run', () => {
  test('SIGTERM is a polite stop: the run log is complete', async () => {
    let sent = false;
    const run = await train(longJob(), {
      onMessage(message, result) {
        if (message.type === 'steps' && !sent) {
          sent = true;
          process.kill(result.trainer.pid!, 'SIGTERM');
        }
      },
    });
    assert.equal(run.exit.code, 0);
    assert.equal(run.summary?.status, 'stopped');
    assert.equal((openRunLog(run.started!.runDir).summary as { status: string }).status, 'stopped');
  });

  test('stop ends the child promptly with a complete run log', async () => {
    let sent = false;
    const run = await train(longJob(), {
      onMessage(message, result) {
        if (message.type === 'steps' && !sent) {
          sent = true;
          result.trainer.send({ type: 'stop' });
        }
      },
    });
    assert.equal(run.exit.code, 0);
    assert.equal(run.summary?.status, 'stopped');
    assert.equal(run.summary?.stopReason, 'user');
    assert.ok(run.summary!.steps < run.started!.totalSteps);
    const log = openRunLog(run.started!.runDir);
    assert.deepEqual((log.summary as { status: string }).status, 'stopped');
    const rows = await readAll(log.metrics());
    assert.equal(rows.length, run.summary!.steps);
    assert.deepEqual(
      rows.map((row) => row.step),
      Array.from({ length: rows.length }, (_, i) => i),
    );
  });

  test('a killed child leaves a readable run log without a summary', async () => {
    let killed = false;
    let lastStep = -1;
    const run = await train(longJob(), {
      onMessage(message, result) {
        if (message.type === 'steps') lastStep = message.batch.step.at(-1)!;
        if (message.type === 'steps' && lastStep > 300 && !killed) {
          killed = true;
          process.kill(result.trainer.pid!, 'SIGKILL'); // a crash: no chance to write anything more
        }
      },
    });
    assert.equal(run.exit.signal, 'SIGKILL');
    const log = openRunLog(run.started!.runDir);
    assert.equal(log.summary, undefined);
    let truncated = 0;
    const rows = await readAll(log.metrics({ onTruncatedTail: () => truncated++ }));
    // Rows are flushed in batches: all but the last unflushed ones survive, in order.
    assert.ok(rows.length > 0 && rows.length <= lastStep + 1 + 256, `${rows.length} rows`);
    assert.deepEqual(
      rows.map((row) => row.step),
      Array.from({ length: rows.length }, (_, i) => i),
    );
    assert.ok(truncated <= 1);
  });

  test('pause holds the run, resume continues it, and the LR multiplier applies from then on', async () => {
    const seen: number[] = [];
    let phase: 'running' | 'paused' | 'resumed' = 'running';
    let pausedAt = -1;
    let countAtPause = 0;
    const run = await train(tinyJob({ epochs: 60 }), {
      onMessage(message: TrainerMessage, result) {
        if (message.type !== 'steps') return;
        seen.push(...message.batch.step);
        if (phase === 'running' && seen.length > 50) {
          phase = 'paused';
          result.trainer.send({ type: 'pause' });
          // Whatever was already on its way arrives; after that nothing may, until resume.
          setTimeout(() => {
            countAtPause = seen.length;
            setTimeout(() => {
              pausedAt = seen.length;
              phase = 'resumed';
              result.trainer.send({ type: 'setLrMultiplier', value: 0.5 });
              result.trainer.send({ type: 'resume' });
            }, 400);
          }, 300);
        }
      },
    });
    assert.equal(run.summary?.status, 'finished');
    assert.equal(run.summary?.stopReason, 'completed');
    assert.equal(pausedAt, countAtPause, 'no steps while paused');
    assert.equal(run.batch.step.length, run.started!.totalSteps);
    const last = run.batch.lr.at(-1)!;
    assert.ok(Math.abs(last - 0.05) < 1e-12, `lr after the multiplier: ${last}`);
    assert.equal(run.batch.lr[0], 0.1);
  });
});

describe('repeatability and hygiene', () => {
  test('the same job and seed give the same losses', async () => {
    // Dropout and augmentation draw random numbers: the seed must fix them too.
    const random = () =>
      tinyJob({
        model: [
          { type: 'dense', units: 16, activation: 'relu' },
          { type: 'dropout', rate: 0.2 },
          { type: 'dense', units: 3, activation: 'softmax' },
        ],
        data: { type: 'synthetic', samples: 512, features: 8, classes: 3, augment: { noise: 0.1 } },
      });
    const a = await train(random(), { maxSteps: 30 });
    const b = await train(random(), { maxSteps: 30 });
    const c = await train(tinyJob({ seed: 2 }), { maxSteps: 30 });
    assert.deepEqual(a.batch.loss, b.batch.loss);
    assert.notDeepEqual(a.batch.loss, c.batch.loss);
  });

  test('no tensor leaks: the tensor count is flat across steps', async () => {
    const { counts, summary } = await tensorCounts(tinyJob({ optimizer: { type: 'adam', lr: 0.01 }, schedule: { type: 'constant', lr: 0.01 }, clip: { type: 'agc' }, epochs: 6 }));
    assert.equal(summary.status, 'finished');
    assert.ok(counts.length > 3);
    assert.equal(new Set(counts).size, 1, `tensor counts ${counts}`);
  });
});

// Every optimizer, clip mode and guard action, a few steps each: the count is flat during the run and
// back where it started after it. A regression job whose LR jumps to 1 explodes, so the guard acts.
const exploding = (guard: Record<string, unknown>) => lrJumpJob(20, { data: { type: 'synthetic', task: 'regression', samples: 256, features: 8, validationSplit: 0.25 }, guard, epochs: 6 });
const leakCases: { name: string; job: Record<string, unknown>; guardActs?: boolean }[] = [
  { name: 'sgd, no clipping', job: { optimizer: { type: 'sgd', lr: 0.1 }, epochs: 4 } },
  { name: 'momentum, global-norm clipping', job: { optimizer: { type: 'momentum', lr: 0.05, nesterov: true }, clip: { type: 'globalNorm', maxNorm: 0.5 }, epochs: 4 } },
  { name: 'adamw, value clipping', job: { optimizer: { type: 'adamw', lr: 0.01 }, clip: { type: 'value', clipValue: 0.1 }, epochs: 4 } },
  { name: 'rmsprop, adaptive clipping', job: { optimizer: { type: 'rmsprop', lr: 0.01, momentum: 0.5 }, clip: { type: 'adaptive', warmupSteps: 5 }, epochs: 4 } },
  { name: 'adagrad, agc', job: { optimizer: { type: 'adagrad', lr: 0.1 }, clip: { type: 'agc' }, epochs: 4 } },
  { name: 'lbfgs', job: { optimizer: { type: 'lbfgs', lr: 1, historySize: 4, maxLineSearch: 5 }, schedule: { type: 'constant', lr: 1 }, epochs: 30, batchSize: 4096 } },
  { name: 'guard skip', job: { optimizer: { type: 'sgd', lr: 0.01 }, ...exploding({ explosion: 'skip', nonFinite: 'skip' }) }, guardActs: true },
  { name: 'guard backoff', job: { optimizer: { type: 'adam', lr: 0.01 }, ...exploding({ explosion: 'backoff', recoverySteps: 10 }) }, guardActs: true },
  { name: 'guard rollback', job: { optimizer: { type: 'momentum', lr: 0.01 }, ...exploding({ explosion: 'rollback', snapshotEvery: 5 }) }, guardActs: true },
  { name: 'guard stop', job: { optimizer: { type: 'sgd', lr: 0.01 }, ...exploding({ explosion: 'stop' }) }, guardActs: true },
  {
    name: 'guard stop on a non-finite loss',
    job: {
      optimizer: { type: 'sgd', lr: 0.01 },
      ...exploding({ explosion: 'warn', nonFinite: 'stop' }),
      schedule: {
        type: 'sequential',
        schedules: [
          { type: 'constant', lr: 0.01 },
          { type: 'constant', lr: 1e30 },
        ],
        milestones: [20],
      },
    },
    guardActs: true,
  },
];

describe('no tensor leaks in any optimizer, clip mode or guard action', () => {
  for (const { name, job, guardActs } of leakCases) {
    test(name, async () => {
      const { before, after, counts, summary, guardEvents } = await tensorCounts(tinyJob(job));
      assert.notEqual(summary.status, 'failed', summary.message);
      assert.ok(counts.length >= 2, `only ${counts.length} samples`);
      assert.equal(new Set(counts).size, 1, `tensor counts during the run: ${counts}`);
      assert.equal(after, before, 'tensors left after the run');
      if (guardActs) assert.ok(guardEvents > 0, 'the guard never acted');
    });
  }
});

/**
 * Runs a job in this process on wasm and samples tf.memory().numTensors where no step's tensors are
 * in flight: between epochs, and after every L-BFGS iteration (it runs full-batch, in one epoch).
 */
async function tensorCounts(jobFields: Record<string, unknown>) {
  const { tf } = await loadBackend('wasm', []);
  const job = parseJobText(JSON.stringify(jobFields));
  const dir = mkdtempSync(join(tmpdir(), 'gradscope-leak-'));
  const sampleOn = job.optimizer.type === 'lbfgs' ? 'steps' : 'epoch';
  const counts: number[] = [];
  let guardEvents = 0;
  const before = tf.memory().numTensors;
  const summary = await runJob(
    { job, jobDir: dir, runsDir: dir, searchPaths: [], backend: 'wasm' },
    (message) => {
      if (message.type === sampleOn) counts.push(tf.memory().numTensors);
      if (message.type === 'event' && message.event.kind === 'guard') guardEvents++;
    },
    new RunControl(),
  );
  return { before, after: tf.memory().numTensors, counts, summary, guardEvents };
}

describe('backends and bad input', () => {
  test('a conv2d job on wasm falls back to cpu and says why', async () => {
    const job = exampleJob('mnist-warmup-cosine', (j) => {
      j.data = { type: 'mnist', samples: 200 };
      j.model = [{ type: 'conv2d', filters: 4, kernelSize: 3, inputShape: [28, 28, 1], activation: 'relu' }, { type: 'flatten' }, { type: 'dense', units: 10, activation: 'softmax' }];
    });
    const run = await train(job, { maxSteps: 3, backend: 'wasm' });
    assert.equal(run.summary?.status, 'finished', run.failure);
    assert.equal(run.started?.backend, 'cpu');
    assert.match(run.started!.backendNote!, /Conv2DBackpropFilter/);
  });

  test('asking for tfjs-node where it cannot load falls back to wasm with a note', async (t) => {
    if (existsSync(join(root, 'node_modules/@tensorflow/tfjs-node/lib'))) return t.skip('a working tfjs-node may be installed here');
    const run = await train(tinyJob({ backend: 'tensorflow' }), { maxSteps: 2 });
    assert.equal(run.started?.backend, 'wasm');
    assert.match(run.started!.backendNote!, /tfjs-node (is not installed|.* has no native binding .*); using wasm instead/);
  });

  test('a data module that is missing its export fails with one clear line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradscope-bad-'));
    writeFileSync(join(dir, 'data.js'), 'exports.somethingElse = 1;');
    const run = await train(tinyJob({ data: { type: 'module', path: 'data.js' } }), { jobDir: dir });
    assert.equal(run.exit.code, 1);
    assert.match(run.failure!, /data\.js: does not export a function loadData\(tf\)$/);
  });
});

describe('gradscope train', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, [join(root, 'bin/gradscope.js'), ...args], { encoding: 'utf8', cwd: mkdtempSync(join(tmpdir(), 'gradscope-cli-')) });
  const writeJob = (job: unknown) => {
    const file = join(mkdtempSync(join(tmpdir(), 'gradscope-cli-job-')), 'a.gradscope.json');
    writeFileSync(file, typeof job === 'string' ? job : JSON.stringify(job, null, 2));
    return file;
  };
  /** Runs the CLI in a process group of its own (as a terminal runs a job) and sends the group SIGINT once `ready` appears on `stream`. */
  const interruptedCli = async (args: string[], ready: string, stream: 'stdout' | 'stderr' = 'stdout') => {
    const child = spawn(process.execPath, [join(root, 'bin/gradscope.js'), ...args], { cwd: mkdtempSync(join(tmpdir(), 'gradscope-cli-')), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { stdout: '', stderr: '' };
    let interrupted = false;
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const watch = (name: 'stdout' | 'stderr') => (chunk: Buffer) => {
      out[name] += chunk;
      if (name !== stream || interrupted || !out[name].includes(ready)) return;
      interrupted = true;
      process.kill(-child.pid!, 'SIGINT');
    };
    child.stdout.on('data', watch('stdout'));
    child.stderr.on('data', watch('stderr'));
    const code = await exited;
    return { code, ...out };
  };

  test('--json streams steps, events and a summary; an explosion stopped by the guard exits 1', async () => {
    const file = writeJob(tinyJob(lrJumpJob(40, { data: { type: 'synthetic', task: 'regression', samples: 512, features: 8 }, guard: { explosion: 'stop' } })));
    const result = cli('train', file, '--json');
    assert.equal(result.status, 1, result.stderr);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line)); // strict JSON: a non-finite value is the string "NaN"
    const steps = lines.filter((l) => l.type === 'step');
    assert.ok(steps.length > 40 && ['step', 'lr', 'loss', 'gradNorm'].every((key) => key in steps[0]));
    const explosion = lines.find((l) => l.type === 'event' && l.kind === 'explosion');
    assert.ok(explosion && explosion.step > 40);
    const summary = lines.at(-1);
    assert.equal(summary.type, 'summary');
    assert.equal(summary.status, 'stopped');
    assert.equal(summary.stopReason, 'guard');
  });

  test('a finished run exits 0; its events are printed as they happen', async () => {
    const result = cli('train', writeJob(tinyJob()), '--max-steps', '10');
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /finished after 10 steps .* on wasm/);
    assert.match(result.stderr, /run log: /);
  });

  test('Ctrl-C in a terminal (SIGINT to the whole process group) stops the run politely: the summary is written', async () => {
    const { code, stdout, stderr } = await interruptedCli(['train', writeJob(longJob()), '--json'], '"type":"step"');
    const last = JSON.parse(
      stdout
        .trim()
        .split('\n')
        .at(-1)!
        .replace(/\bNaN\b/g, 'null'),
    );
    assert.equal(last.type, 'summary', stderr);
    assert.equal(last.status, 'stopped');
    assert.ok(code === 0 || code === 1, `exit ${code}`);
    assert.doesNotMatch(stderr, /exited unexpectedly/);
  });

  test('Ctrl-C during gradscope compare stops the running strategy, starts no other and prints the table of what ran', async () => {
    const { code, stdout, stderr } = await interruptedCli(['compare', writeJob(longJob()), '--strategies', 'constant,cosine', '--json'], 'constant: training', 'stderr');
    assert.equal(code, 130, stderr);
    const table = JSON.parse(stdout) as { rows: { strategy: string; status: string }[] };
    assert.deepEqual(
      table.rows.map((r) => [r.strategy, r.status]),
      [['constant', 'stopped']],
    );
    assert.match(stderr, /interrupted: 1 of 2 strategies ran/);
  });

  test('an invalid job exits 2 naming the file, line and field', () => {
    const file = writeJob(
      '{\n  "name": "x",\n  "data": {"type": "synthetic"},\n  "model": [{"type": "dense", "units": 3}],\n  "optimizer": {"type": "sgd"},\n  "schedule": {"type": "cosine", "lr": 0.1, "tMax": 0}\n}',
    );
    const result = cli('train', file);
    assert.equal(result.status, 2);
    assert.equal(result.stderr.trim(), `gradscope: ${file}:6:53: schedule.tMax must be >= 1 (got 0)`);
    assert.equal(cli('train', '/no/such/job.json').status, 2);
    assert.equal(cli('train', file, '--backend', 'gpu').status, 2);
  });
});
