import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileFollower } from '../../src/node/follow';

test('follows appends line by line, waits for a line to finish, survives truncation and rotation', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gradscope-follow-'));
  const file = join(dir, 'metrics.jsonl');
  writeFileSync(file, '{"step":0}\n{"step":1}\n');
  const lines: string[] = [];
  const restarts: string[] = [];
  const follower = new FileFollower(file, (line, n) => lines.push(`${n}:${line}`), { onRestart: (why) => restarts.push(why) });
  await follower.poll();
  assert.deepEqual(lines, ['1:{"step":0}', '2:{"step":1}']);

  appendFileSync(file, '{"step":2}\n{"st');
  await follower.poll();
  assert.deepEqual(lines.slice(2), ['3:{"step":2}'], 'a line being written waits');
  appendFileSync(file, 'ep":3}\n');
  await follower.poll();
  assert.deepEqual(lines.slice(3), ['4:{"step":3}']);

  writeFileSync(file, '{"step":0,"restarted":true}\n'); // truncated and rewritten
  await follower.poll();
  assert.deepEqual(restarts, ['truncated']);
  assert.deepEqual(lines.slice(4), ['1:{"step":0,"restarted":true}']);

  renameSync(file, join(dir, 'metrics.jsonl.1')); // rotated: a new file takes the name
  writeFileSync(file, '{"step":100}\n{"step":101}\n{"step":102}\n');
  await follower.poll();
  assert.deepEqual(restarts, ['truncated', 'rotated']);
  assert.deepEqual(lines.slice(5), ['1:{"step":100}', '2:{"step":101}', '3:{"step":102}']);
  follower.stop();
});

test('keeps following while the file is appended to, with its own timer', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'gradscope-follow-')), 'm.jsonl');
  writeFileSync(file, '');
  const seen: number[] = [];
  const follower = new FileFollower(file, (line) => seen.push(JSON.parse(line).step), { pollMs: 20 });
  await follower.start();
  for (let step = 0; step < 50; step++) {
    appendFileSync(file, `${JSON.stringify({ step })}\n`);
    if (step % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 30));
  }
  while (seen.length < 50) await new Promise((resolve) => setTimeout(resolve, 20));
  follower.stop();
  assert.deepEqual(
    seen,
    Array.from({ length: 50 }, (_, i) => i),
  );
});
