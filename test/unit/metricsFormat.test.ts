import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Inspector } from '../../src/core/inspect';
import { MetricsReader, readMetricsRow } from '../../src/core/metricsFormat';

test('rows from Hugging Face, Lightning, PyTorch loops and Gradscope read the same', () => {
  const hf = readMetricsRow({ 'train/global_step': 7, 'train/learning_rate': 1e-3, 'train/loss': 0.5, 'train/grad_norm': 2 }, 0);
  assert.deepEqual({ ...hf, layers: [...hf.layers] }, { step: 7, lr: 1e-3, loss: 0.5, gradNorm: 2, layers: [] });
  const lightning = readMetricsRow({ step: 3, 'lr-AdamW': 0.01, train_loss_step: 0.4, 'grad_2.0_norm_total': 3, 'grad_2.0_norm/fc.weight': 1 }, 0);
  assert.equal(lightning.lr, 0.01);
  assert.equal(lightning.gradNorm, 3);
  assert.deepEqual([...lightning.layers], [['fc.weight', 1]]);
  const gradscope = readMetricsRow({ step: 1, lr: 0.1, loss: 1, gradNorm: 4, 'gradNorm/dense_1': 3 }, 0);
  assert.deepEqual([...gradscope.layers], [['dense_1', 3]]);
  assert.equal(readMetricsRow({ loss: 1 }, 41).step, 41, 'a row without a step is numbered by its position');
  assert.equal(readMetricsRow({ total: 9, loss: 1 }, 0, { gradNorm: 'total' }).gradNorm, 9);
});

test('the inspector finds an explosion at its step and says which fields it saw', () => {
  const inspector = new Inspector();
  for (let step = 0; step < 200; step++) inspector.add(readMetricsRow({ step, loss: 1, grad_norm: step === 150 ? 60 : 1 + 0.01 * (step % 7) }, step));
  const result = inspector.result();
  assert.deepEqual(result.events.map((e) => [e.kind, e.step]), [['explosion', 150]]);
  assert.deepEqual(result.fields, { lr: false, loss: true, gradNorm: true, layers: [] });
});

test('MetricsReader reads a stream like readMetricsRow, row after row, and copes with a row that changes shape', () => {
  const raws: Record<string, unknown>[] = [
    { step: 5, lr: 0.1, loss: 2, grad_norm: 1, 'grad_norm/a': 0.5 },
    { step: 6, lr: 0.1, loss: 1.9, grad_norm: 1.1, 'grad_norm/a': 0.6 },
    { step: 7, 'lr-Adam': 0.05, loss: 1.8, 'train/grad_norm': 2 },
    { loss: 1.7, 'train/grad_norm': 2.1 },
  ];
  const reader = new MetricsReader();
  raws.forEach((raw, i) => {
    const a = reader.read(raw);
    const b = readMetricsRow(raw, i);
    assert.deepEqual({ ...a, layers: [...a.layers] }, { ...b, layers: [...b.layers] }, `row ${i}`);
  });
});
