// What a path holds: which training logs, in which format. A file is sniffed from its name and
// first bytes; a folder is searched (a few levels deep) for the files frameworks write.
import { constants as fsConstants, promises as fs } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { looksLikeTrainerState, looksLikeWandbSummary, LogFormatError, readFailure, wandbSummaryError } from '../../core/logs/documents';
import { LINE_FORMATS, sniffLineFormat, type FormatName, type LineFormat } from '../../core/logs/formats';
import { isLfsPointer, LFS_POINTER } from '../../core/logs/lfs';

/** One run's log, ready to be read or followed. */
export type LogSource =
  | { kind: 'lines'; title: string; format: LineFormat; file: string }
  /** `runDir`: the run's folder when the file is its newest checkpoint's (following switches to newer ones). */
  | { kind: 'trainerState'; title: string; format: 'hf-trainer-state'; file: string; runDir?: string }
  | { kind: 'tensorboard'; title: string; format: 'tensorboard'; dir: string }
  /**
   * Event-file folders that are one run: Keras' train/ and validation/, or the folders
   * SummaryWriter.add_scalars writes (`Loss_train/`, `Loss_val/`, each with the tag `Loss`).
   * `prefix` goes before a part's tags (`train/epoch_loss`), `suffix` after (`Loss/train`).
   */
  | { kind: 'keras'; title: string; format: 'keras' | 'tensorboard'; dir: string; parts: { prefix?: string; suffix?: string; dir: string }[] };

export const FORMAT_LABELS: Record<FormatName, string> = {
  'hf-trainer-state': 'Hugging Face trainer_state.json',
  tensorboard: 'TensorBoard event files',
  keras: 'Keras TensorBoard run (train/ + validation/)',
  gradscope: 'Gradscope run folder',
  'wandb-summary': 'W&B wandb-summary.json',
  ...Object.fromEntries(LINE_FORMATS.map((f) => [f.name, f.label])),
} as Record<FormatName, string>;

export const FORMAT_NAMES = Object.keys(FORMAT_LABELS) as FormatName[];

export function formatLabel(source: LogSource): string {
  return source.kind === 'lines' ? source.format.label : FORMAT_LABELS[source.format];
}

const HEAD_BYTES = 64 * 1024;
const EVENT_FILE = /^events\.out\.tfevents\./;
const SKIP_DIRS = new Set(['node_modules', '.git', '__pycache__', '.venv', 'venv', 'wandb-artifacts', 'plugins']);
const MAX_FILES_SNIFFED = 1000;

/**
 * Whether a file's first bytes are binary data rather than a text log: zero bytes inside more than a
 * few of its lines. A log with a line or two of junk is text with damage, which the readers skip line
 * by line. A line of zero bytes only is what a crash leaves where the file system had allocated
 * blocks not yet written, and does not count.
 */
function holdsBinary(bytes: Uint8Array): boolean {
  let lineStart = 0;
  let zeros = 0;
  let lines = 0;
  let mixed = 0;
  for (let i = 0; i <= bytes.length; i++) {
    const byte = i < bytes.length ? bytes[i] : 0x0a;
    if (byte === 0x0a) {
      const length = i - lineStart - (i > lineStart && bytes[i - 1] === 0x0d ? 1 : 0); // a CRLF line's \r is not content
      if (zeros > 0 && zeros < length) mixed++;
      lines++;
      lineStart = i + 1;
      zeros = 0;
    } else if (byte === 0) {
      zeros++;
    }
  }
  return mixed > Math.max(1, 0.05 * lines);
}

/** The first lines of a file (at most 64 kB), and whether it looks like text at all. */
async function head(file: string): Promise<{ text: string; lines: string[]; binary: boolean; utf16: boolean }> {
  const handle = await fs.open(file, 'r');
  try {
    const buffer = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, 0);
    const bytes = buffer.subarray(0, bytesRead);
    const binary = holdsBinary(bytes);
    const utf16 = (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
    const text = bytes.toString('utf8');
    const lines = text.split('\n');
    if (bytesRead === HEAD_BYTES) lines.pop(); // the last line is cut off
    return { text, lines: lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)), binary, utf16 };
  } finally {
    await handle.close();
  }
}

/**
 * The log(s) at `target`. A file must be of a known format (or the one `format` names); a folder
 * yields every run found in it. Throws LogFormatError with a reason a person can act on.
 */
export async function findLogSources(target: string, format?: FormatName, onNote?: (message: string) => void): Promise<LogSource[]> {
  let stat;
  try {
    stat = await fs.stat(target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw code === 'ENOENT' ? new LogFormatError(`${target}: no such file or folder`, 'missing') : new LogFormatError(`${target}: cannot be read: ${readFailure(error)}`, 'unreadable');
  }
  if (stat.isDirectory()) {
    try {
      await fs.access(target, fsConstants.R_OK | fsConstants.X_OK);
    } catch (error) {
      // Said as the reason, not as a note before "no training log found", which it did not look for.
      throw new LogFormatError(`${target}: cannot be read: ${readFailure(error)}`, 'unreadable');
    }
    const sources = await searchFolder(target, format, onNote ?? (() => {}));
    if (sources.length === 0) {
      throw new LogFormatError(
        `${target}: no training log found in this folder (looked for trainer_state.json, TensorBoard events.out.tfevents.*, metrics.csv, metrics.json, scalars.json, *.jsonl, llm.c and nanoGPT logs)`,
      );
    }
    return sources;
  }
  return [await fileSource(target, target, format, 0.3)];
}

/** Whether a file is a Git LFS pointer (false when it cannot be read: reading it says why). */
async function lfsPointerFile(file: string): Promise<boolean> {
  let handle;
  try {
    handle = await fs.open(file, 'r');
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(64), 0, 64, 0);
    return isLfsPointer(buffer.subarray(0, bytesRead));
  } catch {
    return false;
  } finally {
    await handle?.close();
  }
}

async function fileSource(file: string, title: string, format: FormatName | undefined, threshold: number): Promise<LogSource> {
  if (EVENT_FILE.test(basename(file)) && (!format || format === 'tensorboard')) {
    if (await lfsPointerFile(file)) throw new LogFormatError(`${file}: ${LFS_POINTER}`, 'lfsPointer');
    return { kind: 'tensorboard', title, format: 'tensorboard', dir: dirname(file) };
  }
  let sample;
  try {
    sample = await head(file);
  } catch (error) {
    throw new LogFormatError(`${file}: cannot be read: ${readFailure(error)}`, 'unreadable');
  }
  const { text, lines, binary, utf16 } = sample;
  if (text.length === 0) throw new LogFormatError(`${file}: the file is empty`, 'empty');
  // Whatever the log's kind (and whatever --format says): a pointer holds none of it.
  if (isLfsPointer(text)) throw new LogFormatError(`${file}: ${LFS_POINTER}`, 'lfsPointer');
  if (/^[\0\r\n]*$/.test(text)) throw new LogFormatError(`${file}: the file holds only zero bytes (what a crash leaves in blocks the file system had allocated but not written)`, 'empty');
  if (format === 'hf-trainer-state' || (!format && looksLikeTrainerState(file, text))) return { kind: 'trainerState', title, format: 'hf-trainer-state', file };
  if (!format && looksLikeWandbSummary(file, text)) return { kind: 'lines', title, format: wandbSummary, file };
  if (format) {
    const chosen = LINE_FORMATS.find((f) => f.name === format) ?? (format === 'gradscope' ? LINE_FORMATS.find((f) => f.name === 'jsonl') : undefined);
    if (!chosen) throw new LogFormatError(`${file}: --format ${format} reads folders, not a single file`);
    return { kind: 'lines', title, format: chosen, file };
  }
  if (utf16) throw new LogFormatError(`${file}: a UTF-16 text file (as Windows PowerShell's > writes); save it as UTF-8`);
  if (binary) throw new LogFormatError(`${file}: a binary file that is not a TensorBoard event file (its name does not start with events.out.tfevents.)`);
  const sniffed = sniffLineFormat(file, lines);
  if (!sniffed || sniffed.sniff(file, lines) < threshold) {
    throw new LogFormatError(
      `${file}: not a training log Gradscope knows (JSON lines, CSV or TSV with a header, trainer_state.json, llm.c, nanoGPT or modded-nanogpt text); name the format with --format ${FORMAT_NAMES.join('|')}`,
    );
  }
  return { kind: 'lines', title, format: sniffed, file };
}

/** A stand-in whose reading fails with W&B's own explanation (see readLogSource). */
const wandbSummary: LineFormat = { name: 'wandb-summary', label: FORMAT_LABELS['wandb-summary'], sniff: () => 0, parser: () => ({ line: () => undefined }) };

interface Found {
  events: Map<string, string[]>;
  files: string[];
  runFolders: string[];
  unreadable: string[];
  /** Git LFS pointers found in place of logs (event files are left out of `events`). */
  lfsPointers: string[];
  /** Real paths of the folders seen (a symlink loop is walked once). */
  seen: Set<string>;
}

/** Files in a model folder that are never logs (configs, tokenizers, weights indexes). */
const NOT_LOGS =
  /^(config|generation_config|adapter_config|tokenizer|tokenizer_config|special_tokens_map|added_tokens|vocab|preprocessor_config|training_args|model\.safetensors\.index|pytorch_model\.bin\.index|all_results|train_results|eval_results|README|requirements|package|package-lock)(\.\w+)?\.(json|txt)$/;
/** Names frameworks give their logs: read before anything else in a folder. */
const LOG_NAMES = /^(trainer_state\.json|trainer_log\.jsonl|metrics\.(csv|json|jsonl)|scalars\.json|main\.log|log\.txt|.*\.log\.json)$/;

async function walk(dir: string, depth: number, found: Found): Promise<void> {
  let real: string;
  let entries;
  try {
    real = await fs.realpath(dir);
    if (found.seen.has(real)) return;
    found.seen.add(real);
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    found.unreadable.push(dir);
    return;
  }
  entries.sort((a, b) => naturalCompare(a.name, b.name));
  if (entries.some((e) => e.name === 'metrics.jsonl') && entries.some((e) => e.name === 'job.json')) {
    found.runFolders.push(dir);
    return;
  }
  // A checkpoint folder holds weights and configs; its trainer_state.json is the only log in it.
  const checkpoint = /^checkpoint-\d+$/.test(basename(dir));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    let isDirectory = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      // `outputs/latest -> run-7`: followed (a dangling link or a loop is not).
      const target = await fs.stat(path).catch(() => undefined);
      isDirectory = target?.isDirectory() ?? false;
      isFile = target?.isFile() ?? false;
    }
    if (isDirectory) {
      if (depth > 0 && !SKIP_DIRS.has(entry.name) && !entry.name.startsWith('.')) await walk(path, depth - 1, found);
      else if (depth > 0 && entry.name === '.gradscope') await walk(path, depth, found);
    } else if (!isFile) {
      continue;
    } else if (checkpoint) {
      if (entry.name === 'trainer_state.json') found.files.push(path);
    } else if (EVENT_FILE.test(entry.name)) {
      if (await lfsPointerFile(path)) {
        found.lfsPointers.push(path);
        continue;
      }
      const list = found.events.get(dir) ?? [];
      list.push(path);
      found.events.set(dir, list);
    } else if (/\.(jsonl|json|csv|tsv|log|txt)$/.test(entry.name) && !NOT_LOGS.test(entry.name)) {
      found.files.push(path);
    }
  }
}

/** `version_2` before `version_10`. */
export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

const PART = /^(?:(.*?)[_-])?(train|training|val|valid|validation|eval|test)$/i;

async function searchFolder(root: string, format: FormatName | undefined, onNote: (message: string) => void): Promise<LogSource[]> {
  const found: Found = { events: new Map(), files: [], runFolders: [], unreadable: [], lfsPointers: [], seen: new Set() };
  await walk(root, 4, found);
  const title = (path: string) => relative(root, path) || basename(root);
  const sources: LogSource[] = [];
  const want = (name: FormatName) => !format || format === name;

  for (const dir of found.runFolders) if (want('gradscope')) sources.push({ kind: 'lines', title: title(dir), format: gradscopeFormat(), file: join(dir, 'metrics.jsonl') });

  // Event-file folders side by side that are one run: Keras' train/ + validation/, and the
  // `<tag>_train/` + `<tag>_val/` folders of SummaryWriter.add_scalars.
  const eventDirs = [...found.events.keys()];
  const grouped = new Set<string>();
  const groups = new Map<string, { stem: string; parent: string; parts: { name: string; dir: string }[] }>();
  for (const dir of eventDirs) {
    const match = PART.exec(basename(dir));
    if (!match) continue;
    const key = `${dirname(dir)}\u0000${match[1] ?? ''}`;
    const group = groups.get(key) ?? { stem: match[1] ?? '', parent: dirname(dir), parts: [] };
    group.parts.push({ name: match[2].toLowerCase(), dir });
    groups.set(key, group);
  }
  for (const group of groups.values()) {
    if (group.parts.length < 2 || !group.parts.some((p) => p.name.startsWith('train'))) continue;
    group.parts.forEach((p) => grouped.add(p.dir));
    const keras = group.stem === '' && isKerasRun(found.events.get(group.parts.find((p) => p.name.startsWith('train'))!.dir)!);
    if (keras) {
      if (!want('keras') && format !== 'tensorboard') continue;
      const parts = group.parts.map((p) => ({ prefix: p.name.startsWith('val') ? 'validation' : p.name, dir: p.dir }));
      sources.push({ kind: 'keras', title: title(group.parent), format: 'keras', dir: group.parent, parts });
    } else if (want('tensorboard')) {
      // add_scalars('Loss', {'train': …, 'val': …}) writes the tag `Loss` in Loss_train/ and Loss_val/: read as Loss/train, Loss/val.
      const parts = group.parts.map((p) => (group.stem ? { suffix: basename(p.dir).slice(group.stem.length + 1), dir: p.dir } : { prefix: basename(p.dir), dir: p.dir }));
      const groupTitle = group.stem ? join(title(group.parent), group.stem) : title(group.parent);
      sources.push({ kind: 'keras', title: groupTitle, format: 'tensorboard', dir: group.parent, parts });
    }
  }
  for (const dir of eventDirs) {
    if (grouped.has(dir)) continue;
    if (want('tensorboard')) sources.push({ kind: 'tensorboard', title: title(dir), format: 'tensorboard', dir });
  }

  // Checkpoint copies of trainer_state.json are prefixes of the final one: read the final one, or the latest checkpoint.
  const states: string[] = [];
  for (const file of found.files) {
    if (basename(file) !== 'trainer_state.json') continue;
    if (await lfsPointerFile(file)) found.lfsPointers.push(file);
    else states.push(file);
  }
  const byRun = new Map<string, string>();
  const rank = (f: string) => Number(/checkpoint-(\d+)$/.exec(dirname(f))?.[1] ?? Infinity);
  for (const file of states) {
    const checkpoint = /checkpoint-(\d+)$/.test(dirname(file));
    const runDir = checkpoint ? dirname(dirname(file)) : dirname(file);
    const chosen = byRun.get(runDir);
    if (!chosen || rank(file) > rank(chosen)) byRun.set(runDir, file);
  }
  if (want('hf-trainer-state')) {
    for (const [runDir, file] of byRun) sources.push({ kind: 'trainerState', title: title(file), format: 'hf-trainer-state', file, runDir });
  }

  // Known log names first, so that a cap on how many files are looked at never hides one.
  const candidates = found.files.filter((f) => basename(f) !== 'trainer_state.json' && basename(f) !== 'wandb-summary.json');
  candidates.sort((a, b) => Number(!LOG_NAMES.test(basename(a))) - Number(!LOG_NAMES.test(basename(b))));
  const looked = candidates.slice(0, MAX_FILES_SNIFFED);
  for (const file of looked) {
    try {
      // In a folder, only files that clearly are logs count (a config.json is not one).
      const source = await fileSource(file, title(file), format, 0.5);
      if (source.kind === 'lines' && source.format.name === 'wandb-summary') continue;
      if (source.kind === 'trainerState' && !want('hf-trainer-state')) continue;
      sources.push(source);
    } catch (error) {
      if (error instanceof LogFormatError && error.problem === 'unreadable') found.unreadable.push(file);
      if (error instanceof LogFormatError && error.problem === 'lfsPointer') found.lfsPointers.push(file);
    }
  }
  if (candidates.length > looked.length)
    onNote(`${candidates.length - looked.length} more files in ${root} were not looked at (only the first ${MAX_FILES_SNIFFED}); open a sub-folder or the file itself`);
  if (found.unreadable.length)
    onNote(
      `${found.unreadable.length} ${found.unreadable.length === 1 ? 'file or folder' : 'files or folders'} could not be read (${found.unreadable.slice(0, 3).join(', ')}${found.unreadable.length > 3 ? ', …' : ''})`,
    );
  if (found.lfsPointers.length) {
    const pointers = found.lfsPointers.sort(naturalCompare).map(title);
    const shown = pointers.slice(0, 3).join(', ') + (pointers.length > 3 ? `, and ${pointers.length - 3} more` : '');
    const said = pointers.length === 1 ? `${shown}: ${LFS_POINTER}` : `${pointers.length} files are Git LFS pointers, not the logs themselves (run \`git lfs pull\`): ${shown}`;
    // Said once, as the reason when nothing else is there to read.
    if (sources.length === 0) throw new LogFormatError(`${root}: no training log to read: ${said}`, 'lfsPointer');
    onNote(said);
  }
  if (sources.length === 0 && found.files.some((f) => basename(f) === 'wandb-summary.json')) throw wandbSummaryError();
  return sources.sort((a, b) => naturalCompare(a.title, b.title));
}

/** TF2's summary writer (Keras) names its event files `*.v2`; Lightning, Hugging Face and PyTorch's writers do not. */
function isKerasRun(files: string[]): boolean {
  return files.some((f) => f.endsWith('.v2'));
}

let gradscope: LineFormat | undefined;
function gradscopeFormat(): LineFormat {
  const jsonl = LINE_FORMATS.find((f) => f.name === 'jsonl')!;
  return (gradscope ??= { ...jsonl, name: 'gradscope', label: FORMAT_LABELS.gradscope });
}
