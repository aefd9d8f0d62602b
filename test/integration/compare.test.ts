import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseJobText } from '../../src/core/job/parse';
import { runStrategies, runStrategy } from '../../src/node/compareRunner';
import { lrJumpJob, root, tinyJob } from './harness';

test('gradscope compare runs each strategy and prints the table as JSON, CSV or Markdown', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gradscope-compare-'));
  const file = join(dir, 'job.gradscope.json');
  writeFileSync(file, JSON.stringify(tinyJob({ epochs: 3 })));
  const run = (...args: string[]) => spawnSync(process.execPath, [join(root, 'bin/gradscope.js'), 'compare', file, ...args], { encoding: 'utf8' });
  const json = run('--strategies', 'constant,cosine,backoff,lbfgs', '--parallel', '2', '--json');
  assert.equal(json.status, 0, json.stderr);
  const table = JSON.parse(json.stdout) as { target: number; sortedBy: string; rows: Record<string, unknown>[] };
  assert.equal(table.sortedBy, 'finalValidationLoss');
  assert.deepEqual(table.rows.map((r) => r.strategy).sort(), ['backoff', 'constant', 'cosine', 'lbfgs']);
  for (const r of table.rows) {
    assert.equal(r.status, 'finished');
    assert.ok(typeof r.finalTrainLoss === 'number' && typeof r.finalValidationLoss === 'number' && typeof r.finalValidationAccuracy === 'number', JSON.stringify(r));
  }
  const losses = table.rows.map((r) => r.finalValidationLoss as number);
  assert.deepEqual(
    losses,
    [...losses].sort((a, b) => a - b),
  );
  assert.ok(table.rows.some((r) => r.stepsToTarget !== null));
  assert.match(json.stderr, /\[4\/4\]/);

  const csv = run('--strategies', 'constant', '--format', 'csv', '--max-steps', '5');
  assert.equal(csv.status, 0, csv.stderr);
  assert.match(csv.stdout, /^strategy,description,status,steps,/);
  assert.match(csv.stdout, /\nconstant,constant 0\.1,finished,5,/);

  const unknown = run('--strategies', 'constant,bogus');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown strategy "bogus" \(known: constant, adam, step/);
});

test('cancelling a comparison stops the running strategy politely and never starts the queued ones', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gradscope-compare-cancel-'));
  const job = parseJobText(JSON.stringify(tinyJob({ epochs: 400 })));
  const items = ['a', 'b', 'c'].map((name) => ({ strategy: { name, description: name }, job }));
  const cancel = new AbortController();
  let started = 0;
  const done: string[] = [];
  const where = { distDir: join(root, 'dist'), jobFile: join(dir, 'job.gradscope.json'), runsDir: join(dir, 'runs') };
  const outcomes = await runStrategies(
    items,
    where,
    1,
    (outcome) => done.push(outcome.strategy.name),
    () => {
      started++;
      cancel.abort(); // as soon as the first child exists: the user pressed Cancel
    },
    undefined,
    cancel.signal,
  );
  assert.equal(started, 1, 'queued strategies started after the cancel');
  assert.deepEqual(done, ['a']);
  assert.deepEqual(
    outcomes.map((o) => [o.strategy.name, o.status]),
    [['a', 'stopped']],
  );
  assert.equal(readdirSync(join(dir, 'runs')).length, 1, 'one run log, closed with its summary');
});

test('the Explosions column counts warnings once: info spikes are not counted, an upgraded one is counted once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gradscope-compare-count-'));
  const job = parseJobText(JSON.stringify({ ...tinyJob(), ...lrJumpJob(40, { epochs: 6 }) }));
  const where = { distDir: join(root, 'dist'), jobFile: join(dir, 'job.gradscope.json'), runsDir: join(dir, 'runs') };
  const outcome = await runStrategy({ name: 'jump', description: 'lr jump' }, job, where);
  const explosions = outcome.run.events.filter((e) => e.kind === 'explosion');
  const warnedSteps = new Set(explosions.filter((e) => e.severity === 'warning').map((e) => e.step));
  assert.ok(warnedSteps.size > 0, 'the lr jump explodes');
  assert.equal(outcome.explosions, explosions.filter((e) => e.severity === 'warning').length);
  assert.equal(outcome.explosions, warnedSteps.size, 'no step counted twice');
});
