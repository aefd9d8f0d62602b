// The byte fast path for JSON lines (JsonShapeReader) against JSON.parse: a line it takes must read
// exactly as the text path reads it (keys, order, numbers bit for bit, -0 and NaN included), and a
// line it cannot read the same way must be left to the text path. End to end, reading a file with
// the fast path gives the same rows, report and problems as reading it as text only.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { csv, jsonLines, lightningCsv, llamaFactory, llmc, mmengine, type LineFormat } from '../../src/core/logs/formats';
import { JsonShapeReader } from '../../src/core/logs/jsonShapes';
import { ByteLineSplitter, LineSplitter } from '../../src/core/logs/lineSplitter';
import { parseJsonLine } from '../../src/core/runlog/jsonLine';
import { RowAssembler, type MetricsRow } from '../../src/core/logs/rows';
import { ColumnResolver } from '../../src/core/logs/columns';
import { LogFormatError, trainerStateEntries } from '../../src/core/logs/documents';
import { readLogSource, type ReadReport } from '../../src/node/logs/read';

const bytes = (text: string) => new TextEncoder().encode(text);

/** Reads `line` after the reader has seen `before`; checks it against parseJsonLine. Returns whether the fast path took it. */
function check(reader: JsonShapeReader, line: string): boolean {
  const data = bytes(`  ${line}  `); // offsets inside a larger buffer, as lines of a chunk are
  const record = reader.read(data, 2, data.length - 2, 7);
  let parsed: unknown;
  let threw = false;
  try {
    parsed = parseJsonLine(line);
  } catch {
    threw = true;
  }
  if (!record) return false;
  assert.ok(!threw, `the fast path took a line JSON.parse rejects: ${line}`);
  const values = parsed as Record<string, unknown>;
  assert.deepEqual(Object.keys(values), record.shape.keys, line);
  assert.equal(record.line, 7);
  record.shape.keys.forEach((key, i) => {
    if (record.shape.numeric[i]) assert.ok(Object.is(values[key], record.numbers[i]), `${line}: ${key} is ${String(values[key])}, fast path read ${record.numbers[i]}`);
    else assert.notEqual(typeof values[key], 'number', `${line}: ${key}`);
  });
  return true;
}

const reader = (...seen: string[]) => {
  const r = new JsonShapeReader(() => ({}));
  for (const line of seen) check(r, line);
  return r;
};

describe('JSON lines fast path', () => {
  test('numbers read bit for bit as JSON.parse reads them', () => {
    const r = reader('{"step":0,"v":1}');
    const spellings = [
      '0',
      '-0',
      '1',
      '-1',
      '0.1',
      '-0.0',
      '1e5',
      '1E5',
      '1e-5',
      '1e+5',
      '1.5E-7',
      '0e0',
      '-0e-0',
      '100e-2',
      '0.1e1',
      '0.000001',
      '0.30000000000000004',
      '1.2345678901234567',
      '123456789012345678',
      '9007199254740993',
      '9007199254740992',
      '900719925474099.1',
      '1e22',
      '1e23',
      '1e-22',
      '1e-23',
      '123e20',
      '1.7976931348623157e308',
      '1e308',
      '1e400',
      '-1e400',
      '5e-324',
      '2.5e-324',
      '1e-400',
      '4.9406564584124654e-324',
      '2.2250738585072014e-308',
      '3.141592653589793',
      '1234567890.123456',
      '12345678901234567890123',
      '0.1000000000000000055511151231257827',
      '1000000000000000000000000000000000000e-36',
      '1e0000000000000000000001',
      'NaN',
      'Infinity',
      '-Infinity',
    ];
    for (const text of spellings) assert.ok(check(r, `{"step":1,"v":${text}}`), text);
    // Numbers as Python, toFixed, toExponential and String print them.
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 10 ** Math.floor((seed % 40) - 20);
    for (let i = 0; i < 20000; i++) {
      const x = random() * (i % 2 ? -1 : 1);
      for (const text of [String(x), x.toFixed(i % 10), x.toExponential(i % 17), x.toPrecision(1 + (i % 21))]) assert.ok(check(r, `{"step":${i},"v":${text}}`), text);
    }
  });

  test('spellings that are not JSON numbers are left to the text path', () => {
    const r = reader('{"step":0,"v":1}');
    for (const text of ['01', '-01', '1.', '.5', '+1', '-', '1e', '1e+', '--1', '1..2', '0x10', 'NaNa', '-NaN', 'nan', 'inf', 'infinity', '-infinity', 'Infinit', '1 2', '1,', '']) {
      assert.equal(check(r, `{"step":1,"v":${text}}`), false, text);
    }
  });

  test('tricky lines: read the same as JSON.parse, or left to the text path', () => {
    const r = reader('{"step":0,"loss":1.5,"name":"a"}');
    const taken = (line: string) => check(r, line);
    // Same shape: taken.
    assert.ok(taken('{"step":1,"loss":2.5,"name":"b"}'));
    assert.ok(taken(' { "step" : 1 ,\t"loss":\t2.5e-3 , "name" : "日本語 ✓" } \r'));
    assert.ok(taken('{"step":1,"loss":-0,"name":""}'));
    assert.ok(taken('{"step":1,"loss":NaN,"name":"NaN"}'));
    assert.ok(taken('{"step":1,"loss":-Infinity,"name":"x"}'));
    // A string with an escape, a control character, or a nested value: text path.
    assert.equal(taken('{"step":1,"loss":2,"name":"a\\"b"}'), false);
    assert.equal(taken('{"step":1,"loss":2,"name":"a\\u00e9"}'), false);
    assert.equal(taken('{"step":1,"loss":2,"name":"a\tb"}'), false);
    assert.equal(taken('{"step":1,"loss":2,"name":{"x":1}}'), false);
    assert.equal(taken('{"step":1,"loss":2,"name":[1]}'), false);
    assert.equal(taken('{"st\\u0065p":1,"loss":2,"name":"a"}'), false);
    // Cut off, trailing garbage, two objects, not an object.
    for (const line of ['{"step":1,"loss":2,"name":"a"', '{"step":1,"loss":', '{"step":1,"loss":2,"name":"a"}x', '{"step":1,"loss":2,"name":"a"}{}', '[1,2]', '{"step":1,"loss":2,}', '', '   ']) {
      assert.equal(taken(line), false, line);
    }
    // A value of another kind (a number where a string was, null, true) is another shape: learnt and read.
    assert.ok(taken('{"step":1,"loss":null,"name":"a"}'));
    assert.ok(taken('{"step":1,"loss":true,"name":7}'));
    // Another key order is another shape.
    assert.ok(taken('{"loss":3,"step":2,"name":"a"}'));
    assert.ok(taken('{"loss":3,"step":2,"name":"a"}'));
    // Unicode keys are compared by their bytes.
    assert.ok(taken('{"stép":1,"损失":0.5}'));
    assert.ok(taken('{"stép":2,"损失":0.25}'));
    assert.ok(taken('{"stëp":2,"损失":0.25}'));
  });

  test('duplicated and integer-like keys (JSON.parse collapses or reorders them) are never learnt', () => {
    const r = reader();
    for (let i = 0; i < 3; i++) {
      assert.equal(check(r, '{"step":1,"loss":2,"loss":3}'), false);
      assert.equal(check(r, '{"step":1,"10":2,"2":3}'), false);
    }
    // After enough lines that cannot be learnt, learning stops; lines of known shapes are still read.
    const s = reader('{"step":0,"loss":1}');
    for (let i = 0; i < 40; i++) check(s, `{"step":${i},"loss":2,"loss":3}`);
    assert.ok(check(s, '{"step":5,"loss":2}'));
  });
});

describe('JSON lines read as bytes', () => {
  const lines = [
    '\ufeff{"step": 0, "loss": 2.5, "grad_norm": 1.0, "lr": 0.001}',
    '{"step": 1, "loss": 2.4, "grad_norm": 1.1, "lr": 0.001}',
    '{"step": 2, "loss": NaN, "grad_norm": Infinity, "lr": 0.001}\r',
    '',
    '{"step": 3, "loss": 2.3, "grad_norm": 1.2e0, "lr": 1e-3, "note": "a \\"quoted\\" note"}',
    'not json at all',
    '{"step": 4, "loss": 2.2, "grad_norm": 1.3, "lr": 0.001, "grad_norm/fc1.weight": 0.5, "grad_norm/fc2.weight": -0}',
    '{"step": 4, "eval_loss": 2.9}',
    '{"eval_loss": 2.8, "step": 5}',
    '{"loss": 2.1, "step": 5, "grad_norm": 1.4, "lr": 0.001}',
    '{"step": 6, "loss": 2.0, "grad_norm": 1.5, "lr": 0.001, "nested": {"a": 1}}',
    '{"step": 7, "loss": 1.9, "loss": 5, "grad_norm": 1.6, "lr": 0.001}',
    '{"step": 3, "loss": 2.5, "grad_norm": 1.0, "lr": 0.001}',
    '{"step": 4, "loss": 2.4, "grad_norm": 30.0, "lr": 0.001}',
    '{"step": 5, "loss": "2.4", "grad_norm": 1.0, "lr": 0.001}',
    '{"step": 6, "loss": 2.3, "grad_norm": 1.0, "lr": 0.001, "mode": "train"}',
    '[1, 2, 3]',
    '{"step": 7, "loss": 2.2, "grad_norm": 1.0, "lr": 0.001}',
  ];

  /** Reads a file with the format's parser, and with the same parser without its byte fast path. */
  async function both(format: LineFormat, text: string | Uint8Array): Promise<{ fast: [MetricsRow[], ReadReport, string[]]; slow: [MetricsRow[], ReadReport, string[]] }> {
    const dir = mkdtempSync(join(tmpdir(), 'gradscope-jsonshapes-'));
    const file = join(dir, 'metrics.jsonl');
    writeFileSync(file, text);
    const read = async (f: LineFormat): Promise<[MetricsRow[], ReadReport, string[]]> => {
      const rows: MetricsRow[] = [];
      const problems: string[] = [];
      const report = await readLogSource({ kind: 'lines', title: 't', format: f, file }, { onRow: (row) => rows.push(row), onProblem: (p) => problems.push(p) });
      return [rows, report, problems];
    };
    try {
      const textOnly: LineFormat = { ...format, parser: () => ({ line: format.parser().line }) };
      assert.ok(format.parser().bytes, `${format.name} has a byte fast path`);
      return { fast: await read(format), slow: await read(textOnly) };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  for (const format of [jsonLines, llamaFactory, mmengine]) {
    test(`${format.label}: the same rows, report and problems as the text path`, async () => {
      for (const tail of ['\n', '', '\n{"step": 8, "loss": 2.1, "grad_norm": 1.0, "lr": 0.001}', '\n{"step": 8, "loss": 2.1, "grad_n']) {
        const { fast, slow } = await both(format, lines.join('\n') + tail);
        assert.deepEqual(fast, slow);
        assert.ok(fast[0].length > 5);
      }
    });
  }

  test('a million-byte chunk boundary inside a line, a multi-byte character split across chunks', async () => {
    // Lines long enough that the 1 MB reads end inside lines, with multi-byte characters in keys and strings.
    const many = Array.from(
      { length: 30000 },
      (_, i) => `{"step": ${i}, "lösš": ${(2 / (1 + i / 100)).toFixed(6)}, "grad_norm": ${i % 97 === 0 ? 40 : 1 + (i % 7) / 10}, "tag": "ünïcode ✓ ${i}"}`,
    ).join('\n');
    const { fast, slow } = await both(jsonLines, many);
    assert.deepEqual(fast, slow);
    assert.equal(fast[0].length, 30000);
  });

  test('ByteLineSplitter splits as LineSplitter does, whatever the chunks', () => {
    const text = 'a\r\nbé\n\n\r\nc\rd\n✓✓\nlast';
    const data = bytes(text);
    const expected: string[] = [];
    const splitter = new LineSplitter((line) => expected.push(line));
    splitter.push(text);
    expected.push(splitter.flush());
    const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
    for (let size = 1; size <= data.length; size++) {
      const got: string[] = [];
      const byteSplitter = new ByteLineSplitter((line, start, end) => got.push(decoder.decode(line.subarray(start, end))));
      for (let at = 0; at < data.length; at += size) byteSplitter.push(data.subarray(at, at + size));
      got.push(decoder.decode(byteSplitter.flush()));
      assert.deepEqual(got, expected, `chunks of ${size}`);
    }
  });
});

describe('trainer_state.json read as bytes', () => {
  const assemble = (feed: (assembler: RowAssembler) => void) => {
    const rows: MetricsRow[] = [];
    const assembler = new RowAssembler(new ColumnResolver(), (row) => rows.push(row));
    try {
      feed(assembler);
    } catch (error) {
      return { error: (error as Error).message, problem: (error as LogFormatError).problem };
    }
    assembler.flush();
    return { rows, report: assembler.report() };
  };
  const entry = (i: number) => ({ epoch: i / 10, grad_norm: i === 7 ? 50 : 1 + (i % 3) / 10, learning_rate: 1e-3, loss: 2 - i / 100, step: i });
  const history = [
    ...Array.from({ length: 12 }, (_, i) => entry(i)),
    { epoch: 1.2, eval_loss: 1.5, eval_runtime: 3.2, step: 12 },
    { ...entry(13), loss: NaN },
    { ...entry(14), note: 'a {brace} and a "quote"', nested: { a: [1, { b: 2 }] } },
    { grad_norm: 1.1, step: 15, loss: 1.8, learning_rate: 1e-3, epoch: 1.5 },
    ...Array.from({ length: 5 }, (_, i) => entry(16 + i)),
    { epoch: 2, step: 21, total_flos: 1e15, train_loss: 1.7, train_runtime: 100.5 },
  ];
  const documents: Record<string, string> = {
    pretty: JSON.stringify({ best_metric: null, global_step: 21, log_history: history, trial_params: { lr: [1, 2] } }, null, 2).replace(/null,\n\s*"loss": NaN/, '"loss": NaN'),
    compact: JSON.stringify({ log_history: history }),
    crlf: JSON.stringify({ log_history: history }, null, 1).replace(/\n/g, '\r\n'),
    bom: '\ufeff' + JSON.stringify({ '{"log_history"': 1, log_history: history }, null, 2),
    nonFinite: JSON.stringify({ log_history: history }, null, 2)
      .replace(/"loss": 1.9(\d*)/, '"loss": Infinity')
      .replace(/"grad_norm": 50/, '"grad_norm": NaN'),
    cutOff: JSON.stringify({ log_history: history }, null, 2).slice(0, 900),
    badEntry: JSON.stringify({ log_history: history }, null, 2).replace('"step": 3', '"step": 3,,'),
    // Damage that unbalances the scan: the entries are then found by their lines.
    missingBrace: JSON.stringify({ log_history: history }, null, 2).replace(/("step": 5\n\s*)\}/, '$1'),
    extraBrace: JSON.stringify({ log_history: history }, null, 2).replace(/("step": 5\n\s*)\}/, '$1}}'),
    openQuote: JSON.stringify({ log_history: history }, null, 2).replace('"step": 5', '"step: 5'),
    noHistory: JSON.stringify({ global_step: 3 }),
    emptyHistory: '{"log_history": []}',
  };
  /** A history cut off: a follower (keepCutOff false, as the trainer may be rewriting it) refuses it, reading keeps its complete entries. */
  const damaged: Record<string, { problem: RegExp; steps: (intact: number[]) => number[] }> = {
    cutOff: { problem: /^log_history is cut off after 7 entries \(a file still being written\?\); the 7 complete entries are read$/, steps: (intact) => intact.slice(0, 7) },
  };
  for (const [name, text] of Object.entries(documents)) {
    // The reference: every entry read by JSON.parse, none by its shape.
    const slowRead = (source: string, options = {}) => trainerStateEntries(new TextEncoder().encode(source), { ...options, shapes: false });
    test(`${name}: the same rows, report and errors as reading every entry with JSON.parse`, () => {
      const slow = assemble((assembler) => slowRead(text, { keepCutOff: false }).feed(assembler));
      const entries = (() => {
        try {
          return trainerStateEntries(new TextEncoder().encode(text));
        } catch {
          return undefined;
        }
      })();
      const fast = assemble((assembler) => trainerStateEntries(new TextEncoder().encode(text)).feed(assembler));
      if (name in damaged) {
        assert.ok('error' in slow);
        assert.equal(entries!.problems.length, 1);
        assert.match(entries!.problems[0], damaged[name].problem);
        const intact = assemble((assembler) => slowRead(JSON.stringify({ log_history: history }, null, 2)).feed(assembler)) as { rows: MetricsRow[] };
        assert.deepEqual(
          (fast as { rows: MetricsRow[] }).rows.map((row) => row.step),
          damaged[name].steps(intact.rows.map((row) => row.step)),
        );
        return;
      }
      assert.deepEqual(fast, slow);
      const slowProblems = (() => {
        try {
          return slowRead(text, { keepCutOff: false }).problems;
        } catch {
          return [];
        }
      })();
      assert.deepEqual(entries?.problems ?? [], slowProblems);
      if (['missingBrace', 'extraBrace', 'openQuote'].includes(name)) {
        assert.deepEqual(
          (slow as { rows: MetricsRow[] }).rows.map((row) => row.step),
          [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20],
          'every entry but the damaged one',
        );
        assert.equal(slowProblems.length, 1);
        assert.match(slowProblems[0], /^line \d+: the log_history entry that starts here (has no end|is not JSON)/);
      }
      if (name === 'badEntry') {
        assert.equal(slowProblems.length, 1);
        assert.match(slowProblems[0], /^line \d+: the log_history entry that starts here is not JSON/);
        assert.ok(!(slow as { rows: MetricsRow[] }).rows.some((row) => row.step === 3), 'the damaged entry is skipped, the others read');
      }
      if (name === 'pretty') assert.equal((slow as { rows: MetricsRow[] }).rows.length, 21);
    });
  }
});

describe('llm.c lines of a shape seen before', () => {
  test('the same rows, report and problems as reading every line with a fresh parser (never a shape)', async () => {
    const lines = [
      's:0 trl:10.9 lr:0.0006 norm:15.3',
      's:1 trl:10.5 lr:0.0006 norm:12.1',
      's:1 tel:10.7',
      's:2 trl:10.1  lr:0.0006\tnorm:9.5',
      's:3 trl:nan lr:0.0006 norm:inf',
      's:4 trl:9.9 lr:0.0006 norm:-inf',
      's:5 trl:9.8 lr:0.0006',
      's:6 trl:9.7 lr:0.0006 norm:x',
      's:7 trl:9.6 trl:9.5 lr:0.0006 norm:8',
      's:8 trl:9.4 lr:0.0006 norm:8 5:1',
      's:9 trl:9.3 lr:0.0006 norm:8 5:1',
      's:10 trl:9.2 lr:0.0006 norm:8 s:3',
      's:11 trl:9.1 lr:0.0006 norm:8 :4 junk',
      'step 12 something else',
      's:12 trl:9.0 lr:0.0006 norm:8',
      's:13 trl:8.9 lr:0.0006 norm:80',
      's:14  trl:8.8 lr:0.0006 norm:8',
      's:15 trl:8.7 lr:0.0006 norm:8 ',
      's:16 trl:8.6 lr:0.0006 norm:8\u00a0',
      's:16 eval:0.3',
      's:17 trl:8.5 lr:0.0006 norm:',
      ' s:17 trl:8.5 lr:0.0006 norm:7',
      's:x trl:8.5 lr:0.0006 norm:7',
      's: trl:8.5 lr:0.0006 norm:7',
      's:17\ttrl:8.5 lr:0.0006 norm:7',
      's:17trl:8.5 lr:0.0006 norm:7',
      's:17 trl:8.5 lr:0.0006 norm:7\r',
      's:17 trl:8.5 lr:0.0006 normal:7',
      's:17 trl:1e-3 lr:6E-4 norm:+7.',
      's:18 trl:8.4 lr:0.0006 norm:8',
    ];
    const dir = mkdtempSync(join(tmpdir(), 'gradscope-llmc-'));
    try {
      for (const tail of ['\n', '\ns:19 trl:8.3 lr:0.0006 no']) {
        const file = join(dir, 'main.log');
        writeFileSync(file, lines.join('\n') + tail);
        const read = async (format: LineFormat) => {
          const rows: MetricsRow[] = [];
          const problems: string[] = [];
          const report = await readLogSource({ kind: 'lines', title: 't', format, file }, { onRow: (row) => rows.push(row), onProblem: (p) => problems.push(p) });
          return { rows, report, problems };
        };
        const fresh: LineFormat = { ...llmc, parser: () => ({ line: (text, n) => llmc.parser().line(text, n) }) };
        const fast = await read(llmc);
        assert.deepEqual(fast, await read(fresh));
        assert.ok(fast.rows.length > 15);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('CSV rows with the cells of a row before', () => {
  test('the same rows, report and problems as reading every line with a fresh parser (never a shape)', async () => {
    const files = {
      'metrics.csv': [
        '\ufeffepoch,step,train_loss,lr-Adam,val_loss,grad_norm',
        '0,0,2.5,0.001,,3.1',
        '0,1,2.4,0.001,,2.9',
        '0,1,,,2.6,',
        '0,2,2.3,0.001,,2.8',
        '0,3, 2.2 ,0.001,,nan',
        '0,4,2.1,0.001,,inf',
        '0,5,"2.0",0.001,,2.5',
        '0,6,oops,0.001,,2.5',
        '0,7,1.9,0.001,,2.4,extra',
        '0,7,,,2.4,',
        '0,8,1.8,0.001,,2.3\r',
        '0,9,1.7,0.001,,',
        '0,10,1.6,0.001,,2.2',
        '0,11,-0,1e-3,,2.2',
        ' , , , , , ',
        '0,12,1.5,0.001,,2.1',
      ],
      'dup.csv': ['step,loss,loss,grad_norm', '0,1,2,3', '1,1,2,3', '2,1,2,3'],
      'numbers.csv': ['1,step,loss', '5,0,1', '6,1,0.9', '7,2,0.8'],
    };
    const dir = mkdtempSync(join(tmpdir(), 'gradscope-csv-'));
    try {
      for (const [name, lines] of Object.entries(files)) {
        const file = join(dir, name);
        writeFileSync(file, lines.join('\n') + '\n');
        const read = async (format: LineFormat) => {
          const rows: MetricsRow[] = [];
          const problems: string[] = [];
          const report = await readLogSource({ kind: 'lines', title: 't', format, file }, { onRow: (row) => rows.push(row), onProblem: (p) => problems.push(p) });
          return { rows, report, problems };
        };
        for (const format of [lightningCsv, csv]) {
          const fresh: LineFormat = {
            ...format,
            parser: () => {
              const header = format.parser();
              let first = true;
              return {
                line: (text, n) => {
                  if (first) {
                    first = false;
                    return header.line(text, n);
                  }
                  // A parser that has read the header and nothing else: never a shape learnt.
                  const parser = format.parser();
                  parser.line(lines[0], 1);
                  return parser.line(text, n);
                },
              };
            },
          };
          const fast = await read(format);
          assert.deepEqual(fast, await read(fresh), `${name} as ${format.name}`);
          assert.ok(fast.rows.length >= 2, name);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
