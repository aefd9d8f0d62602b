// Formats that are one JSON document: Hugging Face's trainer_state.json (the history is its
// `log_history` array) and W&B's wandb-summary.json (final values only, no history).
import { parseJsonLine } from '../runlog/jsonLine';
import { isObject } from './formats';
import { JsonShapeReader, type RecordShape, type ShapedRecord } from './jsonShapes';
import type { LogRecord } from './rows';

/** Why a log cannot be read, for callers that act on it (wait for a file, skip it, try again). Default: 'format'. */
export type LogFormatProblem = 'format' | 'missing' | 'empty' | 'unreadable' | 'cutOff' | 'lfsPointer';

/** Why a file system call failed, in words (`permission denied (EACCES)`), for "cannot be read (…)". */
export function readFailure(error: unknown): string {
  const code = (error as { code?: string }).code;
  const words: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EISDIR: 'it is a folder',
    ENOENT: 'no such file',
    EMFILE: 'too many open files',
    EIO: 'an input/output error',
  };
  if (code && words[code]) return `${words[code]} (${code})`;
  return code ?? (error as Error).message;
}

/** A file that cannot be read as its format; the message names what is wrong (and where). */
export class LogFormatError extends Error {
  constructor(
    message: string,
    readonly problem: LogFormatProblem = 'format',
  ) {
    super(message);
    this.name = 'LogFormatError';
  }
}

export function looksLikeTrainerState(fileName: string, head: string): boolean {
  return /(^|[/\\])trainer_state\.json$/.test(fileName) || (head.trimStart().startsWith('{') && /"log_history"\s*:/.test(head));
}

export function looksLikeWandbSummary(fileName: string, head: string): boolean {
  return /(^|[/\\])wandb-summary\.json$/.test(fileName) || (head.trimStart().startsWith('{') && /"_wandb"\s*:/.test(head) && /"_runtime"\s*:/.test(head));
}

const UNBALANCED = 'log_history ends early: the braces of an entry do not balance, so entries after it may be missing';

/**
 * log_history read line by line, for a file whose braces or quotes do not balance (an entry edited
 * or damaged by hand): Python's json.dumps(indent=…) writes each entry from a line `{` to a line `}`
 * at one indentation, so an entry is found by its lines whatever is inside it. Each entry that is not
 * JSON, or has no end, is named. `history` starts at the array's `[`, on line `line`. Undefined
 * when the file is not laid out so (one line, say).
 */
function recoverLogHistory(history: string, line: number, fromEntry: number): { records: LogRecord[]; entries: number; problems: string[] } | undefined {
  const lines = history.split('\n');
  const records: LogRecord[] = [];
  const problems: string[] = [];
  let entries = 0;
  let indent: string | undefined;
  let open: { line: number; from: number } | undefined;
  const close = (body: string | undefined) => {
    if (entries >= fromEntry) {
      if (body === undefined) problems.push(`line ${open!.line}: the log_history entry that starts here has no end`);
      else
        try {
          records.push(entryRecord(body, open!.line));
        } catch (error) {
          if (!(error instanceof LogFormatError)) throw error;
          problems.push(error.message);
        }
    }
    entries++;
    open = undefined;
  };
  for (let k = 1; k < lines.length; k++) {
    const raw = lines[k].endsWith('\r') ? lines[k].slice(0, -1) : lines[k];
    const trimmed = raw.trim();
    const lead = raw.slice(0, raw.length - raw.trimStart().length);
    if (trimmed === '{' && (indent === undefined || lead === indent)) {
      if (open) close(undefined);
      indent ??= lead;
      open = { line: line + k, from: k };
    } else if (open && lead === indent && (trimmed === '}' || trimmed === '},')) {
      close(`${lines.slice(open.from, k).join('\n')}\n}`);
    } else if (!open && indent !== undefined && lead.length < indent.length && trimmed.startsWith(']')) {
      break;
    }
  }
  if (indent === undefined) return undefined;
  if (open) close(undefined);
  return { records, entries, problems };
}

const SUMMARY_KEYS = ['train_runtime', 'total_flos', 'train_samples_per_second', 'train_steps_per_second'];

function entryRecord(text: string, line: number): LogRecord {
  let value: unknown;
  try {
    value = parseJsonLine(text);
  } catch (error) {
    throw new LogFormatError(`line ${line}: the log_history entry that starts here is not JSON (${(error as Error).message})`);
  }
  if (!isObject(value)) throw new LogFormatError(`line ${line}: the log_history entry that starts here is not an object`);
  return classifyEntry(value, { values: value, line });
}

/** The last entry sums the run up (train_loss is the mean loss, not a step's); eval entries are a validation series. By the keys only. */
function classifyEntry(value: Record<string, unknown>, record: LogRecord): LogRecord {
  if (SUMMARY_KEYS.some((key) => key in value)) record.role = 'summary';
  else if (!('loss' in value) && Object.keys(value).some((key) => key.startsWith('eval_'))) record.role = 'eval';
  return record;
}

/** W&B's summary holds the last value of each metric, not a history: say so and how to get one. */
export function wandbSummaryError(): LogFormatError {
  return new LogFormatError(
    'wandb-summary.json holds only the final value of each metric, not a history. Export every logged row ' +
      '(in Python: `import json, wandb; f = open("history.jsonl", "w"); [f.write(json.dumps(row) + "\\n") for row in wandb.Api().run("<entity>/<project>/<run_id>").scan_history()]`, ' +
      'which keeps NaN and Infinity, unlike history(), which samples rows) and open history.jsonl.',
  );
}

/** Records to hand to a RowAssembler, in order: each a LogRecord, or an entry the fast path read (its shape, line and numbers). */
export interface TrainerStateEntries {
  /** Entries in log_history, the damaged ones included. */
  entries: number;
  /** Pushes the records of the entries from `fromEntry` on into `assembler`. */
  feed(assembler: { push(record: LogRecord): void; pushShaped(record: ShapedRecord): void }): void;
  /**
   * What could not be read, one message each: an entry that is not JSON (skipped; the entries
   * around it are read), and a history cut off (its complete entries are read).
   */
  problems: string[];
  /** The history is cut off (and `keepCutOff` kept its complete entries). */
  cutOff?: true;
}

export interface TrainerStateOptions {
  /** Entries already read, not handed out again (a followed file the trainer rewrote with more). Default: 0. */
  fromEntry?: number;
  /**
   * Whether a history cut off keeps its complete entries (true, default) or throws LogFormatError
   * 'cutOff', as a follower wants while the trainer may be rewriting the file.
   */
  keepCutOff?: boolean;
  /** Whether entries of a shape seen before are read in place by JsonShapeReader (true, default) or all by JSON.parse. */
  shapes?: boolean;
}

/**
 * The entries of a trainer_state.json's `log_history`, each with the line of its opening brace, from
 * the file's bytes. The file is scanned once (strings and nesting tracked) and nothing is handed out
 * before the whole history is read. An entry whose keys and kinds of value match an entry before it
 * is read in place by JsonShapeReader; the others by JSON.parse, with Python's NaN and Infinity. A
 * damaged or cut-off history keeps what can be read and says what could not in `problems`; it
 * throws only when it holds no complete entry (or, without `keepCutOff`, when it is cut off).
 */
export function trainerStateEntries(data: Uint8Array, options: TrainerStateOptions = {}): TrainerStateEntries {
  const { fromEntry = 0, keepCutOff = true, shapes = true } = options;
  const start = findLogHistory(data);
  if (start < 0) throw new LogFormatError('no "log_history" array (is this a Hugging Face trainer_state.json?)');
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  const reader = new JsonShapeReader((values) => classifyEntry(values, { values }));
  const items: (LogRecord | RecordShape)[] = [];
  const lines: number[] = [];
  let numbers = new Float64Array(1024);
  let used = 0;
  let line = 1;
  for (let i = 0; i < start; i++) if (data[i] === 10) line++;
  const startLine = line;
  let depth = 0;
  let inString = false;
  let entryStart = -1;
  let entryLine = 0;
  let entries = 0;
  const problems: string[] = [];
  const feed = (assembler: Parameters<TrainerStateEntries['feed']>[0]) => {
    const scratch: ShapedRecord = { shape: undefined as unknown as RecordShape, numbers: new Float64Array(256), line: 0 };
    let at = 0;
    for (let k = 0; k < items.length; k++) {
      const item = items[k];
      if (!('keys' in item)) {
        assembler.push(item);
        continue;
      }
      const count = item.keys.length;
      scratch.shape = item;
      scratch.line = lines[k];
      scratch.numbers.set(numbers.subarray(at, at + count));
      at += count;
      assembler.pushShaped(scratch);
    }
  };
  // The history read line by line instead, for a file whose braces or quotes do not balance.
  const recovered = (): TrainerStateEntries | undefined => {
    const history = recoverLogHistory(decoder.decode(data.subarray(start)), startLine, fromEntry);
    return history && { entries: history.entries, feed: (assembler) => history.records.forEach((record) => assembler.push(record)), problems: history.problems };
  };
  for (let i = start; i < data.length; i++) {
    const c = data[i];
    if (c === 10) line++;
    if (inString) {
      if (c === 92)
        i++; // backslash: the next character is escaped
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      // { or [ — depth 1 is inside the log_history array
      if (depth === 1 && c === 123) {
        const record = shapes ? reader.readObject(data, i, data.length, line) : undefined;
        if (record) {
          // A flat entry read in place: its closing brace is the one the scan would stop at.
          if (entries >= fromEntry) {
            const count = record.shape.keys.length;
            if (used + count > numbers.length) {
              const grown = new Float64Array(Math.max(2 * numbers.length, used + count));
              grown.set(numbers.subarray(0, used));
              numbers = grown;
            }
            numbers.set(record.numbers.subarray(0, count), used);
            used += count;
            items.push(record.shape);
            lines.push(line);
          }
          entries++;
          const end = reader.objectEnd;
          for (let j = i + 1; j < end; j++) if (data[j] === 10) line++;
          i = end - 1;
          continue;
        }
        entryStart = i;
        entryLine = line;
      }
      depth++;
    } else if (c === 125 || c === 93) {
      depth--;
      if (depth === 1 && c === 125 && entryStart >= 0) {
        if (entries >= fromEntry) {
          try {
            items.push(entryRecord(decoder.decode(data.subarray(entryStart, i + 1)), entryLine));
            lines.push(entryLine);
          } catch (error) {
            if (!(error instanceof LogFormatError)) throw error;
            problems.push(error.message);
          }
        }
        entries++;
        entryStart = -1;
      }
      if (depth === 0) {
        // Closed by a brace, not by the array's bracket: an entry's braces do not balance.
        if (c === 125) return recovered() ?? { entries, feed, problems: [...problems, UNBALANCED] };
        // An entry that is not JSON may hold a quote that shifted the scan: find the entries by their lines.
        return (problems.length > 0 && recovered()) || { entries, feed, problems };
      }
    }
  }
  // A document that closes is damaged, not a write in progress (an unbalanced quote ran to its end).
  let end = data.length;
  while (end > 0 && (data[end - 1] === 32 || data[end - 1] === 10 || data[end - 1] === 13 || data[end - 1] === 9)) end--;
  if (data[end - 1] === 125) {
    const history = recovered();
    if (history) return history;
  }
  const cutOff = `log_history is cut off after ${entries} entries (a file still being written?)`;
  if (!keepCutOff || entries === 0) throw new LogFormatError(cutOff, 'cutOff');
  problems.push(`${cutOff}; the ${entries} complete ${entries === 1 ? 'entry is' : 'entries are'} read`);
  return { entries, feed, problems, cutOff: true };
}

const LOG_HISTORY = Array.from('"log_history"', (c) => c.charCodeAt(0));

/** Index of the `[` that opens the top-level log_history array, or -1. */
function findLogHistory(data: Uint8Array): number {
  let depth = 0;
  let inString = false;
  let stringStart = -1;
  for (let i = 0; i < data.length; i++) {
    const c = data[i];
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) {
        inString = false;
        if (depth === 1 && i + 1 - stringStart === LOG_HISTORY.length && LOG_HISTORY.every((b, k) => data[stringStart + k] === b)) {
          // The next 64 characters (256 bytes hold at least 64 of them).
          const after = new TextDecoder('utf-8', { ignoreBOM: true }).decode(data.subarray(i + 1, i + 1 + 256)).slice(0, 64);
          const bracket = /^\s*:\s*\[/.exec(after);
          if (bracket) return i + new TextEncoder().encode(bracket[0]).length;
        }
      }
      continue;
    }
    if (c === 34) {
      inString = true;
      stringStart = i;
    } else if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) depth--;
  }
  return -1;
}
