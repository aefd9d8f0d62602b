// Log formats that are read line by line: each one sniffs a file (its name and first lines) and
// turns a line into records. Binary TensorBoard files and whole-document formats live beside it.
import { parseJsonLine } from '../runlog/jsonLine';
import type { FieldName } from './columns';
import { JsonShapeReader, type RecordShape, type ShapedRecord } from './jsonShapes';
import type { LogRecord } from './rows';

export type FormatName =
  | 'hf-trainer-state'
  | 'llama-factory'
  | 'detectron2'
  | 'mmengine'
  | 'mmcv'
  | 'hf-console'
  | 'jsonl'
  | 'lightning-csv'
  | 'csv'
  | 'tsv'
  | 'llmc'
  | 'nanogpt'
  | 'modded-nanogpt'
  | 'tensorboard'
  | 'keras'
  | 'gradscope'
  | 'wandb-summary';

/** What a parser made of one line. */
export type LineResult =
  /** Records to assemble. */
  | LogRecord[]
  /** A line that is not a metric (a warning, a stack trace): counted, not reported one by one. */
  | 'skip'
  /** A line that should have been a record but cannot be read: reported (a few, then a count). */
  | { problem: string }
  /** A blank line. */
  | undefined
  /** A record of a shape seen before, as numbers by position (valid until the next line). */
  | ShapedRecord;

export interface LineParser {
  line(text: string, lineNumber: number): LineResult;
  /**
   * A fast path for lines read as bytes (JSON lines): the record `line` would make of the same line,
   * or undefined when the line must be decoded and given to `line`. The record is valid until the next call.
   */
  bytes?(data: Uint8Array, start: number, end: number, lineNumber: number): ShapedRecord | undefined;
}

export interface LineFormat {
  readonly name: FormatName;
  /** For people: `Hugging Face trainer_log.jsonl`. */
  readonly label: string;
  /** How sure (0–1) this format is, from the file's name and its first lines. */
  sniff(fileName: string, head: readonly string[]): number;
  /** The format's own column names, tried before the common ones. */
  readonly aliases?: Partial<Record<FieldName, readonly string[]>>;
  /** A parser for one file (parsers keep state: nanoGPT's validation lines wait for the next step). */
  parser(): LineParser;
  /**
   * Whether a line cut off mid-write can look whole: CSV and text lines end where their last number
   * does (`lr:0.` of `lr:0.0006`), a JSON object at its closing brace. Default: false.
   */
  readonly undelimitedLines?: boolean;
}

/** Lines longer than this are not read (a metrics record is a few kB; a 10 MB line is something else). */
export const MAX_LINE_LENGTH = 1 << 20;

const tooLong = (text: string) => ({ problem: `a ${(text.length / 1e6).toFixed(1)} MB line is not a metrics record; skipped` });

function firstObjects(head: readonly string[], count = 3): Record<string, unknown>[] {
  const objects: Record<string, unknown>[] = [];
  for (const line of head) {
    if (objects.length >= count) break;
    const text = line.replace(/^\ufeff/, '').trim();
    if (!text.startsWith('{') || text.length > MAX_LINE_LENGTH) continue;
    try {
      const value = parseJsonLine(text);
      if (isObject(value)) objects.push(value);
    } catch {
      // not JSON lines
    }
  }
  return objects;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * JSON lines: one object a line; Python's bare NaN and Infinity are accepted. `classify` sets a
 * record's role from its values; when it looks at the keys only (`keysOnly`), lines of a shape seen
 * before are read by the byte fast path (JsonShapeReader) with the role their shape's first line got.
 */
function jsonParser(classify: (values: Record<string, unknown>, record: LogRecord) => void = () => {}, keysOnly = true): LineParser {
  const line = (text: string, lineNumber: number): LineResult => {
    if (text.length > MAX_LINE_LENGTH) return tooLong(text);
    if (text.trim() === '') return undefined;
    let value: unknown;
    try {
      value = parseJsonLine(text);
    } catch (error) {
      return { problem: `not JSON (${(error as Error).message})` };
    }
    if (!isObject(value)) return { problem: 'not a JSON object' };
    const record: LogRecord = { values: value, line: lineNumber };
    classify(value, record);
    return [record];
  };
  if (!keysOnly) return { line };
  const shapes = new JsonShapeReader((values) => {
    const record: LogRecord = { values };
    classify(values, record);
    return record;
  });
  return {
    line,
    bytes: (data, start, end, lineNumber) => (end - start > MAX_LINE_LENGTH ? undefined : shapes.read(data, start, end, lineNumber)),
  };
}

const base = (path: string) => path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);

export const llamaFactory: LineFormat = {
  name: 'llama-factory',
  label: 'LLaMA-Factory trainer_log.jsonl',
  aliases: { step: ['current_steps'] },
  sniff: (file, head) => (firstObjects(head).some((o) => 'current_steps' in o && 'total_steps' in o) ? 0.95 : base(file) === 'trainer_log.jsonl' ? 0.5 : 0),
  parser: () =>
    jsonParser((values, record) => {
      if (!('loss' in values) && Object.keys(values).some((k) => k.startsWith('eval_'))) record.role = 'eval';
    }),
};

export const detectron2: LineFormat = {
  name: 'detectron2',
  label: 'detectron2 metrics.json',
  aliases: { step: ['iteration'], loss: ['total_loss'] },
  sniff: (file, head) => {
    const objects = firstObjects(head);
    if (objects.some((o) => 'iteration' in o && ('total_loss' in o || 'eta_seconds' in o))) return 0.95;
    return base(file) === 'metrics.json' && objects.length ? 0.5 : 0;
  },
  parser: () => jsonParser(),
};

export const mmengine: LineFormat = {
  name: 'mmengine',
  label: 'MMEngine vis_data/scalars.json',
  aliases: { step: ['step'] },
  sniff: (file, head) => {
    const objects = firstObjects(head);
    if (objects.some((o) => 'step' in o && 'iter' in o && 'data_time' in o)) return 0.95;
    return base(file) === 'scalars.json' && objects.length ? 0.6 : 0;
  },
  // Validation rows carry the epoch as `step` and no loss or lr: they join the current iteration.
  parser: () =>
    jsonParser((values, record) => {
      if (!('loss' in values) && !('lr' in values)) {
        record.role = 'eval';
        record.joinsCurrent = true;
      }
    }),
};

export const jsonLines: LineFormat = {
  name: 'jsonl',
  label: 'JSON lines',
  // Any object a line is JSON lines; one with a field a training log has is surely one (a minified
  // tokenizer_config.json in a model folder is not).
  sniff: (_file, head) => {
    const objects = firstObjects(head);
    if (objects.length === 0) return 0;
    return objects.some((o) => Object.keys(o).some((k) => KNOWN_COLUMN.test(k))) ? 0.6 : 0.35;
  },
  parser: () =>
    jsonParser((values, record) => {
      // Hugging Face eval entries written as lines (TRL, custom callbacks) are a validation series.
      if (!('loss' in values) && Object.keys(values).some((k) => k.startsWith('eval_') || k.startsWith('eval/'))) record.role = 'eval';
    }),
};

/** One CSV line into cells (RFC 4180 quotes within a line); `delimiter` is ',' or a tab for TSV. */
export function splitCsvLine(line: string, delimiter = ','): string[] {
  if (!line.includes('"')) return line.split(delimiter);
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === delimiter) {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  cells.push(cell);
  return cells;
}

function looksLikeCsvHeader(line: string | undefined, delimiter = ','): string[] | undefined {
  if (!line) return undefined;
  line = line.replace(/^\ufeff/, '');
  if (line.startsWith('{') || line.startsWith('[') || !line.includes(delimiter)) return undefined;
  // Trimmed of spaces only: a TSV's first cell may be empty (pandas' index), its tab kept.
  const cells = splitCsvLine(line.replace(/^ +| +$/g, '').replace(/\r$/, ''), delimiter).map((c) => c.trim());
  // pandas' to_csv writes its index first, under an empty name: only that cell may be empty.
  if (cells.length < 2 || cells.some((c, i) => (c === '' && i > 0) || /^-?[\d.]+(e-?\d+)?$/i.test(c))) return undefined;
  return cells;
}

/** A column any training log would have, so that a CSV of something else is not taken for one. */
const KNOWN_COLUMN = /(^|[/_ -])(loss|step|epoch|iter|iteration|lr|learning_rate|grad_norm|norm)([/_ -]|$)/i;

function csvParser(delimiter = ','): LineParser {
  let header: string[] | undefined;
  // Rows whose non-empty cells are all numbers, by which cells those are (one bit a column, up to
  // 31 columns): a row with the cells of a row before goes to the row assembler as numbers by
  // position, no object. Lightning writes a few such kinds of row (training, validation, lr).
  const shapes = new Map<number, RecordShape>();
  const shaped: ShapedRecord = { shape: undefined as unknown as RecordShape, numbers: new Float64Array(31), line: 0 };
  let cellNumbers = new Float64Array(0);
  return {
    line(text, lineNumber) {
      if (text.length > MAX_LINE_LENGTH) return tooLong(text);
      if (text.trim() === '') return undefined;
      const cells = splitCsvLine(text, delimiter);
      if (!header) {
        header = cells.map((c, i) => (i === 0 ? c.replace(/^\ufeff/, '') : c).trim());
        cellNumbers = new Float64Array(header.length);
        return undefined;
      }
      if (cells.length !== header.length) return { problem: `${cells.length} cells where the header has ${header.length}` };
      if (cells.length <= 31) {
        let mask = 0;
        let numeric = true;
        for (let i = 0; i < cells.length; i++) {
          if (header[i] === '') continue;
          const number = parseNumber(cells[i]);
          if (number !== undefined) {
            cellNumbers[i] = number;
            mask |= 1 << i;
          } else if (cells[i].trim() !== '') {
            numeric = false;
            break;
          }
        }
        const shape = numeric ? shapes.get(mask) : undefined;
        if (shape) {
          let k = 0;
          for (let i = 0; i < cells.length; i++) if (mask & (1 << i)) shaped.numbers[k++] = cellNumbers[i];
          shaped.shape = shape;
          shaped.line = lineNumber;
          return shaped;
        }
        const record = csvRecord(header, cells, lineNumber);
        if (numeric && shapes.size < 16) {
          const keys = Object.keys(record.values);
          // Learnt when each number went to a key of its own, in column order (no repeated or integer-like names).
          const order = header.filter((_, i) => mask & (1 << i));
          if (sameList(keys, order)) shapes.set(mask, { keys, numeric: keys.map(() => true), sample: record.values, role: undefined, joinsCurrent: false });
        }
        return [record];
      }
      return [csvRecord(header, cells, lineNumber)];
    },
  };
}

function csvRecord(header: string[], cells: string[], lineNumber: number): LogRecord {
  const values: Record<string, unknown> = {};
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i].trim();
    // An empty cell is a value that was not logged in this row: never 0.
    if (cell === '' || header[i] === '') continue;
    const number = parseNumber(cell);
    values[header[i]] = number ?? cell;
  }
  return { values, line: lineNumber };
}

/** Numbers as Python and pandas print them, including nan, inf and -inf. */
export function parseNumber(text: string): number | undefined {
  const number = Number(text);
  // Number('') is 0: an empty field (a line cut off mid-write) is no value, not zero.
  if (number === 0 && text.trim() === '') return undefined;
  if (!Number.isNaN(number)) return number;
  const lower = text.trim().toLowerCase();
  // glibc prints the default NaN as -nan, MSVC as -nan(ind).
  if (/^[+-]?nan(\(\w*\))?$/.test(lower)) return NaN;
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity' || lower === '+infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  return undefined;
}

export const lightningCsv: LineFormat = {
  name: 'lightning-csv',
  undelimitedLines: true,
  label: 'Lightning CSVLogger metrics.csv',
  sniff: (file, head) => {
    const header = looksLikeCsvHeader(head[0]);
    if (!header || !header.includes('step') || !header.includes('epoch')) return 0;
    // Both a step and an epoch column is how Lightning writes it; its file name or an lr-<Optimizer> column makes it sure.
    return base(file).endsWith('metrics.csv') || header.some((c) => c.startsWith('lr-')) ? 0.9 : 0.6;
  },
  parser: () => csvParser(),
};

export const csv: LineFormat = {
  name: 'csv',
  undelimitedLines: true,
  label: 'CSV with a header',
  sniff: (_file, head) => headerConfidence(looksLikeCsvHeader(head[0])),
  parser: () => csvParser(),
};

/** How sure a header makes a CSV or TSV reader: more when a column is one any training log would have. */
function headerConfidence(header: string[] | undefined): number {
  return header ? (header.some((c) => KNOWN_COLUMN.test(c)) ? 0.55 : 0.4) : 0;
}

/** Tab-separated, as pandas' `to_csv(sep="\t")` and some trainers write: the CSV reader with a tab. */
export const tsv: LineFormat = {
  name: 'tsv',
  undelimitedLines: true,
  label: 'TSV (tab-separated) with a header',
  sniff: (_file, head) => headerConfidence(head[0]?.includes(',') ? undefined : looksLikeCsvHeader(head[0], '\t')),
  parser: () => csvParser('\t'),
};

const LLMC_LINE = /^s:(\d+)\s+(.*)$/;
/** White space other than the space character (what \s matches besides it). */
const OTHER_SPACE = /[^\S ]/;

export const llmc: LineFormat = {
  name: 'llmc',
  undelimitedLines: true,
  label: 'llm.c main.log',
  aliases: { step: ['s'], loss: ['trl'], validationLoss: ['tel'], gradNorm: ['norm'] },
  sniff: (_file, head) => (head.some((line) => /^s:\d+ (trl|tel|eval):/.test(line)) ? 0.95 : 0),
  parser: () => {
    // The keys of the last line learnt (llm.c writes a few kinds of line, each with its keys in one order).
    let shape: RecordShape | undefined;
    const shaped: ShapedRecord = { shape: undefined as unknown as RecordShape, numbers: new Float64Array(64), line: 0 };
    return {
      line(text, lineNumber) {
        if (text.length > MAX_LINE_LENGTH) return tooLong(text);
        // A line with the keys of a line before, read in one scan (anything unusual goes the long way below).
        if (shape !== undefined && text.charCodeAt(0) === 115 /* s */ && text.charCodeAt(1) === 58 /* : */ && readShaped(text, shape.keys, shaped.numbers)) {
          shaped.line = lineNumber;
          return shaped;
        }
        if (text.trim() === '') return undefined;
        const match = LLMC_LINE.exec(text.trim());
        if (!match) return 'skip';
        // Split at single spaces when there is no other white space (the pieces a run of spaces leaves empty have no ':' and add nothing).
        const pairs = OTHER_SPACE.test(match[2]) ? match[2].split(/\s+/) : match[2].split(' ');
        // A line with the keys of a line before (every piece a key and a number): no object for it.
        if (shape !== undefined) {
          const numbers = shaped.numbers;
          numbers[0] = Number(match[1]);
          let k = 1;
          for (const pair of pairs) {
            if (pair === '') continue;
            const key = shape.keys[k];
            if (key === undefined || pair.indexOf(':') !== key.length || !pair.startsWith(key)) {
              k = -1;
              break;
            }
            const number = parseNumber(pair.slice(key.length + 1));
            if (number === undefined) {
              k = -1;
              break;
            }
            numbers[k++] = number;
          }
          if (k === shape.keys.length) {
            shaped.line = lineNumber;
            return shaped;
          }
        }
        const values: Record<string, unknown> = { s: Number(match[1]) };
        const order = ['s'];
        let all = true;
        for (const pair of pairs) {
          if (pair === '') continue;
          const at = pair.indexOf(':');
          const number = at > 0 ? parseNumber(pair.slice(at + 1)) : undefined;
          if (number !== undefined) {
            values[pair.slice(0, at)] = number;
            order.push(pair.slice(0, at));
          } else all = false;
        }
        const record: LogRecord = { values, line: lineNumber };
        if ('tel' in values || 'eval' in values) record.role = 'eval';
        // Learnt when every piece gave a key of its own, in order (no repeated or integer-like keys).
        const keys = Object.keys(values);
        if (all && keys.length <= 64 && sameList(keys, order) && (shape === undefined || !sameList(shape.keys, keys))) {
          shape = { keys, numeric: keys.map(() => true), sample: values, role: record.role, joinsCurrent: false };
          shaped.shape = shape;
        }
        return [record];
      },
    };
  },
};

/**
 * Reads `s:<step> key:number key:number …`, single-space separated, whose keys are `keys` in order
 * (keys[0] is the step's), into `numbers`. False, with nothing to undo, for any other line.
 */
function readShaped(text: string, keys: readonly string[], numbers: Float64Array): boolean {
  const n = text.length;
  let i = 2;
  while (i < n && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
  if (i === 2) return false;
  numbers[0] = Number(text.slice(2, i));
  let k = 1;
  for (;;) {
    const gap = i;
    while (i < n && text.charCodeAt(i) === 32) i++;
    if (i >= n) break;
    if (i === gap || k >= keys.length) return false;
    const key = keys[k];
    if (text.charCodeAt(i + key.length) !== 58 /* : */ || !text.startsWith(key, i)) return false;
    const start = i + key.length + 1;
    i = start;
    while (i < n && text.charCodeAt(i) !== 32) i++;
    const number = parseNumber(text.slice(start, i));
    if (number === undefined) return false;
    numbers[k++] = number;
  }
  return k === keys.length;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

const NANOGPT_FILE_LINE = /^(\d+) (train|val|hella) (\S+)$/;
// build-nanogpt `step 19073 | loss: 3.96 | …`, llm.c's console `step    1/19560 | train loss 11.01 | norm 15.37 | …`
const NANOGPT_CONSOLE_STEP = /(?:^|[\s:\]])step\s+(\d+)(?:\/\d+)?\s*\|(.*)$/;
// torchrun --tee, srun --label and loggers put a prefix before the message (`[default0]:iter 100: …`).
const NANOGPT_ITER = /(?:^|[\s:\]|])iter (\d+): loss ([\d.eE+-]+|nan|inf)/;
const NANOGPT_EVAL = /(?:^|[\s:\]|])step (\d+): train loss ([\d.eE+-]+|nan|inf), val loss ([\d.eE+-]+|nan|inf)/;
const NANOGPT_VALIDATION = /\bval(?:idation)? loss:?\s*([\d.eE+-]+|nan|inf)\s*$/;

export const nanogpt: LineFormat = {
  name: 'nanogpt',
  undelimitedLines: true,
  label: 'nanoGPT / build-nanogpt log',
  aliases: { loss: ['train'], validationLoss: ['val'], gradNorm: ['norm'] },
  sniff: (_file, head) => {
    if (head.some((line) => NANOGPT_FILE_LINE.test(line))) return 0.9;
    return head.some((line) => NANOGPT_CONSOLE_STEP.test(line) && /\|\s*(train )?loss:?\s/.test(line)) || head.some((line) => NANOGPT_ITER.test(line) || NANOGPT_EVAL.test(line)) ? 0.9 : 0;
  },
  parser: () => {
    // build-nanogpt prints `validation loss: X` without a step: it belongs to the next step line.
    let pendingValidation: number | undefined;
    return {
      line(text, lineNumber) {
        if (text.length > MAX_LINE_LENGTH) return tooLong(text);
        const line = text.trim();
        if (line === '') return undefined;
        let match = NANOGPT_FILE_LINE.exec(line);
        if (match) {
          const number = parseNumber(match[3]);
          if (number === undefined) return 'skip';
          return [{ values: { step: Number(match[1]), [match[2]]: number }, line: lineNumber, ...(match[2] === 'train' ? {} : { role: 'eval' as const }) }];
        }
        if ((match = NANOGPT_EVAL.exec(line))) return [{ values: { step: Number(match[1]), val: parseNumber(match[3]) }, line: lineNumber, role: 'eval' }];
        if ((match = NANOGPT_ITER.exec(line))) return [{ values: { step: Number(match[1]), loss: parseNumber(match[2]) }, line: lineNumber }];
        if ((match = NANOGPT_VALIDATION.exec(line))) {
          pendingValidation = parseNumber(match[1]);
          return 'skip';
        }
        if ((match = NANOGPT_CONSOLE_STEP.exec(line))) {
          const values: Record<string, unknown> = { step: Number(match[1]) };
          for (const part of match[2].split('|')) {
            const pair = /^\s*([A-Za-z/_][A-Za-z/_ ]*?):?\s+([^\s]+)\s*$/.exec(part);
            const number = pair ? parseNumber(pair[2]) : undefined;
            if (pair && number !== undefined) values[pair[1]] = number;
          }
          if (pendingValidation !== undefined) {
            values.val = pendingValidation;
            pendingValidation = undefined;
          }
          return [{ values, line: lineNumber }];
        }
        return 'skip';
      },
    };
  },
};

// modded-nanogpt (KellerJordan/modded-nanogpt and its forks): `step:6200/6200 train_loss:3.2533 train_time:1339065ms step_avg:216.33ms`,
// `step:125/6200 val_loss:5.2017 train_time:…`; the 2025 records write train lines without a loss.
const MODDED_LINE = /^step:(\d+)\/\d+\s+(.*)$/;
/** A number with a unit after it (`1339065ms`, `nanms`): the unit is dropped. */
const MODDED_VALUE = /^([-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?|[-+]?nan|[-+]?inf)[A-Za-z%]*$/i;
const MODDED_SNIFF = /^step:\d+\/\d+ +(train_loss|val_loss|train_time):/;

/**
 * Whether a file starts with the training script's own source, as modded-nanogpt logs do (the
 * script reads itself, `code = f.read()`, and writes that first): the metric lines may come only
 * after more code than the 64 kB a file is sniffed from.
 */
function startsWithPrintedSource(head: readonly string[]): boolean {
  const start = head.slice(0, 40);
  const at = start.findIndex((line) => /^with open\(sys\.argv\[0\]\)( as f)?:/.test(line));
  return at >= 0 && start.slice(at + 1, at + 4).some((line) => /^\s+code = f\.read\(\)/.test(line));
}

export const moddedNanogpt: LineFormat = {
  name: 'modded-nanogpt',
  undelimitedLines: true,
  label: 'modded-nanogpt log',
  aliases: { loss: ['train_loss'], validationLoss: ['val_loss'] },
  sniff: (_file, head) => (head.some((line) => MODDED_SNIFF.test(line)) ? 0.95 : startsWithPrintedSource(head) ? 0.6 : 0),
  parser: () => ({
    line(text, lineNumber) {
      if (text.length > MAX_LINE_LENGTH) return tooLong(text);
      const line = text.trim();
      if (line === '') return undefined;
      // Everything else (the printed source, nvidia-smi's table, `peak memory …`) is not a metric.
      const match = MODDED_LINE.exec(line);
      if (!match) return 'skip';
      const values: Record<string, unknown> = { step: Number(match[1]) };
      for (const pair of match[2].split(/\s+/)) {
        const at = pair.indexOf(':');
        if (at <= 0) continue;
        const value = MODDED_VALUE.exec(pair.slice(at + 1));
        const number = value ? parseNumber(value[1]) : undefined;
        if (number !== undefined) values[pair.slice(0, at)] = number;
      }
      const record: LogRecord = { values, line: lineNumber };
      // A validation line comes after its step's training line and joins it.
      if ('val_loss' in values && !('train_loss' in values)) record.role = 'eval';
      return [record];
    },
  }),
};

// The Hugging Face Trainer prints each log as a Python dict, often after a tqdm bar on the same line.
const HF_CONSOLE = /\{'(?:loss|eval_loss|train_runtime)': [^{}]*\}/g;

/** A Python dict literal of numbers as JSON (single quotes, nan, inf). */
function pythonDict(text: string): Record<string, unknown> | undefined {
  const json = text
    .replace(/'/g, '"')
    .replace(/-?\binf\b/g, (m) => (m.startsWith('-') ? '-Infinity' : 'Infinity'))
    .replace(/\bnan\b/g, 'NaN');
  try {
    const value = parseJsonLine(json);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export const hfConsole: LineFormat = {
  name: 'hf-console',
  label: 'Hugging Face Trainer console output',
  sniff: (_file, head) => (head.some((line) => /\{'(loss|eval_loss)': /.test(line)) ? 0.85 : 0),
  parser: () => {
    // The dicts carry no step: they are numbered in order (one per logging_steps).
    let row = 0;
    return {
      line(text, lineNumber) {
        if (text.length > MAX_LINE_LENGTH) return tooLong(text);
        const dicts = text.match(HF_CONSOLE);
        if (!dicts) return text.trim() === '' ? undefined : 'skip';
        const records: LogRecord[] = [];
        for (const dict of dicts) {
          const values = pythonDict(dict);
          if (!values) continue;
          const record: LogRecord = { values, line: lineNumber };
          if ('train_runtime' in values) record.role = 'summary';
          else if ('eval_loss' in values && !('loss' in values)) record.role = 'eval';
          else values.step = ++row;
          if (record.role === 'eval') values.step = row;
          records.push(record);
        }
        return records;
      },
    };
  },
};

/**
 * MMCV 1.x (mmdet 2, mmseg 0.x) `<time>.log.json`: `iter` counts within each epoch and `mode` says
 * train or val. The step is the iteration over the whole run; val rows join the last iteration.
 */
export const mmcv: LineFormat = {
  name: 'mmcv',
  label: 'MMCV 1.x *.log.json',
  aliases: { step: ['step'] },
  sniff: (file, head) => (firstObjects(head, 5).some((o) => 'mode' in o && 'epoch' in o && 'iter' in o && !('step' in o)) ? 0.95 : /\.log\.json$/.test(file) ? 0.5 : 0),
  parser: () => {
    let offset = 0;
    let epoch: number | undefined;
    let lastIter = 0;
    return jsonParser((values, record) => {
      if (values.mode === 'val') {
        record.role = 'eval';
        record.joinsCurrent = true;
        return;
      }
      if (typeof values.epoch !== 'number' || typeof values.iter !== 'number') return;
      if (epoch !== undefined && values.epoch !== epoch) offset += lastIter;
      epoch = values.epoch;
      lastIter = values.iter;
      values.step = offset + values.iter;
    }, false);
  },
};

/** Line formats in the order ties are broken (most specific first). */
export const LINE_FORMATS: readonly LineFormat[] = [llamaFactory, detectron2, mmcv, mmengine, llmc, moddedNanogpt, nanogpt, hfConsole, lightningCsv, jsonLines, csv, tsv];

/** The most likely line format of a file, or undefined when none is likely. */
export function sniffLineFormat(fileName: string, head: readonly string[]): LineFormat | undefined {
  let best: LineFormat | undefined;
  let bestScore = 0;
  for (const format of LINE_FORMATS) {
    const score = format.sniff(fileName, head);
    if (score > bestScore) {
      best = format;
      bestScore = score;
    }
  }
  return bestScore >= 0.3 ? best : undefined;
}
