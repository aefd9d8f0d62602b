import { closeSync, openSync, promises as fs, readdirSync, readSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { readFailure } from '../../core/logs/documents';
import { forEachScalarIn, readRecordSpans, takeOtherValues, type TbProblem } from '../../core/logs/tensorboard';

export interface TbRun {
  /** The run's folder relative to the log directory ('.' for the directory itself). */
  name: string;
  files: string[];
}

const EVENT_FILE = /^events\.out\.tfevents\./;

/** Every folder under `dir` (itself included, 3 levels deep) that holds event files is a run. */
export function findTbRuns(dir: string, depth = 3): TbRun[] {
  const runs: TbRun[] = [];
  const visit = (folder: string, level: number) => {
    let names: string[];
    try {
      names = readdirSync(folder).sort();
    } catch {
      return;
    }
    const files = names.filter((n) => EVENT_FILE.test(n)).map((n) => join(folder, n));
    if (files.length) runs.push({ name: relative(dir, folder) || '.', files });
    if (level < depth) for (const n of names) if (!EVENT_FILE.test(n) && statSync(join(folder, n)).isDirectory()) visit(join(folder, n), level + 1);
  };
  visit(dir, 0);
  return runs;
}

/** findTbRuns without blocking the thread (for the extension host). */
export async function findTbRunsAsync(dir: string, depth = 3): Promise<TbRun[]> {
  const runs: TbRun[] = [];
  const visit = async (folder: string, level: number) => {
    let entries;
    try {
      entries = await fs.readdir(folder, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    const files = entries.filter((e) => e.isFile() && EVENT_FILE.test(e.name)).map((e) => join(folder, e.name));
    if (files.length) runs.push({ name: relative(dir, folder) || '.', files });
    if (level < depth) for (const e of entries) if (e.isDirectory()) await visit(join(folder, e.name), level + 1);
  };
  await visit(dir, 0);
  return runs;
}

/**
 * A run's scalars as one row per step (tags become columns), every step kept, in step order.
 * Files are read in name order (their names start with the time they were created). A file that
 * logs the same tags again from an earlier step is a resumed run: its rows come after the earlier
 * file's, so the step counter goes back and the reader starts a new segment, instead of the resumed
 * values silently replacing the ones before the crash. Files with other tags (a second writer in the
 * same folder) are merged by step. Problems name the file and the byte offset of the record.
 */
export function readTbRows(run: TbRun, onProblem: (file: string, problem: TbProblem) => void): Record<string, number>[] {
  const groups: { byStep: Map<number, Record<string, number>>; tags: Set<string>; lastStep: number }[] = [];
  for (const file of run.files) {
    const byStep = new Map<number, Record<string, number>>();
    const tags = new Set<string>();
    let firstStep = Infinity;
    let maxStep = -Infinity;
    // Writers log a step's scalars together: the row of the last step is usually the one wanted.
    let lastStep = NaN;
    let lastRow: Record<string, number> | undefined;
    const add = (tag: string, step: number, value: number) => {
      let row = step === lastStep ? lastRow : byStep.get(step);
      if (!row) {
        byStep.set(step, (row = { step }));
        if (firstStep === Infinity) firstStep = step;
        if (step > maxStep) maxStep = step;
      }
      lastStep = step;
      lastRow = row;
      if (!tags.has(tag)) tags.add(tag);
      row[tag] = value;
    };
    if (!readEventFile(file, add, onProblem)) continue;
    const others = takeOtherValues();
    if (byStep.size === 0) {
      noScalars(file, others, onProblem);
      continue;
    }
    const previous = groups.at(-1);
    const sharesTags = previous !== undefined && [...tags].some((tag) => previous.tags.has(tag));
    if (previous && (!sharesTags || firstStep > previous.lastStep)) {
      // A second writer, or the same run going on in a new file: one sequence of steps.
      for (const [step, row] of byStep) {
        const into = previous.byStep.get(step);
        if (into) Object.assign(into, row);
        else previous.byStep.set(step, row);
      }
      for (const tag of tags) previous.tags.add(tag);
      previous.lastStep = Math.max(previous.lastStep, maxStep);
    } else {
      groups.push({ byStep, tags, lastStep: maxStep });
    }
  }
  return groups.flatMap((group) => [...group.byStep.values()].sort((a, b) => a.step - b.step));
}

/**
 * A one-file run's rows handed out as they are read, in file order (memory stays flat however long
 * the run): a step's row goes out when a later step's event comes, as writers log a step's scalars
 * together. A step logged again out of order, or a file that goes back to earlier steps, gives rows
 * whose step goes back, which the row assembler reads as a new segment. Returns whether the file
 * held scalars (else, as readTbRows, a problem says what it held).
 */
export function streamTbFile(file: string, onRow: (row: Record<string, number>) => void, onProblem: (file: string, problem: TbProblem) => void, chunkBytes = CHUNK_BYTES): boolean {
  let lastStep = NaN;
  let row: Record<string, number> | undefined;
  let rows = 0;
  const add = (tag: string, step: number, value: number) => {
    if (step !== lastStep || !row) {
      if (row) onRow(row);
      row = { step };
      lastStep = step;
      rows++;
    }
    row[tag] = value;
  };
  readEventFile(file, add, onProblem, chunkBytes);
  if (row) onRow(row);
  const others = takeOtherValues();
  if (rows === 0) noScalars(file, others, onProblem);
  return rows > 0;
}

/** Bytes of an event file read at a time: records are handed out from each, the file is never held whole. */
const CHUNK_BYTES = 4 << 20;

/**
 * Visits the scalars of every complete record of an event file, reading it a chunk at a time; the
 * values that are not scalars are counted afresh for this file (takeOtherValues). Returns false when
 * the file cannot be read at all (a problem says why).
 */
function readEventFile(
  file: string,
  visit: (tag: string, step: number, value: number, wallTime: number) => void,
  onProblem: (file: string, problem: TbProblem) => void,
  chunkBytes = CHUNK_BYTES,
): boolean {
  takeOtherValues();
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    onProblem(file, { offset: 0, message: `cannot be read: ${readFailure(error)}; file skipped` });
    return false;
  }
  try {
    let buffer = Buffer.alloc(chunkBytes);
    /** File offset of buffer[0], and the bytes of the buffer holding data. */
    let base = 0;
    let filled = 0;
    let atEnd = false;
    let stopped = false;
    while (!atEnd && !stopped) {
      if (filled === buffer.length) {
        // One record larger than the buffer: grow it to hold the record.
        const larger = Buffer.alloc(buffer.length * 2);
        buffer.copy(larger, 0, 0, filled);
        buffer = larger;
      }
      let read: number;
      try {
        read = readSync(fd, buffer, filled, buffer.length - filled, base + filled);
      } catch (error) {
        onProblem(file, { offset: base + filled, message: `cannot be read further (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` });
        return true;
      }
      atEnd = read === 0;
      filled += read;
      const chunk = readChunk(file, buffer.subarray(0, filled), base, visit, onProblem);
      const end = chunk.consumed;
      stopped = chunk.framingLost;
      if (atEnd && end < filled && !stopped) onProblem(file, { offset: base + end, message: `the last record is cut off (${filled - end} bytes; a file still being written?)` });
      // Keep the unread tail (a record cut by the chunk's end) at the start of the buffer.
      buffer.copy(buffer, 0, end, filled);
      base += end;
      filled -= end;
    }
    return true;
  } finally {
    closeSync(fd);
  }
}

export interface TbFollowOptions {
  /** How many folder levels below the directory hold runs. Default: 3. */
  depth?: number;
  /** Bytes read at a time. Default: 4 MiB. */
  chunkBytes?: number;
  /**
   * Whether the newest step of a look is held until a later step comes, in case more of its tags are
   * still to be written. Default: true. A reader that merges a step's rows itself (Keras' train/ and
   * validation/) sets it false, so that a run's newest epoch is not one epoch late.
   */
  holdNewestStep?: boolean;
}

/** What a follower holds of one run between looks. */
interface FollowedRun {
  /** Rows not handed out yet, by step. */
  rows: Map<number, Record<string, number>>;
  tags: Set<string>;
  /** The highest step read from any of the run's files. */
  maxStep: number;
}

/**
 * The complete records of `data`, bytes of `file` from its offset `base`: each record's scalars go to
 * `visit`, each problem is named by its offset in the file. Returns where the unread tail starts (a
 * record cut by the chunk's end) and whether the framing was lost (the rest of the file cannot be read).
 */
function readChunk(
  file: string,
  data: Uint8Array,
  base: number,
  visit: (tag: string, step: number, value: number, wallTime: number) => void,
  onProblem: (file: string, problem: TbProblem) => void,
): { consumed: number; framingLost: boolean } {
  let framingLost = false;
  const consumed = readRecordSpans(
    data,
    0,
    (start, stop, offset) => {
      try {
        forEachScalarIn(data, start, stop, visit);
      } catch (error) {
        onProblem(file, { offset: base + offset, message: `not an Event proto (${(error as Error).message}); record skipped` });
      }
    },
    (problem) => {
      if (problem.fatal) framingLost = true;
      onProblem(file, { ...problem, offset: base + problem.offset });
    },
  );
  return { consumed, framingLost };
}

/**
 * Follows a TensorBoard log directory that is still being written: new runs, new files and new
 * complete records are picked up on each poll (a record cut off at the end waits for the rest).
 * A step's row is handed out once a later step appears, since its tags may arrive in several events.
 *
 * New bytes are read a chunk at a time, so a multi-gigabyte file of histograms costs one chunk of
 * memory, and the thread is given back between chunks. A one-file run hands its rows out as each
 * chunk is read; a run of several files holds its new rows until the look has read every file, so
 * that a second writer's tags join the rows of the same steps. As readTbRows does, a file that logs
 * the run's tags again from an earlier step is a resumed run: what came before is handed out first,
 * and its rows follow as a new segment instead of overwriting the old values.
 */
export class TbFollower {
  private readonly offsets = new Map<string, number>();
  private readonly runs = new Map<string, FollowedRun>();
  /** Files whose first scalar was read (the look that reads it decides whether the run resumed). */
  private readonly begun = new Set<string>();
  /** Files whose framing was lost (a record length that fails its checksum): not read again. */
  private readonly lost = new Set<string>();
  private looking: Promise<void> | undefined;

  constructor(
    private readonly dir: string,
    private readonly onRows: (run: string, rows: Record<string, number>[]) => void,
    private readonly onProblem: (file: string, problem: TbProblem) => void,
    private readonly options: TbFollowOptions = {},
  ) {}

  /** One look at the directory; overlapping calls share one look (no byte is read twice). */
  poll(): Promise<void> {
    this.looking ??= this.look().finally(() => (this.looking = undefined));
    return this.looking;
  }

  private async look(): Promise<void> {
    for (const run of await findTbRunsAsync(this.dir, this.options.depth ?? 3)) {
      let state = this.runs.get(run.name);
      if (!state) this.runs.set(run.name, (state = { rows: new Map(), tags: new Set(), maxStep: -Infinity }));
      for (const file of run.files) await this.readNew(run.name, state, file, run.files.length === 1);
      this.release(run.name, state.rows, !(this.options.holdNewestStep ?? true));
    }
  }

  /** Reads the complete records `file` gained since the last look, a chunk at a time. */
  private async readNew(runName: string, state: FollowedRun, file: string, releaseEachChunk: boolean): Promise<void> {
    if (this.lost.has(file)) return;
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(file, 'r');
    } catch (error) {
      // Removed between the listing and the read (a rotated or cleaned-up run): not an error.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    try {
      const { size } = await handle.stat();
      /** File offset of buffer[0]: the first byte not yet consumed. */
      let base = this.offsets.get(file) ?? 0;
      if (size <= base) return;
      let buffer = Buffer.alloc(Math.min(this.options.chunkBytes ?? CHUNK_BYTES, size - base));
      let filled = 0;
      const add = (tag: string, step: number, value: number) => {
        if (!this.begun.has(file)) {
          this.begun.add(file);
          // The run's tags again, from a step it already had: a resumed run, a segment of its own.
          if (state.tags.has(tag) && step <= state.maxStep) {
            this.release(runName, state.rows, true);
            state.maxStep = -Infinity;
          }
        }
        let row = state.rows.get(step);
        if (!row) state.rows.set(step, (row = { step }));
        row[tag] = value;
        state.tags.add(tag);
        if (step > state.maxStep) state.maxStep = step;
      };
      while (base + filled < size) {
        // One record larger than the buffer: grow it to hold the record.
        if (filled === buffer.length) buffer = Buffer.concat([buffer, Buffer.alloc(buffer.length)]);
        const { bytesRead } = await handle.read(buffer, filled, Math.min(buffer.length - filled, size - base - filled), base + filled);
        if (bytesRead === 0) break; // shrunk since stat: the next look sees it
        filled += bytesRead;
        const { consumed, framingLost } = readChunk(file, buffer.subarray(0, filled), base, add, this.onProblem);
        if (framingLost) {
          this.lost.add(file);
          break;
        }
        // Keep the unread tail (a record cut by the chunk's end, or still being written) for later.
        buffer.copy(buffer, 0, consumed, filled);
        base += consumed;
        filled -= consumed;
        if (releaseEachChunk) this.release(runName, state.rows, false);
      }
      this.offsets.set(file, base);
    } finally {
      await handle.close();
    }
  }

  /** Hands out every row still held (the run is over, or following stops). */
  flush(): void {
    for (const [run, state] of this.runs) this.release(run, state.rows, true);
  }

  private release(run: string, rows: Map<number, Record<string, number>>, all: boolean): void {
    const steps = [...rows.keys()].sort((a, b) => a - b);
    const ready = all ? steps : steps.slice(0, -1);
    if (ready.length === 0) return;
    const out = ready.map((step) => rows.get(step)!);
    ready.forEach((step) => rows.delete(step));
    this.onRows(run, out);
  }
}

/** Says what a file that held no scalars held instead ("12 histograms, 3 images"); nothing when it held nothing. */
function noScalars(file: string, others: Map<string, number>, onProblem: (file: string, problem: TbProblem) => void): void {
  if (others.size === 0) return;
  const held = [...others].map(([kind, count]) => `${count} ${kind}`).join(', ');
  onProblem(file, { offset: 0, message: `holds no scalars, only ${held}; Gradscope charts scalars (add_scalar, tf.summary.scalar)` });
}
