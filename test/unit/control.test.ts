// gradscope control: the control.json a monitored PyTorch loop reads (python/gradscope/control.py).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ControlFileController, livePythonRunDir, parseControlAction, pipInstallCommand, runProcessGone, startTimeOf, writeControl } from '../../src/node/controlFile';

const bin = join(__dirname, '../../bin/gradscope.js');
const gradscope = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

function runFolder(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'gradscope-control-')), 'run');
  mkdirSync(dir);
  writeFileSync(join(dir, 'job.json'), '{"name":"t","source":"gradscope-python"}\n');
  return dir;
}

const control = (dir: string): unknown => JSON.parse(readFileSync(join(dir, 'control.json'), 'utf8'));

describe('control actions', () => {
  test('each action maps to one key of control.json', () => {
    assert.deepEqual(parseControlAction('stop'), { stop: true });
    assert.deepEqual(parseControlAction('pause'), { pause: true });
    assert.deepEqual(parseControlAction('resume'), { pause: false });
    assert.deepEqual(parseControlAction('lr=0.5'), { lrMultiplier: 0.5 });
    assert.deepEqual(parseControlAction('clip=1.0'), { clipThreshold: 1 });
    assert.deepEqual(parseControlAction('clip=none'), { clipThreshold: null });
  });

  for (const [action, message] of [
    ['lr=-1', 'lr= needs a positive number (got "-1")'],
    ['lr=', 'lr= needs a positive number (got "")'],
    ['clip=big', 'clip= needs a positive number or none (got "big")'],
    ['halt', 'unknown control action "halt"'],
  ]) {
    test(`rejects ${action}`, () => assert.throws(() => parseControlAction(action), { message: new RegExp(`^${message.replace(/[()[\]]/g, '\\$&')}`) }));
  }

  test('writes merge into the file, atomically (no temporary file left)', () => {
    const dir = runFolder();
    writeControl(dir, { lrMultiplier: 0.5 });
    writeControl(dir, { pause: true });
    writeControl(dir, { clipThreshold: null });
    assert.deepEqual(control(dir), { lrMultiplier: 0.5, pause: true, clipThreshold: null });
    assert.deepEqual(readdirSync(dir).sort(), ['control.json', 'job.json']);
  });
});

describe('gradscope control', () => {
  test('writes the actions and prints the state asked for', () => {
    const dir = runFolder();
    let result = gradscope('control', dir, 'pause', 'lr=0.25');
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, 'control.json: {"pause":true,"lrMultiplier":0.25}\n');
    result = gradscope('control', dir, 'resume');
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(control(dir), { pause: false, lrMultiplier: 0.25 });
  });

  test('bad input exits 2 with one line', () => {
    const dir = runFolder();
    const ended = runFolder();
    writeFileSync(join(ended, 'summary.json'), '{"status":"finished"}\n');
    for (const [args, message] of [
      [[dir, 'lr=0'], 'gradscope: control: lr= needs a positive number (got "0")'],
      [[join(dir, 'nope'), 'stop'], 'gradscope: '],
      [[tmpdir(), 'stop'], 'gradscope: '],
      [[ended, 'stop'], 'gradscope: '],
    ] as const) {
      const result = gradscope('control', ...args);
      assert.equal(result.status, 2, result.stderr);
      assert.ok(result.stderr.startsWith(message), result.stderr);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    }
    assert.match(gradscope('control', join(dir, 'nope'), 'stop').stderr, /no such run folder/);
    assert.match(gradscope('control', tmpdir(), 'stop').stderr, /not a Gradscope run folder \(no job\.json\)/);
    assert.match(gradscope('control', ended, 'stop').stderr, /the run has ended/);
  });
});

describe('the controller of a run the Python package writes', () => {
  test('livePythonRunDir: only a package-written folder whose loop still runs', () => {
    const dir = runFolder();
    assert.equal(livePythonRunDir(join(dir, 'metrics.jsonl')), dir);
    const trainer = runFolder();
    writeFileSync(join(trainer, 'job.json'), '{"name":"mnist","model":[]}\n');
    assert.equal(livePythonRunDir(join(trainer, 'metrics.jsonl')), undefined);
    writeFileSync(join(dir, 'summary.json'), '{"status":"finished"}\n');
    assert.equal(livePythonRunDir(join(dir, 'metrics.jsonl')), undefined);
  });

  test('Stop, Pause, LR× and Clip merge into control.json; after the loop ends nothing is written and onEnd says how it ended', async () => {
    const dir = runFolder();
    let ended: unknown;
    const controller = new ControlFileController(dir, { pollMs: 10, onEnd: (end) => (ended = end) });
    assert.equal(controller.pause(), true);
    controller.setLrMultiplier(0.5);
    controller.setClipThreshold(2);
    assert.equal(controller.resume(), true);
    assert.deepEqual(control(dir), { pause: false, lrMultiplier: 0.5, clipThreshold: 2 });
    writeFileSync(join(dir, 'summary.json'), '{"status": "stopped", "finalLoss": NaN, "message": "interrupted"}\n');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(ended, { status: 'stopped', message: 'interrupted' });
    assert.equal(controller.stop(), false);
    assert.deepEqual(control(dir), { pause: false, lrMultiplier: 0.5, clipThreshold: 2 });
    controller.dispose();
  });

  test('a loop killed before it wrote summary.json (out of memory, SIGKILL): its run has ended, for the panel and for gradscope control', async () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!; // a process that has exited
    // As the package writes it: on Linux its PID namespace and start time tell it from a reused pid or a container's.
    const linux = process.platform === 'linux';
    const namespace = linux ? readlinkSync('/proc/self/ns/pid') : undefined;
    const started = (pid: number) => (linux ? startTimeOf(readFileSync(`/proc/${pid}/stat`, 'utf8')) : undefined);
    const job = (pid: number, host = hostname(), identity: Record<string, unknown> = { pidNamespace: namespace, processStart: pid === process.pid ? started(pid) : '1' }) =>
      JSON.stringify({ name: 't', source: 'gradscope-python', pid, host, ...identity });
    const killed = runFolder();
    writeFileSync(join(killed, 'job.json'), job(dead));
    assert.match(runProcessGone(killed) ?? '', new RegExp(`its process \\(pid ${dead}\\) ended without writing summary\\.json: killed \\(out of memory\\?\\) or crashed`));
    assert.equal(livePythonRunDir(join(killed, 'metrics.jsonl')), undefined);
    const refused = gradscope('control', killed, 'stop');
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /the run has ended: its process \(pid \d+\) ended without writing summary\.json/);

    let ended: unknown;
    const controller = new ControlFileController(killed, { pollMs: 10, onEnd: (end) => (ended = end) });
    for (let waited = 0; ended === undefined && waited < 10_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(ended, { status: 'failed', message: runProcessGone(killed) });
    controller.dispose();

    // Alive, or on another machine (a shared file system): running, as far as can be known.
    const alive = runFolder();
    writeFileSync(join(alive, 'job.json'), job(process.pid));
    const elsewhere = runFolder();
    writeFileSync(join(elsewhere, 'job.json'), job(dead, `not-${hostname()}`));
    const container = runFolder(); // the same host name, pids of its own
    writeFileSync(join(container, 'job.json'), job(dead, hostname(), { pidNamespace: 'pid:[4026531999]', processStart: '1' }));
    for (const dir of [alive, elsewhere, ...(linux ? [container] : [])]) {
      assert.equal(runProcessGone(dir), undefined);
      assert.equal(livePythonRunDir(join(dir, 'metrics.jsonl')), dir);
      assert.equal(gradscope('control', dir, 'pause').status, 0);
    }
    if (linux) {
      // A pid reused by another process after the loop ended: its start time differs.
      const reused = runFolder();
      writeFileSync(join(reused, 'job.json'), job(process.pid, hostname(), { pidNamespace: namespace, processStart: '1' }));
      assert.match(runProcessGone(reused) ?? '', /ended without writing summary\.json/);
    }
  });

  test('pip install command: quoted only when needed, with & for a quoted program in PowerShell', () => {
    assert.equal(pipInstallCommand('/usr/bin/python3', '/home/me/.vscode/extensions/gradscope/python', false), '/usr/bin/python3 -m pip install /home/me/.vscode/extensions/gradscope/python');
    assert.equal(pipInstallCommand('C:\\Program Files\\Python\\python.exe', 'C:\\ext\\python', true), '& "C:\\Program Files\\Python\\python.exe" -m pip install C:\\ext\\python');
  });
});
