import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseJobText, type JobSpec } from '../core/job/parse';
import type { RunSummary, TrainerMessage } from '../core/protocol';
import { parseScheduleSpec } from '../core/schedules';
import { buildTrainRequest } from '../node/trainRequest';
import { TrainerProcess } from '../node/trainerProcess';
import { JsonReporter, TextReporter, type TrainReporter } from './trainReporters';
import { parsePositiveInteger, UsageError } from './usageError';

export interface TrainOptions {
  schedule?: string;
  backend?: string;
  maxSteps?: string;
  json?: boolean;
  runsDir?: string;
}

const BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;

/** Reads and validates a job file with the command line's overrides; UsageError/SpecError for bad input. */
export function loadJob(file: string, options: Pick<TrainOptions, 'schedule' | 'backend'>): JobSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  const job = parseJobText(text, file);
  if (options.schedule !== undefined) {
    let spec: unknown;
    try {
      spec = JSON.parse(options.schedule);
    } catch (error) {
      throw new UsageError(`--schedule is not valid JSON (${(error as Error).message})`);
    }
    job.schedule = parseScheduleSpec(spec);
  }
  if (options.backend !== undefined) {
    if (!(BACKENDS as readonly string[]).includes(options.backend)) throw new UsageError(`--backend must be one of ${BACKENDS.join(', ')} (got ${JSON.stringify(options.backend)})`);
    job.backend = options.backend as JobSpec['backend'];
  }
  return job;
}

/** `gradscope train <job>`: 0 finished, 1 failed or stopped (by a guard or Ctrl-C), 2 invalid job. */
export async function trainCommand(file: string, options: TrainOptions): Promise<number> {
  const job = loadJob(file, options);
  const maxSteps = options.maxSteps !== undefined ? parsePositiveInteger(options.maxSteps, '--max-steps') : undefined;
  const jobDir = dirname(resolve(file));
  const reporter: TrainReporter = options.json
    ? new JsonReporter((line) => process.stdout.write(`${line}\n`))
    : new TextReporter(Boolean(process.stderr.isTTY), (line) => process.stderr.write(`${line}\n`));
  let summary: RunSummary | undefined;
  let failure: string | undefined;
  const request = buildTrainRequest(job, { jobFile: file, runsDir: options.runsDir ?? join(jobDir, '.gradscope', 'runs'), searchRoots: [process.cwd()] }, undefined, { maxSteps });
  const trainer = new TrainerProcess(join(__dirname, 'trainer.js'), request, {
    message(message: TrainerMessage) {
      if (message.type === 'finished') summary = message.summary;
      if (message.type === 'failed') failure = message.message;
      reporter.message(message);
    },
    output(line) {
      // tfjs prints its own notices; keep them out of --json output.
      if (!options.json && line.trim()) process.stderr.write(`${line}\n`);
    },
  });
  // First Ctrl-C: stop after the current step with a complete run log; second: kill.
  let interrupts = 0;
  const onInterrupt = () => {
    if (interrupts++ === 0) void trainer.stop();
    else void trainer.kill();
  };
  process.on('SIGINT', onInterrupt);
  const exit = await trainer.stopped;
  process.off('SIGINT', onInterrupt);
  reporter.close();
  if (!summary && !failure) {
    const reason = `the trainer exited unexpectedly (${exit.signal ?? `code ${exit.code}`})`;
    if (options.json) process.stdout.write(`${JSON.stringify({ type: 'failed', message: reason })}\n`);
    else process.stderr.write(`failed: ${reason}\n`);
    return 1;
  }
  return summary?.status === 'finished' ? 0 : 1;
}
