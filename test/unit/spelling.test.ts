import assert from 'node:assert/strict';
import { test } from 'node:test';
import { editDistance, likelyMeant } from '../../src/core/logs/spelling';

test('edit distance counts insertions, deletions and substitutions, and gives up past its limit', () => {
  assert.equal(editDistance('total_nrm', 'total_norm'), 1);
  assert.equal(editDistance('gard_norm', 'grad_norm'), 2);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('loss', 'loss'), 0);
  assert.equal(editDistance('loss', 'learning_rate', 2), 3);
});

test('the likely meant column: same name in another case first, then one containing it, then a typo or two away', () => {
  const columns = ['train/loss', 'Loss', 'eval_loss', 'total_norm', 'grad_norm', 'lr'];
  assert.deepEqual(likelyMeant('loss', columns), ['Loss', 'train/loss', 'eval_loss']);
  assert.deepEqual(likelyMeant('total_nrm', columns), ['total_norm']);
  assert.deepEqual(likelyMeant('gard_norm', columns), ['grad_norm']);
  // Short names allow no typo: "lr" is not "loss" two edits away.
  assert.deepEqual(likelyMeant('ls', columns), []);
  assert.deepEqual(likelyMeant('accuracy', columns), []);
});

test("the likely meant column: '-', '_' and '/' are one separator, so the same name spelt with another comes first", () => {
  const columns = ['train-clip_loss', 'train-cls_loss', 'train-loss', 'val-loss'];
  assert.deepEqual(likelyMeant('train_loss', columns)[0], 'train-loss');
  assert.deepEqual(likelyMeant('val/loss', columns)[0], 'val-loss');
});
