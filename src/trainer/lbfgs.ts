import type { Scalar, Tensor, Variable } from '@tensorflow/tfjs';
import { Detectors } from '../core/detect';
import type { RunSummary } from '../core/protocol';
import { createSchedule } from '../core/schedules';
import { StepColumns } from '../core/series/stepColumns';
import { BatchMaker } from './data';
import { evaluate as evaluateSplit, lossFunction, type LoopContext } from './loop';
import { inputShapeFor } from './model';

interface Evaluation {
  loss: number;
  gradient: Float64Array;
}

/**
 * Full-batch L-BFGS: the two-loop recursion over the last `historySize` curvature pairs gives the
 * direction, a backtracking line search (Armijo, halving from the schedule's value) the step. One
 * iteration is one step; its row records the step length, the function evaluations and whether the
 * curvature condition s·y > 0 held (a pair that fails it is not stored).
 */
export async function trainLbfgs(context: LoopContext): Promise<Pick<RunSummary, 'status' | 'stopReason' | 'steps' | 'finalLoss' | 'message'>> {
  const { tf, job, dataset, built, totalSteps, log, out, control } = context;
  if (job.optimizer.type !== 'lbfgs') throw new Error('not an L-BFGS job');
  const { historySize, maxLineSearch, c1 } = job.optimizer;
  const model = built.model;
  const variables = model.trainableWeights.map((w) => w.read() as Variable);
  const sizes = variables.map((v) => v.size);
  const offsets = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
  const lossOf = lossFunction(tf, dataset, built.outputsProbabilities);
  const all = Uint32Array.from({ length: dataset.train.count }, (_, i) => i);
  const { x: xs, y: ys } = new BatchMaker(dataset, undefined, job.seed).make(dataset.train, all, false);
  const x = tf.tensor(xs, inputShapeFor(model, all.length));
  const y = tf.tensor(ys, [all.length, dataset.targetWidth]);
  const schedule = createSchedule(job.schedule);
  const detectors = new Detectors(
    built.layers.map((l) => l.name),
    job.detect,
  );
  const columns = new StepColumns(built.layers.length);

  const read = (): Float64Array => {
    const flat = new Float64Array(sizes.reduce((a, b) => a + b, 0));
    variables.forEach((v, i) => flat.set(v.dataSync(), offsets[i]));
    return flat;
  };
  const write = (flat: Float64Array) =>
    variables.forEach((v, i) => {
      const values = tf.tensor(Float32Array.from(flat.subarray(offsets[i], offsets[i] + sizes[i])), v.shape);
      v.assign(values);
      values.dispose(); // the variable holds its own reference to the data
    });
  const evaluate = (): Evaluation => {
    const values = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => lossOf(y, model.apply(x, { training: true }) as Tensor) as Scalar, variables);
      return tf.concat([value.reshape([1]), ...variables.map((v) => grads[v.name].reshape([-1]))]);
    });
    const data = values.dataSync();
    values.dispose();
    return { loss: data[0], gradient: Float64Array.from(data.subarray(1)) };
  };

  const history: { s: Float64Array; y: Float64Array; rho: number }[] = [];
  let weights = read();
  let current = evaluate();
  let step = 0;
  let status: RunSummary['status'] = 'finished';
  let stopReason: RunSummary['stopReason'] = 'completed';
  let message: string | undefined;
  try {
    for (; step < totalSteps; step++) {
      if (!(await control.checkpoint())) {
        status = 'stopped';
        stopReason = 'user';
        message = 'stopped by the user';
        break;
      }
      const g = current.gradient;
      const lossBefore = current.loss;
      const layerGradNorms = built.layers.map((layer) => Math.sqrt(layer.variables.reduce((sum, v) => sum + squaredNorm(g.subarray(offsets[v], offsets[v] + sizes[v])), 0)));
      const gradNorm = Math.sqrt(squaredNorm(g));
      const events = detectors.observe({ step, loss: current.loss, gradNorm, layerGradNorms });
      events.forEach((event) => {
        log.appendEvent(event);
        out.event(event);
      });
      if (!Number.isFinite(current.loss) || !Number.isFinite(gradNorm)) {
        status = 'stopped';
        stopReason = 'nonFinite';
        message = `stopped: the loss or gradient is not finite at step ${step} (L-BFGS cannot step from there)`;
        break;
      }
      let direction = twoLoop(g, history);
      let slope = dot(g, direction);
      if (!(slope < 0)) {
        history.length = 0; // not a descent direction: start over from steepest descent
        direction = g.map((v) => -v);
        slope = -squaredNorm(g);
      }
      let stepLength = schedule.at(step) * control.lrMultiplier * (history.length === 0 ? Math.min(1, 1 / Math.max(1e-12, l1(g))) : 1);
      let evaluations = 0;
      let accepted: { weights: Float64Array; evaluation: Evaluation } | undefined;
      while (evaluations < maxLineSearch) {
        const candidate = weights.map((w, i) => w + stepLength * direction[i]);
        write(candidate);
        const evaluation = evaluate();
        evaluations++;
        if (Number.isFinite(evaluation.loss) && evaluation.loss <= current.loss + c1 * stepLength * slope) {
          accepted = { weights: candidate, evaluation };
          break;
        }
        stepLength /= 2;
      }
      let curvatureOk = false;
      let updateRatio = 0;
      const weightNorm = Math.sqrt(squaredNorm(weights));
      if (accepted) {
        const s = accepted.weights.map((w, i) => w - weights[i]);
        const yDiff = accepted.evaluation.gradient.map((v, i) => v - g[i]);
        const sy = dot(s, yDiff);
        curvatureOk = sy > 1e-10;
        if (curvatureOk) {
          history.push({ s, y: yDiff, rho: 1 / sy });
          if (history.length > historySize) history.shift();
        }
        updateRatio = Math.sqrt(squaredNorm(s)) / weightNorm;
        weights = accepted.weights;
        current = accepted.evaluation;
      } else {
        write(weights); // no acceptable step: stay, and forget the curvature that led here
        history.length = 0;
        stepLength = 0;
      }
      const row = { step, lr: stepLength, loss: lossBefore, gradNorm, clippedNorm: gradNorm, updateRatio, weightNorm, layerGradNorms };
      const { layerGradNorms: _layers, ...scalars } = row;
      const flat: Record<string, number | boolean> = { ...scalars, lineSearchEvaluations: evaluations, curvatureOk };
      built.layers.forEach((layer, i) => (flat[`gradNorm/${layer.name}`] = layerGradNorms[i]));
      log.appendMetrics(flat);
      columns.push(row);
      out.steps(columns.take());
    }
  } finally {
    tf.dispose([x, y]);
  }
  // Full-batch iterations have no epochs; one validation at the end makes runs comparable.
  const validation = dataset.validation && context.validate !== false ? evaluateSplit(tf, model, dataset, dataset.validation, lossOf, new BatchMaker(dataset, undefined, job.seed)) : undefined;
  out.epoch({
    epoch: 0,
    step: step - 1,
    trainLoss: current.loss,
    ...(validation ? { validationLoss: validation.loss, ...(validation.accuracy !== undefined ? { validationAccuracy: validation.accuracy } : {}) } : {}),
  });
  return { status, stopReason, steps: step, finalLoss: current.loss, ...(message ? { message } : {}) };
}

function twoLoop(gradient: Float64Array, history: { s: Float64Array; y: Float64Array; rho: number }[]): Float64Array {
  const q = Float64Array.from(gradient);
  const alphas: number[] = [];
  for (let i = history.length - 1; i >= 0; i--) {
    const { s, y, rho } = history[i];
    const alpha = rho * dot(s, q);
    alphas[i] = alpha;
    for (let j = 0; j < q.length; j++) q[j] -= alpha * y[j];
  }
  const last = history[history.length - 1];
  const gamma = last ? dot(last.s, last.y) / dot(last.y, last.y) : 1;
  for (let j = 0; j < q.length; j++) q[j] *= gamma;
  for (let i = 0; i < history.length; i++) {
    const { s, y, rho } = history[i];
    const beta = rho * dot(y, q);
    for (let j = 0; j < q.length; j++) q[j] += (alphas[i] - beta) * s[j];
  }
  for (let j = 0; j < q.length; j++) q[j] = -q[j];
  return q;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

const squaredNorm = (a: ArrayLike<number>) => dot(a, a);

function l1(a: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]);
  return sum;
}
