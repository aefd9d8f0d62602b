import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseJsonLine } from './jsonLine';
import { RUN_FILES } from './layout';
import { readJsonl, type JsonlRecord, type ReadJsonlOptions } from './reader';

export { parseJsonLine, stringifyJsonLine } from './jsonLine';
export { RUN_FILES } from './layout';
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
}

/** Opens a run folder for reading; throws an error naming the folder when it is not a run log. */
export function openRunLog(dir: string): RunLog {
  const jobFile = join(dir, RUN_FILES.job);
  if (!existsSync(jobFile)) throw new Error(`${dir} is not a Gradscope run folder (no ${RUN_FILES.job})`);
  const summaryFile = join(dir, RUN_FILES.summary);
  const job: unknown = JSON.parse(readFileSync(jobFile, 'utf8'));
  const summary: unknown = existsSync(summaryFile) ? parseJsonLine(readFileSync(summaryFile, 'utf8')) : undefined;
  const stream = (name: string) => (options?: ReadJsonlOptions) =>
    existsSync(join(dir, name)) ? readJsonl(join(dir, name), options) : empty();
  return { dir, job, ...(summary !== undefined ? { summary } : {}), metrics: stream(RUN_FILES.metrics), events: stream(RUN_FILES.events) };
}

async function* empty(): AsyncGenerator<JsonlRecord> {}
