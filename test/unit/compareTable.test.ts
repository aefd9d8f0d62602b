import assert from 'node:assert/strict';
import { test } from 'node:test';
import { finalLoss, sortRows, stepsToTarget, toCsv, toMarkdown, type CompareRow } from '../../src/core/tools/compareTable';
import { parseJobText } from '../../src/core/job/parse';
import { applyStrategy, defaultStrategies, DEFAULT_STRATEGY_NAMES } from '../../src/core/tools/strategies';

const row = (strategy: string, loss: number | null, accuracy: number | null): CompareRow => ({
  strategy,
  description: `${strategy}, "quoted", with | pipe`,
  status: 'finished',
  steps: 10,
  finalTrainLoss: loss,
  finalValidationLoss: loss,
  finalValidationAccuracy: accuracy,
  stepsToTarget: null,
  explosions: 0,
  nonFinite: 0,
  wallTimeMs: 1000,
});

test('every default strategy applied to a job gives a valid job', () => {
  const job = parseJobText(
    JSON.stringify({ name: 'j', data: { type: 'synthetic' }, model: [{ type: 'dense', units: 3 }], optimizer: { type: 'sgd', lr: 0.1 }, schedule: { type: 'constant', lr: 0.1 } }),
  );
  const strategies = defaultStrategies(job, 315);
  assert.deepEqual(
    strategies.map((s) => s.name),
    [...DEFAULT_STRATEGY_NAMES],
  );
  for (const strategy of strategies) parseJobText(JSON.stringify(applyStrategy(job, strategy)));
});

test('final loss averages the last finite losses; steps to target uses the running mean', () => {
  assert.equal(finalLoss([5, 4, NaN, 2, 2], 2), 2);
  assert.equal(finalLoss([NaN]), null);
  assert.equal(stepsToTarget([0, 1, 2, 3, 4, 5], [4, 3, 2, 1, 1, 1], 1.5, 2), 3);
  assert.equal(stepsToTarget([0, 1, 2], [4, 3, 2], 1, 2), null);
});

test('sorting puts nulls last, losses ascending, accuracy descending', () => {
  const rows = [row('a', 0.5, 0.8), row('b', null, null), row('c', 0.2, 0.9)];
  assert.deepEqual(
    sortRows(rows, 'finalValidationLoss').map((r) => r.strategy),
    ['c', 'a', 'b'],
  );
  assert.deepEqual(
    sortRows(rows, 'finalValidationAccuracy').map((r) => r.strategy),
    ['c', 'a', 'b'],
  );
});

test('CSV quotes what needs quoting; Markdown escapes pipes', () => {
  const csv = toCsv([row('a', 0.12345, null)]).split('\n');
  assert.equal(csv[0], 'strategy,description,status,steps,finalTrainLoss,finalValidationLoss,finalValidationAccuracy,stepsToTarget,explosions,nonFinite,wallTimeMs');
  assert.equal(csv[1], 'a,"a, ""quoted"", with | pipe",finished,10,0.1235,0.1235,,,0,0,1000');
  assert.match(toMarkdown([row('a', 1, 1)]), /\| a \| a, "quoted", with \\\| pipe \| finished \|/);
  // People read the Markdown: titles, not keys.
  assert.equal(toMarkdown([]).split('\n')[0], '| Strategy | What | Status | Steps | Train loss | Val. loss | Val. accuracy | Steps to target | Explosions | Non-finite | Time (ms) |');
});
