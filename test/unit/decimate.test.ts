import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decimate } from '../../src/core/series/decimate';
import { appendBatch } from '../../src/core/series/stepColumns';

const series = fc.array(fc.oneof({ weight: 20, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) }, { weight: 1, arbitrary: fc.constant(NaN) }), { minLength: 1, maxLength: 3000 });

test('every flagged step stays visible after decimation, whatever the data and width', () => {
  fc.assert(
    fc.property(series, fc.integer({ min: 1, max: 200 }), fc.array(fc.nat(), { maxLength: 30 }), (values, width, flags) => {
      const keep = flags.map((f) => f % values.length);
      const kept = new Set(decimate(values, width, { keep }));
      for (const step of keep) assert.ok(kept.has(step), `flagged step ${step} dropped`);
    }),
  );
});

test('each bucket keeps its extremes; output is sorted, unique and at most 4 points a bucket', () => {
  fc.assert(
    fc.property(series, fc.integer({ min: 1, max: 200 }), (values, width) => {
      const indices = decimate(values, width);
      assert.ok(indices.length <= width * 4);
      for (let i = 1; i < indices.length; i++) assert.ok(indices[i] > indices[i - 1]);
      const finite = values.filter(Number.isFinite);
      if (finite.length) {
        const shown = [...indices].map((i) => values[i]);
        assert.ok(shown.includes(Math.max(...finite)) && shown.includes(Math.min(...finite)));
      }
    }),
  );
});

test('a lone spike in a million points survives a 1000-point budget; reservoir sampling would lose it', () => {
  const values = new Float64Array(1_000_000).fill(1);
  values[654_321] = 1e4;
  const indices = decimate(values, 1000);
  assert.ok(indices.includes(654_321));
  assert.ok(indices.length <= 4000);
});

test('a zoomed range decimates only that range', () => {
  const values = Array.from({ length: 10_000 }, (_, i) => Math.sin(i));
  const indices = decimate(values, 10, { start: 5000, end: 6000, keep: [10, 5500] });
  assert.ok([...indices].every((i) => i >= 5000 && i < 6000));
  assert.ok(indices.includes(5500) && !indices.includes(10));
});

test('appending a batch of a million steps (a large run log read back) works', () => {
  const big = Array.from({ length: 1_000_000 }, (_, i) => i);
  const target = { step: [0], lr: [0], loss: [0], gradNorm: [0] };
  appendBatch(target, { step: big, lr: big, loss: big, gradNorm: big, layerGradNorms: [big] });
  assert.equal(target.step.length, 1_000_001);
  assert.equal(target.gradNorm.at(-1), 999_999);
});

test('keepNonFinite keeps a NaN or Infinity from each bucket, so the chart can mark it', () => {
  const values = Array.from({ length: 100_000 }, (_, i) => (i === 54_321 ? NaN : i === 77_777 ? Infinity : 1 + (i % 7)));
  const plain = new Set(decimate(values, 100));
  assert.ok(!plain.has(54_321) && !plain.has(77_777));
  const kept = new Set(decimate(values, 100, { keepNonFinite: true }));
  assert.ok(kept.has(54_321) && kept.has(77_777));
});
