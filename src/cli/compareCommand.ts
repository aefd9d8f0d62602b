import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { COLUMN_TITLES, COLUMNS, toCsv, toMarkdown, type CompareRow } from '../core/tools/compareTable';
import { parseJobText, type JobSpec } from '../core/job/parse';
import { estimateTotalSteps } from '../core/job/plan';
import { SpecError } from '../core/job/specError';
import { applyStrategy, defaultStrategies, DEFAULT_STRATEGY_NAMES, type Strategy } from '../core/tools/strategies';
import { compareRows, runStrategies } from '../node/compareRunner';
import type { TrainerProcess } from '../node/trainerProcess';
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
  const format = options.json ? 'json' : (options.format ?? 'table');
  if (!['json', 'csv', 'markdown', 'table'].includes(format)) throw new UsageError(`--format must be json, csv, markdown or table (got ${JSON.stringify(format)})`);
  const parallel = options.parallel !== undefined ? parsePositiveInteger(options.parallel, '--parallel') : 1;
  const target = options.target !== undefined ? Number(options.target) : undefined;
  if (target !== undefined && !(target > 0)) throw new UsageError(`--target must be a positive loss (got ${JSON.stringify(options.target)})`);

  const jobDir = dirname(resolve(file));
  const where = { distDir: __dirname, jobFile: file, runsDir: options.runsDir ?? join(jobDir, '.gradscope', 'runs'), searchRoots: [process.cwd()], ...(maxSteps ? { maxSteps } : {}) };
  let done = 0;
  // First Ctrl-C: the running strategies stop after their step, queued ones never start, and the
  // table of what ran is printed; second: the children are killed.
  const cancel = new AbortController();
  const trainers: TrainerProcess[] = [];
  const started = new Set<number>();
  let interrupts = 0;
  const onInterrupt = () => {
    if (interrupts++ === 0) {
      process.stderr.write('stopping: the running strategies finish their step; Ctrl-C again to kill them\n');
      cancel.abort();
    } else for (const trainer of trainers) void trainer.kill();
  };
  process.on('SIGINT', onInterrupt);
  const outcomes = await runStrategies(
    strategies.map((strategy, i) => ({ strategy, job: jobs[i] })),
    where,
    parallel,
    (o) => {
      done++;
      process.stderr.write(
        `[${done}/${strategies.length}] ${o.strategy.name}: ${o.status} after ${o.run.step.length} steps in ${(o.wallTimeMs / 1000).toFixed(1)} s${o.explosions ? `, ${o.explosions} explosions` : ''}${o.message ? ` (${o.message})` : ''}\n`,
      );
    },
    (trainer) => trainers.push(trainer),
    (o, index, totalSteps) => {
      if (started.has(index)) return;
      started.add(index);
      process.stderr.write(`${o.strategy.name}: training, ${totalSteps} steps planned\n`);
    },
    cancel.signal,
  ).finally(() => process.off('SIGINT', onInterrupt));
  const { target: lossTarget, rows } = compareRows(outcomes, sort, target);
  if (format === 'json') process.stdout.write(`${JSON.stringify({ target: lossTarget, sortedBy: sort, rows })}\n`);
  else if (format === 'csv') process.stdout.write(toCsv(rows));
  else process.stdout.write(`target loss ${lossTarget?.toPrecision(3) ?? 'none'}; sorted by ${COLUMN_TITLES[sort].toLowerCase()}\n\n${toMarkdown(rows)}`);
  if (cancel.signal.aborted) {
    process.stderr.write(`interrupted: ${outcomes.length} of ${strategies.length} strategies ran\n`);
    return 130;
  }
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
