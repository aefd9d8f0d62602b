// The one place a trainer request is built, for every kind of run (Train, Find Learning Rate, Compare)
// and every host (the extension, the CLI). Pure apart from path arithmetic: no vscode, no I/O.
import { dirname, resolve } from 'node:path';
import type { JobSpec } from '../core/job/spec';
import type { LrFindOptions } from '../core/tools/lrFind';
import type { BackendName, TrainRequest } from '../core/protocol';

/** What the host's settings add to every run (the extension's `gradscope.*`; the CLI has none). */
export interface RunSettings {
  /** Backend for jobs that leave theirs at 'auto' (`gradscope.backend`). Default: 'auto'. */
  backend: 'auto' | BackendName;
  /** Detector thresholds for jobs that do not set them (`gradscope.detect.*`). Default: none (the detectors' own). */
  detect: { explosionRatio?: number; explosionZ?: number; vanishingFloor?: number };
}

export const noSettings: RunSettings = { backend: 'auto', detect: {} };

export interface RequestPlace {
  /** The job file; relative paths in the job resolve against its folder. */
  jobFile: string;
  /** Where run logs are written. */
  runsDir: string;
  /**
   * Folders to search for a user's @tensorflow/tfjs-node after the job's own folder: every workspace
   * folder (extension), the working directory (CLI). Default: none.
   */
  searchRoots?: string[];
}

export interface RequestOptions {
  /** Stops after this many updates. Default: the job's epochs. */
  maxSteps?: number;
  /** A learning-rate range test instead of training. Default: training. */
  lrFind?: LrFindOptions;
}

/**
 * The request for one run of `job`. The job is copied, not changed: settings fill in only what the
 * job leaves unset (its backend when 'auto', detector thresholds it does not give).
 */
export function buildTrainRequest(job: JobSpec, place: RequestPlace, settings: RunSettings = noSettings, options: RequestOptions = {}): TrainRequest {
  const jobFile = resolve(place.jobFile);
  const jobDir = dirname(jobFile);
  const searchPaths = [...new Set([jobDir, ...(place.searchRoots ?? []).map((root) => resolve(root))])];
  return {
    job: withDetectorSettings(job, settings.detect),
    jobFile,
    jobDir,
    runsDir: resolve(place.runsDir),
    searchPaths,
    ...(job.backend === 'auto' && settings.backend !== 'auto' ? { backend: settings.backend } : {}),
    ...(options.maxSteps !== undefined && Number.isFinite(options.maxSteps) ? { maxSteps: options.maxSteps } : {}),
    ...(options.lrFind ? { lrFind: options.lrFind } : {}),
  };
}

function withDetectorSettings(job: JobSpec, settings: RunSettings['detect']): JobSpec {
  const explosion = { ...defined({ ratio: settings.explosionRatio, zScore: settings.explosionZ }), ...job.detect?.explosion };
  const vanishing = { ...defined({ floor: settings.vanishingFloor }), ...job.detect?.vanishing };
  const detect = { ...job.detect, ...(Object.keys(explosion).length ? { explosion } : {}), ...(Object.keys(vanishing).length ? { vanishing } : {}) };
  return { ...job, ...(Object.keys(detect).length ? { detect } : {}) };
}

/** The object without its undefined fields: spread over the detector defaults, undefined would replace them. */
function defined<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>;
}
