// The range test end to end: its suggestion checked by real training runs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { exampleJob, root, train } from './harness';

function lrFind(job: Record<string, unknown>): { suggestion: number; methods: Record<string, number>; explosionLr?: number; lrs: number[]; losses: number[] } {
  const dir = mkdtempSync(join(tmpdir(), 'gradscope-lrfind-'));
  const file = join(dir, 'job.gradscope.json');
  writeFileSync(file, JSON.stringify(job));
  const result = spawnSync(process.execPath, [join(root, 'bin/gradscope.js'), 'lr-find', file, '--json'], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout);
}

const constant = (job: Record<string, unknown>, lr: number) => ({ ...job, schedule: { type: 'constant', lr } });

describe('gradscope lr-find', () => {
  test('on the MNIST example the suggestion trains without explosion, and 10× the suggestion explodes', async () => {
    const job = exampleJob('mnist-warmup-cosine');
    const found = lrFind(job);
    assert.equal(found.lrs.length, found.losses.length);
    assert.ok(found.lrs.length > 20);
    assert.deepEqual(Object.keys(found.methods).sort(), ['minimumDiv10', 'steepest', 'valley']);
    console.log(`MNIST: suggestion ${found.suggestion.toExponential(2)}, methods ${JSON.stringify(found.methods)}, explosion at ${found.explosionLr}`);

    const safe = await train(constant(job, found.suggestion));
    assert.equal(safe.summary?.status, 'finished');
    assert.deepEqual(
      safe.events.filter((e) => e.kind === 'explosion' || e.kind === 'nonFinite'),
      [],
    );
    assert.ok(safe.summary!.finalLoss < 0.5);

    const bold = await train(constant(job, 10 * found.suggestion), { maxSteps: 40 });
    assert.ok(
      bold.events.some((e) => e.kind === 'explosion' || e.kind === 'nonFinite'),
      'no explosion at 10× the suggestion',
    );
  });

  test('on linear regression the suggestion lies in the stable range (below 2/λmax of the loss Hessian)', () => {
    // For MSE on standardised inputs the Hessian is 2/n·XᵀX, whose largest eigenvalue is ≈2.2 here:
    // gradient descent is stable below ≈0.9, and a rate under 1e-3 would barely move.
    const found = lrFind({
      name: 'linreg',
      seed: 3,
      data: { type: 'synthetic', task: 'regression', samples: 2048, features: 8, noise: 0.1 },
      model: [{ type: 'dense', units: 1 }],
      optimizer: { type: 'sgd', lr: 0.01 },
      schedule: { type: 'constant', lr: 0.01 },
      epochs: 5,
      batchSize: 64,
    });
    assert.ok(found.suggestion > 1e-3 && found.suggestion < 0.9, `suggestion ${found.suggestion}`);
  });

  test('bad options exit 2', () => {
    const result = spawnSync(process.execPath, [join(root, 'bin/gradscope.js'), 'lr-find', join(root, 'examples/mnist-fixed.gradscope.json'), '--start', '1', '--end', '0.1'], { encoding: 'utf8' });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /--end \(0\.1\) must be greater than --start \(1\)/);
  });
});
