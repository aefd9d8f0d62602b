// What a path holds: which training logs, in which format. A file is sniffed from its name and
// first bytes; a folder is searched (a few levels deep) for the files frameworks write.
import { promises as fs } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { looksLikeTrainerState, looksLikeWandbSummary, LogFormatError } from '../../core/logs/documents';
import { LINE_FORMATS, sniffLineFormat, type FormatName, type LineFormat } from '../../core/logs/formats';

/** One run's log, ready to be read or followed. */
export type LogSource =
  | { kind: 'lines'; title: string; format: LineFormat; file: string }
  | { kind: 'trainerState'; title: string; format: 'hf-trainer-state'; file: string }
  | { kind: 'tensorboard'; title: string; format: 'tensorboard'; dir: string }
  | { kind: 'keras'; title: string; format: 'keras'; dir: string; parts: { prefix: string; dir: string }[] };

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
const MAX_FILES_SNIFFED = 300;

/** The first lines of a file (at most 64 kB), and whether it looks like text at all. */
async function head(file: string): Promise<{ text: string; lines: string[]; binary: boolean }> {
  const handle = await fs.open(file, 'r');
  try {
    const buffer = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, 0);
    const bytes = buffer.subarray(0, bytesRead);
    const binary = bytes.includes(0);
    const text = bytes.toString('utf8');
    const lines = text.split('\n');
    if (bytesRead === HEAD_BYTES) lines.pop(); // the last line is cut off
    return { text, lines: lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)), binary };
  } finally {
    await handle.close();
  }
}

/**
 * The log(s) at `target`. A file must be of a known format (or the one `format` names); a folder
 * yields every run found in it. Throws LogFormatError with a reason a person can act on.
 */
export async function findLogSources(target: string, format?: FormatName): Promise<LogSource[]> {
  let stat;
  try {
    stat = await fs.stat(target);
  } catch {
    throw new LogFormatError(`${target}: no such file or folder`);
  }
  if (stat.isDirectory()) {
    const sources = await searchFolder(target, format);
    if (sources.length === 0) {
      throw new LogFormatError(`${target}: no training log found in this folder (looked for trainer_state.json, TensorBoard events.out.tfevents.*, metrics.csv, metrics.json, scalars.json, *.jsonl, llm.c and nanoGPT logs)`);
    }
    return sources;
  }
  return [await fileSource(target, target, format, 0.3)];
}

async function fileSource(file: string, title: string, format: FormatName | undefined, threshold: number): Promise<LogSource> {
  if (EVENT_FILE.test(basename(file)) && (!format || format === 'tensorboard')) return { kind: 'tensorboard', title, format: 'tensorboard', dir: dirname(file) };
  const { text, lines, binary } = await head(file);
  if (format === 'hf-trainer-state' || (!format && looksLikeTrainerState(file, text))) return { kind: 'trainerState', title, format: 'hf-trainer-state', file };
  if (!format && looksLikeWandbSummary(file, text)) return { kind: 'lines', title, format: wandbSummary, file };
  if (format) {
    const chosen = LINE_FORMATS.find((f) => f.name === format) ?? (format === 'gradscope' ? LINE_FORMATS.find((f) => f.name === 'jsonl') : undefined);
    if (!chosen) throw new LogFormatError(`${file}: --format ${format} reads folders, not a single file`);
    return { kind: 'lines', title, format: chosen, file };
  }
  if (binary) throw new LogFormatError(`${file}: a binary file that is not a TensorBoard event file (its name does not start with events.out.tfevents.)`);
  const sniffed = sniffLineFormat(file, lines);
  if (!sniffed || sniffed.sniff(file, lines) < threshold) {
    throw new LogFormatError(`${file}: not a training log Gradscope knows (JSON lines, CSV with a header, trainer_state.json, llm.c or nanoGPT text); name the format with --format ${FORMAT_NAMES.join('|')}`);
  }
  return { kind: 'lines', title, format: sniffed, file };
}

/** A stand-in whose reading fails with W&B's own explanation (see readLogSource). */
const wandbSummary: LineFormat = { name: 'wandb-summary', label: FORMAT_LABELS['wandb-summary'], sniff: () => 0, parser: () => ({ line: () => undefined }) };

interface Found {
  events: Map<string, string[]>;
  files: string[];
  runFolders: string[];
}

async function walk(dir: string, depth: number, found: Found): Promise<void> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  entries.sort((a, b) => a.name.localeCompare(b.name));
  if (entries.some((e) => e.name === 'metrics.jsonl') && entries.some((e) => e.name === 'job.json')) {
    found.runFolders.push(dir);
    return;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (depth > 0 && !SKIP_DIRS.has(entry.name) && !entry.name.startsWith('.')) await walk(path, depth - 1, found);
      else if (depth > 0 && entry.name === '.gradscope') await walk(path, depth, found);
    } else if (EVENT_FILE.test(entry.name)) {
      const list = found.events.get(dir) ?? [];
      list.push(path);
      found.events.set(dir, list);
    } else if (/\.(jsonl|json|csv|log|txt)$/.test(entry.name)) {
      found.files.push(path);
    }
  }
}

async function searchFolder(root: string, format: FormatName | undefined): Promise<LogSource[]> {
  const found: Found = { events: new Map(), files: [], runFolders: [] };
  await walk(root, 4, found);
  const title = (path: string) => relative(root, path) || basename(root);
  const sources: LogSource[] = [];
  const want = (name: FormatName) => !format || format === name;

  for (const dir of found.runFolders) if (want('gradscope')) sources.push({ kind: 'lines', title: title(dir), format: gradscopeFormat(), file: join(dir, 'metrics.jsonl') });

  // Keras writes one run as train/ and validation/ folders of event files side by side.
  const eventDirs = [...found.events.keys()];
  const keras = new Set<string>();
  for (const dir of eventDirs) {
    const name = basename(dir);
    if (name !== 'train' && name !== 'validation') continue;
    const parent = dirname(dir);
    if (keras.has(parent) || !found.events.has(join(parent, 'train'))) continue;
    if (!(await isKerasRun(found.events.get(join(parent, 'train'))!))) continue;
    keras.add(parent);
  }
  for (const parent of keras) {
    if (!want('keras') && format !== 'tensorboard') continue;
    const parts = ['train', 'validation'].filter((p) => found.events.has(join(parent, p))).map((p) => ({ prefix: p, dir: join(parent, p) }));
    sources.push({ kind: 'keras', title: title(parent), format: 'keras', dir: parent, parts });
  }
  for (const dir of eventDirs) {
    if (keras.has(dirname(dir)) && (basename(dir) === 'train' || basename(dir) === 'validation')) continue;
    if (want('tensorboard')) sources.push({ kind: 'tensorboard', title: title(dir), format: 'tensorboard', dir });
  }

  // Checkpoint copies of trainer_state.json are prefixes of the final one: read the final one, or the latest checkpoint.
  const states = found.files.filter((f) => basename(f) === 'trainer_state.json');
  const byRun = new Map<string, string>();
  for (const file of states) {
    const checkpoint = /checkpoint-(\d+)$/.exec(dirname(file));
    const runDir = checkpoint ? dirname(dirname(file)) : dirname(file);
    const chosen = byRun.get(runDir);
    const rank = (f: string) => (/checkpoint-(\d+)$/.exec(dirname(f)) ? Number(/checkpoint-(\d+)$/.exec(dirname(f))![1]) : Infinity);
    if (!chosen || rank(file) > rank(chosen)) byRun.set(runDir, file);
  }
  if (want('hf-trainer-state')) for (const file of byRun.values()) sources.push({ kind: 'trainerState', title: title(file), format: 'hf-trainer-state', file });

  let sniffed = 0;
  for (const file of found.files) {
    if (basename(file) === 'trainer_state.json' || basename(file) === 'wandb-summary.json') continue;
    if (found.runFolders.some((dir) => file.startsWith(dir))) continue;
    if (sniffed++ >= MAX_FILES_SNIFFED) break;
    try {
      // In a folder, only files that clearly are logs count (a config.json is not one).
      const source = await fileSource(file, title(file), format, 0.5);
      if (source.kind === 'lines' && source.format.name === 'wandb-summary') continue;
      if (source.kind === 'trainerState' && !want('hf-trainer-state')) continue;
      sources.push(source);
    } catch {
      // not a log
    }
  }
  return sources;
}

/** Keras' train/ events have `epoch_*` or `batch_*` scalars (Lightning and HF never write those). */
async function isKerasRun(files: string[]): Promise<boolean> {
  return files.some((f) => f.endsWith('.v2'));
}

let gradscope: LineFormat | undefined;
function gradscopeFormat(): LineFormat {
  const jsonl = LINE_FORMATS.find((f) => f.name === 'jsonl')!;
  return (gradscope ??= { ...jsonl, name: 'gradscope', label: FORMAT_LABELS.gradscope });
}
