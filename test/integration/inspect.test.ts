import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { concat, eventBytes, record } from '../support/tfevents';
import { sharedReference } from '../unit/shared';
import { root } from './harness';

const inspect = (...args: string[]) => spawnSync(process.execPath, [join(root, 'bin/gradscope.js'), 'inspect', ...args], { encoding: 'utf8' });
const temp = () => mkdtempSync(join(tmpdir(), 'gradscope-inspect-'));

describe('gradscope inspect', () => {
  test('a Hugging Face-style log with a spike: exit 1 and one JSON object per event', () => {
    const file = join(temp(), 'trainer_log.jsonl');
    const lines = Array.from({ length: 300 }, (_, step) =>
      JSON.stringify({ 'train/global_step': step, 'train/learning_rate': 1e-4, 'train/loss': 2 - step / 300, 'train/grad_norm': step === 240 ? 80 : 1 + 0.02 * (step % 5) }),
    );
    writeFileSync(file, `${lines.join('\n')}\n{"train/global_step": 300, "train/lo`);
    const result = inspect(file, '--json');
    assert.equal(result.status, 1, result.stderr);
    const output = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const events = output.filter((l) => l.type === 'event');
    assert.deepEqual(
      events.map((e) => [e.kind, e.step]),
      [['explosion', 240]],
    );
    assert.equal(events[0].gradNorm, 80);
    const summary = output.find((l) => l.type === 'summary');
    assert.equal(summary.rows, 300);
    assert.deepEqual(summary.columns, { lr: 'train/learning_rate', loss: 'train/loss', gradNorm: 'train/grad_norm' });
    assert.match(result.stderr, /:301: the last line is cut off/);
  });

  test('--json lines are strict JSON: a non-finite value is the string "NaN" or "Infinity", which every parser reads', () => {
    const file = join(temp(), 'metrics.jsonl');
    const lines = Array.from({ length: 60 }, (_, step) => `{"step": ${step}, "loss": ${step === 40 ? 'NaN' : 2 - step / 100}, "grad_norm": ${step === 50 ? 'Infinity' : 1}}`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    const result = inspect(file, '--json');
    assert.equal(result.status, 1, result.stderr);
    const output = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; kind?: string; step?: number; loss?: unknown; gradNorm?: unknown });
    const nonFinite = output.filter((l) => l.kind === 'nonFinite');
    assert.deepEqual(
      nonFinite.map((e) => [e.step, e.loss, e.gradNorm]),
      [
        [40, 'NaN', 1],
        [50, 1.5, 'Infinity'],
      ],
    );
  });

  test('zero bytes a crash left, or a line of junk, do not make a log binary: its rows are read, each such line named once', () => {
    const dir = temp();
    const rows = Array.from({ length: 50 }, (_, step) => `{"step": ${step}, "loss": ${2 - step / 100}}`);
    const crashed = join(dir, 'crashed.jsonl');
    writeFileSync(crashed, Buffer.concat([Buffer.from(`${rows.slice(0, 20).join('\n')}\n`), Buffer.alloc(64), Buffer.from(`\n${rows.slice(20).join('\n')}\n`), Buffer.alloc(512)]));
    const result = inspect(crashed);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /50 steps \(0–49\)/);
    assert.deepEqual(
      result.stderr.split('\n').filter((line) => line.startsWith('gradscope: skipped')),
      [':21:', ':52:'].map((line) => `gradscope: skipped ${crashed}${line} zero bytes only (what a crash leaves in blocks the file system had allocated but not written)`),
    );
    const junk = join(dir, 'junk.jsonl');
    writeFileSync(junk, Buffer.concat([Buffer.from(`${rows.slice(0, 30).join('\n')}\n`), Buffer.from([0, 1, 2, 0x67, 0x0a]), Buffer.from(`${rows.slice(30).join('\n')}\n`)]));
    const withJunk = inspect(junk);
    assert.equal(withJunk.status, 0, withJunk.stderr);
    assert.match(withJunk.stderr, /50 steps/);
    assert.match(withJunk.stderr, /junk\.jsonl:31: not JSON/);
    // The same in a Windows file; a run resumed right after the zeros, on their line; nothing but zeros.
    const crlf = join(dir, 'crlf.jsonl');
    writeFileSync(
      crlf,
      Buffer.concat([Buffer.from(`${rows.slice(0, 5).join('\r\n')}\r\n`), Buffer.alloc(64), Buffer.from('\r\n'), Buffer.alloc(64), Buffer.from(`\r\n${rows.slice(5, 10).join('\r\n')}\r\n`)]),
    );
    assert.match(inspect(crlf).stderr, /10 steps \(0–9\)/);
    const resumed = join(dir, 'resumed.jsonl');
    writeFileSync(resumed, Buffer.concat([Buffer.alloc(4096), Buffer.from(`${rows.join('\n')}\n`)]));
    const afterZeros = inspect(resumed);
    assert.match(afterZeros.stderr, /resumed\.jsonl:1: 4096 zero bytes before its record/);
    assert.match(afterZeros.stderr, /50 steps \(0–49\)/);
    const zeros = join(dir, 'zeros.jsonl');
    writeFileSync(zeros, Buffer.alloc(2048));
    assert.equal(inspect(zeros).status, 2);
    assert.match(inspect(zeros).stderr, /the file holds only zero bytes/);
    const binary = join(dir, 'binary.jsonl');
    writeFileSync(binary, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
    assert.equal(inspect(binary).status, 2);
    assert.match(inspect(binary).stderr, /a binary file that is not a TensorBoard event file/);
  });

  test('a clean run folder exits 0; unreadable input exits 2 with the reason', () => {
    const dir = temp();
    const rows = Array.from({ length: 100 }, (_, step) => JSON.stringify({ step, lr: 0.01, loss: 1 / (step + 1), gradNorm: 1, 'gradNorm/dense_1': 0.5 }));
    writeFileSync(join(dir, 'metrics.jsonl'), `${rows.join('\n')}\n`);
    writeFileSync(join(dir, 'job.json'), '{}');
    const clean = inspect(dir);
    assert.equal(clean.status, 0, clean.stderr);
    assert.match(clean.stderr, /Gradscope run folder, 100 steps \(0–99\)/);
    assert.match(clean.stderr, /1 layer norms \(dense_1\)/);
    assert.match(clean.stderr, /\n {2}0 events/);

    assert.equal(inspect(join(dir, 'missing.jsonl')).status, 2);
    const noColumns = join(temp(), 'x.jsonl');
    writeFileSync(noColumns, '{"step": 0, "accuracy": 0.5}\n');
    const result = inspect(noColumns);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /no loss or gradient-norm column in 1 records \(JSON lines\); numeric columns found: accuracy; try: gradscope inspect \S+ --map loss=accuracy/);
    const mapped = join(temp(), 'y.jsonl');
    writeFileSync(mapped, Array.from({ length: 60 }, (_, step) => JSON.stringify({ it: step, total: step === 50 ? 100 : 1 })).join('\n'));
    assert.equal(inspect(mapped, '--map', 'gradNorm=total,step=it').status, 1);
    const tb = temp();
    mkdirSync(join(tb, 'run1'));
    writeFileSync(join(tb, 'events.out.tfevents.1.host'), '');
    assert.equal(inspect(tb).status, 2);
  });

  test('the reference traces: healthy ones are clean, exploding ones are flagged at their onset', { skip: sharedReference('traces') ? false : 'shared/reference not found' }, () => {
    const dir = sharedReference('traces')!;
    assert.equal(inspect(join(dir, 'dev-mlp3-adam.jsonl')).status, 0);
    const exploding = inspect(join(dir, 'dev-mlp-adam-lr-jump.jsonl'), '--json');
    assert.equal(exploding.status, 1);
    const first = JSON.parse(exploding.stdout.split('\n')[0]);
    assert.equal(first.type, 'event');
    assert.deepEqual([first.kind, first.step], ['explosion', 901]);
  });
});

describe('gradscope inspect on TensorBoard logs', () => {
  test('every run is read, every step kept; a spike is flagged with its run; a bad record is reported by offset', () => {
    const dir = temp();
    const write = (run: string, spikeAt: number | undefined, corruptAt?: number) => {
      mkdirSync(join(dir, run), { recursive: true });
      const parts = Array.from({ length: 200 }, (_, step) =>
        record(
          eventBytes(step, { 'train/loss': 2 - step / 200, 'train/grad_norm': step === spikeAt ? 50 : 1 + 0.01 * (step % 3), 'train/learning_rate': 1e-3 }, step % 2 ? 'simple' : 'tensorContent'),
        ),
      );
      const bytes = concat(parts);
      if (corruptAt !== undefined) bytes[parts.slice(0, corruptAt).reduce((n, p) => n + p.length, 0) + 30] ^= 0xff;
      writeFileSync(join(dir, run, 'events.out.tfevents.1700000000.host.1.0'), bytes);
    };
    write('clean', undefined, 100);
    write('spiky', 150);
    const result = inspect(dir, '--json');
    assert.equal(result.status, 1, result.stderr);
    const events = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
      .filter((l) => l.type === 'event');
    assert.deepEqual(
      events.map((e) => [e.run, e.kind, e.step]),
      [['spiky', 'explosion', 150]],
    );
    assert.match(result.stderr, /clean[/\\]events\.out\.tfevents\.[^ ]+ at byte \d+: the record data checksum does not match; record skipped/);
  });
});

describe('gradscope report', () => {
  test('one self-contained HTML file: no network, every flagged step kept, the events table', () => {
    const dir = temp();
    const file = join(dir, 'log.jsonl');
    const rows = Array.from({ length: 50_000 }, (_, step) => JSON.stringify({ step, lr: 1e-3, loss: 1, grad_norm: step === 31_337 ? 500 : 1 + 0.01 * (step % 7), note: '</script><b>' }));
    writeFileSync(file, `${rows.join('\n')}\n`);
    const out = join(dir, 'report.html');
    const result = spawnSync(process.execPath, [join(root, 'bin/gradscope.js'), 'report', file, '-o', out], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const html = readFileSync(out, 'utf8');
    assert.doesNotMatch(html, /(src|href)=["']?(https?:)?\/\//, 'nothing is loaded from elsewhere');
    const data = JSON.parse(/window\.GRADSCOPE_REPORT = (.*);<\/script>/.exec(html)![1].replace(/<\\\//g, '</'));
    assert.deepEqual(
      data[0].events.map((e: { step: number }) => e.step),
      [31_337],
    );
    const gradNorm = data[0].charts.find((c: { id: string }) => c.id === 'gradNorm').series[0];
    assert.ok(gradNorm.steps.includes(31_337), 'the flagged step survives decimation');
    assert.ok(gradNorm.steps.length < 7_000, `${gradNorm.steps.length} points for 50,000 steps`);
    assert.equal(html.match(/<\/script>/g)!.length, 2, 'inlined text cannot close the script elements');
  });

  test('a run whose loss is NaN throughout is in the report: its charts (NaN points as gaps) and its non-finite events, as inspect counts them', () => {
    // A Keras fit/ folder of two runs, as the QA pass found one (OCTTextureDetector): a run whose
    // train and validation epoch_loss are NaN from the first epoch, beside a healthy one.
    const dir = temp();
    const run = (name: string, loss: (epoch: number) => number) => {
      for (const part of ['train', 'validation']) {
        mkdirSync(join(dir, 'fit', name, part), { recursive: true });
        writeFileSync(
          join(dir, 'fit', name, part, 'events.out.tfevents.1641367412.host.1.0.v2'),
          concat(Array.from({ length: 7 }, (_, epoch) => record(eventBytes(epoch, { epoch_loss: loss(epoch), epoch_accuracy: 0.5 })))),
        );
      }
    };
    run('20220105-074332', () => NaN);
    run('20220106-123415', (epoch) => 1 / (epoch + 1));
    const report = (target: string) => {
      const out = join(temp(), 'report.html');
      const result = spawnSync(process.execPath, [join(root, 'bin/gradscope.js'), 'report', target, '-o', out], { encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
      assert.doesNotMatch(result.stderr, /nothing to chart|no loss/);
      const data = JSON.parse(/window\.GRADSCOPE_REPORT = (.*);<\/script>/.exec(readFileSync(out, 'utf8'))![1].replace(/<\\\//g, '</'));
      return { result, data };
    };
    const nan = report(join(dir, 'fit', '20220105-074332'));
    assert.match(nan.result.stderr, /wrote \S+: 1 run, 7 steps, 3 events/);
    const [only] = nan.data;
    assert.equal(only.rows, 7);
    assert.deepEqual(
      only.events.map((e: { kind: string; step: number; streak?: number }) => [e.kind, e.step, e.streak]),
      // A streak of non-finite rows: its first three (then its 10th, 100th…), not one a row.
      [
        ['nonFinite', 0, undefined],
        ['nonFinite', 1, 2],
        ['nonFinite', 2, 3],
      ],
    );
    // The table says NaN, not null: an event's non-finite values travel as text, turned back by the page.
    assert.deepEqual([only.events[0].loss, only.events[0].validationLoss], ['NaN', 'NaN']);
    const loss = only.charts.find((c: { id: string }) => c.id === 'loss');
    assert.deepEqual(
      loss.series.map((s: { label: string; steps: number[]; values: (number | null)[] }) => [s.label, s.steps, s.values]),
      ['train', 'validation'].map((label) => [label, [0, 1, 2, 3, 4, 5, 6], Array(7).fill(null)]),
    );
    // The folder of both: every run inspect reads is reported, with the events inspect finds.
    const both = report(join(dir, 'fit'));
    assert.deepEqual(
      both.data.map((r: { title: string; events: unknown[] }) => [r.title, r.events.length]),
      [
        ['20220105-074332', 3],
        ['20220106-123415', 0],
      ],
    );
    const inspected = inspect(join(dir, 'fit'), '--json');
    assert.equal(inspected.stdout.match(/"type":"event"/g)!.length, 3);
  });

  test('-o a folder writes report.html in it; a folder that does not exist is one line naming it, exit 2', () => {
    const dir = temp();
    const file = join(dir, 'log.jsonl');
    writeFileSync(file, `${Array.from({ length: 30 }, (_, step) => JSON.stringify({ step, loss: 2 - step / 100, grad_norm: 1 })).join('\n')}\n`);
    const report = (...args: string[]) => spawnSync(process.execPath, [join(root, 'bin/gradscope.js'), 'report', file, ...args], { encoding: 'utf8' });
    const intoFolder = report('-o', dir);
    assert.equal(intoFolder.status, 0, intoFolder.stderr);
    assert.match(readFileSync(join(dir, 'report.html'), 'utf8'), /Gradscope report/);
    const missing = join(dir, 'no', 'such', 'r.html');
    const nowhere = report('-o', missing);
    assert.equal(nowhere.status, 2);
    assert.equal(nowhere.stderr.trim(), `gradscope: cannot write the report to ${missing}: the folder ${join(dir, 'no', 'such')} does not exist`);
  });
});

describe('the real logs, as a user runs them', { skip: sharedReference('logs') ? false : 'shared/reference not found' }, () => {
  test('inspect reads every file of shared/reference/logs: exit 0 or 1 and a summary with its steps', () => {
    const dir = sharedReference('logs')!;
    const result = inspect(dir, '--json');
    assert.ok(result.status === 0 || result.status === 1, result.stderr);
    // Strict JSON, though the HF logs hold NaN and Infinity.
    const summaries = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; run: string; rows: number; firstStep: number; lastStep: number; columns: Record<string, string> })
      .filter((l) => l.type === 'summary');
    assert.equal(summaries.length, 24, summaries.map((s) => s.run).join('\n'));
    for (const summary of summaries) {
      const { rows, firstStep, lastStep, columns } = summary;
      assert.ok(rows > 0 && lastStep >= firstStep && (columns.loss || columns.gradNorm), JSON.stringify(summary));
    }
  });

  test('report: a Keras run folder and a Hugging Face trainer_state.json, each with its charts; a log with nothing to chart is named', () => {
    const dir = temp();
    const out = join(dir, 'report.html');
    const result = spawnSync(process.execPath, [join(root, 'bin/gradscope.js'), 'report', sharedReference('logs', 'keras')!, '-o', out], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const data = JSON.parse(/window\.GRADSCOPE_REPORT = (.*);<\/script>/.exec(readFileSync(out, 'utf8'))![1].replace(/<\\\//g, '</'));
    assert.equal(data[0].format, 'Keras TensorBoard run (train/ + validation/)');
    const loss = data[0].charts.find((c: { id: string }) => c.id === 'loss');
    assert.deepEqual(
      loss.series.map((s: { label: string }) => s.label),
      ['train', 'validation'],
    );
    assert.deepEqual(
      data[0].events.map((e: { step: number }) => e.step),
      [10, 44],
    );

    const nothing = join(dir, 'accuracy.jsonl');
    writeFileSync(nothing, Array.from({ length: 10 }, (_, step) => JSON.stringify({ step, accuracy: step / 10 })).join('\n'));
    const empty = spawnSync(process.execPath, [join(root, 'bin/gradscope.js'), 'report', nothing, '-o', join(dir, 'empty.html')], { encoding: 'utf8' });
    assert.equal(empty.status, 2);
    assert.match(empty.stderr, /accuracy\.jsonl: nothing to chart \(no loss, learning rate or gradient norm\)/);
    assert.match(empty.stderr, /no run has a series to chart/);
  });
});

/**
 * `inspect --follow` as a terminal runs it: rows appended while it follows are read, their events
 * printed as they come; Ctrl-C (SIGINT to the process group) ends it with a count per run.
 */
describe('gradscope inspect --follow', () => {
  function follow(...args: string[]) {
    const child = spawn(process.execPath, [join(root, 'bin/gradscope.js'), 'inspect', '--follow', ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let ended = false;
    void exited.then(() => (ended = true));
    /** Resolves once `pattern` is in the output; rejects if the process ends first, or after a minute without it. */
    const waitFor = async (pattern: RegExp): Promise<void> => {
      const deadline = Date.now() + 60_000;
      while (!pattern.test(stdout + stderr)) {
        if (ended || Date.now() > deadline) {
          if (!ended) process.kill(-child.pid!, 'SIGKILL');
          throw new Error(`no ${pattern} in: ${stdout}${stderr}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    const interrupt = async () => {
      process.kill(-child.pid!, 'SIGINT');
      return { code: await exited, stdout, stderr };
    };
    return { waitFor, interrupt };
  }
  const row = (step: number, extra: Record<string, number> = {}) => `${JSON.stringify({ step, loss: 2 - step / 200, grad_norm: step === 70 ? 90 : 1 + 0.02 * (step % 5), ...extra })}\n`;

  test('rows appended while following are read and their explosion printed as it comes; Ctrl-C ends it with the count', async () => {
    const file = join(temp(), 'metrics.jsonl');
    writeFileSync(file, Array.from({ length: 40 }, (_, step) => row(step)).join(''));
    const run = follow(file);
    await run.waitFor(/40 steps so far; following/);
    appendFileSync(file, Array.from({ length: 60 }, (_, i) => row(40 + i)).join(''));
    await run.waitFor(/step 70: gradient explosion/);
    const { code, stdout, stderr } = await run.interrupt();
    assert.equal(code, 1, stderr);
    assert.match(stdout, /step 70/);
    assert.match(stderr, /100 steps, 1 event/);
  });

  test('a --map column missing from the first rows is said at once with its likely spelling; still missing at the end, it is a usage error (exit 2)', async () => {
    const file = join(temp(), 'metrics.jsonl');
    writeFileSync(file, Array.from({ length: 30 }, (_, step) => row(step, { total_norm: 1 })).join(''));
    const run = follow(file, '--map', 'gradNorm=total_nrm');
    await run.waitFor(/--map gradNorm=total_nrm: no numeric column "total_nrm" in its first 30 steps \(did you mean "total_norm"\?\); still following/);
    const { code, stderr } = await run.interrupt();
    assert.equal(code, 2, stderr);
    assert.match(stderr, /30 steps/);
    assert.equal(stderr.match(/no numeric column "total_nrm"/g)?.length, 2, `said once while following, once at the end: ${stderr}`);
  });

  test('a --map column that only comes later (an evaluation loss) is read when it comes, and the end says nothing of it', async () => {
    const file = join(temp(), 'metrics.jsonl');
    writeFileSync(file, Array.from({ length: 30 }, (_, step) => row(step)).join(''));
    const run = follow(file, '--map', 'validationLoss=eval_loss');
    await run.waitFor(/30 steps so far; following/);
    // An evaluation at step 30, then a spike at 31: its event, printed, shows step 30's row went through.
    appendFileSync(file, `${JSON.stringify({ step: 30, eval_loss: 1.9 })}\n${JSON.stringify({ step: 31, loss: 1.8, grad_norm: 90 })}\n`);
    await run.waitFor(/step 31: gradient explosion/);
    const { code, stderr } = await run.interrupt();
    assert.equal(code, 1, stderr);
    assert.match(stderr, /no numeric column "eval_loss" in its first 30 steps/);
    assert.equal(stderr.match(/no numeric column "eval_loss"/g)?.length, 1, stderr);
  });
});
