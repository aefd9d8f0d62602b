// Trainer child ↔ host, over the fork IPC channel with `serialization: 'advanced'` (NaN and
// Infinity survive).
import type { JobSpec } from '../job/spec';
import type { LrFindOptions, LrFindResult } from '../tools/lrFind';
import type { BackendName, RunEvent, RunSummary, StepBatch } from './run';

/** Trainer child → host. */
export type TrainerMessage =
  | {
      type: 'started';
      runDir: string;
      backend: BackendName;
      /** Why the backend asked for was not used, if it was not. */
      backendNote?: string;
      /** Threads the backend's kernels run on (absent for tfjs-node, which manages its own). */
      threads?: number;
      parameterCount: number;
      layerNames: string[];
      totalSteps: number;
      /** Planned learning rate of every update. */
      plannedLr: number[];
    }
  | { type: 'steps'; batch: StepBatch }
  | { type: 'event'; event: RunEvent }
  | { type: 'epoch'; epoch: number; /** The last step of the epoch. */ step: number; trainLoss: number; validationLoss?: number; validationAccuracy?: number }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'lrFind'; result: LrFindResult }
  | { type: 'finished'; summary: RunSummary }
  | { type: 'failed'; message: string; runDir?: string };

/** What the host asks the trainer child to run (the first message it sends). */
export interface TrainRequest {
  /** The validated job, with command-line or UI overrides applied. */
  job: JobSpec;
  /** The job file, for messages; relative paths in the job resolve against its folder. */
  jobFile?: string;
  jobDir: string;
  runsDir: string;
  /** Overrides the job's backend. */
  backend?: JobSpec['backend'];
  /** Stops after this many updates. */
  maxSteps?: number;
  /** Where to look for a user's @tensorflow/tfjs-node (workspace folders). */
  searchPaths: string[];
  /** A learning-rate range test instead of training (the job's schedule is replaced by the sweep). */
  lrFind?: LrFindOptions;
}

/** Host → trainer child. */
export type TrainerCommand =
  { type: 'start'; request: TrainRequest } | { type: 'stop' } | { type: 'pause' } | { type: 'resume' } | { type: 'setLrMultiplier'; value: number } | { type: 'setClipThreshold'; value: number };
