import { join } from 'node:path';
import type { RunEventKind, RunSummary, TrainerMessage, TrainRequest } from '../core/protocol';
import { seededUniform } from '../core/random';
import { RunLogWriter } from '../core/runlog';
import { createSchedule, plannedRates } from '../core/schedules';
import { firstLine, loadBackend, missingKernel } from './backend';
import { loadDataset } from './data';
import { trainLbfgs } from './lbfgs';
import { trainFirstOrder, type LoopContext } from './loop';
import { buildModel } from './model';
import { RunControl } from './runControl';

/** Loads the backend, data and model, then trains, streaming every message through `send`. */
export async function runJob(request: TrainRequest, send: (message: TrainerMessage) => void, control: RunControl): Promise<RunSummary> {
  const started = Date.now();
  const { job } = request;
  const loaded = await loadBackend(request.backend ?? job.backend, request.searchPaths);
  const { tf } = loaded;
  let { backend, note } = loaded;
  const distDir = __dirname.endsWith('dist') ? __dirname : join(__dirname, '../../dist');
  const dataset = await loadDataset(job.data, job.seed, request.jobDir, distDir, tf);
  const declaresConv = Array.isArray(job.model) && job.model.some((layer) => layer.type === 'conv2d');
  if (declaresConv && backend === 'wasm' && missingKernel(tf, backend, ['Conv2DBackpropFilter'])) {
    await tf.setBackend('cpu');
    backend = 'cpu';
    note = 'the wasm backend has no Conv2DBackpropFilter kernel (needed to train conv2d layers); using cpu';
  }
  // Weight initializers and dropout draw from Math.random. Seeding it here, after the backend and the
  // data are loaded, makes a run repeatable whatever those loads drew from it.
  Math.random = seededUniform(job.seed);
  const built = buildModel(tf, job.model, dataset, request.jobDir);
  if (built.usesConv2d && backend === 'wasm' && missingKernel(tf, backend, ['Conv2DBackpropFilter'])) {
    await tf.setBackend('cpu');
    backend = 'cpu';
    note = 'the wasm backend has no Conv2DBackpropFilter kernel (needed to train conv layers); using cpu';
  }
  if (note) send({ type: 'log', level: 'warn', message: note });
  const stepsPerEpoch = Math.ceil(dataset.train.count / job.batchSize);
  const totalSteps = Math.min(request.maxSteps ?? Infinity, job.epochs * stepsPerEpoch);
  const log = RunLogWriter.create(request.runsDir, job.name, { ...job, backend, maxSteps: request.maxSteps });
  const layerNames = built.layers.map((layer) => layer.name);
  send({
    type: 'started', runDir: log.dir, backend, ...(note ? { backendNote: note } : {}), parameterCount: built.model.countParams(),
    layerNames, totalSteps, plannedLr: Array.from(plannedRates(createSchedule(job.schedule), totalSteps)),
  });
  const eventCounts: Partial<Record<RunEventKind, number>> = {};
  const context: LoopContext = {
    tf, job, dataset, built, totalSteps, log, control,
    out: {
      steps: (batch) => send({ type: 'steps', batch }),
      event: (event) => {
        eventCounts[event.kind] = (eventCounts[event.kind] ?? 0) + 1;
        send({ type: 'event', event });
      },
      epoch: (result) => send({ type: 'epoch', ...result }),
    },
  };
  let summary: RunSummary;
  try {
    const result = job.optimizer.type === 'lbfgs' ? await trainLbfgs(context) : await trainFirstOrder(context);
    summary = { ...result, eventCounts, durationMs: Date.now() - started, backend };
  } catch (error) {
    summary = { status: 'failed', steps: 0, finalLoss: NaN, eventCounts, durationMs: Date.now() - started, backend, message: firstLine(error) };
    log.close(summary);
    throw error;
  } finally {
    built.model.dispose();
  }
  log.close(summary);
  return summary;
}
