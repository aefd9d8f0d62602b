import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseWebviewMessage } from '../../src/core/protocol';

test('well-formed webview messages pass; anything else is dropped', () => {
  assert.deepEqual(parseWebviewMessage({ type: 'ready' }), { type: 'ready' });
  assert.deepEqual(parseWebviewMessage({ type: 'stop', runId: 'r1', extra: 1 }), { type: 'stop', runId: 'r1' });
  assert.deepEqual(parseWebviewMessage({ type: 'setLrMultiplier', runId: 'r1', value: 0.5 }), { type: 'setLrMultiplier', runId: 'r1', value: 0.5 });
  assert.deepEqual(parseWebviewMessage({ type: 'revealEvent', runId: 'r1', step: 12 }), { type: 'revealEvent', runId: 'r1', step: 12 });
  assert.deepEqual(parseWebviewMessage({ type: 'sortCompare', column: 'wallTimeMs' }), { type: 'sortCompare', column: 'wallTimeMs' });
  assert.deepEqual(parseWebviewMessage({ type: 'exportCompare', format: 'csv' }), { type: 'exportCompare', format: 'csv' });
  assert.deepEqual(parseWebviewMessage({ type: 'ready', show: ['r1', 7], width: 900 }), { type: 'ready', show: ['r1'], width: 900 });
  assert.deepEqual(parseWebviewMessage({ type: 'showRuns', runIds: ['r1', 'r2'] }), { type: 'showRuns', runIds: ['r1', 'r2'] });
  assert.deepEqual(parseWebviewMessage({ type: 'requestRange', runId: 'r1', min: 10, max: 20.5, width: 800 }), { type: 'requestRange', runId: 'r1', min: 10, max: 20.5, width: 800 });
  for (const bad of [
    { type: 'showRuns', runIds: [1] },
    { type: 'requestRange', runId: 'r', min: 5, max: 1, width: 10 },
    { type: 'requestRange', runId: 'r', min: 0, max: 1, width: 1e9 },
    { type: 'sortCompare', column: 'constructor' },
    { type: 'exportCompare', format: 'html' },
    null,
    'ready',
    {},
    { type: 'stop' },
    { type: 'stop', runId: 3 },
    { type: 'setLrMultiplier', runId: 'r', value: -1 },
    { type: 'setClipThreshold', runId: 'r', value: NaN },
    { type: 'revealEvent', runId: 'r', step: 1.5 },
    { type: 'eval', code: 'x' },
  ]) {
    assert.equal(parseWebviewMessage(bad), undefined, JSON.stringify(bad));
  }
});
