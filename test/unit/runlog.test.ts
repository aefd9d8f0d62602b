import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, createWriteStream, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { LineSplitter } from '../../src/core/logs/lineSplitter';
import { JsonlError, openRunLog, parseJsonLine, readJsonl, readValidation, RunLogWriter, stringifyJsonLine, type JsonlRecord } from '../../src/node/runlog';

const temp = () => mkdtempSync(join(tmpdir(), 'gradscope-test-'));

async function collect(records: AsyncIterable<JsonlRecord>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const record of records) out.push(record.value);
  return out;
}

describe('JSON lines', () => {
  test('non-finite numbers round-trip as Python writes them', () => {
    const row = { step: 3, loss: NaN, gradNorm: Infinity, low: -Infinity, note: 'NaN, Infinity: "x"' };
    const line = stringifyJsonLine(row);
    assert.equal(line, '{"step":3,"loss":NaN,"gradNorm":Infinity,"low":-Infinity,"note":"NaN, Infinity: \\"x\\""}');
    assert.deepEqual(parseJsonLine(line), row);
    assert.deepEqual(parseJsonLine('{"loss": NaN, "grad_norm": -Infinity}'), { loss: NaN, grad_norm: -Infinity });
  });

  test('any value survives stringify → parse', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.oneof(fc.double(), fc.string(), fc.boolean())), (row) => {
        assert.deepEqual(
          parseJsonLine(stringifyJsonLine(row)),
          JSON.parse(
            JSON.stringify(row, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? `#${v}` : v)),
            (_k, v) => (typeof v === 'string' && v.startsWith('#') && ['#NaN', '#Infinity', '#-Infinity'].includes(v) ? Number(v.slice(1)) : v),
          ),
        );
      }),
    );
  });

  test('line splitting is independent of how the text is chunked', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: fc.constantFrom('a', 'b', '\n', '\r', 'é') })), (chunks) => {
        const lines: string[] = [];
        const splitter = new LineSplitter((line) => lines.push(line));
        chunks.forEach((chunk) => splitter.push(chunk));
        const rest = splitter.flush();
        const whole = chunks
          .join('')
          .split('\n')
          .map((line) => line.replace(/\r$/, ''));
        assert.deepEqual([...lines, rest.replace(/\r$/, '')], whole);
      }),
    );
  });
});

describe('run logs', () => {
  test('a written run reads back: job, metrics in order, events, summary', async () => {
    const writer = RunLogWriter.create(temp(), 'my job/1', { name: 'my job/1' }, { flushEveryRows: 7, now: new Date('2026-11-25T10:20:30Z') });
    assert.match(writer.dir, /20261125-102030-my_job_1$/);
    for (let step = 0; step < 100; step++) writer.appendMetrics({ step, loss: step === 50 ? NaN : 1 / (step + 1) });
    writer.appendEvent({ kind: 'nonFinite', step: 50 });
    writer.close({ status: 'finished', steps: 100 });
    const log = openRunLog(writer.dir);
    assert.deepEqual(log.job, { name: 'my job/1' });
    assert.deepEqual(log.summary, { status: 'finished', steps: 100 });
    const rows = (await collect(log.metrics())) as { step: number; loss: number }[];
    assert.deepEqual(
      rows.map((r) => r.step),
      Array.from({ length: 100 }, (_, i) => i),
    );
    assert.ok(Number.isNaN(rows[50].loss));
    assert.deepEqual(await collect(log.events()), [{ kind: 'nonFinite', step: 50 }]);
  });

  test('a second run with the same name and time gets its own folder', () => {
    const dir = temp();
    const now = new Date('2026-11-25T10:20:30Z');
    RunLogWriter.create(dir, 'a', {}, { now }).close({});
    RunLogWriter.create(dir, 'a', {}, { now }).close({});
    assert.deepEqual(readdirSync(dir).sort(), ['20261125-102030-a', '20261125-102030-a-2']);
  });

  test('a crash mid-write loses only the cut line; there is no summary', async () => {
    const writer = RunLogWriter.create(temp(), 'crash', {}, { flushEveryRows: 1 });
    for (let step = 0; step < 10; step++) writer.appendMetrics({ step });
    appendFileSync(join(writer.dir, 'metrics.jsonl'), '{"step": 10, "lo');
    const log = openRunLog(writer.dir);
    assert.equal(log.summary, undefined);
    let truncated: number | undefined;
    const rows = await collect(log.metrics({ onTruncatedTail: (line) => (truncated = line) }));
    assert.equal(rows.length, 10);
    assert.equal(truncated, 11);
  });

  test('a malformed line in the middle is an error naming the file and line (or skipped on request)', async () => {
    const file = join(temp(), 'm.jsonl');
    writeFileSync(file, '{"step":0}\n{"step":1,,}\n{"step":2}\n');
    await assert.rejects(collect(readJsonl(file)), (error: unknown) => error instanceof JsonlError && error.message.startsWith(`${file}:2: not a JSON object`));
    const skipped: number[] = [];
    assert.deepEqual(await collect(readJsonl(file, { onBadLine: (e) => skipped.push(e.line) })), [{ step: 0 }, { step: 2 }]);
    assert.deepEqual(skipped, [2]);
  });

  test('rows stream as they arrive: the first is read before the file is complete', async () => {
    // A FIFO has no end until the writer closes it, so reading it whole could never return.
    const fifo = join(temp(), 'live.jsonl');
    execFileSync('mkfifo', [fifo]);
    const writer = createWriteStream(fifo);
    writer.write('{"step":0}\n');
    const rows = readJsonl(fifo);
    const first = await rows.next();
    assert.deepEqual(first.value?.value, { step: 0 });
    for (let step = 1; step < 50_000; step++) writer.write(`{"step":${step}}\n`);
    writer.end();
    let count = 1;
    for await (const _row of rows) count++;
    assert.equal(count, 50_000);
  });

  test('opening a folder that is not a run says so', () => {
    assert.throws(() => openRunLog(temp()), /is not a Gradscope run folder \(no job\.json\)/);
  });
});

describe('epochs', () => {
  test('each epoch is written as it ends and read back as the validation curve', async () => {
    const writer = RunLogWriter.create(temp(), 'epochs', { name: 'epochs' });
    assert.deepEqual(readdirSync(writer.dir).sort(), ['events.jsonl', 'job.json', 'metrics.jsonl'], 'no epochs.jsonl before the first epoch');
    writer.appendEpoch({ epoch: 0, step: 62, trainLoss: 0.8, validationLoss: 0.4, validationAccuracy: 0.88 });
    writer.appendEpoch({ epoch: 1, step: 125, trainLoss: 0.3 });
    // Readable before the run closes: a crashed run keeps its curve.
    assert.deepEqual(await readValidation(openRunLog(writer.dir)), [{ step: 62, loss: 0.4, accuracy: 0.88 }]);
    writer.appendEpoch({ epoch: 2, step: 188, trainLoss: 0.2, validationLoss: NaN });
    writer.close({ status: 'finished' });
    assert.deepEqual(await readValidation(openRunLog(writer.dir)), [
      { step: 62, loss: 0.4, accuracy: 0.88 },
      { step: 188, loss: NaN },
    ]);
  });

  test('a run log without epochs.jsonl has no validation curve', async () => {
    const writer = RunLogWriter.create(temp(), 'old', { name: 'old' });
    writer.close({ status: 'finished' });
    assert.deepEqual(await readValidation(openRunLog(writer.dir)), []);
  });
});
