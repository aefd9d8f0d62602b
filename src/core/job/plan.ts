import type { JobSpec } from './spec';

/**
 * Updates a job will run, when the job alone tells (MNIST and synthetic data); for CSV pass the
 * number of data rows. Undefined when only loading the data would tell (a user module).
 */
export function estimateTotalSteps(job: JobSpec, csvRows?: number): number | undefined {
  const samples = job.data.type === 'mnist' || job.data.type === 'synthetic' ? job.data.samples : job.data.type === 'csv' ? csvRows : undefined;
  if (samples === undefined) return undefined;
  const train = samples - Math.floor(samples * job.data.validationSplit);
  return job.epochs * Math.ceil(train / job.batchSize);
}

/** The largest learning rate the job's schedule plans (its peak), or the optimizer's rate. */
export function peakLearningRate(job: JobSpec): number {
  const peaks: number[] = [];
  const visit = (schedule: Record<string, unknown>) => {
    for (const key of ['lr', 'maxLr']) if (typeof schedule[key] === 'number') peaks.push(schedule[key] as number);
    if (Array.isArray(schedule.schedules)) schedule.schedules.forEach((child) => visit(child as Record<string, unknown>));
  };
  visit(job.schedule as unknown as Record<string, unknown>);
  return peaks.length ? Math.max(...peaks) : job.optimizer.lr;
}
