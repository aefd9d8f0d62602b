import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseJobText, type JobSpec } from '../../src/core/job/parse';
import type { RunEvent, RunSummary, StepBatch, TrainerMessage } from '../../src/core/protocol';
import { openRunLog, type JsonlRecord } from '../../src/node/runlog';
import { appendBatch } from '../../src/core/series/stepColumns';
import { TrainerProcess, type TrainerExit } from '../../src/node/trainerProcess';

export const root = join(__dirname, '../..');
export const trainerScript = join(root, 'dist', 'trainer.js');

/** A small, fast classification job; override any field. */
export function tinyJob(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'tiny',
    seed: 1,
    data: { type: 'synthetic', samples: 512, features: 8, classes: 3, validationSplit: 0.25 },
    model: [
      { type: 'dense', units: 16, activation: 'relu' },
      { type: 'dense', units: 3, activation: 'softmax' },
    ],
    optimizer: { type: 'sgd', lr: 0.1 },
    schedule: { type: 'constant', lr: 0.1 },
    epochs: 2,
    batchSize: 32,
    ...overrides,
  };
}

/**
 * A regression job whose learning rate jumps 100× (0.01 → 1) at `milestone`: MSE explodes for real
 * there (softmax cross-entropy would saturate to a zero gradient instead). `overrides` go on top.
 */
export function lrJumpJob(milestone: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    data: { type: 'synthetic', task: 'regression', samples: 512, features: 8, validationSplit: 0.25 },
    model: [
      { type: 'dense', units: 16, activation: 'relu' },
      { type: 'dense', units: 1 },
    ],
    schedule: {
      type: 'sequential',
      schedules: [
        { type: 'constant', lr: 0.01 },
        { type: 'constant', lr: 1 },
      ],
      milestones: [milestone],
    },
    epochs: 8,
    ...overrides,
  };
}

export function exampleJob(name: string, overrides: (job: Record<string, unknown>) => void = () => {}): Record<string, unknown> {
  const job = JSON.parse(readFileSync(join(root, 'examples', `${name}.gradscope.json`), 'utf8'));
  overrides(job);
  return job;
}

export interface RunResult {
  exit: TrainerExit;
  messages: TrainerMessage[];
  started?: Extract<TrainerMessage, { type: 'started' }>;
  summary?: RunSummary;
  failure?: string;
  events: RunEvent[];
  batch: StepBatch;
  trainer: TrainerProcess;
}

/**
 * Runs a job in the real trainer child process (dist/trainer.js), collecting every message.
 * `onMessage` can drive the run (stop, pause, kill) as the extension would.
 */
export async function train(
  job: Record<string, unknown>,
  options: { maxSteps?: number; backend?: JobSpec['backend']; jobDir?: string; onMessage?: (message: TrainerMessage, result: RunResult) => void } = {},
): Promise<RunResult> {
  const spec = parseJobText(JSON.stringify(job));
  const jobDir = options.jobDir ?? mkdtempSync(join(tmpdir(), 'gradscope-job-'));
  const result = { messages: [], events: [], batch: { step: [], lr: [], loss: [], gradNorm: [] } } as unknown as RunResult;
  result.trainer = new TrainerProcess(
    trainerScript,
    {
      job: spec,
      jobDir,
      runsDir: join(jobDir, 'runs'),
      searchPaths: [jobDir],
      ...(options.maxSteps ? { maxSteps: options.maxSteps } : {}),
      ...(options.backend ? { backend: options.backend } : {}),
    },
    {
      message(message) {
        result.messages.push(message);
        if (message.type === 'started') result.started = message;
        if (message.type === 'steps') appendBatch(result.batch, message.batch);
        if (message.type === 'event') result.events.push(message.event);
        if (message.type === 'finished') result.summary = message.summary;
        if (message.type === 'failed') result.failure = message.message;
        options.onMessage?.(message, result);
      },
    },
  );
  result.exit = await result.trainer.stopped;
  return result;
}

export async function readAll(records: AsyncIterable<JsonlRecord>): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  for await (const record of records) rows.push(record.value as Record<string, unknown>);
  return rows;
}

export { openRunLog };
