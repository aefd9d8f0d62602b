// Follows a log while another program writes it: new lines of text logs, new entries of a
// trainer_state.json that the trainer rewrites, new records of TensorBoard event files.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { ColumnMapping } from '../../core/logs/columns';
import { LogFormatError, trainerStateEntries } from '../../core/logs/documents';
import { RowAssembler, type MetricsRow, type RowsReport } from '../../core/logs/rows';
import { FileFollower } from '../follow';
import { TbFollower } from './tensorboardFiles';
import { feedLine, resolverFor } from './read';
import type { LogSource } from './sources';

export interface FollowHandlers {
  mapping?: ColumnMapping;
  onRow: (row: MetricsRow) => void;
  /** A line or record that could not be read. */
  onProblem?: (message: string) => void;
  /** The file was truncated, replaced or rewritten shorter: what follows is a new segment. */
  onRestart?: (reason: string) => void;
  /** After each look that brought rows (batch them for the UI here). */
  onBatchEnd?: () => void;
  /** Time between two looks, in milliseconds. Default: 200 for text logs, 1000 otherwise. */
  pollMs?: number;
}

export interface LogFollower {
  /** One look now (tests step a follower this way); overlapping calls share one look. */
  poll(): Promise<void>;
  /** Reads what is there, then keeps looking until stop(). */
  start(): Promise<void>;
  stop(): void;
  /** The columns read so far: which fed a field, which were numeric but unused (for `--map` checks). */
  columns(): Pick<RowsReport, 'columns' | 'unused'>;
}

/** A follower for any source; rows come out in order, each step once its records are complete. */
export function followLogSource(source: LogSource, handlers: FollowHandlers): LogFollower {
  switch (source.kind) {
    case 'lines':
      return new LineLogFollower(source, handlers);
    case 'trainerState':
      return new PollingFollower(handlers, new TrainerStateReader(source, handlers));
    case 'tensorboard':
      return new PollingFollower(handlers, new TensorBoardReader(source, handlers));
    case 'keras':
      return new PollingFollower(handlers, new KerasReader(source, handlers));
  }
}

class LineLogFollower implements LogFollower {
  private readonly follower: FileFollower;
  private assembler!: RowAssembler;
  private parser!: ReturnType<Extract<LogSource, { kind: 'lines' }>['format']['parser']>;
  /** Lines that are not metrics: counted by feedLine, reported by readLogSource only (a follower has no summary). */
  private readonly counts = { skippedLines: 0 };
  private linesThisLook = 0;

  constructor(
    private readonly source: Extract<LogSource, { kind: 'lines' }>,
    private readonly handlers: FollowHandlers,
  ) {
    this.reset();
    this.follower = new FileFollower(
      source.file,
      (text, lineNumber) => {
        this.linesThisLook++;
        feedLine(this.parser, text, lineNumber, this.assembler, this.counts, (message) => handlers.onProblem?.(message), source.file);
      },
      {
        pollMs: handlers.pollMs ?? 200,
        onRestart: (why) => {
          this.assembler.flush();
          if (why === 'rewritten') {
            // The same log again with more columns (Lightning's CSVLogger adds a header field): read it
            // from the top with the new header, and hand out only the steps after those already seen.
            this.reset(this.lastStep);
          } else {
            this.reset();
            handlers.onRestart?.(`${source.file} was ${why}`);
          }
        },
        onError: (error) => handlers.onProblem?.(`${source.file}: ${(error as NodeJS.ErrnoException).code ?? error.message}`),
        onPoll: () => this.afterLook(),
      },
    );
  }

  private lastStep: number | undefined;

  /** A new parser and assembler; rows up to `seenUpTo` (already handed out) are not handed out again. */
  private reset(seenUpTo?: number): void {
    let skipUpTo = seenUpTo;
    this.assembler = new RowAssembler(resolverFor(this.source, this.handlers.mapping), (row) => {
      if (skipUpTo !== undefined && row.step <= skipUpTo) return;
      skipUpTo = undefined;
      this.lastStep = row.step;
      this.handlers.onRow(row);
    });
    this.parser = this.source.format.parser();
  }

  private afterLook(): void {
    // A step's records may span two looks; a look that brought nothing new means the step is complete.
    if (this.linesThisLook === 0) this.assembler.flush();
    this.linesThisLook = 0;
    this.handlers.onBatchEnd?.();
  }

  async poll(): Promise<void> {
    await this.follower.poll();
  }

  async start(): Promise<void> {
    await this.follower.poll();
    this.assembler.flush();
    this.handlers.onBatchEnd?.();
    await this.follower.start();
  }

  stop(): void {
    this.follower.stop();
    this.assembler.flush();
    this.handlers.onBatchEnd?.();
  }

  columns(): Pick<RowsReport, 'columns' | 'unused'> {
    return this.assembler.report();
  }
}

interface Reader {
  read(): Promise<void>;
  end(): void;
  readonly assembler: RowAssembler;
}

/** Looks every pollMs, never two looks at once; a failed look is reported and retried. */
class PollingFollower implements LogFollower {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private looking: Promise<void> | undefined;

  constructor(
    private readonly handlers: FollowHandlers,
    private readonly reader: Reader,
  ) {}

  poll(): Promise<void> {
    this.looking ??= this.reader
      .read()
      .catch((error: unknown) => this.handlers.onProblem?.(error instanceof Error ? error.message : String(error)))
      .then(() => this.handlers.onBatchEnd?.())
      .finally(() => (this.looking = undefined));
    return this.looking;
  }

  async start(): Promise<void> {
    await this.poll();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.poll().then(() => this.schedule()), this.handlers.pollMs ?? 1000);
  }

  columns(): Pick<RowsReport, 'columns' | 'unused'> {
    return this.reader.assembler.report();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.reader.end();
    this.handlers.onBatchEnd?.();
  }
}

/**
 * The trainer rewrites trainer_state.json at each checkpoint: new entries are read, old ones
 * skipped. In a run folder, each checkpoint has its own copy (and `save_total_limit` deletes old
 * ones): the newest checkpoint's file is followed, switching as new ones appear.
 */
class TrainerStateReader implements Reader {
  private entries = 0;
  private signature = '';
  /** The file's signature when a look last found it cut off. */
  private cutOffSignature = '';
  assembler: RowAssembler;
  private file: string;

  constructor(
    private readonly source: Extract<LogSource, { kind: 'trainerState' }>,
    private readonly handlers: FollowHandlers,
  ) {
    this.file = source.file;
    this.assembler = this.newAssembler();
  }

  private newAssembler(): RowAssembler {
    return new RowAssembler(resolverFor(this.source, this.handlers.mapping), this.handlers.onRow);
  }

  /** The run's final trainer_state.json, else its newest checkpoint's. */
  private async newest(): Promise<string> {
    const runDir = this.source.runDir;
    if (!runDir) return this.file;
    const top = join(runDir, 'trainer_state.json');
    if (await exists(top)) return top;
    const names = await fs.readdir(runDir).catch(() => [] as string[]);
    const checkpoints = names
      .map((name) => [name, Number(/^checkpoint-(\d+)$/.exec(name)?.[1])] as const)
      .filter(([, n]) => Number.isFinite(n))
      .sort((a, b) => b[1] - a[1]);
    for (const [name] of checkpoints) if (await exists(join(runDir, name, 'trainer_state.json'))) return join(runDir, name, 'trainer_state.json');
    return this.file;
  }

  async read(): Promise<void> {
    this.file = await this.newest();
    const stat = await fs.stat(this.file);
    const signature = `${this.file}:${stat.mtimeMs}:${stat.size}`;
    if (signature === this.signature) return;
    const data = await fs.readFile(this.file);
    let parsed;
    // A file found cut off at the last look too, and not changed since, is not being rewritten: keep what it has.
    const keepCutOff = signature === this.cutOffSignature;
    try {
      parsed = trainerStateEntries(data, { fromEntry: this.entries, keepCutOff });
    } catch (error) {
      // Caught mid-rewrite: the next look reads the finished file.
      if (error instanceof LogFormatError && error.problem === 'cutOff') {
        this.cutOffSignature = signature;
        return;
      }
      throw new LogFormatError(`${this.file}: ${(error as Error).message}`);
    }
    // Stalled part-way through rewriting a longer history: not a new run, and nothing new to read.
    if (parsed.cutOff && parsed.entries < this.entries) return;
    this.signature = signature;
    if (parsed.entries < this.entries) {
      // A new run wrote a shorter history: start over.
      this.handlers.onRestart?.(`${this.file} was rewritten by a new run`);
      this.entries = 0;
      this.assembler = this.newAssembler();
      parsed = trainerStateEntries(data, { keepCutOff });
    }
    for (const problem of parsed.problems) this.handlers.onProblem?.(`${this.file}: ${problem}`);
    parsed.feed(this.assembler);
    this.entries = parsed.entries;
    this.assembler.flush();
  }

  end(): void {
    this.assembler.flush();
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

/** New complete records of a run's event files; a step's row goes out once a later step appears. */
class TensorBoardReader implements Reader {
  private readonly follower: TbFollower;
  readonly assembler: RowAssembler;

  constructor(source: Extract<LogSource, { kind: 'tensorboard' }>, handlers: FollowHandlers) {
    this.assembler = new RowAssembler(resolverFor(source, handlers.mapping), handlers.onRow);
    this.follower = new TbFollower(
      source.dir,
      (_run, rows) => {
        for (const values of rows) this.assembler.push({ values });
      },
      (file, problem) => handlers.onProblem?.(`${file} at byte ${problem.offset}: ${problem.message}`),
      { depth: 0 },
    );
  }

  read(): Promise<void> {
    return this.follower.poll();
  }

  end(): void {
    this.follower.flush();
    this.assembler.flush();
  }
}

/**
 * A Keras run folder (train/ + validation/) or SummaryWriter.add_scalars folders, followed part by
 * part: each part's new records only (a per-batch Keras log of 200,000 steps was read whole at every
 * change), merged by step with the part's name on its tags, then handed out in step order as
 * tensorBoardRecords reads them: the batch scale once the run logs one, and an epoch held until its
 * validation values are written.
 */
class KerasReader implements Reader {
  private handed = -Infinity;
  private batchScale = false;
  /** Merged rows of steps not handed out yet. */
  private readonly pending = new Map<number, Record<string, number>>();
  private readonly followers: TbFollower[];
  private readonly hasValidation: boolean;
  readonly assembler: RowAssembler;

  constructor(
    private readonly source: Extract<LogSource, { kind: 'keras' }>,
    handlers: FollowHandlers,
  ) {
    this.assembler = new RowAssembler(resolverFor(source, handlers.mapping), handlers.onRow);
    this.hasValidation = source.format === 'keras' && source.parts.some((p) => p.prefix === 'validation');
    this.followers = source.parts.map((part) => {
      const name = (tag: string) => (part.prefix !== undefined ? `${part.prefix}/${tag}` : `${tag}/${part.suffix}`);
      return new TbFollower(
        part.dir,
        (_run, rows) => {
          for (const row of rows) {
            // A step already handed out (a validation value written after the next batches): too late.
            if (row.step <= this.handed) continue;
            let merged = this.pending.get(row.step);
            if (!merged) this.pending.set(row.step, (merged = { step: row.step }));
            for (const tag in row) if (tag !== 'step') merged[name(tag)] = row[tag];
            if (!this.batchScale && source.format === 'keras' && 'batch_loss' in row && part.prefix === 'train') this.batchScale = true;
          }
        },
        (file, problem) => handlers.onProblem?.(`${file} at byte ${problem.offset}: ${problem.message}`),
        { depth: 0, holdNewestStep: false },
      );
    });
  }

  async read(): Promise<void> {
    for (const follower of this.followers) await follower.poll();
    this.handOut(false);
  }

  end(): void {
    for (const follower of this.followers) follower.flush();
    this.handOut(true);
  }

  private handOut(all: boolean): void {
    const keep =
      this.source.format !== 'keras'
        ? () => true
        : this.batchScale
          ? (tag: string) => tag.startsWith('train/batch_') || tag.includes('_vs_iterations')
          : (tag: string) => !tag.startsWith('train/batch_') && !tag.includes('_vs_iterations');
    const kept = (row: Record<string, number>) => Object.keys(row).some((tag) => tag !== 'step' && keep(tag));
    // Only rows of the scale read count: on the epoch scale, Keras' evaluation_loss_vs_iterations
    // (stamped with the optimizer's iteration, far past the epochs) must neither hold an epoch back
    // nor move the steps handed out past the epochs still to come.
    const steps = [...this.pending.keys()].sort((a, b) => a - b);
    const candidates = steps.filter((step) => kept(this.pending.get(step)!));
    const last = candidates.length ? this.pending.get(candidates[candidates.length - 1])! : undefined;
    // The newest epoch's validation values are written after its training values: hold it back until they are there.
    const lastComplete = all || !this.hasValidation || (last !== undefined && Object.keys(last).some((k) => k.startsWith('validation/') && keep(k)));
    const ready = lastComplete ? candidates : candidates.slice(0, -1);
    for (const step of ready) {
      const row = this.pending.get(step)!;
      this.pending.delete(step);
      const values: Record<string, number> = { step };
      for (const tag in row) if (tag !== 'step' && keep(tag)) values[tag] = row[tag];
      this.assembler.push({ values });
    }
    if (ready.length) this.handed = ready[ready.length - 1];
    // Rows of the other scale at or before the last step handed out would never go out: let them go.
    for (const step of steps) if (step <= this.handed && this.pending.has(step) && !kept(this.pending.get(step)!)) this.pending.delete(step);
    if (all) this.pending.clear();
    this.assembler.flush();
  }
}
