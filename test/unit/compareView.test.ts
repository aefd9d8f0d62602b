import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COLUMNS, type CompareRow } from '../../src/core/tools/compareTable';
import { bestValues, compareColumns, formatCell } from '../../webview/compareView';

const row = (strategy: string, values: Partial<CompareRow>): CompareRow => ({
  strategy,
  description: '',
  status: 'finished',
  steps: 315,
  finalTrainLoss: 0.1,
  finalValidationLoss: 0.2,
  finalValidationAccuracy: 0.9,
  stepsToTarget: 100,
  explosions: 0,
  nonFinite: 0,
  wallTimeMs: 6000,
  ...values,
});

test('the compare table shows words, never raw keys, and every column but the description', () => {
  assert.deepEqual(
    compareColumns.map((c) => c.key),
    COLUMNS.filter((c) => c !== 'description'),
  );
  for (const column of compareColumns) {
    assert.doesNotMatch(column.title, /[a-z][A-Z]/, `${column.title} reads as a key`);
    assert.doesNotMatch(column.order, /[a-z][A-Z]/);
  }
  const total = compareColumns.reduce((sum, c) => sum + Number.parseFloat(c.width), 0);
  assert.equal(total, 100);
});

test('cells: accuracy in %, time in seconds, losses to 3 digits, – for none', () => {
  assert.equal(formatCell('finalValidationAccuracy', 0.9425), '94.3%');
  assert.equal(formatCell('wallTimeMs', 6234), '6.2 s');
  assert.equal(formatCell('wallTimeMs', 61234), '61 s');
  assert.equal(formatCell('finalTrainLoss', 0.066502), '0.0665');
  assert.equal(formatCell('stepsToTarget', null), '–');
  assert.equal(formatCell('finalValidationLoss', NaN), '–');
  assert.equal(formatCell('status', 'finished'), 'finished');
});

test('the best value per column: lowest loss, highest accuracy; none where all rows agree', () => {
  const best = bestValues([
    row('a', { finalValidationLoss: 0.3, finalValidationAccuracy: 0.8, wallTimeMs: 5000 }),
    row('b', { finalValidationLoss: 0.2, finalValidationAccuracy: 0.95, stepsToTarget: null }),
  ]);
  assert.equal(best.finalValidationLoss, 0.2);
  assert.equal(best.finalValidationAccuracy, 0.95);
  assert.equal(best.wallTimeMs, 5000);
  assert.equal(best.explosions, undefined, 'all zero: no best');
  assert.equal(best.stepsToTarget, undefined, 'one value: no best');
  assert.equal(best.steps, undefined, 'steps are not better or worse');
});
