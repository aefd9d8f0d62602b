import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultLrFindOptions, explosionRate, suggest, SweepMonitor, sweepSchedule, valleyIndex } from '../../src/core/tools/lrFind';
import { seededNormal } from '../../src/core/random';
import { createSchedule } from '../../src/core/schedules';

/** A textbook range-test curve: flat, a long descent from 1e-4 to 1e-1, then a blow-up; with noise. */
function sweep(noise: number, seed = 1, spikeAt?: number) {
  const normal = seededNormal(seed);
  const lrs = Array.from({ length: 100 }, (_, i) => 1e-7 * 1e8 ** (i / 99));
  const losses = lrs.map((lr, i) => {
    const x = Math.log10(lr);
    const base = x < -4 ? 2.3 : x < -1 ? 2.3 - 2 * ((x + 4) / 3) : 0.3 + 30 * (x + 1) ** 2;
    return base * Math.exp(noise * normal()) * (i === spikeAt ? 5 : 1);
  });
  const gradNorms = lrs.map((lr) => (lr < 0.3 ? 1 + 0.1 * Math.abs(normal()) : 50 * lr));
  const monitor = new SweepMonitor(defaultLrFindOptions);
  let stopped: string | undefined;
  let n = 0;
  for (; n < losses.length && !stopped; n++) stopped = monitor.observe(losses[n]);
  return { lrs: lrs.slice(0, n), losses: losses.slice(0, n), gradNorms: gradNorms.slice(0, n), smoothed: monitor.smoothed, stopped };
}

describe('learning-rate range test', () => {
  test('the sweep schedule goes from startLr to endLr exponentially', () => {
    const schedule = createSchedule(sweepSchedule(defaultLrFindOptions));
    assert.equal(schedule.at(0), 1e-7);
    assert.ok(Math.abs(schedule.at(99) / 10 - 1) < 1e-9);
    assert.ok(Math.abs(schedule.at(50) / schedule.at(49) - schedule.at(1) / schedule.at(0)) < 1e-9);
  });

  test('the monitor stops once the smoothed loss passes 4× its best, or at a non-finite loss', () => {
    const { stopped, lrs } = sweep(0);
    assert.match(stopped!, /passed 4× its best/);
    assert.ok(lrs.at(-1)! > 0.1 && lrs.at(-1)! < 10);
    assert.equal(new SweepMonitor(defaultLrFindOptions).observe(NaN), 'the loss is not finite');
  });

  test('the suggestion lies in the descent, on a clean and on a noisy curve', () => {
    for (const noise of [0, 0.05, 0.15]) {
      const s = sweep(noise, 3);
      const result = suggest(s.lrs, s.losses, s.smoothed, s.gradNorms, s.stopped);
      assert.ok(result.suggestion > 1e-4 && result.suggestion < 1e-1, `noise ${noise}: ${result.suggestion} (${JSON.stringify(result.methods)})`);
    }
  });

  test('one loss spike early in the sweep does not move the suggestion out of the descent', () => {
    const s = sweep(0.05, 4, 15);
    const result = suggest(s.lrs, s.losses, s.smoothed, s.gradNorms, s.stopped);
    assert.ok(result.suggestion > 1e-4 && result.suggestion < 1e-1, `${result.suggestion}`);
  });

  test('a persistent gradient explosion caps the suggestion at a third of its rate; a lone spike does not', () => {
    const lrs = Array.from({ length: 60 }, (_, i) => 1e-5 * 1.2 ** i);
    const losses = lrs.map(() => 1);
    const steady = lrs.map((_, i) => (i >= 40 ? 10 * 1.5 ** (i - 40) : 1));
    assert.equal(explosionRate(lrs, losses, steady), lrs[40]);
    const lone = lrs.map((_, i) => (i === 20 ? 100 : 1));
    assert.equal(explosionRate(lrs, losses, lone), undefined);
  });

  test('valley picks halfway down the longest descent (fastai: start + len/3 + len/6)', () => {
    const losses = [5, 5, 4, 3, 2, 1, 0.5, 0.4, 3, 9];
    assert.equal(valleyIndex(losses), 3);
  });
});
