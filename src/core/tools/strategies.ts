// The strategies "Compare Schedules" runs by default, each a set of overrides on the user's job.
import type { ClipSpec, GuardSpec, JobSpec, OptimizerSpec, PlateauCheckSpec } from '../job/spec';
import { defaultGuard } from '../detect/guard';
import { peakLearningRate } from '../job/plan';

export interface Strategy {
  name: string;
  description: string;
  optimizer?: Partial<OptimizerSpec> & { type: OptimizerSpec['type'] };
  schedule?: Record<string, unknown>;
  clip?: ClipSpec;
  guard?: Partial<GuardSpec>;
  plateauCheck?: PlateauCheckSpec;
  /** Most updates this strategy runs (L-BFGS iterations are full-batch and costly). */
  maxSteps?: number;
}

export const DEFAULT_STRATEGY_NAMES = ['constant', 'adam', 'step', 'cosine', 'warmup-cosine', 'one-cycle', 'plateau', 'backoff', 'clip', 'lbfgs'] as const;

/** The default strategies around the job's own peak rate and length. */
export function defaultStrategies(job: JobSpec, totalSteps: number): Strategy[] {
  const peak = peakLearningRate(job);
  const T = Math.max(2, totalSteps);
  const adamLr = job.optimizer.type === 'adam' || job.optimizer.type === 'adamw' ? peak : 1e-3;
  return [
    { name: 'constant', description: `constant ${peak}`, schedule: { type: 'constant', lr: peak } },
    { name: 'adam', description: `Adam, constant ${adamLr}`, optimizer: { type: 'adam', lr: adamLr }, schedule: { type: 'constant', lr: adamLr } },
    { name: 'step', description: `×0.1 every ${Math.ceil(T / 3)} steps`, schedule: { type: 'step', lr: peak, stepSize: Math.ceil(T / 3) } },
    { name: 'cosine', description: `cosine to 0 over ${T} steps`, schedule: { type: 'cosine', lr: peak, tMax: T } },
    {
      name: 'warmup-cosine',
      description: `warmup ${Math.max(1, Math.round(T * 0.05))} steps, then cosine`,
      schedule: { type: 'warmupCosine', lr: peak, warmupSteps: Math.max(1, Math.round(T * 0.05)), totalSteps: T },
    },
    { name: 'one-cycle', description: 'one-cycle (30% up, then down)', schedule: { type: 'oneCycle', maxLr: peak, totalSteps: T } },
    { name: 'plateau', description: 'reduce on plateau (validation loss, patience 1)', schedule: { type: 'plateau', lr: peak, patience: 1, factor: 0.3 }, plateauCheck: { metric: 'validationLoss' } },
    { name: 'backoff', description: 'constant, LR backoff on explosions', schedule: { type: 'constant', lr: peak }, guard: { explosion: 'backoff' } },
    { name: 'clip', description: 'constant, global-norm clipping at 1', schedule: { type: 'constant', lr: peak }, clip: { type: 'globalNorm', maxNorm: 1 } },
    { name: 'lbfgs', description: 'L-BFGS, full batch', optimizer: { type: 'lbfgs' }, schedule: { type: 'constant', lr: 1 }, maxSteps: Math.min(T, 50) },
  ];
}

/** The job a strategy runs: the user's job with the strategy's overrides. */
export function applyStrategy(job: JobSpec, strategy: Strategy): Record<string, unknown> {
  const optimizer = strategy.optimizer ? { ...strategy.optimizer } : job.optimizer;
  return {
    ...job,
    name: `${job.name}-${strategy.name}`,
    optimizer,
    schedule: strategy.schedule ?? job.schedule,
    ...(strategy.clip ? { clip: strategy.clip } : {}),
    ...(strategy.guard ? { guard: { ...(job.guard ?? defaultGuard), ...strategy.guard } } : {}),
    ...(strategy.plateauCheck ? { plateauCheck: strategy.plateauCheck } : {}),
  };
}
