/** File names inside a run folder. */
export const RUN_FILES = {
  /** The job as run (after defaults and command-line overrides). */
  job: 'job.json',
  /** One object per step, streamed. */
  metrics: 'metrics.jsonl',
  /**
   * One object per finished epoch, written as it ends: {epoch, step (its last update), trainLoss,
   * validationLoss?, validationAccuracy?}. Absent in runs that never finished an epoch (and in older runs).
   */
  epochs: 'epochs.jsonl',
  /** One object per event (detector events, guard actions), in step order. */
  events: 'events.jsonl',
  /** Written last: its presence means the run ended and was closed. */
  summary: 'summary.json',
} as const;
