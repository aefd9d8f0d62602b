import type { LayersModel, Scalar, Tensor, Variable } from '@tensorflow/tfjs';
import type { DetectorEvent } from '../core/detect';
import type { JobSpec } from '../core/job/spec';
import type { RunEvent, RunSummary, StepBatch } from '../core/protocol';
import type { RunLogWriter } from '../node/runlog';
import { createSchedule, PlateauScheduler } from '../core/schedules';
import type { Tf } from './backend';
import { BatchMaker, shuffled, type Dataset, type Split } from './data';
import { GradientStep } from './gradientStep';
import { inputShapeFor, type BuiltModel } from './model';
import { createOptimizer } from './optimizers';
import { RunControl } from './runControl';
import { Snapshots } from './snapshots';
import { StepPolicy } from './stepPolicy';
import { StepRecorder } from './stepRecorder';

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
  const schedule = createSchedule(job.schedule);
  const plateau = job.schedule.type === 'plateau' ? new PlateauScheduler(job.schedule) : undefined;
  const plateauEvery = job.plateauCheck?.every ?? Math.ceil(dataset.train.count / job.batchSize);
  const policy = new StepPolicy(job, built.layers, control);
  const guard = policy.guard;
  const batches = new BatchMaker(dataset, job.data.augment, job.seed);
  const lossOf = lossFunction(tf, dataset, built.outputsProbabilities);
  const gradientStep = new GradientStep(tf, model, variables, lossOf);
  const optimizer = createOptimizer(tf, job.optimizer, gradientStep.size);
  const snapshots = guard.explosion === 'rollback' ? new Snapshots(tf, model, optimizer) : undefined;
  const recorder = new StepRecorder(
    built.layers.map((l) => l.name),
    log,
    out,
    context.batchIntervalMs,
  );
  let step = 0;
  let lastLoss = NaN;
  let lossSinceCheck = 0;
  let stepsSinceCheck = 0;
  let status: RunSummary['status'] = 'finished';
  let stopReason: RunSummary['stopReason'] = 'completed';
  let message: string | undefined;

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
        recorder.completeUpdate(stats.previousUpdateSquare);

        const plan = policy.plan(step, stats, plateau ? plateau.lr : schedule.at(step));
        plan.events.forEach((event) => recorder.emit(event));
        if (plan.guardEvent) recorder.emit(plan.guardEvent);
        if (plan.guard.action === 'rollback' && snapshots && (await snapshots.restore())) gradientStep.resync();
        if (plan.guard.apply) {
          optimizer.setLearningRate(plan.lr);
          gradientStep.apply(plan.scale, optimizer);
        } else {
          gradientStep.skip();
        }
        recorder.record({
          step,
          lr: plan.lr,
          loss: stats.loss,
          gradNorm: plan.gradNorm,
          clippedNorm: plan.clippedNorm,
          updateRatio: NaN,
          weightNorm: Math.sqrt(stats.weightSquare),
          layerGradNorms: plan.layerGradNorms,
        });
        if (snapshots && plan.events.length === 0 && step % guard.snapshotEvery === 0) await snapshots.take();
        lastLoss = stats.loss;
        if (Number.isFinite(stats.loss)) {
          epochLoss += stats.loss;
          epochSteps++;
          lossSinceCheck += stats.loss;
          stepsSinceCheck++;
        }
        step++;
        if (plan.guard.action === 'stop') {
          status = 'stopped';
          stopReason = 'guard';
          message = `stopped by the guard: ${plan.guard.cause} at step ${step - 1}`;
          break training;
        }
        const reason = context.stopAfter?.({ step: step - 1, lr: plan.lr, loss: stats.loss, gradNorm: plan.gradNorm });
        if (reason) {
          stopReason = 'sweepEnd';
          message = `ended at step ${step - 1}: ${reason}`;
          break training;
        }
        if (plateau && step % plateauEvery === 0) {
          const metric =
            job.plateauCheck?.metric === 'trainLoss' || !dataset.validation ? lossSinceCheck / Math.max(1, stepsSinceCheck) : evaluate(tf, model, dataset, dataset.validation, lossOf, batches).loss;
          lossSinceCheck = 0;
          stepsSinceCheck = 0;
          const previousLr = plateau.lr;
          if (plateau.observe(metric).reduced) recorder.emit({ kind: 'lrCut', step: step - 1, lr: plateau.lr, previousLr });
        }
      }
      const validation = dataset.validation && context.validate !== false ? evaluate(tf, model, dataset, dataset.validation, lossOf, batches) : undefined;
      out.epoch({ epoch, step: step - 1, trainLoss: epochLoss / Math.max(1, epochSteps), ...(validation ? { validationLoss: validation.loss, validationAccuracy: validation.accuracy } : {}) });
    }
  } finally {
    recorder.completeUpdate(gradientStep.finalUpdateSquare());
    recorder.send();
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
