// The CLI as users run it: the built bin/gradscope.js (npm install / npm test build it first).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';

const bin = join(__dirname, '../../bin/gradscope.js');
const gradscope = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

describe('gradscope schedule', () => {
  test('prints the N learning rates as a JSON array', () => {
    const result = gradscope('schedule', '{"type":"step","lr":0.1,"stepSize":2}', '--steps', '5');
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), [0.1, 0.1, 0.1 * 0.1, 0.1 * 0.1, 0.1 * 0.1 ** 2]);
  });

  test('plateau prints the rate after each metric', () => {
    const result = gradscope('schedule', '{"type":"plateau","lr":1,"patience":1,"factor":0.5}', '--metrics', '1,1,1,0.5,0.5,0.5');
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), [1, 1, 0.5, 0.5, 0.5, 0.25]);
  });

  for (const [args, message] of [
    [['{"type":"oneCycle","maxLr":1,"totalSteps":10,"pctStart":1.2}', '--steps', '3'], 'gradscope: schedule.pctStart must be < 1 (got 1.2)'],
    [['{"type":"cosine","lr":1}', '--steps', '3'], 'gradscope: schedule.tMax is required'],
    [['{"type":"warp","lr":1}', '--steps', '3'], 'gradscope: schedule.type must be one of'],
    [['{"type":"constant","lr":1}', '--steps', '-4'], 'gradscope: --steps must be a positive integer (got "-4")'],
    [['{"type":"constant","lr":1}'], 'gradscope: --steps N is required'],
    [['{"type":"plateau","lr":1}', '--steps', '3'], 'gradscope: a plateau schedule follows a metric'],
    [['{not json', '--steps', '3'], 'gradscope: the schedule spec is not valid JSON'],
    [['{"type":"plateau","lr":1}', '--metrics', '1,x'], 'gradscope: --metrics value 2 is not a number'],
  ] as const) {
    test(`bad input exits 2 with one line: ${message}`, () => {
      const result = gradscope('schedule', ...args);
      assert.equal(result.status, 2);
      assert.equal(result.stdout, '');
      assert.ok(result.stderr.startsWith(message), result.stderr);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    });
  }

  test('--help lists the commands; an unknown command exits 2', () => {
    const help = gradscope('--help');
    assert.equal(help.status, 0);
    assert.match(help.stdout, /schedule \[options\] <spec>/);
    assert.equal(gradscope('frobnicate').status, 2);
  });
});
