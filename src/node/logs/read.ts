// Reads a log source into rows: streamed for line formats, whole for trainer_state.json and
// TensorBoard (whose records for one step may be spread across the file).
import { createReadStream, promises as fs } from 'node:fs';
import { ColumnResolver, type ColumnMapping, type FieldName } from '../../core/logs/columns';
import { LogFormatError, readFailure, trainerStateEntries, wandbSummaryError, type TrainerStateEntries } from '../../core/logs/documents';
import type { LineParser } from '../../core/logs/formats';
import { RowAssembler, type LogRecord, type MetricsRow, type RowsReport } from '../../core/logs/rows';
import { ByteLineSplitter, LineSplitter } from '../../core/logs/lineSplitter';
import { findTbRuns, readTbRows, streamTbFile } from './tensorboardFiles';
import type { FormatName } from '../../core/logs/formats';
import { findLogSources, formatLabel, type LogSource } from './sources';

export interface ReadOptions {
  mapping?: ColumnMapping;
  /** Called for each row, in order. */
  onRow: (row: MetricsRow) => void;
  /** Called for a line or record that could not be read (callers show a few, then a count). */
  onProblem?: (message: string) => void;
  /** Stops reading when aborted. */
  signal?: AbortSignal;
}

export interface ReadReport extends RowsReport {
  format: string;
  /** Lines that are not metrics (warnings, samples) in text logs. */
  skippedLines: number;
  /** Lines or records that should have been metrics but could not be read. */
  badLines: number;
}

/** Aliases of the binary formats (line formats carry their own). */
const TENSORBOARD_ALIASES: Partial<Record<FieldName, readonly string[]>> = { loss: ['batch_loss', 'epoch_loss'], lr: ['epoch_learning_rate', 'learning_rate'] };
const KERAS_ALIASES: Partial<Record<FieldName, readonly string[]>> = {
  loss: ['train/batch_loss', 'train/epoch_loss'],
  validationLoss: ['validation/evaluation_loss_vs_iterations', 'validation/epoch_loss'],
  lr: ['train/batch_learning_rate', 'train/epoch_learning_rate', 'train/learning_rate'],
};

export function resolverFor(source: LogSource, mapping: ColumnMapping = {}): ColumnResolver {
  const aliases = source.kind === 'lines' ? source.format.aliases : source.kind === 'keras' ? KERAS_ALIASES : source.kind === 'tensorboard' ? TENSORBOARD_ALIASES : undefined;
  return new ColumnResolver(mapping, aliases);
}

/** Reads one source to its end; throws LogFormatError when the file cannot be read as its format. */
export async function readLogSource(source: LogSource, options: ReadOptions): Promise<ReadReport> {
  const assembler = new RowAssembler(resolverFor(source, options.mapping), options.onRow);
  const counts = { skippedLines: 0, badLines: 0 };
  const problem = (message: string) => {
    counts.badLines++;
    options.onProblem?.(message);
  };
  switch (source.kind) {
    case 'lines': {
      if (source.format.name === 'wandb-summary') throw wandbSummaryError();
      await readLines(source.file, source.format.parser(), source.format.undelimitedLines === true, assembler, counts, problem, options.signal);
      break;
    }
    case 'trainerState': {
      let data: Uint8Array;
      try {
        data = await fs.readFile(source.file);
      } catch (error) {
        throw unreadable(source.file, error);
      }
      let entries: TrainerStateEntries;
      try {
        entries = trainerStateEntries(data);
      } catch (error) {
        throw error instanceof LogFormatError ? new LogFormatError(`${source.file}: ${error.message}`, error.problem) : error;
      }
      for (const message of entries.problems) problem(`${source.file}: ${message}`);
      entries.feed(assembler);
      break;
    }
    case 'tensorboard':
    case 'keras': {
      const onProblem = (file: string, offset: number, message: string) => problem(`${file} at byte ${offset}: ${message}`);
      // One writer's file, the usual case, streams: its rows go out as they are read.
      const run = source.kind === 'tensorboard' ? findTbRuns(source.dir, 0)[0] : undefined;
      if (run?.files.length === 1)
        streamTbFile(
          run.files[0],
          (values) => assembler.push({ values }),
          (file, p) => onProblem(file, p.offset, p.message),
        );
      else for (const record of await tensorBoardRecords(source, onProblem)) assembler.push(record);
      break;
    }
  }
  assembler.flush();
  return { ...assembler.report(), format: formatLabel(source), ...counts };
}

/** Feeds one line to a parser; shared by reading and following. */
export function feedLine(parser: LineParser, text: string, lineNumber: number, assembler: RowAssembler, counts: { skippedLines: number }, problem: (message: string) => void, file: string): void {
  // A UTF-8 byte-order mark (Windows editors, PowerShell) is not part of the first record.
  if (zeroBytesOnly(text)) {
    problem(`${file}:${lineNumber}: ${ZERO_BYTES}`);
    return;
  }
  if (text.charCodeAt(0) === 0) {
    // A run resumed after a crash appends right after the zero bytes: its first record shares their line.
    const record = text.replace(/^\0+/, '');
    problem(`${file}:${lineNumber}: ${text.length - record.length} zero bytes before its record (what a crash leaves in blocks the file system had allocated but not written)`);
    text = record;
  }
  const result = parser.line(lineNumber === 1 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, lineNumber);
  if (result === undefined) return;
  if (result === 'skip') counts.skippedLines++;
  else if (Array.isArray(result)) for (const record of result) assembler.push(record);
  else if ('shape' in result) assembler.pushShaped(result);
  else problem(`${file}:${lineNumber}: ${result.problem}`);
}

async function readLines(
  file: string,
  parser: LineParser,
  undelimited: boolean,
  assembler: RowAssembler,
  counts: { skippedLines: number },
  problem: (message: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  if (parser.bytes) return readLineBytes(file, parser, assembler, counts, problem, signal);
  let lineNumber = 0;
  const splitter = new LineSplitter((text) => feedLine(parser, text, ++lineNumber, assembler, counts, problem, file));
  if (!(await eachChunk<string>(file, 'utf8', (chunk) => splitter.push(chunk), signal))) return;
  const tail = splitter.flush();
  ++lineNumber;
  // Such a last line without its newline may be cut inside its last number: not read rather than read wrong.
  if (undelimited && tail.trim() !== '' && !zeroBytesOnly(tail)) problem(`${file}:${lineNumber}: the last line has no newline, so it may be cut off (a write in progress?); not read`);
  else feedTail(file, tail, lineNumber, parser, assembler, counts, problem);
}

/** Gives a file's chunks (1 MB) to `push`; false when `signal` aborted first. A read error is the LogFormatError that names the file. */
async function eachChunk<T extends string | Buffer>(file: string, encoding: 'utf8' | undefined, push: (chunk: T) => void, signal?: AbortSignal): Promise<boolean> {
  const stream = createReadStream(file, { encoding, highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream as AsyncIterable<T>) {
      if (signal?.aborted) return false;
      push(chunk);
    }
  } catch (error) {
    throw unreadable(file, error);
  } finally {
    stream.destroy();
  }
  return true;
}

/** As readLines, for a parser with a fast path for lines as bytes: the lines it does not take are decoded and fed as text. */
async function readLineBytes(file: string, parser: LineParser, assembler: RowAssembler, counts: { skippedLines: number }, problem: (message: string) => void, signal?: AbortSignal): Promise<void> {
  const fast = parser.bytes!;
  // As the text path's decoding: a byte-order mark stays (feedLine drops it from line 1), bad bytes become U+FFFD.
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  let lineNumber = 0;
  const splitter = new ByteLineSplitter((data, start, end) => {
    const record = fast(data, start, end, ++lineNumber);
    if (record) assembler.pushShaped(record);
    else feedLine(parser, decoder.decode(data.subarray(start, end)), lineNumber, assembler, counts, problem, file);
  });
  if (!(await eachChunk<Buffer>(file, undefined, (chunk) => splitter.push(chunk), signal))) return;
  feedTail(file, decoder.decode(splitter.flush()), ++lineNumber, parser, assembler, counts, problem);
}

function unreadable(file: string, error: unknown): LogFormatError {
  return new LogFormatError(`${file}: cannot be read: ${readFailure(error)}`, 'unreadable');
}

/** A last line without its newline that does not parse is a write in progress, not damage. */
function feedTail(file: string, tail: string, last: number, parser: LineParser, assembler: RowAssembler, counts: { skippedLines: number }, problem: (message: string) => void): void {
  if (tail.trim() === '') return;
  if (zeroBytesOnly(tail)) problem(`${file}:${last}: ${ZERO_BYTES}`);
  else feedLine(parser, tail, last, assembler, counts, () => problem(`${file}:${last}: the last line is cut off (a write in progress?)`), file);
}

const ZERO_BYTES = 'zero bytes only (what a crash leaves in blocks the file system had allocated but not written)';

function zeroBytesOnly(text: string): boolean {
  return text.charCodeAt(0) === 0 && /^\0+$/.test(text);
}

/** TensorBoard scalars as one record per step; Keras' train/ and validation/ tags get their folder as prefix. */
export async function tensorBoardRecords(source: Extract<LogSource, { kind: 'tensorboard' | 'keras' }>, onProblem: (file: string, offset: number, message: string) => void): Promise<LogRecord[]> {
  if (source.kind === 'tensorboard') {
    const run = findTbRuns(source.dir, 0)[0];
    if (!run) throw new LogFormatError(`${source.dir}: no events.out.tfevents.* files`);
    return readTbRows(run, (file, p) => onProblem(file, p.offset, p.message)).map((values) => ({ values }));
  }
  const byStep = new Map<number, Record<string, number>>();
  for (const part of source.parts) {
    const run = findTbRuns(part.dir, 0)[0];
    if (!run) continue;
    const name = (tag: string) => (part.prefix !== undefined ? `${part.prefix}/${tag}` : `${tag}/${part.suffix}`);
    for (const row of readTbRows(run, (file, p) => onProblem(file, p.offset, p.message))) {
      let merged = byStep.get(row.step);
      if (!merged) byStep.set(row.step, (merged = { step: row.step }));
      for (const tag in row) if (tag !== 'step') merged[name(tag)] = row[tag];
    }
  }
  const rows = [...byStep.values()].sort((a, b) => a.step - b.step);
  if (source.format !== 'keras') return rows.map((values) => ({ values }));
  // Keras logs per-batch values with the optimizer iteration as step, per-epoch ones with the epoch:
  // two step scales in one folder. Read the batch scale when there is one, else the epoch scale.
  const batchScale = rows.some((row) => 'train/batch_loss' in row);
  const keep = batchScale ? (tag: string) => tag.startsWith('train/batch_') || tag.includes('_vs_iterations') : (tag: string) => !tag.startsWith('train/batch_') && !tag.includes('_vs_iterations');
  const records: LogRecord[] = [];
  for (const row of rows) {
    const values: Record<string, number> = { step: row.step };
    let any = false;
    for (const tag in row) {
      if (tag !== 'step' && keep(tag)) {
        values[tag] = row[tag];
        any = true;
      }
    }
    if (any) records.push({ values });
  }
  return records;
}

export interface LoadedRun {
  source: LogSource;
  title: string;
  rows: MetricsRow[];
  report: ReadReport;
}

/** Every run at `target`, rows in memory (for the report, the evaluation and tests). */
export async function loadTrainingLogs(
  target: string,
  options: { format?: FormatName; mapping?: ColumnMapping; onProblem?: (message: string) => void; onNote?: (message: string) => void } = {},
): Promise<LoadedRun[]> {
  const runs: LoadedRun[] = [];
  for (const source of await findLogSources(target, options.format, options.onNote)) {
    const rows: MetricsRow[] = [];
    const report = await readLogSource(source, { mapping: options.mapping, onRow: (row) => rows.push(row), onProblem: options.onProblem });
    runs.push({ source, title: source.title, rows, report });
  }
  return runs;
}
