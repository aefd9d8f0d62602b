// Every quick fix the advice offers first is applied to a job that explodes, the job is retrained, and
// the change the fix promises is checked on the new run: no explosion, and a loss that does not climb.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyEdits } from 'jsonc-parser';
import { adviceFor } from '../../src/core/job/advice';
import { parseJobText } from '../../src/core/job/parse';
import { jobFixEdits, type JobFix } from '../../src/core/job/edits';
import { estimateTotalSteps } from '../../src/core/job/plan';
import type { RunEvent } from '../../src/core/protocol';
import { exampleJob, train, type RunResult } from './harness';

const backend = 'wasm';
const explosions = (run: RunResult) => run.events.filter((e) => e.kind === 'explosion' || e.kind === 'nonFinite');
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** The advice for a run's first explosion, as Problems would show it, and the job with one of its fixes applied. */
function adviseAndFix(job: Record<string, unknown>, run: RunResult, pick?: JobFix) {
  const event = explosions(run)[0] as RunEvent;
  const text = JSON.stringify(job, null, 2);
  // The first run may be cut short (maxSteps); the fix is for the whole job, as in the editor.
  const totalSteps = estimateTotalSteps(parseJobText(text))!;
  const advice = adviceFor(event, text, { totalSteps })!;
  const fix = pick ?? advice.fixes[0];
  const edits = jobFixEdits(text, fix, totalSteps, advice.lrAtEvent);
  assert.ok(edits.length > 0, `${fix} changes the job`);
  return { advice, fix, fixed: JSON.parse(applyEdits(text, edits)) as Record<string, unknown> };
}

/** A run that trains: no explosion, no divergence, and its last 30 losses well below its first 10. */
function assertHealthy(run: RunResult) {
  assert.equal(run.summary?.status, 'finished', run.failure);
  assert.deepEqual(
    explosions(run).map((e) => `${e.kind}@${e.step}`),
    [],
  );
  assert.deepEqual(
    run.events.filter((e) => e.kind === 'divergence'),
    [],
  );
  const loss = run.batch.loss;
  assert.ok(mean(loss.slice(-30)) < 0.5 * mean(loss.slice(0, 10)), `loss ${mean(loss.slice(0, 10)).toFixed(2)} → ${mean(loss.slice(-30)).toFixed(2)}`);
  // Not climbing back: the last stretch stays within 2× the best stretch (minibatch noise at a
  // constant rate is up to ~1.8×; the exploding runs climb 4–10×).
  const windows = Array.from({ length: Math.floor(loss.length / 30) }, (_, i) => mean(loss.slice(i * 30, i * 30 + 30)));
  assert.ok(mean(loss.slice(-30)) < 2 * Math.min(...windows), `loss climbs back: windows ${windows.map((w) => w.toFixed(2))}`);
}

/** Adam warmed up linearly to too high a peak (0.2): it degrades and explodes near the end of the warmup. */
const warmedUp = () =>
  exampleJob('mnist-exploding', (j) => {
    j.optimizer = { type: 'adam', lr: 0.2 };
    j.schedule = { type: 'warmupCosine', lr: 0.2, warmupSteps: 150, totalSteps: 315 };
  });

describe('quick fixes retrained', () => {
  test('the exploding example (a constant warmup that ends in a 50× jump): the ramp fix, offered first, removes the explosion', async () => {
    const job = exampleJob('mnist-exploding');
    const run = await train(job, { backend, maxSteps: 140 });
    const { advice, fix, fixed } = adviseAndFix(job, run);
    assert.deepEqual(advice.fixes, ['rampLr', 'lowerPeakLr']);
    assert.equal(fix, 'rampLr');
    assertHealthy(await train(fixed, { backend }));
  });

  // The warmed-up job, trained once for the two tests on it.
  let warmed: Promise<RunResult> | undefined;
  const warmedRun = () => (warmed ??= train(warmedUp(), { backend }));

  test('Adam warmed up to too high a peak: lowering the peak (the only fix offered) removes the explosion', async () => {
    const job = warmedUp();
    const run = await warmedRun();
    const { advice, fix, fixed } = adviseAndFix(job, run);
    assert.deepEqual(advice.fixes, ['lowerPeakLr']);
    assert.equal(fix, 'lowerPeakLr');
    // A third of the rate the explosion was flagged at (0.056 with the stock wasm matMul kernels: the
    // run explodes, so the last bits of its gradients move where it is flagged).
    assert.equal((fixed.schedule as { lr: number }).lr, 0.059);
    assertHealthy(await train(fixed, { backend }));
  });

  test('dead units after the explosion: halving the peak (the fix offered for vanishing) keeps every layer alive', async () => {
    const job = warmedUp();
    const run = await warmedRun();
    const vanishing = run.events.find((e) => e.kind === 'vanishing');
    assert.ok(vanishing, 'the job kills units');
    const text = JSON.stringify(job, null, 2);
    const advice = adviceFor(vanishing, text)!;
    assert.deepEqual(advice.fixes, ['halvePeakLr']);
    const fixed = JSON.parse(applyEdits(text, jobFixEdits(text, 'halvePeakLr', 315))) as Record<string, unknown>;
    const retrained = await train(fixed, { backend });
    assert.equal(retrained.summary?.status, 'finished', retrained.failure);
    assert.deepEqual(
      retrained.events.filter((e) => e.kind === 'vanishing').map((e) => `${e.kind}@${e.step}`),
      [],
    );
  });

  test('Adam at a constant rate that explodes at its first steps: the warmup fix removes the explosion', async () => {
    const job = exampleJob('mnist-exploding', (j) => {
      j.optimizer = { type: 'adam', lr: 0.05 };
      j.schedule = { type: 'constant', lr: 0.05 };
    });
    const run = await train(job, { backend, maxSteps: 20 });
    assert.ok(explosions(run)[0].step <= 2, 'explodes at the start');
    const { advice, fix, fixed } = adviseAndFix(job, run);
    assert.deepEqual(advice.fixes, ['addWarmup', 'lowerPeakLr']);
    assert.equal(fix, 'addWarmup');
    assertHealthy(await train(fixed, { backend }));
  });

  test('why clipping is not offered under Adam: with it, the run explodes at the same step', async () => {
    const job = exampleJob('mnist-exploding', (j) => {
      j.optimizer = { type: 'adam', lr: 0.05 };
      j.schedule = { type: 'constant', lr: 0.05 };
      j.clip = { type: 'globalNorm', maxNorm: 1 };
    });
    const run = await train(job, { backend, maxSteps: 20 });
    assert.ok(explosions(run)[0].step <= 2, 'clipping did not move the explosion');
    const { advice } = adviseAndFix(job, run);
    assert.ok(!advice.fixes.includes('addClipping'));
    assert.doesNotMatch(advice.message, /clip threshold/);
  });

  test('SGD with momentum at too high a rate: the clipping fix (offered first) removes the explosion', async () => {
    const job = exampleJob('mnist-exploding', (j) => {
      j.optimizer = { type: 'momentum', lr: 0.5, momentum: 0.9 };
      j.schedule = { type: 'constant', lr: 0.5 };
    });
    const run = await train(job, { backend, maxSteps: 20 });
    assert.ok(explosions(run).length > 0, 'explodes');
    const { fix, fixed } = adviseAndFix(job, run);
    assert.equal(fix, 'addClipping');
    assertHealthy(await train(fixed, { backend }));
  });
});
