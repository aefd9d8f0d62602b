import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { applyEdits } from 'jsonc-parser';
import { adviceFor } from '../../src/core/job/advice';
import { checkJobText } from '../../src/core/job/parse';
import { fixTitle, jobFixEdits, setPeakLrEdits, type JobFix } from '../../src/core/job/edits';
import { describe as describeSchedule, schedulePresets } from '../../src/core/schedules/presets';
import { createSchedule, type ScheduleSpec } from '../../src/core/schedules';

const example = readFileSync(join(__dirname, '../../examples/mnist-exploding.gradscope.json'), 'utf8');
const withSchedule = (optimizer: object, schedule: object) => `${JSON.stringify({ ...JSON.parse(example), optimizer, schedule }, null, 2)}\n`;
/** The example as it was: Adam at a constant 0.1, exploding at step 1. */
const exploding = withSchedule({ type: 'adam', lr: 0.1 }, { type: 'constant', lr: 0.1 });
/** Adam warmed up linearly to too high a peak: it explodes near the end of the warmup (step 125, lr 0.167). */
const warmedUp = withSchedule({ type: 'adam', lr: 0.2 }, { type: 'warmupCosine', lr: 0.2, warmupSteps: 150, totalSteps: 315 });
/** The same job under SGD with momentum. */
const momentum = exploding.replace('"type": "adam"', '"type": "momentum"');
const fix = (text: string, kind: JobFix, steps = 315, lrAtEvent?: number) => applyEdits(text, jobFixEdits(text, kind, steps, lrAtEvent));
const parsed = (text: string) => {
  const { job, problems } = checkJobText(text);
  assert.deepEqual(problems, []);
  return job!;
};

describe('quick fixes', () => {
  test('add clipping, add warmup and halve the lr each give a valid job that says so', () => {
    assert.deepEqual(parsed(fix(exploding, 'addClipping')).clip, { type: 'globalNorm', maxNorm: 1 });
    const warmed = parsed(fix(exploding, 'addWarmup')).schedule;
    assert.deepEqual(warmed, { type: 'warmupStableDecay', lr: 0.1, warmupSteps: 32, stableSteps: 315, decaySteps: 0, minLrRatio: 0, decayType: 'cosine' });
    const halved = parsed(fix(exploding, 'halvePeakLr'));
    assert.equal(halved.optimizer.lr, 0.05);
    assert.equal((halved.schedule as { lr: number }).lr, 0.05);
  });

  test('all three together turn the exploding example into one that warms up, clips and runs at half the rate', () => {
    const fixed = parsed(fix(fix(fix(exploding, 'addClipping'), 'addWarmup'), 'halvePeakLr'));
    const schedule = createSchedule(fixed.schedule);
    assert.equal(schedule.at(0), 0);
    assert.equal(schedule.at(32), 0.05);
    assert.equal(fixed.clip?.type, 'globalNorm');
  });

  test('a warmup in front of another schedule is a sequential one that starts low', () => {
    const text = exploding.replace('"schedule": {\n    "type": "constant",\n    "lr": 0.1\n  }', '"schedule": {"type": "cosine", "lr": 0.1, "tMax": 315}');
    const schedule = parsed(fix(text, 'addWarmup')).schedule as Extract<ScheduleSpec, { type: 'sequential' }>;
    assert.equal(schedule.type, 'sequential');
    assert.deepEqual(schedule.milestones, [32]);
    const rates = createSchedule(schedule);
    assert.ok(rates.at(0) < 0.01 && Math.abs(rates.at(32) - 0.1) < 1e-12);
  });

  test('fixes keep the rest of the file as it was, and do nothing where there is nothing to do', () => {
    const clipped = fix(exploding, 'addClipping');
    assert.ok(clipped.startsWith(exploding.slice(0, exploding.indexOf('"epochs"'))));
    assert.deepEqual(jobFixEdits(clipped, 'addClipping', 315), []);
    assert.deepEqual(jobFixEdits(warmedUp, 'addWarmup', 315), [], 'the job already warms up');
    assert.deepEqual(jobFixEdits(warmedUp, 'rampLr', 315), [], 'no jump to ramp');
  });

  test('lowering the peak aims at a third of the rate it exploded at, and says so', () => {
    const lowered = parsed(fix(warmedUp, 'lowerPeakLr', 315, 0.1667));
    assert.equal((lowered.schedule as { lr: number }).lr, 0.056);
    assert.equal(lowered.optimizer.lr, 0.056);
    assert.equal(fixTitle(warmedUp, 'lowerPeakLr', { totalSteps: 315, lrAtEvent: 0.1667 }), 'Lower the peak learning rate to 0.056 (a third of the 0.167 it exploded at)');
    assert.equal((parsed(fix(warmedUp, 'lowerPeakLr', 315)).schedule as { lr: number }).lr, 0.1, 'without the rate: half');
  });

  test("a constant warmup that ends in a jump is ramped instead (the fixed example's first stage)", () => {
    assert.equal(fixTitle(example, 'rampLr', { totalSteps: 315 }), 'Ramp the rate from 0.001 to 0.05 over steps 0–100 instead of jumping at step 100');
    const ramped = parsed(fix(example, 'rampLr')).schedule as Extract<ScheduleSpec, { type: 'sequential' }>;
    assert.deepEqual(ramped.schedules[0], { type: 'linear', lr: 0.05, startFactor: 0.02, endFactor: 1, totalIters: 100 });
    const rates = createSchedule(ramped);
    assert.ok(Math.abs(rates.at(0) - 0.001) < 1e-12 && Math.abs(rates.at(100) - 0.05) < 1e-12);
    // Linear: the same small rise every step, no jump anywhere.
    for (let step = 1; step <= 100; step++) assert.ok(Math.abs(rates.at(step) - rates.at(step - 1) - 0.049 / 100) < 1e-9, `step ${step}`);
    assert.equal(fixTitle(exploding, 'addWarmup', { totalSteps: 315 }), 'Add a linear warmup over 32 steps (10% of the run)');
  });
});

test('setting the peak lr scales every lr field in proportion', () => {
  const text = readFileSync(join(__dirname, '../../examples/mnist-warmup-cosine.gradscope.json'), 'utf8');
  const job = parsed(applyEdits(text, setPeakLrEdits(text, 0.005857020818)));
  assert.equal((job.schedule as { lr: number }).lr, 0.005857);
  assert.equal(job.optimizer.lr, 0.005857);
});

describe('event advice', () => {
  const early = { kind: 'explosion', step: 1, severity: 'warning', grade: 'beyondRange', gradNorm: 30.6, level: 1.26, ratio: 24.3, zScore: NaN } as const;
  const late = { kind: 'explosion', step: 125, severity: 'warning', grade: 'beyondRange', gradNorm: 8.44, level: 1.63, ratio: 5.17, zScore: 3.57 } as const;

  test('under Adam, an explosion at the start calls for a warmup first, and never for clipping', () => {
    const advice = adviceFor(early, exploding)!;
    assert.deepEqual(advice.path, ['schedule', 'lr']);
    assert.equal(
      advice.message,
      "Gradient explosion at step 1: ‖g‖ 30.6 is 24.3× its running level 1.26 at lr 0.1, before adam's moment estimates settle (its first updates move every weight by about the learning rate). Warm the rate up, or lower the peak learning rate.",
    );
    assert.deepEqual(advice.fixes, ['addWarmup', 'lowerPeakLr']);
    const clipped = adviceFor(early, fix(exploding, 'addClipping'))!;
    assert.deepEqual(clipped.path, ['schedule', 'lr'], 'clipping is not what to change under Adam');
    assert.match(clipped.message, /Clipping cannot prevent it: adam divides the gradient's scale out of its update\./);
    assert.doesNotMatch(clipped.message, /clip threshold/);
    assert.ok(!clipped.fixes.includes('addClipping'));
    for (const optimizer of ['adamw', 'rmsprop', 'adagrad']) {
      assert.ok(!adviceFor(early, exploding.replace('"type": "adam"', `"type": "${optimizer}"`))!.fixes.includes('addClipping'), optimizer);
    }
  });

  test('under Adam, an explosion at the end of a warmup calls for a lower peak only', () => {
    const advice = adviceFor(late, warmedUp)!;
    assert.deepEqual(advice.fixes, ['lowerPeakLr']);
    assert.ok(Math.abs(advice.lrAtEvent! - (0.2 * 125) / 150) < 1e-12);
    assert.equal(advice.message, 'Gradient explosion at step 125: ‖g‖ 8.44 is 5.17× its running level 1.63 at lr 0.167: the rate is too high for this model. Lower the peak learning rate.');
    // The plan the run really followed wins over the job text's schedule.
    const planned = Array.from({ length: 315 }, () => 0.2);
    assert.deepEqual(adviceFor(late, warmedUp, { plannedLr: planned })!.fixes, ['lowerPeakLr', 'addWarmup']);
  });

  test('a job is understood once per text and context, and another is never answered from the last', () => {
    const planned = Array.from({ length: 315 }, () => 0.2);
    const withPlan = adviceFor(late, warmedUp, { plannedLr: planned });
    assert.deepEqual(adviceFor(late, warmedUp, { plannedLr: planned }), withPlan);
    assert.deepEqual(adviceFor(late, warmedUp)!.fixes, ['lowerPeakLr']);
    assert.deepEqual(adviceFor(late, warmedUp, { plannedLr: [...planned] }), withPlan);
    assert.deepEqual(adviceFor(late, exploding)!.path, ['schedule', 'lr']);
    assert.deepEqual(adviceFor(late, warmedUp, { plannedLr: planned }), withPlan);
  });

  test('an explosion just after the rate jumped blames the jump, under any optimizer', () => {
    const atJump = { kind: 'explosion', step: 101, severity: 'warning', grade: 'beyondRange', gradNorm: 9, level: 1, ratio: 9, zScore: 5 } as const;
    const advice = adviceFor(atJump, example)!;
    assert.equal(
      advice.message,
      'Gradient explosion at step 101: ‖g‖ 9 is 9× its running level 1 at lr 0.05, just after the rate jumped 50× (from 0.001). Ramp it up linearly instead of jumping, or lower the peak learning rate.',
    );
    assert.deepEqual(advice.fixes, ['rampLr', 'lowerPeakLr']);
    assert.deepEqual(adviceFor(atJump, example.replace('"type": "adam"', '"type": "momentum"'))!.fixes, ['rampLr', 'addClipping', 'lowerPeakLr']);
  });

  test('under SGD and momentum, clipping comes first; once it clips, the advice is the rate', () => {
    const advice = adviceFor(early, momentum)!;
    assert.deepEqual(advice.fixes, ['addClipping', 'lowerPeakLr', 'addWarmup']);
    assert.match(advice.message, /Clip the global gradient norm \(momentum's update grows with the gradient\), or lower the peak learning rate\.$/);
    const clipped = adviceFor(early, fix(momentum, 'addClipping'))!;
    assert.deepEqual(clipped.path, ['clip']);
    assert.match(clipped.message, /Clipping at maxNorm 1 bounded the update but not the gradient: lower the peak learning rate, or warm it up\.$/);
    assert.deepEqual(clipped.fixes, ['lowerPeakLr', 'addWarmup']);
  });

  test('non-finite values point at the optimizer lr; vanishing at the layer', () => {
    assert.deepEqual(adviceFor({ kind: 'nonFinite', step: 3, severity: 'warning', fields: ['loss'], loss: NaN, gradNorm: 1 }, exploding)!.path, ['optimizer', 'lr']);
    const vanishing = adviceFor({ kind: 'vanishing', step: 12, severity: 'warning', layer: 'dense_2', gradNorm: 0, ratioToMax: 0 }, exploding)!;
    assert.deepEqual(vanishing.path, ['model', 2]);
    assert.match(vanishing.message, /^Vanishing gradient in dense_2 from step 12/);
  });
});

describe('schedule presets', () => {
  test("the job's own schedule comes first; every preset is a valid schedule with a description", () => {
    const presets = schedulePresets({ type: 'constant', lr: 0.1 }, 0.1, 315);
    assert.match(presets[0].label, /Job's schedule \(constant\)/);
    assert.deepEqual(presets.map((p) => p.label.replace(/^\$\(file\) /, '')).slice(1), [
      'Constant',
      'Step decay',
      'Cosine',
      'Warmup + cosine',
      'One-cycle',
      'Cyclic (triangular)',
      'Reduce on plateau',
    ]);
    for (const preset of presets) {
      const schedule = createSchedule(preset.spec);
      assert.ok(preset.detail.length > 10);
      assert.ok(describeSchedule(schedule.spec, 315).length > 5);
    }
    assert.equal(presets[4].detail, '0 → 0.1 linearly over 16 steps, then a half cosine to 0 at step 315');
  });
});
