// Job features beyond the basics: CSV data, every layer type, user modules, plateau cuts, the live
// clip threshold, and a parent that dies.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { openRunLog, readAll, root, tinyJob, train, trainerScript } from './harness';

const tempDir = () => mkdtempSync(join(tmpdir(), 'gradscope-features-'));

describe('data and models', () => {
  test('CSV data with string labels, standardised, trains', async () => {
    const dir = tempDir();
    const rows = ['height,weight,species'];
    for (let i = 0; i < 300; i++) rows.push(`${100 + (i % 3) * 40 + (i % 7)},${1000 + (i % 3) * 500 + (i % 11) * 3},${['cat', 'dog', 'fox'][i % 3]}`);
    writeFileSync(join(dir, 'animals.csv'), rows.join('\n'));
    const run = await train(tinyJob({ data: { type: 'csv', path: 'animals.csv', label: 'species' } }), { jobDir: dir });
    assert.equal(run.summary?.status, 'finished', run.failure);
    const epochs = run.messages.filter((m) => m.type === 'epoch');
    assert.ok(epochs.at(-1)!.validationAccuracy! > 0.6, `accuracy ${epochs.at(-1)!.validationAccuracy}`);
  });

  test('a bad CSV cell is reported with its file, line and column', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.csv'), 'a,b,label\n1,2,x\n3,oops,y\n');
    const run = await train(tinyJob({ data: { type: 'csv', path: 'bad.csv', label: 'label' } }), { jobDir: dir });
    assert.match(run.failure!, /bad\.csv:3: column "b" is not a number \("oops"\)$/);
  });

  test('every layer type builds and trains (conv on cpu), with shift augmentation', async () => {
    const run = await train(
      tinyJob({
        data: { type: 'mnist', samples: 256, augment: { shift: 2, noise: 0.05 } },
        model: [
          { type: 'conv2d', filters: 4, kernelSize: 3, inputShape: [28, 28, 1], padding: 'same', kernelInitializer: 'heNormal' },
          { type: 'batchNormalization' },
          { type: 'activation', activation: 'relu' },
          { type: 'maxPooling2d' },
          { type: 'flatten' },
          { type: 'dense', units: 16, activation: 'gelu' },
          { type: 'layerNormalization' },
          { type: 'dropout', rate: 0.1 },
          { type: 'dense', units: 10, activation: 'softmax' },
        ],
        optimizer: { type: 'adam', lr: 0.01 },
        schedule: { type: 'constant', lr: 0.01 },
      }),
      { maxSteps: 4, backend: 'cpu' },
    );
    assert.equal(run.summary?.status, 'finished', run.failure);
    assert.deepEqual(run.started!.layerNames, ['conv2d_0', 'batchNormalization_1', 'dense_5', 'layerNormalization_6', 'dense_8']);
    assert.equal(run.batch.layerGradNorms!.length, 5);
  });

  test('a user model module (createModel) trains', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'model.js'),
      `exports.createModel = (tf) => tf.sequential({ layers: [
      tf.layers.dense({ inputShape: [8], units: 12, activation: 'tanh' }), tf.layers.dense({ units: 3, activation: 'softmax' }) ] });`,
    );
    const run = await train(tinyJob({ model: { type: 'module', path: 'model.js' } }), { jobDir: dir, maxSteps: 10 });
    assert.equal(run.summary?.status, 'finished', run.failure);
    assert.equal(run.started!.parameterCount, 8 * 12 + 12 + 12 * 3 + 3);
  });

  test('a model whose outputs do not fit the data says so', async () => {
    const run = await train(tinyJob({ model: [{ type: 'dense', units: 5, activation: 'softmax' }] }));
    assert.match(run.failure!, /^model\[0\] gives 5 outputs but the data needs 3 \(3 classes\)$/);
  });
});

describe('schedules and live controls', () => {
  test('plateau cuts the learning rate when the checked loss stops improving', async () => {
    // Labels drawn at random cannot be learnt: the training loss plateaus at once.
    const run = await train(
      tinyJob({
        data: { type: 'synthetic', samples: 512, features: 8, classes: 3, noise: 50 },
        schedule: { type: 'plateau', lr: 0.1, patience: 1, factor: 0.5 },
        plateauCheck: { metric: 'trainLoss', every: 4 },
        epochs: 10,
      }),
    );
    const cuts = run.events.filter((e) => e.kind === 'lrCut');
    assert.ok(cuts.length >= 2, `${cuts.length} cuts`);
    const first = cuts[0];
    assert.ok(first.kind === 'lrCut' && first.previousLr === 0.1 && first.lr === 0.05 && (first.step + 1) % 4 === 0);
    assert.equal(run.batch.lr[first.step + 1], 0.05);
    assert.equal(run.batch.lr[0], 0.1);
  });

  test('setClipThreshold clips from the next steps on', async () => {
    let sent = false;
    const run = await train(tinyJob({ epochs: 30 }), {
      onMessage(message, result) {
        if (message.type === 'steps' && !sent) {
          sent = true;
          result.trainer.send({ type: 'setClipThreshold', value: 0.01 });
        }
      },
    });
    const clippedNorm = run.batch.clippedNorm!;
    assert.ok(clippedNorm.slice(-50).every((norm) => norm <= 0.01 + 1e-9));
    assert.ok(clippedNorm[0] > 0.01);
  });
});

describe('the parent going away', () => {
  test('when the host process dies, the child stops and leaves a complete run log', async () => {
    const dir = tempDir();
    // A stand-in host: starts a long run, reports the child's pid and run folder, then exits abruptly.
    writeFileSync(
      join(dir, 'host.ts'),
      `
      import { parseJobText } from ${JSON.stringify(join(root, 'src/core/job/parse'))};
      import { TrainerProcess } from ${JSON.stringify(join(root, 'src/node/trainerProcess'))};
      const job = parseJobText(${JSON.stringify(JSON.stringify(tinyJob({ epochs: 500 })))});
      const trainer = new TrainerProcess(${JSON.stringify(trainerScript)}, { job, jobDir: ${JSON.stringify(dir)}, runsDir: ${JSON.stringify(join(dir, 'runs'))}, searchPaths: [] }, {
        message(m) { if (m.type === 'steps') { console.log(JSON.stringify({ pid: trainer.pid })); process.exit(0); } },
      });`,
    );
    const host = spawn(process.execPath, ['--import', 'tsx', join(dir, 'host.ts')], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    host.stdout.on('data', (chunk) => (output += chunk));
    await new Promise((resolve) => host.on('exit', resolve));
    const { pid } = JSON.parse(output.trim().split('\n').at(-1)!) as { pid: number };
    // The child notices the closed IPC channel, finishes its step and writes its summary.
    while (isAlive(pid)) await new Promise((resolve) => setTimeout(resolve, 50));
    const runs = join(dir, 'runs');
    assert.ok(existsSync(runs));
    const [folder] = readdirSync(runs);
    const log = openRunLog(join(runs, folder));
    assert.equal((log.summary as { status: string }).status, 'stopped');
    assert.ok((await readAll(log.metrics())).length > 0);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
