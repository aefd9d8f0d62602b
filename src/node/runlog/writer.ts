import { closeSync, existsSync, mkdirSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { stringifyJsonLine } from '../../core/runlog/jsonLine';
import { RUN_FILES } from '../../core/runlog/layout';

export interface RunLogWriterOptions {
  /** Buffered metric rows that trigger a write. Default: 256. */
  flushEveryRows?: number;
  /** Longest time a metric row waits in the buffer, in milliseconds. Default: 200. */
  flushIntervalMs?: number;
}

/**
 * Writes a run folder: job.json at once, metrics.jsonl in batches, events.jsonl and epochs.jsonl at
 * once (they are rare and matter most), summary.json atomically at the end. Writes are synchronous appends, so a
 * crash loses at most the unflushed batch and leaves every written line readable.
 */
export class RunLogWriter {
  private readonly metricsFd: number;
  private readonly eventsFd: number;
  /** Opened at the first epoch, so a run that ends before one has no epochs.jsonl. */
  private epochsFd: number | undefined;
  private buffer: string[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private readonly flushEveryRows: number;
  private readonly flushIntervalMs: number;

  private constructor(
    readonly dir: string,
    options: RunLogWriterOptions,
  ) {
    this.flushEveryRows = options.flushEveryRows ?? 256;
    this.flushIntervalMs = options.flushIntervalMs ?? 200;
    this.metricsFd = openSync(join(dir, RUN_FILES.metrics), 'a');
    this.eventsFd = openSync(join(dir, RUN_FILES.events), 'a');
  }

  /** Makes `<runsDir>/<time>-<name>/` (a numbered suffix if it exists) and writes the job as run. */
  static create(runsDir: string, jobName: string, job: unknown, options: RunLogWriterOptions & { now?: Date } = {}): RunLogWriter {
    const base = `${timestamp(options.now ?? new Date())}-${jobName.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80)}`;
    mkdirSync(runsDir, { recursive: true });
    let dir = join(runsDir, base);
    for (let n = 2; existsSync(dir); n++) dir = join(runsDir, `${base}-${n}`);
    mkdirSync(dir);
    writeFileSync(join(dir, RUN_FILES.job), `${JSON.stringify(job, null, 2)}\n`);
    return new RunLogWriter(dir, options);
  }

  appendMetrics(row: object): void {
    this.assertOpen();
    this.buffer.push(stringifyJsonLine(row));
    if (this.buffer.length >= this.flushEveryRows) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.flushIntervalMs).unref();
  }

  appendEvent(event: object): void {
    this.assertOpen();
    writeSync(this.eventsFd, `${stringifyJsonLine(event)}\n`);
  }

  /** One finished epoch (see RUN_FILES.epochs), written at once: there are few, and they hold the validation curve. */
  appendEpoch(epoch: object): void {
    this.assertOpen();
    this.epochsFd ??= openSync(join(this.dir, RUN_FILES.epochs), 'a');
    writeSync(this.epochsFd, `${stringifyJsonLine(epoch)}\n`);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffer.length === 0 || this.closed) return;
    const text = `${this.buffer.join('\n')}\n`;
    this.buffer = [];
    writeSync(this.metricsFd, text);
  }

  /** Flushes, writes summary.json (via a temporary file and a rename) and closes. Safe to call twice. */
  close(summary: object): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    closeSync(this.metricsFd);
    closeSync(this.eventsFd);
    if (this.epochsFd !== undefined) closeSync(this.epochsFd);
    const target = join(this.dir, RUN_FILES.summary);
    writeFileSync(`${target}.tmp`, `${stringifyJsonLine(summary)}\n`);
    renameSync(`${target}.tmp`, target);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`run log ${this.dir} is closed`);
  }
}

function timestamp(date: Date): string {
  // 2026-11-25T00:55:48.123Z → 20261125-005548
  return date.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}
