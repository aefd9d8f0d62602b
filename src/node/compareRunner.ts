// Runs strategies of a comparison in trainer children (shared by the CLI and the extension).
import { join } from 'node:path';
import { finalLoss, sortRows, stepsToTarget, type CompareRow } from '../core/tools/compareTable';
import type { JobSpec } from '../core/job/spec';
import type { CompareRun, TrainerMessage } from '../core/protocol';
import type { Strategy } from '../core/tools/strategies';
import { buildTrainRequest, type RunSettings } from './trainRequest';
import { TrainerProcess } from './trainerProcess';

export interface StrategyOutcome {
  strategy: Strategy;
  run: CompareRun;
  validationLoss: number | null;
  validationAccuracy: number | null;
  status: string;
  explosions: number;
  nonFinite: number;
  wallTimeMs: number;
  message?: string;
}

export interface CompareWhere {
  /** Folder holding dist/trainer.js. */
  distDir: string;
  jobFile: string;
  runsDir: string;
  /** Where to look for tfjs-node besides the job's folder (see RequestPlace). Default: none. */
  searchRoots?: string[];
  /** The host's settings (backend, detector thresholds). Default: none. */
  settings?: RunSettings;
  /** Cap on updates, on top of the strategy's own. */
  maxSteps?: number;
}

/** Called as a strategy trains: its outcome so far (the run's series grow) and its planned update count. */
export type StrategyProgress = (outcome: StrategyOutcome, totalSteps: number) => void;

/**
 * Trains one strategy's job to the end, or until `signal` aborts (then it stops politely: the step
 * finishes and the run log is closed). Never rejects (a failure is an outcome).
 */
export function runStrategy(
  strategy: Strategy,
  job: JobSpec,
  where: CompareWhere,
  onProcess?: (trainer: TrainerProcess) => void,
  onProgress?: StrategyProgress,
  signal?: AbortSignal,
): Promise<StrategyOutcome> {
  const outcome: StrategyOutcome = {
    strategy,
    run: { strategy: strategy.name, step: [], lr: [], loss: [], gradNorm: [], events: [] },
    validationLoss: null,
    validationAccuracy: null,
    status: 'failed',
    explosions: 0,
    nonFinite: 0,
    wallTimeMs: 0,
  };
  const maxSteps = Math.min(where.maxSteps ?? Infinity, strategy.maxSteps ?? Infinity);
  const started = Date.now();
  let totalSteps = 0;
  const request = buildTrainRequest(job, where, where.settings, { maxSteps });
  const trainer = new TrainerProcess(join(where.distDir, 'trainer.js'), request, {
    message(message: TrainerMessage) {
      const r = outcome.run;
      if (message.type === 'started') {
        totalSteps = message.totalSteps;
        onProgress?.(outcome, totalSteps);
      } else if (message.type === 'steps') {
        r.step.push(...message.batch.step);
        r.lr.push(...message.batch.lr);
        r.loss.push(...message.batch.loss);
        r.gradNorm.push(...message.batch.gradNorm);
        onProgress?.(outcome, totalSteps);
      } else if (message.type === 'epoch') {
        outcome.validationLoss = message.validationLoss ?? null;
        outcome.validationAccuracy = message.validationAccuracy ?? null;
      } else if (message.type === 'event') {
        r.events.push(message.event);
        // Warnings only, as the status bar and Problems count them: an info spike that is later
        // upgraded arrives again as a warning copy and is counted then, once.
        if (message.event.kind === 'explosion' && message.event.severity === 'warning') outcome.explosions++;
        if (message.event.kind === 'nonFinite') outcome.nonFinite++;
      } else if (message.type === 'finished') {
        outcome.status = message.summary.status;
        if (message.summary.message) outcome.message = message.summary.message;
      } else if (message.type === 'failed') {
        outcome.message = message.message;
      }
    },
  });
  onProcess?.(trainer);
  const stop = () => void trainer.stop();
  if (signal?.aborted) stop();
  else signal?.addEventListener('abort', stop, { once: true });
  return trainer.stopped.then(() => {
    signal?.removeEventListener('abort', stop);
    return { ...outcome, wallTimeMs: Date.now() - started };
  });
}

/**
 * Runs strategies with at most `parallel` at once, calling back as each progresses and finishes.
 * When `signal` aborts, the running strategies stop politely and the queued ones never start: the
 * result holds the outcomes of the strategies that ran, in the order given.
 */
export async function runStrategies(
  items: { strategy: Strategy; job: JobSpec }[],
  where: CompareWhere,
  parallel: number,
  onDone: (outcome: StrategyOutcome, index: number) => void,
  onProcess?: (trainer: TrainerProcess) => void,
  onProgress?: (outcome: StrategyOutcome, index: number, totalSteps: number) => void,
  signal?: AbortSignal,
): Promise<StrategyOutcome[]> {
  const outcomes: (StrategyOutcome | undefined)[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length && !signal?.aborted) {
      const index = next++;
      const outcome = await runStrategy(items[index].strategy, items[index].job, where, onProcess, onProgress && ((o, total) => onProgress(o, index, total)), signal);
      outcomes[index] = outcome;
      onDone(outcome, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, items.length)) }, worker));
  return outcomes.filter((o): o is StrategyOutcome => o !== undefined);
}

/** The table rows; the target defaults to twice the best final training loss. */
export function compareRows(outcomes: StrategyOutcome[], sort: keyof CompareRow, target?: number): { target: number | null; rows: CompareRow[] } {
  const finals = outcomes.map((o) => finalLoss(o.run.loss)).filter((v): v is number => v !== null);
  const lossTarget = target ?? (finals.length ? 2 * Math.min(...finals) : null);
  const rows = sortRows(
    outcomes.map((o): CompareRow => ({
      strategy: o.strategy.name,
      description: o.strategy.description,
      status: o.status,
      steps: o.run.step.length,
      finalTrainLoss: finalLoss(o.run.loss),
      finalValidationLoss: o.validationLoss,
      finalValidationAccuracy: o.validationAccuracy,
      stepsToTarget: lossTarget === null ? null : stepsToTarget(o.run.step, o.run.loss, lossTarget),
      explosions: o.explosions,
      nonFinite: o.nonFinite,
      wallTimeMs: o.wallTimeMs,
    })),
    sort,
  );
  return { target: lossTarget, rows };
}
