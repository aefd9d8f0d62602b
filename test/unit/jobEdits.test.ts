import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { applyEdits } from 'jsonc-parser';
import { adviceFor } from '../../src/core/eventAdvice';
import { checkJobText } from '../../src/core/job';
import { jobFixEdits, setPeakLrEdits, type JobFix } from '../../src/core/jobEdits';
import { describe as describeSchedule, schedulePresets } from '../../src/core/schedulePresets';
import { createSchedule, type ScheduleSpec } from '../../src/core/schedules';

const exploding = readFileSync(join(__dirname, '../../examples/mnist-exploding.gradscope.json'), 'utf8');
const fix = (text: string, kind: JobFix, steps = 315) => applyEdits(text, jobFixEdits(text, kind, steps));
const parsed = (text: string) => {
  const { job, problems } = checkJobText(text);
  assert.deepEqual(problems, []);
  return job!;
};

describe('quick fixes', () => {
  test('add clipping, add warmup and halve the lr each give a valid job that says so', () => {
    assert.deepEqual(parsed(fix(exploding, 'addClipping')).clip, { type: 'globalNorm', maxNorm: 1 });
    const warmed = parsed(fix(exploding, 'addWarmup')).schedule;
    assert.deepEqual(warmed, { type: 'warmupStableDecay', lr: 0.1, warmupSteps: 16, stableSteps: 315, decaySteps: 0, minLrRatio: 0, decayType: 'cosine' });
    const halved = parsed(fix(exploding, 'halvePeakLr'));
    assert.equal(halved.optimizer.lr, 0.05);
    assert.equal((halved.schedule as { lr: number }).lr, 0.05);
  });

  test('all three together turn the exploding example into one that warms up, clips and runs at half the rate', () => {
    const fixed = parsed(fix(fix(fix(exploding, 'addClipping'), 'addWarmup'), 'halvePeakLr'));
    const schedule = createSchedule(fixed.schedule);
    assert.equal(schedule.at(0), 0);
    assert.equal(schedule.at(16), 0.05);
    assert.equal(fixed.clip?.type, 'globalNorm');
  });

  test('a warmup in front of another schedule is a sequential one that starts low', () => {
    const text = exploding.replace('"schedule": {\n    "type": "constant",\n    "lr": 0.1\n  }', '"schedule": {"type": "cosine", "lr": 0.1, "tMax": 315}');
    const schedule = parsed(fix(text, 'addWarmup')).schedule as Extract<ScheduleSpec, { type: 'sequential' }>;
    assert.equal(schedule.type, 'sequential');
    assert.deepEqual(schedule.milestones, [16]);
    const rates = createSchedule(schedule);
    assert.ok(rates.at(0) < 0.01 && Math.abs(rates.at(16) - 0.1) < 1e-12);
  });

  test('fixes keep the rest of the file as it was, and do nothing where there is nothing to do', () => {
    const clipped = fix(exploding, 'addClipping');
    assert.ok(clipped.startsWith(exploding.slice(0, exploding.indexOf('"epochs"'))));
    assert.deepEqual(jobFixEdits(clipped, 'addClipping', 315), []);
  });
});

test('setting the peak lr scales every lr field in proportion', () => {
  const text = readFileSync(join(__dirname, '../../examples/mnist-warmup-cosine.gradscope.json'), 'utf8');
  const job = parsed(applyEdits(text, setPeakLrEdits(text, 0.005857020818)));
  assert.equal((job.schedule as { lr: number }).lr, 0.005857);
  assert.equal(job.optimizer.lr, 0.005857);
});

describe('event advice', () => {
  test('an explosion points at the peak lr, or at clip when the job clips', () => {
    const event = { kind: 'explosion', step: 1, severity: 'warning', grade: 'beyondRange', gradNorm: 30.6, level: 1.26, ratio: 24.3, zScore: NaN } as const;
    const advice = adviceFor(event, exploding)!;
    assert.deepEqual(advice.path, ['schedule', 'lr']);
    assert.equal(advice.message, 'Gradient explosion at step 1: ‖g‖ 30.6 is 24.3× its running level 1.26. Lower the peak learning rate, add a warmup, or clip the global gradient norm.');
    assert.deepEqual(advice.fixes, ['addClipping', 'addWarmup', 'halvePeakLr']);
    assert.deepEqual(adviceFor(event, fix(exploding, 'addClipping'))!.path, ['clip']);
  });

  test('non-finite values point at the optimizer lr; vanishing at the layer', () => {
    assert.deepEqual(adviceFor({ kind: 'nonFinite', step: 3, severity: 'warning', fields: ['loss'], loss: NaN, gradNorm: 1 }, exploding)!.path, ['optimizer', 'lr']);
    const vanishing = adviceFor({ kind: 'vanishing', step: 12, severity: 'warning', layer: 'dense_2', gradNorm: 0, ratioToMax: 0 }, exploding)!;
    assert.deepEqual(vanishing.path, ['model', 2]);
    assert.match(vanishing.message, /^Vanishing gradient in dense_2 from step 12/);
  });
});

describe('schedule presets', () => {
  test('the job\'s own schedule comes first; every preset is a valid schedule with a description', () => {
    const presets = schedulePresets({ type: 'constant', lr: 0.1 }, 0.1, 315);
    assert.match(presets[0].label, /Job's schedule \(constant\)/);
    assert.deepEqual(presets.map((p) => p.label.replace(/^\$\(file\) /, '')).slice(1), ['Constant', 'Step decay', 'Cosine', 'Warmup + cosine', 'One-cycle', 'Cyclic (triangular)', 'Reduce on plateau']);
    for (const preset of presets) {
      const schedule = createSchedule(preset.spec);
      assert.ok(preset.detail.length > 10);
      assert.ok(describeSchedule(schedule.spec, 315).length > 5);
    }
    assert.equal(presets[4].detail, '0 → 0.1 linearly over 16 steps, then a half cosine to 0 at step 315');
  });
});
