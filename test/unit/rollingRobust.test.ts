import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { RollingRobust } from '../../src/core/detect/rollingRobust';

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

test('rolling median and MAD equal the naive ones over the last window', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 12 }), fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { maxLength: 80 }), (capacity, values) => {
      const rolling = new RollingRobust(capacity);
      values.forEach((value, i) => {
        rolling.push(value);
        const window = values.slice(Math.max(0, i + 1 - capacity), i + 1);
        const m = median(window);
        assert.equal(rolling.median(), m);
        assert.equal(rolling.medianAbsoluteDeviation(), median(window.map((v) => Math.abs(v - m))));
      });
    }),
  );
});

test('k-th largest, the median and MAD of the upper values, and the split at the widest gap equal the naive ones', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 12 }), fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 1, maxLength: 60 }), (capacity, values) => {
      const rolling = new RollingRobust(capacity);
      values.forEach((value, i) => {
        rolling.push(value);
        const sorted = values.slice(Math.max(0, i + 1 - capacity), i + 1).sort((a, b) => a - b);
        const n = sorted.length;
        assert.equal(rolling.largest(1), sorted[n - 1]);
        assert.ok(Number.isNaN(rolling.largest(n + 1)));
        const from = Math.floor(n / 3);
        const upper = sorted.slice(from);
        const m = median(upper);
        assert.equal(rolling.median(from), m);
        assert.equal(rolling.medianAbsoluteDeviation(m, from), median(upper.map((v) => Math.abs(v - m))));
        let widest = 50;
        let start = -1;
        for (let j = 1; j <= n - 2; j++) if (sorted[j] - sorted[j - 1] >= widest) [widest, start] = [sorted[j] - sorted[j - 1], j];
        assert.equal(rolling.upperGroupStart(50, 2), start);
      });
    }),
  );
});

test('with many equal values (the one-pass replace moves past duplicates correctly)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 9 }), fc.array(fc.integer({ min: -3, max: 3 }), { maxLength: 120 }), (capacity, values) => {
      const rolling = new RollingRobust(capacity);
      values.forEach((value, i) => {
        rolling.push(value);
        const window = values.slice(Math.max(0, i + 1 - capacity), i + 1);
        assert.equal(rolling.median(), median(window));
        for (let k = 1; k <= window.length; k++) assert.equal(rolling.largest(k), [...window].sort((a, b) => b - a)[k - 1]);
      });
    }),
    { numRuns: 300 },
  );
});
