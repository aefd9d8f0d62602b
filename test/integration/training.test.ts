// The trainer child process end to end, on small data: what each example, optimizer, clip mode and
// guard does, and what a stop or a crash leaves behind.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readValidation } from '../../src/node/runlog';
import { exampleJob, lrJumpJob, openRunLog, readAll, tinyJob, train } from './harness';

const finite = (values: number[]) => values.every(Number.isFinite);

describe('the examples', () => {
  test('the exploding example trains, then is flagged near the end of its warmup, where the gradient norm jumps', async () => {
    const run = await train(exampleJob('mnist-exploding'), { maxSteps: 150, backend: 'wasm' });
    assert.equal(run.summary?.status, 'finished');
    const first = run.events.find((e) => e.kind === 'explosion' || e.kind === 'nonFinite');
    assert.ok(first && first.step >= 90 && first.step < 150, `first explosion at ${first?.step} (warmup ends at 150)`);
    assert.ok(mean(run.batch.loss.slice(40, 60)) < 0.6, 'a healthy start: the loss falls from 2.3 first');
    const norms = run.batch.gradNorm;
    assert.ok(norms[first.step] >= 5 * median(norms.slice(first.step - 50, first.step)), 'the norm jumps at the flagged step');
  });

  test('the fixed example trains with no explosion and a falling loss', async () => {
    const run = await train(exampleJob('mnist-fixed'), { backend: 'wasm' });
    assert.equal(run.summary?.status, 'finished');
    assert.deepEqual(
      run.events.filter((e) => e.kind === 'explosion' || e.kind === 'nonFinite'),
      [],
    );
    const epochs = run.messages.filter((m) => m.type === 'epoch');
    assert.equal(epochs.length, 5);
    assert.ok(epochs[4].validationLoss! < epochs[0].validationLoss!, 'validation loss falls');
    assert.ok(epochs[4].validationAccuracy! > 0.9, `accuracy ${epochs[4].validationAccuracy}`);
    assert.ok(mean(run.batch.loss.slice(-20)) < 0.3 * mean(run.batch.loss.slice(0, 20)));
    // The run log keeps the validation curve, so a reopened run shows it.
    const stored = await readValidation(openRunLog(run.started!.runDir));
    assert.deepEqual(
      stored,
      epochs.map((e) => ({ step: e.step, loss: e.validationLoss, accuracy: e.validationAccuracy })),
    );
  });
});

describe('every optimizer, clip mode and guard action runs', () => {
  for (const optimizer of [{ type: 'sgd' }, { type: 'momentum', nesterov: true }, { type: 'adam' }, { type: 'adamw', weightDecay: 0.1 }, { type: 'rmsprop' }, { type: 'adagrad' }, { type: 'lbfgs' }]) {
    test(`optimizer ${optimizer.type}`, async () => {
      const lr = optimizer.type === 'lbfgs' ? 1 : ['adam', 'adamw', 'rmsprop'].includes(optimizer.type) ? 0.01 : 0.1;
      const run = await train(tinyJob({ optimizer: { ...optimizer, lr }, schedule: { type: 'constant', lr } }), { maxSteps: 24 });
      assert.equal(run.summary?.status, 'finished', run.failure);
      assert.equal(run.batch.step.length, 24);
      assert.ok(finite(run.batch.loss) && finite(run.batch.gradNorm));
      assert.ok(mean(run.batch.loss.slice(-4)) < run.batch.loss[0], `loss ${run.batch.loss[0]} → ${run.batch.loss.at(-1)}`);
      if (optimizer.type === 'lbfgs') {
        const rows = await readAll(openRunLog(run.started!.runDir).metrics());
        assert.ok(rows.every((row) => typeof row.lineSearchEvaluations === 'number' && typeof row.curvatureOk === 'boolean'));
        assert.ok(rows.some((row) => row.curvatureOk === true));
      }
    });
  }

  // Regression (MSE) explodes for real when the learning rate jumps 100× at step 40; softmax
  // cross-entropy would saturate to a zero gradient instead.
  const exploding = lrJumpJob(40);

  for (const clip of [{ type: 'none' }, { type: 'globalNorm', maxNorm: 0.05 }, { type: 'value', clipValue: 0.001 }, { type: 'agc', factor: 0.001 }, { type: 'adaptive', warmupSteps: 5 }]) {
    test(`clip ${clip.type}`, async () => {
      const run = await train(tinyJob({ ...exploding, clip }), { maxSteps: 44 });
      assert.equal(run.summary?.status, 'finished', run.failure);
      const { gradNorm, clippedNorm } = run.batch;
      const clipped = gradNorm.filter((g, i) => clippedNorm![i] < g * 0.999).length;
      if (clip.type === 'none') assert.equal(clipped, 0);
      else assert.ok(clipped > 0, `${clip.type} never clipped`);
      if (clip.type === 'globalNorm') assert.ok(clippedNorm!.every((c) => c <= 0.05 + 1e-6));
    });
  }

  for (const action of ['warn', 'skip', 'backoff', 'rollback', 'stop'] as const) {
    test(`guard ${action} on an explosion`, async () => {
      const run = await train(tinyJob({ ...exploding, guard: { explosion: action, snapshotEvery: 10 } }), { maxSteps: 80 });
      const explosion = run.events.find((e) => e.kind === 'explosion');
      assert.ok(explosion && explosion.step > 40 && explosion.step <= 45, `explosion at ${explosion?.step}`);
      const guard = run.events.find((e) => e.kind === 'guard' && e.cause === 'explosion');
      if (action === 'warn') {
        assert.equal(guard, undefined);
        return;
      }
      assert.ok(guard && guard.kind === 'guard' && guard.action === action && guard.cause === 'explosion' && guard.step === explosion.step);
      const at = run.batch.step.indexOf(guard.step);
      if (action === 'skip' || action === 'rollback') assert.equal(run.batch.clippedNorm![at], 0, 'the exploding update was not applied');
      if (action === 'backoff' || action === 'rollback') {
        assert.ok(Math.abs(guard.lrMultiplier! - 0.1) < 1e-12);
        assert.ok(run.batch.lr[at + 1] < 0.2, `lr after ${action}: ${run.batch.lr[at + 1]}`);
      }
      if (action === 'rollback') {
        // The snapshot is taken after the update of the last healthy multiple of snapshotEvery.
        const snapshot = Math.floor((guard.step - 1) / 10) * 10;
        assert.ok(Math.abs(run.batch.weightNorm![at + 1] - run.batch.weightNorm![snapshot + 1]) < 1e-4 * run.batch.weightNorm![snapshot + 1]);
      }
      if (action === 'stop') {
        assert.equal(run.summary?.status, 'stopped');
        assert.match(run.summary!.message!, /guard: explosion/);
        assert.equal(run.batch.step.at(-1), guard.step);
      } else {
        assert.equal(run.summary?.status, 'finished');
      }
    });
  }

  test('nonFinite: skip keeps every weight finite when NaNs reach the loss', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradscope-nan-'));
    // One sample has a NaN feature: the batch that holds it has a NaN loss and gradient, once an epoch.
    writeFileSync(
      join(dir, 'data.js'),
      `exports.loadData = (tf) => {
      const x = [], y = [];
      for (let i = 0; i < 400; i++) { const c = i % 2; x.push([c * 2 - 1 + (i % 5) * 0.1, i === 13 ? NaN : 0.5]); y.push(c); }
      return { x: tf.tensor2d(x), y: tf.tensor1d(y, 'int32') };
    };`,
    );
    const run = await train(tinyJob({ data: { type: 'module', path: 'data.js', validationSplit: 0 }, model: [{ type: 'dense', units: 2, activation: 'softmax' }], batchSize: 64, epochs: 3 }), {
      jobDir: dir,
    });
    assert.equal(run.summary?.status, 'finished', run.failure);
    const skipped = run.events.filter((e) => e.kind === 'guard' && e.action === 'skip' && e.cause === 'nonFinite');
    assert.equal(skipped.length, 3, 'one skipped batch an epoch');
    assert.equal(skipped.length, run.events.filter((e) => e.kind === 'nonFinite').length);
    // Clipped cross-entropy can keep the loss finite; the gradient carries the NaN.
    assert.equal(run.batch.gradNorm.filter((norm) => Number.isNaN(norm)).length, 3);
    assert.ok(finite(run.batch.weightNorm!), `weight norms ${run.batch.weightNorm}`);
  });
});

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
