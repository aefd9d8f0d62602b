// Following logs while another program writes them: rows come out once each, in order; a
// trainer_state.json rewritten by the trainer gives its new entries only; `inspect --follow`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { MetricsRow } from '../../src/core/logs/rows';
import { followLogSource } from '../../src/node/logs/follow';
import { findLogSources } from '../../src/node/logs/sources';

const temp = () => mkdtempSync(join(tmpdir(), 'gradscope-follow-logs-'));
const state = (steps: number[]) => JSON.stringify({ global_step: steps.at(-1) ?? 0, log_history: steps.map((step) => ({ loss: 1 / step, grad_norm: 1, learning_rate: 1e-4, step })) }, null, 2);

test('a trainer_state.json that the trainer rewrites: new entries once each; a shorter history is a new run', async () => {
  const file = join(temp(), 'trainer_state.json');
  writeFileSync(file, state([1, 2]));
  const [source] = await findLogSources(file);
  const rows: MetricsRow[] = [];
  const restarts: string[] = [];
  const follower = followLogSource(source, { onRow: (row) => rows.push(row), onRestart: (why) => restarts.push(why) });
  await follower.poll();
  assert.deepEqual(
    rows.map((r) => r.step),
    [1, 2],
  );
  writeFileSync(file, state([1, 2, 3, 4]));
  await follower.poll();
  assert.deepEqual(
    rows.map((r) => r.step),
    [1, 2, 3, 4],
  );
  writeFileSync(file, `${state([1, 2, 3, 4, 5]).slice(0, -40)}`); // caught mid-write: nothing yet
  await follower.poll();
  assert.deepEqual(
    rows.map((r) => r.step),
    [1, 2, 3, 4],
  );
  writeFileSync(file, state([1]));
  await follower.poll();
  assert.equal(restarts.length, 1);
  assert.deepEqual(
    rows.map((r) => r.step),
    [1, 2, 3, 4, 1],
  );
  follower.stop();
});

test('a followed trainer_state.json that stays cut off, or holds a damaged entry, gives what it can, each problem once', async () => {
  const file = join(temp(), 'trainer_state.json');
  writeFileSync(file, state([1, 2, 3]).slice(0, -60)); // entry 3 cut off, and nothing rewrites it
  const [source] = await findLogSources(file);
  const rows: MetricsRow[] = [];
  const problems: string[] = [];
  const follower = followLogSource(source, { onRow: (row) => rows.push(row), onProblem: (message) => problems.push(message) });
  await follower.poll();
  assert.equal(rows.length, 0, 'the first look waits: the trainer may be rewriting it');
  await follower.poll();
  await follower.poll();
  assert.deepEqual(
    rows.map((r) => r.step),
    [1, 2],
  );
  assert.deepEqual(problems, [`${file}: log_history is cut off after 2 entries (a file still being written?); the 2 complete entries are read`]);
  writeFileSync(file, state([1, 2, 3, 4]).replace('"step": 3', '"step": 3,,'));
  await follower.poll();
  await follower.poll();
  assert.deepEqual(
    rows.map((r) => r.step),
    [1, 2, 4],
  );
  assert.equal(problems.length, 2);
  assert.match(problems[1], /trainer_state\.json: line \d+: the log_history entry that starts here is not JSON/);
  // A rewrite of the longer history that stalls part-way is not a new run: nothing is read again.
  const restarts: string[] = [];
  const again = followLogSource(source, { onRow: (row) => rows.push(row), onProblem: (message) => problems.push(message), onRestart: (why) => restarts.push(why) });
  writeFileSync(file, state([1, 2, 3, 4]));
  await again.poll();
  const before = rows.length;
  writeFileSync(file, state([1, 2, 3, 4, 5]).slice(0, 200));
  await again.poll();
  await again.poll();
  await again.poll();
  assert.deepEqual(restarts, []);
  assert.equal(rows.length, before);
  writeFileSync(file, state([1, 2, 3, 4, 5]));
  await again.poll();
  again.stop();
  assert.equal(rows.at(-1)!.step, 5);
  follower.stop();
});

test('a JSON-lines log: a step whose records span two looks is handed out once, when a look brings nothing new', async () => {
  const file = join(temp(), 'metrics.jsonl');
  writeFileSync(file, '{"step": 1, "loss": 2}\n{"step": 2, "loss": 1.5}\n');
  const [source] = await findLogSources(file);
  const rows: MetricsRow[] = [];
  const follower = followLogSource(source, { onRow: (row) => rows.push(row) });
  await follower.poll();
  assert.deepEqual(
    rows.map((r) => r.step),
    [1],
    'step 2 may still get records',
  );
  await follower.poll();
  assert.deepEqual(
    rows.map((r) => [r.step, r.validationLoss]),
    [
      [1, undefined],
      [2, undefined],
    ],
  );
  appendFileSync(file, '{"step": 3, "loss": 1.2}\n{"step": 3, "eval_loss": 1.4}\n');
  await follower.poll();
  await follower.poll();
  assert.deepEqual(
    rows.map((r) => [r.step, r.validationLoss]),
    [
      [1, undefined],
      [2, undefined],
      [3, 1.4],
    ],
  );
  follower.stop();
});

test('inspect --follow prints events as a growing log gets them and ends on Ctrl-C', async () => {
  const file = join(temp(), 'trainer_log.jsonl');
  const row = (step: number, norm = 1 + 0.02 * (step % 5)) => JSON.stringify({ step, loss: 2 - step / 400, grad_norm: norm });
  writeFileSync(file, `${Array.from({ length: 100 }, (_, step) => row(step)).join('\n')}\n`);
  const child = spawn(process.execPath, [join(__dirname, '../../bin/gradscope.js'), 'inspect', file, '--follow', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const until = async (check: () => boolean, what: string) => {
    for (let i = 0; i < 300 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(check(), `${what}; stderr: ${stderr}`);
  };
  try {
    await until(() => /following/.test(stderr), 'the first look is done');
    appendFileSync(file, `${Array.from({ length: 20 }, (_, i) => row(100 + i, 100 + i === 110 ? 90 : undefined)).join('\n')}\n`);
    await until(() => /"step":110/.test(stdout), 'the spike at step 110 is printed while following');
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    assert.equal(await exited, 1, 'events were found');
    assert.match(stderr, /120 steps, 1 event\n/);
  } finally {
    child.kill('SIGKILL');
  }
});
