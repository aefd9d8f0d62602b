import { join } from 'node:path';
import type { RunEventKind, RunSummary, TrainerMessage, TrainRequest } from '../core/protocol';
import { seededUniform } from '../core/random';
import { RunLogWriter } from '../node/runlog';
import { defaultGuard } from '../core/detect/guard';
import type { JobSpec } from '../core/job/spec';
import { suggest, SweepMonitor, sweepSchedule, type LrFindOptions } from '../core/tools/lrFind';
import { createSchedule, parseScheduleSpec, plannedRates } from '../core/schedules';
import { SpecError } from '../core/job/specError';
import { firstLine, loadBackend, missingKernel } from './backend';
import { loadDataset } from './data';
import { trainLbfgs } from './lbfgs';
import { trainFirstOrder, type LoopContext } from './loop';
import { buildModel } from './model';
import { RunControl } from './runControl';

/** Loads the backend, data and model, then trains (or runs a range test), streaming every message through `send`. */
export async function runJob(request: TrainRequest, send: (message: TrainerMessage) => void, control: RunControl): Promise<RunSummary> {
  const started = Date.now();
  const job = request.lrFind ? lrFindJob(request.job, request.lrFind) : request.job;
  const loaded = await loadBackend(request.backend ?? job.backend, request.searchPaths);
  const { tf } = loaded;
  let { backend, note, threads } = loaded;
  const distDir = __dirname.endsWith('dist') ? __dirname : join(__dirname, '../../dist');
  const dataset = await loadDataset(job.data, job.seed, request.jobDir, distDir, tf);
  const declaresConv = Array.isArray(job.model) && job.model.some((layer) => layer.type === 'conv2d');
  if (declaresConv && backend === 'wasm' && missingKernel(tf, backend, ['Conv2DBackpropFilter'])) {
    await tf.setBackend('cpu');
    backend = 'cpu';
    threads = 1;
    note = 'the wasm backend has no Conv2DBackpropFilter kernel (needed to train conv2d layers); using cpu';
  }
  // Weight initializers and dropout draw from Math.random. Seeding it here, after the backend and the
  // data are loaded, makes a run repeatable whatever those loads drew from it.
  Math.random = seededUniform(job.seed);
  const built = buildModel(tf, job.model, dataset, request.jobDir);
  if (built.usesConv2d && backend === 'wasm' && missingKernel(tf, backend, ['Conv2DBackpropFilter'])) {
    await tf.setBackend('cpu');
    backend = 'cpu';
    threads = 1;
    note = 'the wasm backend has no Conv2DBackpropFilter kernel (needed to train conv layers); using cpu';
  }
  if (note) send({ type: 'log', level: 'warn', message: note });
  const stepsPerEpoch = Math.ceil(dataset.train.count / job.batchSize);
  const totalSteps = request.lrFind ? request.lrFind.steps : Math.min(request.maxSteps ?? Infinity, job.epochs * stepsPerEpoch);
  const log = RunLogWriter.create(request.runsDir, job.name, { ...job, backend, maxSteps: request.maxSteps });
  const layerNames = built.layers.map((layer) => layer.name);
  send({
    type: 'started',
    runDir: log.dir,
    backend,
    ...(note ? { backendNote: note } : {}),
    ...(threads ? { threads } : {}),
    parameterCount: built.model.countParams(),
    layerNames,
    totalSteps,
    plannedLr: Array.from(plannedRates(createSchedule(job.schedule), totalSteps)),
  });
  const eventCounts: Partial<Record<RunEventKind, number>> = {};
  const sweep = request.lrFind ? new SweepMonitor(request.lrFind) : undefined;
  const rows = { lr: [] as number[], loss: [] as number[], gradNorm: [] as number[] };
  const context: LoopContext = {
    tf,
    job,
    dataset,
    built,
    totalSteps,
    log,
    control,
    ...(sweep
      ? {
          validate: false,
          stopAfter: (row: { lr: number; loss: number; gradNorm: number }) => {
            rows.lr.push(row.lr);
            rows.loss.push(row.loss);
            rows.gradNorm.push(row.gradNorm);
            return sweep.observe(row.loss);
          },
        }
      : {}),
    out: {
      steps: (batch) => send({ type: 'steps', batch }),
      event: (event) => {
        eventCounts[event.kind] = (eventCounts[event.kind] ?? 0) + 1;
        send({ type: 'event', event });
      },
      epoch: (result) => {
        log.appendEpoch(result);
        send({ type: 'epoch', ...result });
      },
    },
  };
  let summary: RunSummary;
  try {
    const result = job.optimizer.type === 'lbfgs' ? await trainLbfgs(context) : await trainFirstOrder(context);
    summary = { ...result, eventCounts, durationMs: Date.now() - started, backend, ...(threads ? { threads } : {}) };
    if (sweep) send({ type: 'lrFind', result: suggest(rows.lr, rows.loss, sweep.smoothed, rows.gradNorm, result.message) });
  } catch (error) {
    summary = { status: 'failed', stopReason: 'error', steps: 0, finalLoss: NaN, eventCounts, durationMs: Date.now() - started, backend, ...(threads ? { threads } : {}), message: firstLine(error) };
    log.close(summary);
    throw error;
  } finally {
    built.model.dispose();
  }
  log.close(summary);
  return summary;
}

/**
 * The job a range test runs: the same data, model, optimizer and clipping from fresh weights, with
 * the sweep as its schedule, and guards that only report (a sweep is meant to blow up at its end).
 */
function lrFindJob(job: JobSpec, options: LrFindOptions): JobSpec {
  if (job.optimizer.type === 'lbfgs') throw new SpecError([{ path: 'optimizer.type', message: 'is "lbfgs": a range test needs a first-order optimizer (its line search picks its own step length)' }]);
  return { ...job, name: `${job.name}-lr-find`, schedule: parseScheduleSpec(sweepSchedule(options)), guard: { ...defaultGuard, explosion: 'warn', nonFinite: 'skip' } };
}
