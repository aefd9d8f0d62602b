import { dirname, join, resolve } from 'node:path';
import { defaultLrFindOptions, type LrFindOptions, type LrFindResult } from '../core/tools/lrFind';
import type { TrainerMessage } from '../core/protocol';
import { buildTrainRequest } from '../node/trainRequest';
import { TrainerProcess } from '../node/trainerProcess';
import { loadJob } from './trainCommand';
import { parsePositiveInteger, UsageError } from './usageError';

export interface LrFindCommandOptions {
  start?: string;
  end?: string;
  steps?: string;
  backend?: string;
  json?: boolean;
  runsDir?: string;
}

/** `gradscope lr-find <job>`: a learning-rate range test; prints the suggestion (JSON with --json). */
export async function lrFindCommand(file: string, options: LrFindCommandOptions): Promise<number> {
  const job = loadJob(file, { backend: options.backend });
  const sweep: LrFindOptions = {
    ...defaultLrFindOptions,
    ...(options.start !== undefined ? { startLr: positiveNumber(options.start, '--start') } : {}),
    ...(options.end !== undefined ? { endLr: positiveNumber(options.end, '--end') } : {}),
    ...(options.steps !== undefined ? { steps: parsePositiveInteger(options.steps, '--steps') } : {}),
  };
  if (sweep.endLr <= sweep.startLr) throw new UsageError(`--end (${sweep.endLr}) must be greater than --start (${sweep.startLr})`);
  const jobDir = dirname(resolve(file));
  let result: LrFindResult | undefined;
  let failure: string | undefined;
  const request = buildTrainRequest(job, { jobFile: file, runsDir: options.runsDir ?? join(jobDir, '.gradscope', 'runs'), searchRoots: [process.cwd()] }, undefined, { lrFind: sweep });
  const trainer = new TrainerProcess(join(__dirname, 'trainer.js'), request, {
    message(message: TrainerMessage) {
      if (message.type === 'lrFind') result = message.result;
      if (message.type === 'failed') failure = message.message;
      if (message.type === 'steps' && !options.json && process.stderr.isTTY) {
        const last = message.batch.step.length - 1;
        process.stderr.write(`\rsweeping: step ${message.batch.step[last] + 1}/${sweep.steps}, lr ${message.batch.lr[last].toExponential(2)}, loss ${message.batch.loss[last].toPrecision(3)}   `);
      }
    },
  });
  const onInterrupt = () => void trainer.stop();
  process.on('SIGINT', onInterrupt);
  await trainer.stopped;
  process.off('SIGINT', onInterrupt);
  if (!options.json && process.stderr.isTTY) process.stderr.write('\n');
  if (!result) {
    process.stderr.write(`gradscope: the range test failed: ${failure ?? 'the trainer exited unexpectedly'}\n`);
    return 1;
  }
  if (options.json) {
    const { suggestion, methods, explosionLr, lrs, losses, stoppedEarly } = result;
    process.stdout.write(`${JSON.stringify({ suggestion, methods, ...(explosionLr !== undefined ? { explosionLr } : {}), lrs, losses, ...(stoppedEarly ? { stoppedEarly } : {}) })}\n`);
  } else {
    const e = (value: number) => value.toExponential(2);
    process.stdout.write(
      [
        `suggested peak learning rate: ${e(result.suggestion)}`,
        `  valley ${e(result.methods.valley)} · steepest slope ${e(result.methods.steepest)} · minimum/10 ${e(result.methods.minimumDiv10)}`,
        result.explosionLr !== undefined ? `  the gradient norm exploded at lr ${e(result.explosionLr)}` : '  no gradient explosion within the sweep',
        `  ${result.lrs.length} steps from ${e(result.lrs[0])} to ${e(result.lrs.at(-1)!)}${result.stoppedEarly ? ` (${result.stoppedEarly})` : ''}`,
      ].join('\n') + '\n',
    );
  }
  return 0;
}

function positiveNumber(text: string, option: string): number {
  const value = Number(text);
  if (!(value > 0) || !Number.isFinite(value)) throw new UsageError(`${option} must be a positive number (got ${JSON.stringify(text)})`);
  return value;
}
