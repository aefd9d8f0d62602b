import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { COLUMNS, finalLoss, sortRows, stepsToTarget, toCsv, toMarkdown, type CompareRow } from '../core/compareTable';
import { parseJobText, type JobSpec } from '../core/job';
import { estimateTotalSteps } from '../core/jobPlan';
import type { TrainerMessage } from '../core/protocol';
import { SpecError } from '../core/specError';
import { applyStrategy, defaultStrategies, DEFAULT_STRATEGY_NAMES, type Strategy } from '../core/strategies';
import { TrainerProcess } from '../trainer/process';
import { loadJob } from './trainCommand';
import { parsePositiveInteger, UsageError } from './usageError';

export interface CompareOptions {
  strategies?: string;
  parallel?: string;
  target?: string;
  sort?: string;
  format?: string;
  json?: boolean;
  maxSteps?: string;
  backend?: string;
  runsDir?: string;
}

interface Outcome { strategy: Strategy; steps: number[]; losses: number[]; validationLoss: number | null; validationAccuracy: number | null; status: string; explosions: number; nonFinite: number; wallTimeMs: number; message?: string }

/** `gradscope compare <job>`: the same job under several strategies, same seed and data, as a table. */
export async function compareCommand(file: string, options: CompareOptions): Promise<number> {
  const job = loadJob(file, { backend: options.backend });
  const maxSteps = options.maxSteps !== undefined ? parsePositiveInteger(options.maxSteps, '--max-steps') : undefined;
  const totalSteps = Math.min(maxSteps ?? Infinity, estimateTotalSteps(job) ?? 1000);
  const strategies = chooseStrategies(job, totalSteps, options.strategies);
  const jobs = strategies.map((strategy) => {
    try {
      return parseJobText(JSON.stringify(applyStrategy(job, strategy)));
    } catch (error) {
      throw new UsageError(`strategy "${strategy.name}": ${(error as SpecError).message}`);
    }
  });
  const sort = (options.sort ?? 'finalValidationLoss') as keyof CompareRow;
  if (!COLUMNS.includes(sort)) throw new UsageError(`--sort must be one of ${COLUMNS.join(', ')} (got ${JSON.stringify(options.sort)})`);
  const format = options.json ? 'json' : options.format ?? 'table';
  if (!['json', 'csv', 'markdown', 'table'].includes(format)) throw new UsageError(`--format must be json, csv, markdown or table (got ${JSON.stringify(format)})`);
  const parallel = options.parallel !== undefined ? parsePositiveInteger(options.parallel, '--parallel') : 1;
  const target = options.target !== undefined ? Number(options.target) : undefined;
  if (target !== undefined && !(target > 0)) throw new UsageError(`--target must be a positive loss (got ${JSON.stringify(options.target)})`);

  const jobDir = dirname(resolve(file));
  const runsDir = resolve(options.runsDir ?? join(jobDir, '.gradscope', 'runs'));
  const outcomes: Outcome[] = new Array(strategies.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < strategies.length) {
      const index = next++;
      outcomes[index] = await runStrategy(strategies[index], jobs[index], { jobFile: resolve(file), jobDir, runsDir, maxSteps: Math.min(maxSteps ?? Infinity, strategies[index].maxSteps ?? Infinity) });
      done++;
      const o = outcomes[index];
      process.stderr.write(`[${done}/${strategies.length}] ${o.strategy.name}: ${o.status} after ${o.steps.length} steps in ${(o.wallTimeMs / 1000).toFixed(1)} s${o.explosions ? `, ${o.explosions} explosions` : ''}${o.message ? ` (${o.message})` : ''}\n`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, strategies.length) }, worker));

  const finals = outcomes.map((o) => finalLoss(o.losses)).filter((v): v is number => v !== null);
  const lossTarget = target ?? (finals.length ? 2 * Math.min(...finals) : Infinity);
  const rows = sortRows(outcomes.map((o): CompareRow => ({
    strategy: o.strategy.name, description: o.strategy.description, status: o.status, steps: o.steps.length,
    finalTrainLoss: finalLoss(o.losses), finalValidationLoss: o.validationLoss, finalValidationAccuracy: o.validationAccuracy,
    stepsToTarget: stepsToTarget(o.steps, o.losses, lossTarget), explosions: o.explosions, nonFinite: o.nonFinite, wallTimeMs: o.wallTimeMs,
  })), sort);
  if (format === 'json') process.stdout.write(`${JSON.stringify({ target: lossTarget, sortedBy: sort, rows })}\n`);
  else if (format === 'csv') process.stdout.write(toCsv(rows));
  else process.stdout.write(`target loss ${lossTarget.toPrecision(3)}; sorted by ${sort}\n\n${toMarkdown(rows)}`);
  return 0;
}

function chooseStrategies(job: JobSpec, totalSteps: number, choice: string | undefined): Strategy[] {
  const defaults = defaultStrategies(job, totalSteps);
  if (choice === undefined) return defaults;
  if (existsSync(choice)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(choice, 'utf8'));
    } catch (error) {
      throw new UsageError(`${choice}: not valid JSON (${(error as Error).message})`);
    }
    if (!Array.isArray(parsed) || parsed.some((s) => typeof s !== 'object' || s === null || typeof (s as Strategy).name !== 'string')) {
      throw new UsageError(`${choice}: must be a JSON array of strategies, each with a "name" (and optimizer, schedule, clip, guard overrides)`);
    }
    return (parsed as Strategy[]).map((s) => ({ ...s, description: s.description ?? s.name }));
  }
  return choice.split(',').map((name) => {
    const found = defaults.find((s) => s.name === name.trim());
    if (!found) throw new UsageError(`unknown strategy "${name.trim()}" (known: ${DEFAULT_STRATEGY_NAMES.join(', ')}; or give a JSON file)`);
    return found;
  });
}

function runStrategy(strategy: Strategy, job: JobSpec, where: { jobFile: string; jobDir: string; runsDir: string; maxSteps: number }): Promise<Outcome> {
  const outcome: Outcome = { strategy, steps: [], losses: [], validationLoss: null, validationAccuracy: null, status: 'failed', explosions: 0, nonFinite: 0, wallTimeMs: 0 };
  const started = Date.now();
  const trainer = new TrainerProcess(join(__dirname, 'trainer.js'), {
    job, jobFile: where.jobFile, jobDir: where.jobDir, runsDir: where.runsDir, searchPaths: [where.jobDir, process.cwd()],
    ...(Number.isFinite(where.maxSteps) ? { maxSteps: where.maxSteps } : {}),
  }, {
    message(message: TrainerMessage) {
      if (message.type === 'steps') {
        outcome.steps.push(...message.batch.step);
        outcome.losses.push(...message.batch.loss);
      } else if (message.type === 'epoch') {
        outcome.validationLoss = message.validationLoss ?? null;
        outcome.validationAccuracy = message.validationAccuracy ?? null;
      } else if (message.type === 'event') {
        if (message.event.kind === 'explosion') outcome.explosions++;
        if (message.event.kind === 'nonFinite') outcome.nonFinite++;
      } else if (message.type === 'finished') {
        outcome.status = message.summary.status;
        if (message.summary.message) outcome.message = message.summary.message;
      } else if (message.type === 'failed') {
        outcome.message = message.message;
      }
    },
  });
  return trainer.stopped.then(() => ({ ...outcome, wallTimeMs: Date.now() - started }));
}
