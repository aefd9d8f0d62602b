import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ValidationPoint } from '../../core/protocol';
import { parseJsonLine } from '../../core/runlog/jsonLine';
import { RUN_FILES } from '../../core/runlog/layout';
import { readJsonl, type JsonlRecord, type ReadJsonlOptions } from './reader';

export { parseJsonLine, stringifyJsonLine, stringifyStrictJsonLine } from '../../core/runlog/jsonLine';
export { RUN_FILES } from '../../core/runlog/layout';
export { JsonlError, readJsonl, type JsonlRecord, type ReadJsonlOptions } from './reader';
export { RunLogWriter, type RunLogWriterOptions } from './writer';

export interface RunLog {
  readonly dir: string;
  readonly job: unknown;
  /** Present when the run ended normally (or was stopped); absent after a crash. */
  readonly summary?: unknown;
  /** Streams the metric rows; the file may be far larger than memory. */
  metrics(options?: ReadJsonlOptions): AsyncGenerator<JsonlRecord>;
  events(options?: ReadJsonlOptions): AsyncGenerator<JsonlRecord>;
  /** Streams the finished epochs (none for a run without epochs.jsonl). */
  epochs(options?: ReadJsonlOptions): AsyncGenerator<JsonlRecord>;
}

/** An epoch as epochs.jsonl stores it. */
export interface EpochRecord {
  epoch: number;
  /** The epoch's last update. */
  step: number;
  trainLoss: number;
  validationLoss?: number;
  validationAccuracy?: number;
}

/** The validation curve of a run log: one point per epoch that was validated, in step order. */
export async function readValidation(log: RunLog): Promise<ValidationPoint[]> {
  const points: ValidationPoint[] = [];
  for await (const record of log.epochs({ onBadLine: () => {} })) {
    const epoch = record.value as Partial<EpochRecord>;
    if (typeof epoch.step !== 'number' || typeof epoch.validationLoss !== 'number') continue;
    points.push({ step: epoch.step, loss: epoch.validationLoss, ...(typeof epoch.validationAccuracy === 'number' ? { accuracy: epoch.validationAccuracy } : {}) });
  }
  return points;
}

/** Opens a run folder for reading; throws an error naming the folder when it is not a run log. */
export function openRunLog(dir: string): RunLog {
  const jobFile = join(dir, RUN_FILES.job);
  if (!existsSync(jobFile)) throw new Error(`${dir} is not a Gradscope run folder (no ${RUN_FILES.job})`);
  const summaryFile = join(dir, RUN_FILES.summary);
  const job: unknown = JSON.parse(readFileSync(jobFile, 'utf8'));
  const summary: unknown = existsSync(summaryFile) ? parseJsonLine(readFileSync(summaryFile, 'utf8')) : undefined;
  const stream = (name: string) => (options?: ReadJsonlOptions) => (existsSync(join(dir, name)) ? readJsonl(join(dir, name), options) : empty());
  return { dir, job, ...(summary !== undefined ? { summary } : {}), metrics: stream(RUN_FILES.metrics), events: stream(RUN_FILES.events), epochs: stream(RUN_FILES.epochs) };
}

async function* empty(): AsyncGenerator<JsonlRecord> {}
