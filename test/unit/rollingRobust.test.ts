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
  fc.assert(fc.property(fc.integer({ min: 1, max: 12 }), fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { maxLength: 80 }), (capacity, values) => {
    const rolling = new RollingRobust(capacity);
    values.forEach((value, i) => {
      rolling.push(value);
      const window = values.slice(Math.max(0, i + 1 - capacity), i + 1);
      const m = median(window);
      assert.equal(rolling.median(), m);
      assert.equal(rolling.medianAbsoluteDeviation(), median(window.map((v) => Math.abs(v - m))));
    });
  }));
});
