import type { LayersModel, Scalar, Tensor, Variable } from '@tensorflow/tfjs';
import { Detectors, type DetectorEvent } from '../core/detect';
import { AdaptiveClipStats, decideGuard, defaultGuard, LrBackoff } from '../core/guard';
import type { JobSpec } from '../core/jobSpec';
import type { RunEvent, RunSummary, StepBatch } from '../core/protocol';
import type { RunLogWriter } from '../core/runlog';
import { createSchedule, PlateauScheduler } from '../core/schedules';
import { StepColumns, type StepRow } from '../core/stepColumns';
import type { Tf } from './backend';
import { BatchMaker, shuffled, type Dataset, type Split } from './data';
import { GradientStep } from './gradientStep';
import { inputShapeFor, type BuiltModel } from './model';
import { createOptimizer } from './optimizers';
import { RunControl } from './runControl';
import { Snapshots } from './snapshots';

export interface LoopOutput {
  steps(batch: StepBatch): void;
  event(event: RunEvent): void;
  epoch(result: { epoch: number; step: number; trainLoss: number; validationLoss?: number; validationAccuracy?: number }): void;
}

export interface LoopContext {
  tf: Tf;
  job: JobSpec;
  dataset: Dataset;
  built: BuiltModel;
  totalSteps: number;
  log: RunLogWriter;
  out: LoopOutput;
  control: RunControl;
  /** Longest time between two step batches sent to the host. Default: 100 ms. */
  batchIntervalMs?: number;
  /** Ends the run after a step when it returns a reason (a range test's blow-up). Default: never. */
  stopAfter?: (step: { step: number; lr: number; loss: number; gradNorm: number }) => string | undefined;
  /** Evaluate on the validation split after each epoch. Default: true. */
  validate?: boolean;
}

/** Runs a first-order job (every optimizer but L-BFGS) to the end, a stop, or a guard stop. */
export async function trainFirstOrder(context: LoopContext): Promise<Pick<RunSummary, 'status' | 'stopReason' | 'steps' | 'finalLoss' | 'message'>> {
  const { tf, job, dataset, built, totalSteps, log, out, control } = context;
  if (job.optimizer.type === 'lbfgs') throw new Error('L-BFGS runs in its own loop');
  const model: LayersModel = built.model;
  const variables = model.trainableWeights.map((w) => w.read() as Variable);
  const guard = job.guard ?? defaultGuard;
  const schedule = createSchedule(job.schedule);
  const plateau = job.schedule.type === 'plateau' ? new PlateauScheduler(job.schedule) : undefined;
  const plateauEvery = job.plateauCheck?.every ?? Math.ceil(dataset.train.count / job.batchSize);
  const detectors = new Detectors(built.layers.map((l) => l.name), job.detect);
  const backoff = new LrBackoff(guard.backoffFactor, guard.recoverySteps);
  const adaptive = job.clip?.type === 'adaptive' ? new AdaptiveClipStats(job.clip.zThreshold, job.clip.alpha, job.clip.warmupSteps) : undefined;
  const optimizer = createOptimizer(tf, job.optimizer);
  const snapshots = guard.explosion === 'rollback' ? new Snapshots(tf, model, optimizer) : undefined;
  const batches = new BatchMaker(dataset, job.data.augment, job.seed);
  const lossOf = lossFunction(tf, dataset, built.outputsProbabilities);
  const gradientStep = new GradientStep(tf, model, variables, lossOf);
  const columns = new StepColumns(built.layers.length);
  const interval = context.batchIntervalMs ?? 100;
  let lastSent = Date.now();
  // A step's row waits for the next readback, which brings the size of its update.
  let pending: StepRow | undefined;
  let step = 0;
  let lastLoss = NaN;
  let lossSinceCheck = 0;
  let stepsSinceCheck = 0;
  let status: RunSummary['status'] = 'finished';
  let stopReason: RunSummary['stopReason'] = 'completed';
  let message: string | undefined;

  const emit = (event: RunEvent) => {
    log.appendEvent(event);
    out.event(event);
  };
  const flushRow = (updateSquare: number) => {
    if (!pending) return;
    pending.updateRatio = Math.sqrt(updateSquare) / pending.weightNorm;
    const { layerGradNorms, ...row } = pending;
    const flat: Record<string, number> = { ...row };
    built.layers.forEach((layer, i) => (flat[`gradNorm/${layer.name}`] = layerGradNorms[i]));
    log.appendMetrics(flat);
    columns.push(pending);
    pending = undefined;
    if (Date.now() - lastSent >= interval) sendSteps();
  };
  const sendSteps = () => {
    if (columns.length > 0) out.steps(columns.take());
    lastSent = Date.now();
  };

  try {
    training: for (let epoch = 0; step < totalSteps; epoch++) {
      const order = shuffled(dataset.train.count, job.seed * 1000 + epoch);
      let epochLoss = 0;
      let epochSteps = 0;
      for (let start = 0; start < order.length && step < totalSteps; start += job.batchSize) {
        if (!(await control.checkpoint())) {
          status = 'stopped';
          stopReason = 'user';
          message = 'stopped by the user';
          break training;
        }
        const indices = order.subarray(start, Math.min(order.length, start + job.batchSize));
        const { x: xs, y: ys } = batches.make(dataset.train, indices, true);
        const x = tf.tensor(xs, inputShapeFor(model, indices.length));
        const y = tf.tensor(ys, [indices.length, dataset.targetWidth]);
        const stats = gradientStep.computeGradients(x, y, job.clip);
        tf.dispose([x, y]);
        flushRow(stats.previousUpdateSquare);

        const layerGradNorms = built.layers.map((layer) => Math.sqrt(layer.variables.reduce((sum, v) => sum + stats.gradSquares[v], 0)));
        const gradNorm = Math.sqrt(stats.gradSquares.reduce((a, b) => a + b, 0));
        const events = detectors.observe({ step, loss: stats.loss, gradNorm, layerGradNorms });
        events.forEach(emit);
        const decision = decideGuard(events, guard);
        if (decision.action === 'backoff' || decision.action === 'rollback') backoff.cut(step);
        const baseLr = plateau ? plateau.lr : schedule.at(step);
        const lr = baseLr * backoff.multiplier(step) * control.lrMultiplier;
        let clippedNorm = gradNorm;
        let scale = 1;
        const maxNorm = control.clipThreshold ?? (job.clip?.type === 'globalNorm' ? job.clip.maxNorm : adaptive?.limit(gradNorm));
        if (job.clip?.type === 'value' || job.clip?.type === 'agc') clippedNorm = stats.clippedNorm;
        if (maxNorm !== undefined && Number.isFinite(gradNorm) && gradNorm > maxNorm) {
          scale = maxNorm / (gradNorm + 1e-6); // PyTorch clip_grad_norm_
          clippedNorm = Math.min(clippedNorm, gradNorm) * scale;
        }
        if (decision.action) emit({ kind: 'guard', step, action: decision.action, cause: decision.cause!, ...(decision.action === 'backoff' || decision.action === 'rollback' ? { lrMultiplier: backoff.multiplier(step) } : {}) });
        if (decision.action === 'rollback' && snapshots) await snapshots.restore();
        if (decision.apply) {
          optimizer.setLearningRate(lr);
          gradientStep.apply(scale, (gradients) => optimizer.apply(gradients, variables));
        } else {
          gradientStep.skip();
        }
        pending = { step, lr, loss: stats.loss, gradNorm, clippedNorm: decision.apply ? clippedNorm : 0, updateRatio: NaN, weightNorm: Math.sqrt(stats.weightSquare), layerGradNorms };
        if (snapshots && events.length === 0 && step % guard.snapshotEvery === 0) await snapshots.take();
        lastLoss = stats.loss;
        if (Number.isFinite(stats.loss)) {
          epochLoss += stats.loss;
          epochSteps++;
          lossSinceCheck += stats.loss;
          stepsSinceCheck++;
        }
        step++;
        if (decision.action === 'stop') {
          status = 'stopped';
          stopReason = 'guard';
          message = `stopped by the guard: ${decision.cause} at step ${step - 1}`;
          break training;
        }
        const reason = context.stopAfter?.({ step: step - 1, lr, loss: stats.loss, gradNorm });
        if (reason) {
          stopReason = 'sweepEnd';
          message = `ended at step ${step - 1}: ${reason}`;
          break training;
        }
        if (plateau && step % plateauEvery === 0) {
          const metric = job.plateauCheck?.metric === 'trainLoss' || !dataset.validation ? lossSinceCheck / Math.max(1, stepsSinceCheck) : evaluate(tf, model, dataset, dataset.validation, lossOf, batches).loss;
          lossSinceCheck = 0;
          stepsSinceCheck = 0;
          const previousLr = plateau.lr;
          if (plateau.observe(metric).reduced) emit({ kind: 'lrCut', step: step - 1, lr: plateau.lr, previousLr });
        }
      }
      const validation = dataset.validation && context.validate !== false ? evaluate(tf, model, dataset, dataset.validation, lossOf, batches) : undefined;
      out.epoch({ epoch, step: step - 1, trainLoss: epochLoss / Math.max(1, epochSteps), ...(validation ? { validationLoss: validation.loss, validationAccuracy: validation.accuracy } : {}) });
    }
  } finally {
    flushRow(gradientStep.finalUpdateSquare());
    sendSteps();
    gradientStep.dispose();
    snapshots?.dispose();
    optimizer.dispose();
  }
  return { status, stopReason, steps: step, finalLoss: lastLoss, ...(message ? { message } : {}) };
}

export type LossFunction = (labels: Tensor, outputs: Tensor) => Scalar;

/** Cross-entropy on probabilities (softmax last, clipped like Keras) or logits; mean squared error for regression. */
export function lossFunction(tf: Tf, dataset: Dataset, outputsProbabilities: boolean): LossFunction {
  if (dataset.task === 'regression') return (y, out) => tf.losses.meanSquaredError(y, out) as Scalar;
  if (outputsProbabilities) return (y, out) => tf.mean(tf.metrics.categoricalCrossentropy(y, out)) as Scalar;
  return (y, out) => tf.losses.softmaxCrossEntropy(y, out) as Scalar;
}

/** Mean loss (and accuracy for classification) over a split, in batches, without gradients. */
export function evaluate(tf: Tf, model: LayersModel, dataset: Dataset, split: Split, lossOf: LossFunction, batches: BatchMaker): { loss: number; accuracy?: number } {
  const size = 512;
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < split.count; start += size) {
    const count = Math.min(size, split.count - start);
    const indices = Uint32Array.from({ length: count }, (_, i) => start + i);
    const { x: xs, y: ys } = batches.make(split, indices, false);
    const values = tf.tidy(() => {
      const x = tf.tensor(xs, inputShapeFor(model, count));
      const y = tf.tensor(ys, [count, dataset.targetWidth]);
      const out = model.apply(x, { training: false }) as Tensor;
      const hits = dataset.task === 'classification' ? tf.sum(tf.cast(tf.equal(tf.argMax(out, 1), tf.argMax(y, 1)), 'float32')) : tf.scalar(0);
      return tf.stack([tf.mul(lossOf(y, out), count), hits]);
    });
    const [l, h] = values.dataSync();
    values.dispose();
    lossSum += l;
    correct += h;
  }
  return { loss: lossSum / split.count, ...(dataset.task === 'classification' ? { accuracy: correct / split.count } : {}) };
}

export type { DetectorEvent };
