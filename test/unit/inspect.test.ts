// The Inspector: the detectors over any log's rows, with what a reader of its output needs folded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeEvent } from '../../src/core/detect/describe';
import { Inspector } from '../../src/core/logs/inspect';
import type { MetricsRow } from '../../src/core/logs/rows';

const row = (step: number, value: number): MetricsRow => ({ step, loss: value, gradNorm: value, layers: new Map(), segment: 0 });

test('a streak of non-finite rows (weights gone NaN) lists its first three rows, then its 10th, 100th…, and a note says how long it lasted', () => {
  const inspector = new Inspector();
  const live: number[] = [];
  for (let step = 0; step < 1000; step++) {
    for (const event of inspector.add(row(step, step >= 10 && step < 990 ? NaN : 1))) if (event.kind === 'nonFinite') live.push(event.step);
  }
  const nonFinite = inspector.result().events.filter((e) => e.kind === 'nonFinite');
  assert.deepEqual(
    nonFinite.map((e) => [e.step, e.kind === 'nonFinite' ? e.streak : undefined]),
    [
      [10, undefined],
      [11, 2],
      [12, 3],
      [19, 10],
      [109, 100],
    ],
  );
  assert.deepEqual(live, [10, 11, 12, 19, 109], 'what a follower prints as rows come is folded the same way');
  assert.match(describeEvent(nonFinite[2]), /\(3 rows in a row; listed again at 10, 100, 1000… in a row\)$/);
  assert.deepEqual(inspector.result().notes, ['non-finite values on 980 rows in a row from step 10 to 989: listed are the first 3 and the 10th, 100th… of them']);
  // A new streak after finite rows starts counting again.
  for (let step = 1000; step < 1005; step++) inspector.add(row(step, NaN));
  assert.deepEqual(
    inspector
      .result()
      .events.filter((e) => e.kind === 'nonFinite' && e.step >= 1000)
      .map((e) => e.step),
    [1000, 1001, 1002],
  );
  assert.equal(inspector.result().notes.length, 2);
});
