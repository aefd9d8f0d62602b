// Each reader on a small cut-down of its format, and every reader on hostile input: a clear one-line
// error (exit 2, no stack trace), no hang, never one message per line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ColumnResolver } from '../../src/core/logs/columns';
import { reportRun } from '../../src/core/logs/reportData';
import { readFailure, trainerStateEntries } from '../../src/core/logs/documents';
import type { LogRecord } from '../../src/core/logs/rows';
import { RowAssembler, type MetricsRow } from '../../src/core/logs/rows';
import { followLogSource } from '../../src/node/logs/follow';
import { loadTrainingLogs } from '../../src/node/logs/read';
import { findLogSources } from '../../src/node/logs/sources';
import { readRecordSpans } from '../../src/core/logs/tensorboard';
import { concat, eventBytes, record } from '../support/tfevents';

const bin = join(__dirname, '../../bin/gradscope.js');
const inspect = (...args: string[]) => spawnSync(process.execPath, [bin, 'inspect', ...args], { encoding: 'utf8', timeout: 60_000 });
const temp = () => mkdtempSync(join(tmpdir(), 'gradscope-readers-'));
const write = (name: string, text: string | Buffer) => {
  const file = join(temp(), name);
  writeFileSync(file, text);
  return file;
};
const load = async (file: string, options: Parameters<typeof loadTrainingLogs>[1] = {}) => {
  const [run] = await loadTrainingLogs(file, options);
  return run;
};
const steps = (rows: MetricsRow[]) => rows.filter((r) => r.loss !== undefined || r.gradNorm !== undefined).map((r) => r.step);

describe('rows from records', () => {
  test('columns are resolved per record shape: an hp_metric row first does not hide the loss; a missing value stays missing', () => {
    const rows: MetricsRow[] = [];
    const assembler = new RowAssembler(new ColumnResolver(), (row) => rows.push(row));
    assembler.push({ values: { step: 0, hp_metric: -1 } });
    assembler.push({ values: { step: 1, 'lr-Adam': 0.001 } });
    assembler.push({ values: { step: 1, train_loss: 2.5, epoch: 0 } });
    assembler.push({ values: { step: 2, train_loss: 2.4, epoch: 0 } });
    assembler.push({ values: { step: 2, val_loss: 2.6, epoch: 0 } });
    assembler.flush();
    assert.deepEqual(
      rows.map((r) => [r.step, r.lr, r.loss, r.validationLoss, r.gradNorm]),
      [
        [1, 0.001, 2.5, undefined, undefined],
        [2, 0.001, 2.4, 2.6, undefined],
      ],
    );
    assert.deepEqual(assembler.report().columns, { step: ['step'], lr: ['lr-Adam'], loss: ['train_loss'], validationLoss: ['val_loss'] });
    assert.deepEqual(assembler.report().unused, ['hp_metric', 'epoch']);
  });

  test('a step counter that goes back starts a new segment; a validation row stamped with the epoch joins the current step', () => {
    const rows: MetricsRow[] = [];
    const assembler = new RowAssembler(new ColumnResolver(), (row) => rows.push(row));
    for (const step of [10, 20, 30]) assembler.push({ values: { step, loss: 1, lr: 0.1 } });
    assembler.push({ values: { step: 1, 'coco/AP': 0.5, val_loss: 0.7 } });
    for (const step of [5, 15]) assembler.push({ values: { step, loss: 2, lr: 0.1 } });
    assembler.flush();
    assert.deepEqual(
      rows.map((r) => [r.step, r.segment, r.validationLoss]),
      [
        [10, 0, undefined],
        [20, 0, undefined],
        [30, 0, 0.7],
        [5, 1, undefined],
        [15, 1, undefined],
      ],
    );
    assert.equal(assembler.report().segments, 2);
  });

  test('trainer_state.json: each log_history entry with its line; NaN and Infinity; eval entries; the summary entry is not a step', () => {
    const text =
      '{\n  "global_step": 3,\n  "log_history": [\n    {\n      "loss": 1.0,\n      "grad_norm": NaN,\n      "step": 1\n    },\n    {\n      "eval_loss": 1.2,\n      "step": 1\n    },\n    {\n      "loss": 0.9,\n      "grad_norm": Infinity,\n      "note": "a } in a string",\n      "step": 2\n    },\n    {\n      "train_loss": 0.95,\n      "train_runtime": 12.5,\n      "step": 2\n    }\n  ],\n  "max_steps": 3\n}\n';
    // Every entry by JSON.parse (shapes: false), so that each is a LogRecord to look at.
    const read = (fromEntry = 0) => {
      const history = trainerStateEntries(new TextEncoder().encode(text), { fromEntry, shapes: false });
      const records: LogRecord[] = [];
      history.feed({ push: (record) => records.push(record), pushShaped: () => assert.fail('no shapes') });
      return { records, entries: history.entries };
    };
    const { records, entries } = read();
    assert.equal(entries, 4);
    assert.deepEqual(
      records.map((r) => [r.line, r.role]),
      [
        [4, undefined],
        [9, 'eval'],
        [13, undefined],
        [19, 'summary'],
      ],
    );
    assert.ok(Number.isNaN(records[0].values.grad_norm));
    assert.equal(records[2].values.grad_norm, Infinity);
    assert.equal(read(3).records.length, 1, 'entries already read are skipped');
  });
});

describe('each reader on a cut-down of its format', () => {
  test('Hugging Face trainer_state.json', async () => {
    const run = await load(
      write(
        'trainer_state.json',
        JSON.stringify(
          {
            log_history: [
              { loss: 2, learning_rate: 1e-4, grad_norm: 1, step: 10 },
              { eval_loss: 2.1, step: 10 },
              { loss: 1.9, learning_rate: 1e-4, grad_norm: 1.1, step: 20 },
            ],
          },
          null,
          2,
        ),
      ),
    );
    assert.equal(run.report.format, 'Hugging Face trainer_state.json');
    assert.deepEqual(
      run.rows.map((r) => [r.step, r.loss, r.validationLoss, r.line]),
      [
        [10, 2, 2.1, 3],
        [20, 1.9, undefined, 13],
      ],
    );
  });

  test('LLaMA-Factory trainer_log.jsonl: current_steps; the end marker without a loss is not a step', async () => {
    const run = await load(
      write(
        'trainer_log.jsonl',
        '{"current_steps": 1, "total_steps": 2, "loss": 1.5, "lr": 1e-5, "elapsed_time": "0:01:03"}\n{"current_steps": 2, "total_steps": 2, "loss": 1.4, "lr": 2e-5}\n{"current_steps": 2, "total_steps": 2, "epoch": 1.0, "percentage": 100.0}\n',
      ),
    );
    assert.equal(run.report.format, 'LLaMA-Factory trainer_log.jsonl');
    assert.deepEqual(steps(run.rows), [1, 2]);
    assert.deepEqual(run.report.columns.step, ['current_steps']);
  });

  test('detectron2 metrics.json: total_loss by iteration; eval keys merged into the row; bare NaN', async () => {
    const run = await load(
      write(
        'metrics.json',
        '{"iteration": 19, "total_loss": 2.1, "loss_cls": 1.0, "lr": 0.001, "eta_seconds": 10}\n{"bbox/AP": NaN, "iteration": 39, "total_loss": 1.8, "lr": 0.002}\n{"eta_seconds": 0.0, "iteration": 40}\n',
      ),
    );
    assert.equal(run.report.format, 'detectron2 metrics.json');
    assert.deepEqual(
      run.rows.map((r) => [r.step, r.loss]),
      [
        [19, 2.1],
        [39, 1.8],
      ],
    );
  });

  test('MMEngine scalars.json: validation rows with the epoch as step join the iteration', async () => {
    const run = await load(
      write(
        'scalars.json',
        '{"lr": 0.1, "data_time": 1, "loss": 0.4, "time": 1, "epoch": 1, "iter": 1, "step": 1}\n{"lr": 0.1, "data_time": 1, "loss": 0.3, "time": 1, "epoch": 1, "iter": 2, "step": 2}\n{"coco/AP": 0.1, "coco/AP (M)": -1.0, "data_time": 1, "time": 1, "step": 1}\n{"lr": 0.1, "data_time": 1, "loss": 0.2, "time": 1, "epoch": 2, "iter": 3, "step": 3}\n',
      ),
    );
    assert.equal(run.report.format, 'MMEngine vis_data/scalars.json');
    assert.deepEqual(steps(run.rows), [1, 2, 3]);
    assert.equal(run.report.segments, 1);
  });

  test('Lightning metrics.csv: sparse cells, lr rows of their own carried to the train rows, quoted headers', async () => {
    const run = await load(write('metrics.csv', 'epoch,lr-Adam,step,"train/nll_loss",val/rmse_loss\n,0.003,49,,\n0,,49,0.057,\n,0.004,99,,\n0,,99,0.055,\n0,,120,,0.3\n'));
    assert.equal(run.report.format, 'Lightning CSVLogger metrics.csv');
    assert.deepEqual(
      run.rows.map((r) => [r.step, r.lr, r.loss, r.validationLoss]),
      [
        [49, 0.003, 0.057, undefined],
        [99, 0.004, 0.055, undefined],
        [120, undefined, undefined, 0.3],
      ],
    );
    assert.equal(run.report.trainingRows, 2);
  });

  test('llm.c main.log: trl, tel, lr and norm', async () => {
    const run = await load(write('main.log', 's:0 tel:11.0\ns:0 trl:11.0 lr:0.000001 norm:15.37\ns:1 trl:10.9 lr:0.000002 norm:15.24\nsome other line\ns:2 tel:10.5\n'));
    assert.equal(run.report.format, 'llm.c main.log');
    assert.deepEqual(
      run.rows.map((r) => [r.step, r.loss, r.gradNorm, r.validationLoss]),
      [
        [0, 11, 15.37, 11],
        [1, 10.9, 15.24, undefined],
        [2, undefined, undefined, 10.5],
      ],
    );
    assert.equal(run.report.skippedLines, 1);
  });

  test('nanoGPT: the log file, the console (validation lines without a step join the next step), karpathy iter lines', async () => {
    const file = await load(write('log.txt', '5 val 3.2\n5 hella 0.29\n5 train 3.1\n6 train 3.0\n'));
    assert.deepEqual(
      file.rows.map((r) => [r.step, r.loss, r.validationLoss]),
      [
        [5, 3.1, 3.2],
        [6, 3, undefined],
      ],
    );
    const console = await load(
      write(
        'stdout.log',
        'W1119 warning\nvalidation loss: 3.0717\nstep 19072 | loss: 3.021431 | lr 3.3812e-04 | norm: 0.3323 | dt: 1760.61ms | tok/sec: 297788.49\nrank 1 sample 0: Hello\nstep 19073 | loss: 3.96 | lr 3.3810e-04 | norm: 8.4952 | dt: 802.85ms | tok/sec: 653032.59\n',
      ),
    );
    assert.deepEqual(
      console.rows.map((r) => [r.step, r.loss, r.lr, r.gradNorm, r.validationLoss]),
      [
        [19072, 3.021431, 3.3812e-4, 0.3323, 3.0717],
        [19073, 3.96, 3.381e-4, 8.4952, undefined],
      ],
    );
    assert.equal(console.report.skippedLines, 3);
    const karpathy = await load(write('train.log', 'iter 0: loss 4.2, time 100ms, mfu -100.00%\nstep 0: train loss 4.1, val loss 4.2\niter 1: loss 4.0, time 90ms\n'));
    assert.deepEqual(
      karpathy.rows.map((r) => [r.step, r.loss, r.validationLoss]),
      [
        [0, 4.2, 4.2],
        [1, 4, undefined],
      ],
    );
  });

  test('modded-nanogpt: the printed source skipped and counted, step:N/T, train_loss, val_loss joining its step, units dropped', async () => {
    // The head of a 2024 record (KellerJordan/modded-nanogpt, records/track_1_short/2024-10-10_Muon), cut down.
    const source = [
      '='.repeat(100),
      'import os',
      'import sys',
      'with open(sys.argv[0]) as f:',
      '    code = f.read() # read the code of this file ASAP, for logging',
      '    if (last_step or (args.val_loss_every > 0 and step % args.val_loss_every == 0)):',
      '        print0(f"step:{step}/{args.num_iterations} val_loss:{val_loss:.4f} train_time:{training_time_ms:.0f}ms")',
      '|    0   N/A  N/A      6718      C   /usr/bin/python3                           5776MiB |',
      '='.repeat(100),
    ];
    const lines = [
      'step:0/6200 val_loss:10.9264 train_time:285ms step_avg:nanms',
      'step:1/6200 train_loss:10.9184 train_time:74701ms step_avg:nanms',
      'step:2/6200 train_loss:8.6834 train_time:75965ms step_avg:nanms',
      'step:125/6200 train_loss:5.3717 train_time:24562ms step_avg:213.58ms',
      'step:125/6200 val_loss:5.2017 train_time:24564ms step_avg:213.60ms',
      'step:126/6200 train_loss:nan train_time:24781ms step_avg:213.63ms',
    ];
    const run = await load(write('eb5659d0.txt', [...source, ...lines, ''].join('\n')));
    assert.equal(run.report.format, 'modded-nanogpt log');
    assert.deepEqual(
      run.rows.map((r) => [r.step, r.loss, r.validationLoss]),
      [
        [0, undefined, 10.9264],
        [1, 10.9184, undefined],
        [2, 8.6834, undefined],
        [125, 5.3717, 5.2017],
        [126, NaN, undefined],
      ],
    );
    assert.equal(run.rows[3].line, source.length + 4, 'the step of the training line');
    assert.equal(run.report.skippedLines, source.length, 'the source, counted, not reported');
    assert.equal(run.report.badLines, 0);
    assert.deepEqual(run.report.columns, { step: ['step'], loss: ['train_loss'], validationLoss: ['val_loss'] });
    // train_time and step_avg are read in ms, the unit dropped (nanms is NaN), and left for --map.
    assert.deepEqual(run.report.unused, ['train_time', 'step_avg']);
    const timed = await load(write('timed.txt', `${lines.join('\n')}\n`), { mapping: { gradNorm: 'step_avg' } });
    assert.deepEqual(
      timed.rows.map((r) => r.gradNorm),
      [undefined, NaN, NaN, 213.58, 213.63],
    );
  });

  test('modded-nanogpt: a 2025 record (train lines without a loss) is its validation series; found after more source than is sniffed', async () => {
    // The source of a 2025 record runs past the 64 kB a file is sniffed from before its first metric line.
    const source = ['import os', 'import sys', '', 'with open(sys.argv[0]) as f:', '    code = f.read()  # read the code of this file ASAP, for logging', 'import copy'];
    for (let i = 0; source.join('\n').length < 80_000; i++) source.push(`    x_${i} = torch.zeros((), device=device, dtype=torch.float32)  # padding`);
    const lines = [
      'step:0/1680 val_loss:10.8258 train_time:0ms step_avg:0.02ms',
      'step:1/1680 train_time:145ms step_avg:145.22ms',
      'step:125/1680 train_time:10871ms step_avg:86.97ms',
      'step:125/1680 val_loss:4.3173 train_time:10959ms step_avg:87.67ms',
      'step:1680/1680 train_time:148100ms step_avg:88.15ms',
      'step:1680/1680 val_loss:3.2799 train_time:148190ms step_avg:88.21ms',
      'peak memory allocated: 30760 MiB reserved: 45934 MiB',
    ];
    const file = write('08c0770f.txt', [...source, ...lines, ''].join('\n'));
    const [found] = await findLogSources(file);
    assert.equal(found.kind === 'lines' && found.format.name, 'modded-nanogpt');
    const run = await load(file);
    assert.deepEqual(
      run.rows.map((r) => [r.step, r.loss, r.validationLoss]),
      [
        [0, undefined, 10.8258],
        [125, undefined, 4.3173],
        [1680, undefined, 3.2799],
      ],
    );
    assert.equal(run.report.trainingRows, 0);
    assert.equal(run.report.skippedLines, source.length, 'the source and the peak memory line (the blank one is not counted)');
    const result = inspect(file);
    assert.equal(result.status, 0, result.stderr);
    assert.match(
      result.stderr,
      /08c0770f\.txt: modded-nanogpt log, no training steps, 3 validation-only rows \(0–1680\)\n {2}columns: validationLoss ← val_loss, step ← step\n {2}no training loss or gradient norm: only the validation loss is checked\n/,
    );
    assert.doesNotMatch(result.stderr, /--map loss=train_time/);
  });

  test('Keras TensorBoard: a run folder with train/ and validation/ is one run', async () => {
    const dir = temp();
    for (const part of ['train', 'validation']) {
      mkdirSync(join(dir, 'fit', part), { recursive: true });
      writeFileSync(
        join(dir, 'fit', part, `events.out.tfevents.1.host.1.0.v2`),
        concat(Array.from({ length: 5 }, (_, epoch) => record(eventBytes(epoch, { epoch_loss: (part === 'train' ? 1 : 2) / 2 ** epoch })))),
      );
    }
    const runs = await loadTrainingLogs(dir);
    assert.equal(runs.length, 1);
    assert.equal(runs[0].report.format, 'Keras TensorBoard run (train/ + validation/)');
    assert.deepEqual(
      runs[0].rows.map((r) => [r.step, r.loss, r.validationLoss]),
      [0, 1, 2, 3, 4].map((e) => [e, 1 / 2 ** e, 2 / 2 ** e]),
    );
  });

  test('W&B summary: says it is not a history and how to export one', () => {
    const result = inspect(write('wandb-summary.json', '{"loss": 0.1, "_runtime": 100, "_wandb": {"runtime": 100}}'));
    assert.equal(result.status, 2);
    assert.match(result.stderr, /^gradscope: wandb-summary\.json holds only the final value of each metric, not a history\. Export every logged row/);
  });
});

describe('hostile input: one clear line, exit 2, no stack trace, no hang', () => {
  const oneLine = (result: ReturnType<typeof inspect>, pattern: RegExp) => {
    assert.equal(result.status, 2, result.stderr);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, pattern);
  };

  test('binary garbage', () => {
    const bytes = Buffer.alloc(100_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) % 256;
    oneLine(inspect(write('garbage.jsonl', bytes)), /garbage\.jsonl: a binary file that is not a TensorBoard event file/);
  });

  test('a Git LFS pointer in place of a log, of any kind, is named once as one; a folder of them says so; the logs beside them are read', async () => {
    // What a clone without git-lfs leaves (P4P4N1CK/whisper-large-v2-japanese-5k-steps' runs/, byte for byte).
    const pointer = 'version https://git-lfs.github.com/spec/v1\noid sha256:408e0deacdea0c8618dba746a9b1f705959b06396fe4c8b3651d8fd7b030bd11\nsize 4419\n';
    const said = 'a Git LFS pointer, not the log itself (run `git lfs pull`)';
    for (const name of ['events.out.tfevents.1674944078.gpu07.12415.0', 'trainer_state.json', 'metrics.csv', 'trainer_log.jsonl', 'main.log']) {
      oneLine(inspect(write(name, pointer)), new RegExp(`^gradscope: \\S+/${name.replace(/\./g, '\\.')}: ${said.replace(/[()`]/g, '\\$&')}\n$`));
    }
    oneLine(inspect(write('metrics.csv', pointer), '--format', 'csv'), /metrics\.csv: a Git LFS pointer/);
    // A runs/ folder whose event files are all pointers, and a checkpoint whose trainer_state.json is one.
    const dir = temp();
    for (const run of ['Jan28_15-12-11', 'Jan28_15-22-09']) {
      mkdirSync(join(dir, 'runs', run, '1674944078.06'), { recursive: true });
      writeFileSync(join(dir, 'runs', run, 'events.out.tfevents.1674944078.gpu07.12415.0'), pointer);
      writeFileSync(join(dir, 'runs', run, '1674944078.06', 'events.out.tfevents.1674944078.gpu07.12415.1'), pointer);
    }
    mkdirSync(join(dir, 'checkpoint-10'));
    writeFileSync(join(dir, 'checkpoint-10', 'trainer_state.json'), pointer);
    const folder = inspect(dir);
    oneLine(
      folder,
      /: no training log to read: 5 files are Git LFS pointers, not the logs themselves \(run `git lfs pull`\): checkpoint-10\/trainer_state\.json, runs\/Jan28_15-12-11\/1674944078\.06\/events\.out\.tfevents\.\S+, runs\/Jan28_15-12-11\/events\.out\.tfevents\.\S+, and 2 more\n$/,
    );
    assert.doesNotMatch(folder.stderr, /checksum/);
    // Beside a real log: the log is read, the pointers are said once.
    writeFileSync(join(dir, 'metrics.jsonl'), '{"step": 1, "loss": 2}\n{"step": 2, "loss": 1.9}\n');
    const mixed = inspect(dir);
    assert.equal(mixed.status, 0, mixed.stderr);
    assert.equal(mixed.stderr.match(/Git LFS pointer/g)!.length, 1, mixed.stderr);
    assert.match(mixed.stderr, /^gradscope: 5 files are Git LFS pointers/);
    assert.match(mixed.stderr, /metrics\.jsonl: JSON lines, 2 steps/);
    assert.doesNotMatch(mixed.stderr, /checksum/);
    // Read straight from a followed folder (a pointer that appeared later), an event file says the same.
    const problems: string[] = [];
    readRecordSpans(
      new TextEncoder().encode(pointer),
      0,
      () => assert.fail('no record'),
      (p) => problems.push(p.message),
    );
    assert.deepEqual(problems, [said]);
  });

  test('an empty file', () => {
    oneLine(inspect(write('empty.jsonl', '')), /empty\.jsonl: the file is empty/);
  });

  test('a 10 MB line among good ones is skipped with one message', () => {
    const good = Array.from({ length: 20 }, (_, step) => JSON.stringify({ step, loss: 1, grad_norm: 1 })).join('\n');
    const result = inspect(write('big.jsonl', `${good}\n{"step": 20, "blob": "${'x'.repeat(10_000_000)}"}\n${JSON.stringify({ step: 21, loss: 1, grad_norm: 1 })}\n`));
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /big\.jsonl:21: a 10\.0 MB line is not a metrics record; skipped/);
    assert.match(result.stderr, /21 steps/);
  });

  test('wrong types: strings where numbers belong name the columns found and the --map to try', () => {
    const rows = Array.from({ length: 10 }, (_, step) => JSON.stringify({ step, loss: 'high', gnorm: step + 1 })).join('\n');
    oneLine(
      inspect(write('types.jsonl', rows)),
      /types\.jsonl: no loss or gradient-norm column in 10 records \(JSON lines\); numeric columns found: gnorm; try: gradscope inspect \S+ --map gradNorm=gnorm/,
    );
  });

  test('a text or CSV log whose last line has no newline: that line may be cut inside a number, so it is named and not read', () => {
    const llmc = inspect(write('main.log', 's:0 trl:3.5 lr:0.0006 norm:1.1\ns:1 trl:3.4 lr:0.0006 norm:1.0\ns:2 trl:3.3 lr:0.'));
    assert.equal(llmc.status, 0, llmc.stderr);
    assert.match(llmc.stderr, /main\.log:3: the last line has no newline, so it may be cut off \(a write in progress\?\); not read/);
    assert.match(llmc.stderr, /2 steps \(0–1\)/);
    const csv = inspect(write('metrics.csv', 'step,loss,grad_norm\n0,2.0,1.0\n1,1.9,1.1\n2,1.8,1'));
    assert.match(csv.stderr, /metrics\.csv:4: the last line has no newline/);
    assert.match(csv.stderr, /2 steps \(0–1\)/);
    // A JSON object is whole at its closing brace, newline or not.
    const jsonl = inspect(write('log.jsonl', '{"step": 0, "loss": 2}\n{"step": 1, "loss": 1.9}'));
    assert.doesNotMatch(jsonl.stderr, /cut off|no newline/);
    assert.match(jsonl.stderr, /2 steps \(0–1\)/);
  });

  test('a file that cannot be read says why in words, with the code for a search', () => {
    assert.equal(readFailure(Object.assign(new Error('open'), { code: 'EACCES' })), 'permission denied (EACCES)');
    assert.equal(readFailure(Object.assign(new Error('open'), { code: 'EXDEV' })), 'EXDEV');
    assert.equal(readFailure(new Error('disk gone')), 'disk gone');
  });

  test('a statistic of per-parameter norms is not taken for the global norm, but the --map that would watch it is named', () => {
    const rows = Array.from({ length: 20 }, (_, step) => `${step},${2 - step / 100},${1 + step / 10}`).join('\n');
    const result = inspect(write('metrics.csv', `step,train_loss,grad_norm_max\n${rows}\n`));
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /no gradient-norm or learning-rate column/);
    assert.match(result.stderr, /grad_norm_max is not read as the global gradient norm; to watch it for explosions: --map gradNorm=grad_norm_max/);
  });

  test('a file of broken lines: a handful of messages, then a count', () => {
    const lines = ['{"step": 0, "loss": 1}', ...Array.from({ length: 500 }, (_, i) => `{"step": ${i + 1}, "loss": `), '{"step": 600, "loss": 1}'];
    const result = inspect(write('broken.jsonl', `${lines.join('\n')}\n`));
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr.match(/skipped/g)!.length, 5);
    assert.match(result.stderr, /… 495 more lines or records could not be read \(500 in all\)/);
  });

  test('a trainer_state.json cut off mid-write: its complete entries are read, and the cut is named', () => {
    const entries = Array.from({ length: 30 }, (_, i) => `  {"loss": ${2 - i / 100}, "grad_norm": 1, "learning_rate": 0.001, "step": ${i + 1}}`);
    const cut = inspect(write('trainer_state.json', `{\n "log_history": [\n${entries.join(',\n')},\n  {"loss": 0.9, "st`));
    assert.equal(cut.status, 0, cut.stderr);
    assert.match(cut.stderr, /trainer_state\.json: log_history is cut off after 30 entries \(a file still being written\?\); the 30 complete entries are read/);
    assert.match(cut.stderr, /30 steps \(1–30\)/);
    // Cut before its first entry is complete: nothing to read.
    oneLine(inspect(write('trainer_state.json', '{\n "log_history": [\n  {"loss": 1, "st')), /trainer_state\.json: .*log_history is cut off after 0 entries/);
  });

  test('a trainer_state.json with a damaged entry: the entries around it are read, the damaged one is named by its first line', () => {
    const entries = Array.from({ length: 30 }, (_, i) => `  {"loss": ${2 - i / 100}, "step": ${i + 1}}`);
    entries[12] = '  {"loss": 1.88,\n   oops, "step": 13}';
    const result = inspect(write('trainer_state.json', `{\n "log_history": [\n${entries.join(',\n')}\n ]\n}\n`));
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /trainer_state\.json: line 15: the log_history entry that starts here is not JSON/);
    assert.match(result.stderr, /29 steps \(1–30\)/);
  });

  test('--format and --map name what they accept', () => {
    oneLine(inspect(write('a.jsonl', '{"step":0,"loss":1}\n'), '--format', 'parquet'), /--format takes one of hf-trainer-state, .*jsonl/);
    oneLine(inspect(write('b.jsonl', '{"step":0,"loss":1}\n'), '--map', 'norm'), /--map takes field=column pairs/);
  });
});

describe('column names a reader has never seen', () => {
  const columnsOf = (record: Record<string, unknown>) => {
    const assembler = new RowAssembler(new ColumnResolver(), () => {});
    assembler.push({ values: record });
    return assembler.report().columns;
  };

  test("the PyTorch tutorials' SummaryWriter tags, in any case", () => {
    assert.deepEqual(columnsOf({ step: 1, 'Loss/train': 1, 'Loss/val': 2, 'Gradient Norm': 3, LearningRate: 1e-3, 'Accuracy/train': 0.5 }), {
      step: ['step'],
      lr: ['LearningRate'],
      loss: ['Loss/train'],
      validationLoss: ['Loss/val'],
      gradNorm: ['Gradient Norm'],
    });
  });

  test('epoch is not a step: rows of one epoch stay rows (Keras CSVLogger: one row an epoch, numbered by row)', async () => {
    assert.deepEqual(columnsOf({ epoch: 3, accuracy: 0.9, loss: 0.3, val_accuracy: 0.8, val_loss: 0.4 }), { loss: ['loss'], validationLoss: ['val_loss'] });
    const lines = ['epoch,batch,loss,grad_norm', ...Array.from({ length: 300 }, (_, i) => `${Math.floor(i / 100)},${i % 100},1,${i === 150 ? 90 : 1 + (i % 3) * 0.01}`)];
    const run = await load(write('train_log.csv', `${lines.join('\n')}\n`));
    assert.equal(run.report.trainingRows, 300);
    assert.equal(run.rows[150].gradNorm, 90);
  });

  test("'-' separates like '_' and '/': Lightning's train-loss and val-loss are the losses, not train-clip_loss before them", () => {
    assert.deepEqual(columnsOf({ epoch: 0, step: 33, 'train-acc': 0.5, 'train-clip_loss': 2.2, 'train-loss': 4.9, 'val-clip_loss': 2.2, 'val-loss': 4.8 }), {
      step: ['step'],
      loss: ['train-loss'],
      validationLoss: ['val-loss'],
    });
    assert.deepEqual(columnsOf({ Step: 1, 'Train-Loss': 1, 'grad-norm': 2, 'learning-rate': 0.1 }), { step: ['Step'], lr: ['learning-rate'], loss: ['Train-Loss'], gradNorm: ['grad-norm'] });
  });

  test('a mistyped --map on a log of many columns: the hint, the first of the columns listed and the --map to try are the likeliest column', () => {
    // The header of a real Lightning metrics.csv (36 columns; the list of those found is cut at 20).
    const header = [
      'epoch',
      'step',
      ...['test', 'train', 'val'].flatMap((set) =>
        ['acc', 'auc', 'clip_loss', 'cls_loss', 'cls_loss1D', 'cls_loss2D', 'contrast_loss', 'contrast_loss1D', 'contrast_loss2D', 'eer', 'loss', 'mse_loss'].map((name) => `${set}-${name}`),
      ),
    ];
    const row = (epoch: number, set: string) =>
      header.map((column, i) => (column === 'epoch' ? epoch : column === 'step' ? 33 * (epoch + 1) : column.startsWith(`${set}-`) ? 1 + i / 100 : '')).join(',');
    const file = write('metrics.csv', `${[header.join(','), row(0, 'val'), row(0, 'train'), row(1, 'val'), row(1, 'train')].join('\n')}\n`);
    const plain = inspect(file);
    assert.equal(plain.status, 0, plain.stderr);
    assert.match(plain.stderr, /columns: loss ← train-loss, validationLoss ← val-loss, step ← step/);
    const mistyped = inspect(file, '--map', 'loss=train_loss');
    assert.equal(mistyped.status, 2, mistyped.stderr);
    assert.doesNotMatch(mistyped.stderr, /\n\s+at /, 'no stack trace');
    assert.match(mistyped.stderr, /--map loss=train_loss: no numeric column "train_loss" \(did you mean "train-loss"\?\)/);
    // The validation loss is still read, so the run is summed up: its hint names the likeliest loss too.
    assert.match(mistyped.stderr, /only the validation loss is checked; to read train-loss as the loss: --map loss=train-loss$/m);
  });

  test('a log written once an epoch, without a step column, is numbered by its epoch (Ultralytics results.csv: 1, 2, …, as its TensorBoard file)', async () => {
    const header = 'epoch,time,train/box_loss,train/seg_loss,metrics/mAP50(B),val/box_loss,val/seg_loss,lr/pg0,lr/pg1';
    const rows = [1, 2, 3, 4, 5].map((epoch) => `${epoch},${epoch * 600},${1.5 - epoch / 10},2.3,0.2,1.2,1.6,0.0005,0.0005`);
    const file = write('results.csv', `${[header, ...rows].join('\n')}\n`);
    const run = await load(file);
    assert.deepEqual(steps(run.rows), [1, 2, 3, 4, 5]);
    assert.deepEqual(run.report.columns.step, ['epoch']);
    assert.ok(!run.report.unused.includes('epoch'), 'epoch feeds the step');
    assert.match(inspect(file).stderr, /5 steps \(1–5\)[\s\S]*step ← epoch/);
    // Followed as it is written, each row handed out before the next is written: the rows of reading it whole.
    const grown = write('results.csv', `${header}\n`);
    const [source] = await findLogSources(grown);
    const followed: MetricsRow[] = [];
    const follower = followLogSource(source, { onRow: (row) => followed.push(row) });
    for (const row of rows) {
      appendFileSync(grown, `${row}\n`);
      await follower.poll();
      await follower.poll(); // a look with nothing new: the row goes out
      assert.equal(followed.at(-1)?.step, Number(row.split(',')[0]));
    }
    follower.stop();
    assert.deepEqual(followed, run.rows);
    // Keras' CSVLogger counts epochs from 0: 0, 1, 2 as before.
    const keras = await load(write('training.log.csv', 'epoch,accuracy,loss,val_accuracy,val_loss\n0,0.8,0.5,0.85,0.4\n1,0.9,0.3,0.88,0.35\n2,0.92,0.25,0.9,0.3\n'));
    assert.deepEqual(steps(keras.rows), [0, 1, 2]);
  });

  test('an epoch column that does not go up by one a row does not number the rows: rows of one epoch from 1, a skipped epoch', async () => {
    // Several rows an epoch, epochs from 1: numbered by row from 0, every row kept.
    const shared = await load(write('train_log.csv', `epoch,batch,loss\n${Array.from({ length: 6 }, (_, i) => `${1 + Math.floor(i / 3)},${i % 3},1`).join('\n')}\n`));
    assert.deepEqual(steps(shared.rows), [0, 1, 2, 3, 4, 5]);
    assert.equal(shared.report.columns.step, undefined, 'step ← row number');
    assert.ok(shared.report.unused.includes('epoch'));
    // One row an epoch until one is skipped: numbered by the epoch up to there, then by row.
    const skipped = await load(write('log.csv', 'epoch,loss\n1,1\n2,1\n4,1\n5,1\n'));
    assert.deepEqual(steps(skipped.rows), [1, 2, 3, 4]);
    assert.equal(skipped.report.columns.step, undefined);
  });

  test("W&B exports: `Step` in any case; a panel export's `<run> - train/loss` without its __MIN/__MAX bands", () => {
    assert.deepEqual(columnsOf({ Step: 10, 'glorious-sun-3 - train/loss': 1, 'glorious-sun-3 - train/loss__MIN': 0.9, 'glorious-sun-3 - train/loss__MAX': 1.1 }), {
      step: ['Step'],
      loss: ['glorious-sun-3 - train/loss'],
    });
  });

  test('Lightning learning-rate names: param groups from pg1, never the momentum it logs beside', () => {
    assert.deepEqual(columnsOf({ step: 1, 'lr-SGD-momentum': 0.9, 'lr-AdamW/pg1': 1e-3, 'lr-AdamW/pg2': 1e-4 }).lr, ['lr-AdamW/pg1']);
    assert.deepEqual(columnsOf({ step: 1, 'lr-SGD-momentum': 0.9, 'lr-SGD': 0.1 }).lr, ['lr-SGD']);
  });

  test('numbers as C and Python print them: -nan, nan(ind), inf; an empty field is no value', async () => {
    const run = await load(write('main.log', 's:1 trl:3.2 norm:1.0\ns:2 trl:3.1 norm:-nan\ns:3 trl:-nan(ind) norm:inf\ns:4 trl:\n'));
    assert.deepEqual(
      run.rows.map((r) => [r.step, r.loss, r.gradNorm]),
      [
        [1, 3.2, 1],
        [2, 3.1, NaN],
        [3, NaN, Infinity],
      ],
    );
  });

  test('summary values and epoch aggregates are not per-step values', () => {
    assert.deepEqual(columnsOf({ step: 60, 'train/train_loss': 2, train_loss_epoch: 1.9, train_runtime: 100 }), { step: ['step'] });
  });
});

describe('per-layer norms a row leaves out (the Python package writes no gradNorm/<module> for a module without a gradient)', () => {
  const summaryOf = (result: ReturnType<typeof inspect>) => JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { layers: string[]; events: Record<string, number> };

  test('a layer first seen after the first row is a layer: listed, checked and charted', async () => {
    // aux has no gradient at step 0, then one that collapses (vanishing from its 10th row).
    const rows = Array.from({ length: 20 }, (_, step) => ({ step, loss: 1, gradNorm: 1, 'gradNorm/body': 1, ...(step > 0 ? { 'gradNorm/aux': 1e-9 } : {}) }));
    const dir = temp();
    writeFileSync(join(dir, 'job.json'), JSON.stringify({ name: 'r04', source: 'gradscope-python', layerNames: ['body', 'aux'] }));
    writeFileSync(join(dir, 'metrics.jsonl'), rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
    for (const target of [dir, join(dir, 'metrics.jsonl')]) {
      const result = inspect(target, '--json');
      assert.equal(result.status, 1, result.stderr);
      const summary = summaryOf(result);
      assert.deepEqual(summary.layers, ['body', 'aux']);
      assert.deepEqual(summary.events, { vanishing: 1 }, 'aux is analysed');
      assert.match(result.stdout, /"kind":"vanishing","step":10,"severity":"warning","layer":"aux"/);
    }
    const plain = inspect(dir);
    assert.match(plain.stderr, /2 layer norms \(body, aux\)/);
    const run = await load(join(dir, 'metrics.jsonl'));
    const layers = reportRun('r04', run.rows).charts.find((chart) => chart.id === 'layers')!;
    assert.deepEqual(
      layers.series.map((series) => [series.label, series.steps[series.values.findIndex((value) => value !== null)]]),
      [
        ['body', 0],
        ['aux', 1],
      ],
      'the report draws aux from the row that has it',
    );
  });

  test('a layer left out of later rows is missing there, not non-finite', () => {
    const rows = Array.from({ length: 20 }, (_, step) => ({ step, loss: 1, gradNorm: 1, 'gradNorm/body': 1, ...(step < 3 || step % 2 ? { 'gradNorm/aux': 0.5 } : {}) }));
    const result = inspect(write('metrics.jsonl', rows.map((row) => JSON.stringify(row)).join('\n') + '\n'), '--json');
    assert.equal(result.status, 0, result.stdout);
    assert.deepEqual(summaryOf(result).layers, ['body', 'aux']);
    assert.deepEqual(summaryOf(result).events, {});
    const nan = inspect(
      write(
        'metrics.jsonl',
        [...rows.slice(0, 5), { step: 5, loss: 1, gradNorm: 1, 'gradNorm/body': 1, 'gradNorm/aux': 'NaN' }].map((row) => JSON.stringify(row).replace('"NaN"', 'NaN')).join('\n') + '\n',
      ),
      '--json',
    );
    assert.match(nan.stdout, /"kind":"nonFinite","step":5,.*"layers":\["aux"\]/, 'a NaN that is there is still flagged');
  });
});

describe('files the readers had not seen (from a review with new files of each kind)', () => {
  test('SummaryWriter.add_scalars folders (Loss_train/, Loss_val/) are one run: Loss/train is the loss, Loss/val the validation loss', async () => {
    const dir = temp();
    for (const [part, scale] of [
      ['Loss_train', 1],
      ['Loss_val', 2],
    ] as const) {
      mkdirSync(join(dir, 'exp1', part), { recursive: true });
      writeFileSync(
        join(dir, 'exp1', part, 'events.out.tfevents.1.host'),
        concat(Array.from({ length: 30 }, (_, step) => record(eventBytes(step, { Loss: scale * (step === 29 && part === 'Loss_val' ? 50 : 1) })))),
      );
    }
    const runs = await loadTrainingLogs(dir);
    assert.equal(runs.length, 1);
    assert.deepEqual(runs[0].report.columns, { step: ['step'], loss: ['Loss/train'], validationLoss: ['Loss/val'] });
  });

  test('a Hugging Face output folder: the newest checkpoint is read, configs and tokenizers are not taken for logs, known log names come first', async () => {
    const dir = temp();
    for (const n of [20, 40]) {
      mkdirSync(join(dir, `checkpoint-${n}`));
      writeFileSync(join(dir, `checkpoint-${n}`, 'trainer_state.json'), JSON.stringify({ log_history: Array.from({ length: n }, (_, i) => ({ loss: 1, grad_norm: 1, step: i + 1 })) }));
      writeFileSync(join(dir, `checkpoint-${n}`, 'tokenizer_config.json'), '{"model_max_length": 2048, "pad_token": "<pad>"}');
    }
    writeFileSync(join(dir, 'config.json'), '{"hidden_size": 768, "num_layers": 12}');
    const runs = await loadTrainingLogs(dir);
    assert.deepEqual(
      runs.map((r) => [r.title, r.report.trainingRows]),
      [[join('checkpoint-40', 'trainer_state.json'), 40]],
    );
  });

  test('following a Hugging Face run folder switches to the newest checkpoint as the trainer writes it', async () => {
    const dir = temp();
    const checkpoint = (n: number, nanAt?: number) => {
      mkdirSync(join(dir, `checkpoint-${n}`));
      writeFileSync(
        join(dir, `checkpoint-${n}`, 'trainer_state.json'),
        JSON.stringify({ log_history: Array.from({ length: n }, (_, i) => ({ loss: 1, grad_norm: i + 1 === nanAt ? 'NaN' : 1, step: i + 1 })) }).replace('"NaN"', 'NaN'),
      );
    };
    checkpoint(20);
    const [source] = await findLogSources(dir);
    const rows: MetricsRow[] = [];
    const follower = followLogSource(source, { onRow: (row) => rows.push(row) });
    await follower.poll();
    checkpoint(40, 30);
    rmSync(join(dir, 'checkpoint-20'), { recursive: true }); // save_total_limit
    await follower.poll();
    follower.stop();
    assert.deepEqual(
      rows.map((r) => r.step),
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    assert.ok(Number.isNaN(rows[29].gradNorm));
  });

  test('following a Keras run as it trains: an epoch goes out once its validation values are written, not an epoch late; the rows of reading it whole', async () => {
    const dir = temp();
    const file = (part: string) => join(dir, part, 'events.out.tfevents.1.host.1.0.v2');
    for (const part of ['train', 'validation']) mkdirSync(join(dir, part));
    const epoch = (part: string, e: number) =>
      appendFileSync(file(part), record(eventBytes(e, { epoch_loss: (part === 'train' ? 1 : 2) / 2 ** e, ...(part === 'train' ? { epoch_learning_rate: 0.01 } : {}) })));
    for (const e of [0, 1, 2]) for (const part of ['train', 'validation']) epoch(part, e);
    const [source] = await findLogSources(dir);
    assert.equal(source.kind, 'keras');
    const rows: MetricsRow[] = [];
    const follower = followLogSource(source, { onRow: (row) => rows.push(row) });
    await follower.poll();
    assert.deepEqual(
      rows.map((r) => r.step),
      [0, 1, 2],
    );
    epoch('train', 3);
    await follower.poll();
    assert.equal(rows.length, 3, 'epoch 3 waits for its validation loss');
    epoch('validation', 3);
    await follower.poll();
    assert.deepEqual(
      rows.map((r) => [r.step, r.loss, r.validationLoss]),
      [0, 1, 2, 3].map((e) => [e, 1 / 2 ** e, 2 / 2 ** e]),
    );
    follower.stop();
    const [whole] = await loadTrainingLogs(dir);
    assert.deepEqual(rows, whole.rows);
  });

  test('following a Keras fit() with validation_data epoch by epoch: its evaluation_loss_vs_iterations (stamped with the iteration) holds no epoch back', async () => {
    const dir = temp();
    const file = (part: string) => join(dir, part, 'events.out.tfevents.1.host.1.0.v2');
    for (const part of ['train', 'validation']) mkdirSync(join(dir, part));
    // As Keras' TensorBoard callback writes an epoch: train/ at step=epoch, then on_test_end's
    // evaluation_loss_vs_iterations at step=iterations, then validation/ epoch_loss at step=epoch.
    const epoch = (e: number) => {
      appendFileSync(file('train'), record(eventBytes(e, { epoch_loss: 1 / (e + 1), epoch_learning_rate: 0.01 })));
      appendFileSync(file('validation'), record(eventBytes((e + 1) * 100, { evaluation_loss_vs_iterations: 2 / (e + 1) })));
      appendFileSync(file('validation'), record(eventBytes(e, { epoch_loss: 2 / (e + 1) })));
    };
    epoch(0);
    const [source] = await findLogSources(dir);
    const rows: MetricsRow[] = [];
    const follower = followLogSource(source, { onRow: (row) => rows.push(row) });
    await follower.poll();
    for (let e = 1; e < 10; e++) {
      epoch(e);
      await follower.poll();
      assert.equal(rows.at(-1)?.step, e, `epoch ${e} goes out once its validation loss is written`);
    }
    follower.stop();
    const [whole] = await loadTrainingLogs(dir);
    assert.deepEqual(rows, whole.rows);
    assert.equal(rows.length, 10);
  });

  test('following a Keras run that logs every batch: the batch scale, each new record read once, the rows of reading it whole', async () => {
    const dir = temp();
    const file = (part: string) => join(dir, part, 'events.out.tfevents.1.host.1.0.v2');
    for (const part of ['train', 'validation']) mkdirSync(join(dir, part));
    const batches = (from: number, to: number) => {
      for (let step = from; step < to; step++) {
        appendFileSync(file('train'), record(eventBytes(step, { batch_loss: step === 150 ? 40 : 1 + (step % 3) / 10, batch_learning_rate: 0.01 })));
        if (step % 50 === 49) {
          const e = (step + 1) / 50;
          appendFileSync(file('train'), record(eventBytes(e, { epoch_loss: 1 })));
          appendFileSync(file('validation'), record(eventBytes(e, { epoch_loss: 2 })));
        }
      }
    };
    batches(0, 120);
    const [source] = await findLogSources(dir);
    const rows: MetricsRow[] = [];
    const follower = followLogSource(source, { onRow: (row) => rows.push(row) });
    await follower.poll();
    batches(120, 200);
    await follower.poll();
    follower.stop();
    const [whole] = await loadTrainingLogs(dir);
    assert.deepEqual(rows, whole.rows);
    assert.deepEqual(
      rows.map((r) => r.step),
      Array.from({ length: 200 }, (_, i) => i),
    );
    assert.equal(rows[150].loss, 40);
  });

  test('a Lightning metrics.csv rewritten with a new header while followed: every step once, the new column read', async () => {
    const file = join(temp(), 'metrics.csv');
    writeFileSync(file, `epoch,step,train_loss\n${Array.from({ length: 10 }, (_, i) => `0,${i},1`).join('\n')}\n`);
    const [source] = await findLogSources(file);
    const rows: MetricsRow[] = [];
    const restarts: string[] = [];
    const follower = followLogSource(source, { onRow: (row) => rows.push(row), onRestart: (why) => restarts.push(why) });
    await follower.poll();
    await follower.poll();
    // A validation metric appears: CSVLogger writes the whole file again under a wider header.
    writeFileSync(
      file,
      `epoch,step,train_loss,val_loss\n${Array.from({ length: 10 }, (_, i) => `0,${i},1,`).join('\n')}\n0,9,,0.8\n${Array.from({ length: 5 }, (_, i) => `1,${10 + i},0.9,`).join('\n')}\n`,
    );
    await follower.poll();
    await follower.poll();
    follower.stop();
    assert.deepEqual(
      rows.map((r) => r.step),
      Array.from({ length: 15 }, (_, i) => i),
    );
    assert.deepEqual(restarts, [], 'not a new run');
  });

  test('pandas to_csv (an unnamed index column), a UTF-8 BOM, prefixed nanoGPT lines, llm.c console lines, HF console dicts, MMCV 1.x logs', async () => {
    const pandas = await load(write('history.csv', ',_step,train/loss\n0,10,2.5\n1,20,2.4\n'));
    assert.deepEqual(
      pandas.rows.map((r) => [r.step, r.loss]),
      [
        [10, 2.5],
        [20, 2.4],
      ],
    );
    const bom = await load(write('metrics.jsonl', '\ufeff{"step": 1, "loss": 2}\n{"step": 2, "loss": 1.9}\n'));
    assert.equal(bom.report.trainingRows, 2);
    assert.equal(bom.report.badLines, 0);
    const prefixed = await load(write('train.log', '[default0]:iter 0: loss 4.2, time 100ms\n[default0]:iter 1: loss 4.0, time 90ms\n'));
    assert.deepEqual(
      prefixed.rows.map((r) => [r.step, r.loss]),
      [
        [0, 4.2],
        [1, 4],
      ],
    );
    const llmcConsole = await load(
      write('out.txt', 'step    1/19560 | train loss 11.009287 | norm 15.3682 | lr 1.00e-06 | 3150.21 ms\nval loss 10.95\nstep    2/19560 | train loss 10.9 | norm 15.2 | lr 2.00e-06 | 300 ms\n'),
    );
    assert.deepEqual(
      llmcConsole.rows.map((r) => [r.step, r.loss, r.gradNorm, r.lr, r.validationLoss]),
      [
        [1, 11.009287, 15.3682, 1e-6, undefined],
        [2, 10.9, 15.2, 2e-6, 10.95],
      ],
    );
    const hf = await load(
      write(
        'train.out',
        " 10%|█ | 10/100 [00:05<00:45]{'loss': 2.3, 'grad_norm': 1.5, 'learning_rate': 5e-05, 'epoch': 0.1}\n{'loss': 2.1, 'grad_norm': nan, 'learning_rate': 4e-05, 'epoch': 0.2}\n{'eval_loss': 2.2, 'epoch': 0.2}\n{'train_runtime': 50.1, 'train_loss': 2.2, 'epoch': 1.0}\n",
      ),
    );
    assert.equal(hf.report.format, 'Hugging Face Trainer console output');
    assert.deepEqual(
      hf.rows.map((r) => [r.step, r.loss, r.validationLoss]),
      [
        [1, 2.3, undefined],
        [2, 2.1, 2.2],
      ],
    );
    assert.ok(Number.isNaN(hf.rows[1].gradNorm));
    const mmcv = await load(
      write(
        '20230101_000000.log.json',
        '{"env_info": "x"}\n{"mode": "train", "epoch": 1, "iter": 50, "lr": 0.02, "loss": 1.5}\n{"mode": "train", "epoch": 1, "iter": 100, "lr": 0.02, "loss": 1.2}\n{"mode": "val", "epoch": 1, "iter": 100, "lr": 0.02, "bbox_mAP": 0.3}\n{"mode": "train", "epoch": 2, "iter": 50, "lr": 0.02, "loss": 1.0}\n',
      ),
    );
    assert.equal(mmcv.report.format, 'MMCV 1.x *.log.json');
    assert.deepEqual(
      mmcv.rows.map((r) => r.step),
      [50, 100, 150],
    );
    assert.equal(mmcv.report.segments, 1);
  });

  test('TSV: pandas to_csv(sep="\\t") with its unnamed index, quoted cells, nan; a comma in a cell does not make it CSV, and a CSV stays CSV', async () => {
    const tsv = await load(write('history.tsv', '\t_step\ttrain/loss\tgrad_norm\tnote\n0\t10\t2.5\t1.1\t"warm, up"\n1\t20\tnan\t1.3\tok\n2\t30\t2.3\t1.2\t\n'));
    assert.equal(tsv.report.format, 'TSV (tab-separated) with a header');
    assert.deepEqual(
      tsv.rows.map((r) => [r.step, r.loss, r.gradNorm]),
      [
        [10, 2.5, 1.1],
        [20, NaN, 1.3],
        [30, 2.3, 1.2],
      ],
    );
    const plain = await load(write('metrics.txt', 'step\tloss\n1\t2.0\n2\t1.9\n'));
    assert.equal(plain.report.format, 'TSV (tab-separated) with a header');
    assert.equal(plain.report.trainingRows, 2);
    const csv = await load(write('log.csv', 'step,loss,comment\n1,2.0,a\tb\n2,1.9,\n'));
    assert.equal(csv.report.format, 'CSV with a header');
    assert.equal(csv.report.trainingRows, 2);
    const forced = inspect(write('odd.log', 'step\tloss\n1\t2.0\n2\t1.9\n'), '--format', 'tsv');
    assert.equal(forced.status, 0, forced.stderr);
  });

  test('--map naming a column the log does not have says so; numbers written as strings are named', () => {
    const file = write('detectron.json', Array.from({ length: 5 }, (_, i) => JSON.stringify({ iteration: i, total_loss: 1, lr: 0.1, eta_seconds: 1 })).join('\n'));
    const result = inspect(file, '--map', 'loss=Total_Loss');
    assert.match(result.stderr, /--map loss=Total_Loss: no numeric column "Total_Loss" \(did you mean "total_loss"\?\)/);
    assert.equal(result.status, 2, 'a column no log has is a typo: bad input');
    assert.equal(result.stderr.match(/Total_Loss: no numeric column/g)!.length, 1, 'said once');
    const strings = inspect(write('strings.jsonl', Array.from({ length: 5 }, (_, i) => JSON.stringify({ step: i, loss: '0.5' })).join('\n')));
    assert.match(strings.stderr, /numbers written as strings \(not read\): loss/);
  });
});

test('a column that is null in one record and a number in the next is read (a record shape includes which values are numbers)', () => {
  const rows: MetricsRow[] = [];
  const assembler = new RowAssembler(new ColumnResolver(), (row) => rows.push(row));
  assembler.push({ values: { step: 1, loss: 2, grad_norm: null } });
  assembler.push({ values: { step: 2, loss: 1.9, grad_norm: 5 } });
  assembler.flush();
  assert.deepEqual(
    rows.map((r) => [r.step, r.loss, r.gradNorm]),
    [
      [1, 2, undefined],
      [2, 1.9, 5],
    ],
  );
});
