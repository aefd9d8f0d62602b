import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32c as referenceCrc32c } from '@aws-crypto/crc32c';
import { crc32c } from '../../src/core/logs/crc32c';
import { decodeScalars, maskedCrc32c, readRecords, type TbProblem, type TbScalar } from '../../src/core/logs/tensorboard';
import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTbRuns, readTbRows, streamTbFile, TbFollower } from '../../src/node/logs/tensorboardFiles';
import { concat, eventBytes, histogramEventBytes, record } from '../support/tfevents';
import { referenceDecodeScalars } from '../support/tbReference';
import { Writer } from 'protobufjs/minimal';

test('CRC32C is the standard one (check value of "123456789"), masked as TFRecord does', () => {
  const data = new TextEncoder().encode('123456789');
  assert.equal(crc32c(data) >>> 0, 0xe3069283);
  const crc = 0xe3069283;
  assert.equal(maskedCrc32c(data), ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0);
});

test('scalars round-trip as simple_value, float_val and tensor_content', () => {
  for (const encoding of ['simple', 'floatVal', 'tensorContent'] as const) {
    const scalars = decodeScalars(eventBytes(42, { 'train/loss': 0.5, 'train/grad_norm': 3.25 }, encoding));
    assert.deepEqual(
      scalars.map((s) => [s.tag, s.step, s.value]),
      [
        ['train/loss', 42, 0.5],
        ['train/grad_norm', 42, 3.25],
      ],
      encoding,
    );
  }
});

test('a corrupted record is reported with its offset and skipped; a cut-off tail is left for later', () => {
  const records = [0, 1, 2].map((step) => record(eventBytes(step, { loss: step })));
  const file = concat(records);
  const corrupted = file.slice();
  corrupted[records[0].length + 20] ^= 0xff; // a byte inside the second record's data
  const problems: TbProblem[] = [];
  const steps: number[] = [];
  const end = readRecords(
    corrupted,
    0,
    (data) => steps.push(...decodeScalars(data).map((s) => s.step)),
    (p) => problems.push(p),
  );
  assert.deepEqual(steps, [0, 2]);
  assert.deepEqual(problems, [{ offset: records[0].length, message: 'the record data checksum does not match; record skipped' }]);
  assert.equal(end, file.length);

  const truncated = file.subarray(0, file.length - 5);
  const seen: number[] = [];
  const stop = readRecords(
    truncated,
    0,
    (data) => seen.push(...decodeScalars(data).map((s) => s.step)),
    () => assert.fail('a cut-off tail is not a problem'),
  );
  assert.deepEqual(seen, [0, 1]);
  assert.equal(stop, records[0].length + records[1].length);
});

test("a run's scalars become one row per step, in step order, across files", () => {
  const dir = mkdtempSync(join(tmpdir(), 'gradscope-tb-'));
  writeFileSync(join(dir, 'events.out.tfevents.1.a'), concat([record(eventBytes(2, { a: 1 })), record(eventBytes(1, { a: 2 }))]));
  writeFileSync(join(dir, 'events.out.tfevents.2.a'), record(eventBytes(2, { b: 3 }, 'floatVal')));
  const [run] = findTbRuns(dir);
  assert.deepEqual(
    readTbRows(run, () => assert.fail('no problem expected')),
    [
      { step: 1, a: 2 },
      { step: 2, a: 1, b: 3 },
    ],
  );
});

test('a log directory still being written is followed: new records, new files, new runs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gradscope-tbfollow-'));
  mkdirSync(join(dir, 'a'));
  const file = join(dir, 'a', 'events.out.tfevents.1.h');
  writeFileSync(file, concat([0, 1, 2].map((step) => record(eventBytes(step, { loss: step })))));
  const seen: string[] = [];
  const follower = new TbFollower(
    dir,
    (run, rows) => seen.push(...rows.map((r) => `${run}:${r.step}`)),
    () => assert.fail('no problem expected'),
  );
  await follower.poll();
  assert.deepEqual(seen, ['a:0', 'a:1'], 'the newest step waits for more tags');
  const next = record(eventBytes(3, { loss: 3 }));
  appendFileSync(file, next.subarray(0, 10)); // a record being written
  await follower.poll();
  assert.deepEqual(seen, ['a:0', 'a:1']);
  appendFileSync(file, next.subarray(10));
  mkdirSync(join(dir, 'b'));
  writeFileSync(join(dir, 'b', 'events.out.tfevents.2.h'), concat([record(eventBytes(0, { loss: 9 })), record(eventBytes(1, { loss: 8 }))]));
  await follower.poll();
  assert.deepEqual(seen, ['a:0', 'a:1', 'a:2', 'b:0']);
  follower.flush();
  assert.deepEqual(seen, ['a:0', 'a:1', 'a:2', 'b:0', 'a:3', 'b:1']);
});

test('CRC-32C: the standard check value, and the same as a reference implementation on every length', () => {
  assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
  for (let length = 0; length < 300; length++) {
    const bytes = Uint8Array.from({ length }, (_, i) => (i * 131 + length * 7) & 255);
    assert.equal(crc32c(bytes), referenceCrc32c(bytes) >>> 0, `length ${length}`);
  }
});

test('a tensor that is not one element (a TF2 histogram) or that another plugin wrote is not a scalar', () => {
  assert.deepEqual(decodeScalars(histogramEventBytes(7, 'grad_norm', false)), []);
  assert.deepEqual(decodeScalars(histogramEventBytes(7, 'grad_norm')), []);
  assert.deepEqual(
    decodeScalars(eventBytes(7, { loss: 0.5 }, 'tensorContent')).map((s) => [s.tag, s.value]),
    [['loss', 0.5]],
  );
});

test('a run resumed into a new event file from an earlier step is a second segment, not an overwrite; a second writer is merged by step', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gradscope-tb-resume-'));
  const file = (name: string, steps: number[], tag: string, spikeAt?: number) =>
    writeFileSync(join(dir, name), concat(steps.map((step) => record(eventBytes(step, { [tag]: step === spikeAt ? 50 : 1 })))));
  file(
    'events.out.tfevents.1.host',
    Array.from({ length: 80 }, (_, i) => i),
    'loss',
    75,
  );
  file(
    'events.out.tfevents.2.host',
    Array.from({ length: 80 }, (_, i) => i),
    'grad_norm',
  );
  file(
    'events.out.tfevents.3.host',
    Array.from({ length: 30 }, (_, i) => 50 + i),
    'loss',
  );
  const rows = readTbRows(findTbRuns(dir)[0], () => {});
  assert.equal(rows.length, 110);
  assert.deepEqual(
    rows.slice(78, 82).map((r) => r.step),
    [78, 79, 50, 51],
  );
  assert.equal(rows[75].loss, 50, 'the value before the crash is kept');
  assert.equal(rows[75].grad_norm, 1, "the second writer's tags join their steps");
});

test('the in-place Event decoder reads what protobuf.js reads, and rejects what it rejects', () => {
  let seed = 7;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  const tensor = (dtype: number, shape: number[], fill: (w: Writer) => void) => {
    const w = Writer.create()
      .uint32((1 << 3) | 0)
      .int32(dtype);
    if (shape.length) {
      const s = Writer.create();
      for (const size of shape)
        s.uint32((2 << 3) | 2).bytes(
          Writer.create()
            .uint32((1 << 3) | 0)
            .int64(size)
            .finish(),
        );
      w.uint32((2 << 3) | 2).bytes(s.finish());
    }
    fill(w);
    return w.finish();
  };
  const value = () => {
    const v = Writer.create();
    const tag = pick(['loss', 'train/grad_norm', 'lr', 'ünïcode/τag', '\ufeffbom', '']);
    if (rand() < 0.9) v.uint32((1 << 3) | 2).string(tag);
    const x = pick([0.5, -0, NaN, Infinity, 1e-40, 3.4e38, rand() * 100]);
    switch (pick(['simple', 'floatVal', 'doubleVal', 'floatPacked', 'content32', 'content64', 'half', 'histogram', 'none'])) {
      case 'simple':
        v.uint32((2 << 3) | 5).float(x);
        break;
      case 'floatVal':
        v.uint32((8 << 3) | 2).bytes(tensor(1, [], (w) => w.uint32((5 << 3) | 5).float(x)));
        break;
      case 'doubleVal':
        v.uint32((8 << 3) | 2).bytes(tensor(2, pick([[], [1]]), (w) => w.uint32((6 << 3) | 1).double(x)));
        break;
      case 'floatPacked':
        v.uint32((8 << 3) | 2).bytes(
          tensor(1, [], (w) =>
            w
              .uint32((5 << 3) | 2)
              .fork()
              .float(x)
              .float(x)
              .ldelim(),
          ),
        );
        break;
      case 'content32':
      case 'content64':
      case 'half': {
        const bytes = new Uint8Array(8);
        new DataView(bytes.buffer).setFloat64(0, x, true);
        v.uint32((8 << 3) | 2).bytes(tensor(pick([1, 2, 19, 3]), pick([[], [1], [1, 1]]), (w) => w.uint32((4 << 3) | 2).bytes(bytes.subarray(0, pick([0, 2, 4, 8])))));
        break;
      }
      case 'histogram':
        v.uint32((8 << 3) | 2).bytes(tensor(2, [3, 2], (w) => w.uint32((4 << 3) | 2).bytes(new Uint8Array(48))));
        break;
    }
    if (rand() < 0.3) {
      const plugin = Writer.create()
        .uint32((1 << 3) | 2)
        .string(pick(['scalars', 'histograms', '']))
        .finish();
      v.uint32((9 << 3) | 2).bytes(
        Writer.create()
          .uint32((1 << 3) | 2)
          .bytes(plugin)
          .finish(),
      );
    }
    if (rand() < 0.2) v.uint32((7 << 3) | 0).uint32(12345); // an unknown field
    return v.finish();
  };
  const event = () => {
    const e = Writer.create();
    const parts = [
      () => e.uint32((1 << 3) | 1).double(1.7e9 + rand()),
      () => e.uint32((2 << 3) | 0).int64(pick([0, 1, 127, 128, 300, 2 ** 31, 2 ** 32 + 5, 2 ** 40 + 3, -1, -(2 ** 33)])),
      () => {
        const summary = Writer.create();
        const n = Math.floor(rand() * 4);
        for (let i = 0; i < n; i++) summary.uint32((1 << 3) | 2).bytes(value());
        if (rand() < 0.2) summary.uint32((9 << 3) | 5).fixed32(1);
        e.uint32((5 << 3) | 2).bytes(summary.finish());
      },
      () => e.uint32((3 << 3) | 2).string('brain.Event:2'),
      () =>
        e
          .uint32((6 << 3) | 3)
          .uint32((1 << 3) | 0)
          .uint32(5)
          .uint32((6 << 3) | 4), // a group
    ];
    for (let i = 0; i < 4; i++) pick(parts)();
    return e.finish();
  };
  const read = (decode: (data: Uint8Array) => TbScalar[], data: Uint8Array) => {
    try {
      return decode(data).map((s) => [s.tag, s.step, s.value, s.wallTime]);
    } catch {
      return 'throws';
    }
  };
  let scalars = 0;
  let damagedAgree = 0;
  for (let i = 0; i < 3000; i++) {
    const data = event();
    const expected = read(referenceDecodeScalars, data);
    assert.deepEqual(read(decodeScalars, data), expected, `event ${i}`);
    if (Array.isArray(expected)) scalars += expected.length;
    // Cut off or with a byte changed: when both read it, they read the same. (Either may reject what the
    // other reads: protobuf.js takes a varint cut off near the end, and skips bytes past a 5-byte varint unseen.)
    const cut = data.subarray(0, Math.floor(rand() * data.length));
    const changed = data.slice();
    if (changed.length) changed[Math.floor(rand() * changed.length)] = Math.floor(rand() * 256);
    for (const bad of [cut, changed]) {
      const reference = read(referenceDecodeScalars, bad);
      const ours = read(decodeScalars, bad);
      if (reference !== 'throws' && ours !== 'throws') assert.deepEqual(ours, reference, `event ${i} damaged`);
      else damagedAgree += Number(reference === ours);
    }
  }
  assert.ok(damagedAgree > 100, `both reject ${damagedAgree} damaged events`);
  assert.ok(scalars > 1000);
});

test('event files with no scalars say what they hold instead (histograms), naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gradscope-tb-histograms-'));
  const file = join(dir, 'events.out.tfevents.1.host');
  writeFileSync(file, concat([0, 1, 2].map((step) => record(histogramEventBytes(step)))));
  const problems: string[] = [];
  const rows = readTbRows(findTbRuns(dir, 0)[0], (where, problem) => problems.push(`${where}: ${problem.message}`));
  assert.deepEqual(rows, []);
  assert.deepEqual(problems, [`${file}: holds no scalars, only 3 histograms; Gradscope charts scalars (add_scalar, tf.summary.scalar)`]);
  // A file with scalars and histograms reads its scalars and says nothing of the rest.
  writeFileSync(file, concat([record(histogramEventBytes(0)), record(eventBytes(0, { loss: 1 })), record(eventBytes(1, { loss: 0.5 }))]));
  problems.length = 0;
  assert.deepEqual(
    readTbRows(findTbRuns(dir, 0)[0], (where, problem) => problems.push(problem.message)).map((row) => row.loss),
    [1, 0.5],
  );
  assert.deepEqual(problems, []);
});

test('a one-file run streams its rows a chunk at a time: records across chunk ends, larger than a chunk, damaged, cut off', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gradscope-tb-stream-'));
  const file = join(dir, 'events.out.tfevents.1.host');
  const events = Array.from({ length: 60 }, (_, step) => record(eventBytes(step, step === 30 ? { loss: 1 / (step + 1), ['x'.repeat(300)]: 7 } : { loss: 1 / (step + 1), lr: 0.1 })));
  const damaged = Uint8Array.from(events[20]);
  damaged[damaged.length - 1] ^= 0xff; // the data checksum of step 20's record
  events[20] = damaged;
  const whole = concat(events);
  for (const tail of [new Uint8Array(0), whole.subarray(0, 7)]) {
    writeFileSync(file, concat([whole, tail]));
    const expectedProblems: string[] = [];
    const expected = readTbRows({ name: '.', files: [file] }, (_, p) => expectedProblems.push(`${p.offset}: ${p.message}`));
    for (const chunk of [16, 64, 100, 1 << 20]) {
      const rows: Record<string, number>[] = [];
      const problems: string[] = [];
      assert.equal(
        streamTbFile(
          file,
          (row) => rows.push(row),
          (_, p) => problems.push(`${p.offset}: ${p.message}`),
          chunk,
        ),
        true,
      );
      assert.deepEqual(rows, expected, `chunks of ${chunk} bytes`);
      assert.deepEqual(problems, expectedProblems, `chunks of ${chunk} bytes`);
    }
    assert.equal(expected.length, 59, 'every step but the damaged one');
    assert.equal(expectedProblems.length, tail.length ? 2 : 1);
  }
  // A record length that fails its checksum: the rest of the file is skipped, once.
  const broken = Uint8Array.from(whole);
  const at = events.slice(0, 40).reduce((n, e) => n + e.length, 0);
  broken[at + 9] ^= 0xff;
  writeFileSync(file, broken);
  const problems: string[] = [];
  const rows: Record<string, number>[] = [];
  streamTbFile(
    file,
    (row) => rows.push(row),
    (_, p) => problems.push(p.message),
    64,
  );
  assert.equal(rows.at(-1)?.step, 39);
  assert.deepEqual(problems.slice(1), ['the record length checksum does not match; the rest of the file is skipped']);
});

/** Every row a follower hands out (poll, then flush), with its problems and how many hand-outs it made. */
async function followOnce(dir: string, chunk: number, depth = 0) {
  const rows: Record<string, number>[] = [];
  const problems: string[] = [];
  let handOuts = 0;
  const follower = new TbFollower(
    dir,
    (_, out) => {
      handOuts++;
      rows.push(...out);
    },
    (_, p) => problems.push(`${p.offset}: ${p.message}`),
    { depth, chunkBytes: chunk },
  );
  await follower.poll();
  const duringLook = handOuts;
  follower.flush();
  return { rows, problems, duringLook, follower };
}

test('a followed event file is read a chunk at a time: the rows of reading it whole, handed out as each chunk is read', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gradscope-tbfollow-chunks-'));
  const file = join(dir, 'events.out.tfevents.1.host');
  const events = Array.from({ length: 60 }, (_, step) => record(eventBytes(step, step === 30 ? { loss: 1 / (step + 1), ['x'.repeat(300)]: 7 } : { loss: 1 / (step + 1), lr: 0.1 })));
  const damaged = Uint8Array.from(events[20]);
  damaged[damaged.length - 1] ^= 0xff;
  events[20] = damaged;
  writeFileSync(file, concat(events));
  const expectedProblems: string[] = [];
  const expected = readTbRows({ name: '.', files: [file] }, (_, p) => expectedProblems.push(`${p.offset}: ${p.message}`));
  for (const chunk of [16, 64, 100, 1 << 20]) {
    const { rows, problems, duringLook } = await followOnce(dir, chunk);
    assert.deepEqual(rows, expected, `chunks of ${chunk} bytes`);
    assert.deepEqual(problems, expectedProblems, `chunks of ${chunk} bytes`);
    if (chunk < 1000) assert.ok(duringLook > 10, `chunks of ${chunk} bytes: ${duringLook} hand-outs during the look`);
  }
});

test('a followed run of several files: a second writer joins the rows of its steps, a resumed file is a segment after the old one (as readTbRows reads it)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gradscope-tbfollow-resume-'));
  const file = (name: string, steps: number[], tag: string, value: number) => writeFileSync(join(dir, name), concat(steps.map((step) => record(eventBytes(step, { [tag]: value + step })))));
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
  file('events.out.tfevents.1.host', range(0, 80), 'loss', 1000);
  file('events.out.tfevents.2.host', range(0, 80), 'grad_norm', 2000);
  file('events.out.tfevents.3.host', range(50, 90), 'loss', 3000);
  const expected = readTbRows(findTbRuns(dir)[0], () => assert.fail('no problem expected'));
  for (const chunk of [64, 1 << 20]) {
    const { rows } = await followOnce(dir, chunk);
    assert.deepEqual(rows, expected, `chunks of ${chunk} bytes`);
  }
  assert.deepEqual(
    expected.map((r) => r.step),
    [...range(0, 80), ...range(50, 90)],
  );
  assert.deepEqual(expected[60], { step: 60, loss: 1060, grad_norm: 2060 });
  assert.deepEqual(expected[80 + 10], { step: 60, loss: 3060 });
});

test('a followed file whose framing is lost is said once and not read again as it grows; a record being written waits for its end', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gradscope-tbfollow-lost-'));
  const file = join(dir, 'events.out.tfevents.1.host');
  const events = Array.from({ length: 30 }, (_, step) => record(eventBytes(step, { loss: step })));
  const next = record(eventBytes(30, { loss: 30 }));
  writeFileSync(file, concat([...events, next.subarray(0, 9)]));
  const rows: number[] = [];
  const problems: string[] = [];
  const follower = new TbFollower(
    dir,
    (_, out) => rows.push(...out.map((r) => r.step)),
    (_, p) => problems.push(p.message),
    { depth: 0, chunkBytes: 64 },
  );
  await follower.poll();
  assert.equal(rows.at(-1), 28, 'the newest complete step waits for more tags');
  appendFileSync(file, next.subarray(9));
  await follower.poll();
  assert.equal(rows.at(-1), 29);
  assert.deepEqual(problems, [], 'a record being written is not a problem');

  const broken = Uint8Array.from(record(eventBytes(31, { loss: 31 })));
  broken[9] ^= 0xff; // its length checksum
  appendFileSync(file, broken);
  await follower.poll();
  appendFileSync(file, concat([32, 33, 34].map((step) => record(eventBytes(step, { loss: step })))));
  await follower.poll();
  await follower.poll();
  follower.flush();
  assert.deepEqual(problems, ['the record length checksum does not match; the rest of the file is skipped']);
  assert.deepEqual(
    rows,
    Array.from({ length: 31 }, (_, i) => i),
  );
});
