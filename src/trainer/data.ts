import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import type { AugmentSpec, DataSpec, Task } from '../core/job/spec';
import { seededNormal, seededUniform } from '../core/random';
import type { Tf } from './backend';
import { loadAtRuntime } from './loadAtRuntime';

export interface Split {
  /** count × sampleSize inputs, row-major. */
  x: Float32Array;
  /** Class indices (classification) or count × targetWidth targets (regression). */
  y: Float32Array;
  count: number;
}

export interface Dataset {
  task: Task;
  /** Shape of one input sample, e.g. [28, 28]. */
  sampleShape: number[];
  /** Number of classes; 0 for regression. */
  classes: number;
  /** Width of a regression target; the class count for classification. */
  targetWidth: number;
  train: Split;
  validation?: Split;
}

/** A user-facing data problem: names the file and what is wrong with it. */
export class DataError extends Error {
  override name = 'DataError';
}

/** Loads and splits the data a job names; relative paths resolve against the job file's folder. */
export async function loadDataset(spec: DataSpec, seed: number, jobDir: string, distDir: string, tf: Tf): Promise<Dataset> {
  switch (spec.type) {
    case 'mnist': {
      const all = loadMnist(join(distDir, 'data', 'mnist.bin'));
      const order = shuffled(all.count, seed).subarray(0, spec.samples);
      return split({ task: 'classification', sampleShape: [28, 28], classes: 10, targetWidth: 10 }, take(all, order, 784, 1), spec.validationSplit, seed);
    }
    case 'synthetic':
      return split(syntheticMeta(spec), synthetic(spec, seed), spec.validationSplit, seed);
    case 'csv':
      return loadCsv(spec, join(jobDir, spec.path), seed);
    case 'module':
      return loadModule(spec, join(jobDir, spec.path), seed, tf);
  }
}

function loadMnist(file: string): Split {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    throw new DataError(`the packed MNIST digits are missing (${file}); rebuild with npm run build`);
  }
  const count = bytes.readUInt32LE(0);
  const y = new Float32Array(count);
  const x = new Float32Array(count * 784);
  for (let i = 0; i < count; i++) y[i] = bytes[4 + i];
  for (let i = 0; i < count * 784; i++) x[i] = bytes[4 + count + i] / 255;
  return { x, y, count };
}

type Meta = Omit<Dataset, 'train' | 'validation'>;

function syntheticMeta(spec: Extract<DataSpec, { type: 'synthetic' }>): Meta {
  return spec.task === 'classification'
    ? { task: 'classification', sampleShape: [spec.features], classes: spec.classes, targetWidth: spec.classes }
    : { task: 'regression', sampleShape: [spec.features], classes: 0, targetWidth: 1 };
}

/** Gaussian blobs around random centres, or a linear teacher plus noise; inputs multiplied by `scale`. */
function synthetic(spec: Extract<DataSpec, { type: 'synthetic' }>, seed: number): Split {
  const normal = seededNormal(seed * 7919 + 17);
  const { samples, features, classes, noise, scale } = spec;
  const x = new Float32Array(samples * features);
  const y = new Float32Array(samples);
  if (spec.task === 'classification') {
    const centres = Array.from({ length: classes * features }, () => 3 * normal());
    for (let i = 0; i < samples; i++) {
      const label = i % classes;
      y[i] = label;
      for (let f = 0; f < features; f++) x[i * features + f] = scale * (centres[label * features + f] + noise * normal());
    }
  } else {
    const weights = Array.from({ length: features }, () => normal());
    for (let i = 0; i < samples; i++) {
      let target = 0;
      for (let f = 0; f < features; f++) {
        const value = normal();
        target += value * weights[f];
        x[i * features + f] = scale * value;
      }
      y[i] = target + noise * normal();
    }
  }
  return { x, y, count: samples };
}

function loadCsv(spec: Extract<DataSpec, { type: 'csv' }>, file: string, seed: number): Dataset {
  let records: Record<string, string>[];
  try {
    records = parseCsv(readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true, trim: true });
  } catch (error) {
    throw new DataError(`${file}: ${(error as Error).message}`);
  }
  if (records.length === 0) throw new DataError(`${file}: no data rows`);
  const columns = Object.keys(records[0]);
  if (!columns.includes(spec.label)) throw new DataError(`${file}: no column "${spec.label}" (columns: ${columns.join(', ')})`);
  const features = columns.filter((c) => c !== spec.label);
  const x = new Float32Array(records.length * features.length);
  const y = new Float32Array(records.length);
  const labels = spec.task === 'classification' ? [...new Set(records.map((r) => r[spec.label]))].sort() : [];
  records.forEach((record, row) => {
    features.forEach((column, f) => {
      const value = Number(record[column]);
      // Line = row + 2: one for the header, one because rows count from 1.
      if (record[column] === '' || !Number.isFinite(value)) throw new DataError(`${file}:${row + 2}: column "${column}" is not a number (${JSON.stringify(record[column])})`);
      x[row * features.length + f] = value;
    });
    const label = record[spec.label];
    y[row] = spec.task === 'classification' ? labels.indexOf(label) : Number(label);
    if (spec.task === 'regression' && !Number.isFinite(y[row])) throw new DataError(`${file}:${row + 2}: label "${spec.label}" is not a number (${JSON.stringify(label)})`);
  });
  const meta: Meta =
    spec.task === 'classification'
      ? { task: 'classification', sampleShape: [features.length], classes: labels.length, targetWidth: labels.length }
      : { task: 'regression', sampleShape: [features.length], classes: 0, targetWidth: 1 };
  const dataset = split(meta, { x, y, count: records.length }, spec.validationSplit, seed);
  if (spec.standardize) standardize(dataset, features.length);
  return dataset;
}

interface ModuleData {
  x: unknown;
  y: unknown;
  xVal?: unknown;
  yVal?: unknown;
  task?: Task;
}

async function loadModule(spec: Extract<DataSpec, { type: 'module' }>, file: string, seed: number, tf: Tf): Promise<Dataset> {
  const loaded = loadAtRuntime<{ loadData?: (tf: Tf) => ModuleData | Promise<ModuleData> }>(file);
  if (typeof loaded.loadData !== 'function') throw new DataError(`${file}: does not export a function loadData(tf)`);
  const data = await loaded.loadData(tf);
  const x = toTensor(tf, data.x, `${file}: loadData().x`);
  const y = toTensor(tf, data.y, `${file}: loadData().y`);
  const count = x.shape[0];
  const oneHot = y.rank === 2 && (data.task ?? 'classification') === 'classification';
  const task: Task = data.task ?? (y.rank === 2 && !oneHot ? 'regression' : 'classification');
  const labels = oneHot ? tf.argMax(y, 1) : y;
  const yValues = Float32Array.from(labels.dataSync());
  const classes = task === 'classification' ? (oneHot ? y.shape[1]! : Math.max(...yValues) + 1) : 0;
  const meta: Meta = { task, sampleShape: x.shape.slice(1), classes, targetWidth: task === 'classification' ? classes : (y.shape[1] ?? 1) };
  const all = { x: Float32Array.from(x.dataSync()), y: yValues, count };
  tf.dispose([x, y, labels]);
  if (data.xVal !== undefined && data.yVal !== undefined) {
    const xv = toTensor(tf, data.xVal, `${file}: loadData().xVal`);
    const yv = toTensor(tf, data.yVal, `${file}: loadData().yVal`);
    const lv = oneHot ? tf.argMax(yv, 1) : yv;
    const validation = { x: Float32Array.from(xv.dataSync()), y: Float32Array.from(lv.dataSync()), count: xv.shape[0] };
    tf.dispose([xv, yv, lv]);
    return { ...meta, train: all, validation };
  }
  return split(meta, all, spec.validationSplit, seed);
}

function toTensor(tf: Tf, value: unknown, what: string): import('@tensorflow/tfjs').Tensor {
  if (value instanceof tf.Tensor) return value;
  try {
    return tf.tensor(value as number[]);
  } catch (error) {
    throw new DataError(`${what} is neither a tensor nor a nested number array (${(error as Error).message})`);
  }
}

/** Seeded Fisher–Yates permutation of 0..n-1. */
export function shuffled(n: number, seed: number): Uint32Array {
  const uniform = seededUniform(seed);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(uniform() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

function take(split: Split, order: ArrayLike<number>, sampleSize: number, targetSize: number): Split {
  const x = new Float32Array(order.length * sampleSize);
  const y = new Float32Array(order.length * targetSize);
  for (let i = 0; i < order.length; i++) {
    x.set(split.x.subarray(order[i] * sampleSize, (order[i] + 1) * sampleSize), i * sampleSize);
    y.set(split.y.subarray(order[i] * targetSize, (order[i] + 1) * targetSize), i * targetSize);
  }
  return { x, y, count: order.length };
}

function split(meta: Meta, all: Split, validationSplit: number, seed: number): Dataset {
  const sampleSize = meta.sampleShape.reduce((a, b) => a * b, 1);
  const targetSize = meta.task === 'classification' ? 1 : meta.targetWidth;
  const order = shuffled(all.count, seed + 1);
  const held = Math.floor(all.count * validationSplit);
  const train = take(all, order.subarray(held), sampleSize, targetSize);
  if (train.count === 0) throw new DataError(`validationSplit ${validationSplit} leaves no training samples out of ${all.count}`);
  return { ...meta, train, ...(held > 0 ? { validation: take(all, order.subarray(0, held), sampleSize, targetSize) } : {}) };
}

function standardize(dataset: Dataset, features: number): void {
  const { x, count } = dataset.train;
  for (let f = 0; f < features; f++) {
    let mean = 0;
    for (let i = 0; i < count; i++) mean += x[i * features + f];
    mean /= count;
    let variance = 0;
    for (let i = 0; i < count; i++) variance += (x[i * features + f] - mean) ** 2;
    const std = Math.sqrt(variance / count) || 1;
    for (const part of [dataset.train, dataset.validation]) {
      if (!part) continue;
      for (let i = 0; i < part.count; i++) part.x[i * features + f] = (part.x[i * features + f] - mean) / std;
    }
  }
}

/**
 * Builds one batch on the CPU: gathers the samples, then augments (per-sample random shift for
 * 2-D samples, gaussian noise), so every backend gets the same data for the same seed.
 */
export class BatchMaker {
  private readonly uniform: () => number;
  private readonly normal: () => number;
  private readonly sampleSize: number;

  constructor(
    private readonly dataset: Dataset,
    private readonly augment: AugmentSpec | undefined,
    seed: number,
  ) {
    this.uniform = seededUniform(seed * 31 + 7);
    this.normal = seededNormal(seed * 31 + 11);
    this.sampleSize = dataset.sampleShape.reduce((a, b) => a * b, 1);
  }

  make(split: Split, indices: ArrayLike<number>, training: boolean): { x: Float32Array; y: Float32Array } {
    const { sampleSize } = this;
    const { task, targetWidth } = this.dataset;
    const x = new Float32Array(indices.length * sampleSize);
    const y = new Float32Array(indices.length * targetWidth);
    for (let i = 0; i < indices.length; i++) {
      const source = split.x.subarray(indices[i] * sampleSize, (indices[i] + 1) * sampleSize);
      if (training && this.augment?.shift && this.dataset.sampleShape.length >= 2) this.shiftInto(source, x, i * sampleSize);
      else x.set(source, i * sampleSize);
      if (task === 'classification') y[i * targetWidth + split.y[indices[i]]] = 1;
      else y.set(split.y.subarray(indices[i] * targetWidth, (indices[i] + 1) * targetWidth), i * targetWidth);
    }
    const noise = training ? (this.augment?.noise ?? 0) : 0;
    if (noise > 0) for (let i = 0; i < x.length; i++) x[i] += noise * this.normal();
    return { x, y };
  }

  private shiftInto(source: Float32Array, target: Float32Array, offset: number): void {
    const [height, width] = this.dataset.sampleShape;
    const channels = this.sampleSize / (height * width);
    const max = this.augment!.shift;
    const dy = Math.floor(this.uniform() * (2 * max + 1)) - max;
    const dx = Math.floor(this.uniform() * (2 * max + 1)) - max;
    for (let row = 0; row < height; row++) {
      const from = row - dy;
      if (from < 0 || from >= height) continue;
      for (let col = 0; col < width; col++) {
        const fromCol = col - dx;
        if (fromCol < 0 || fromCol >= width) continue;
        for (let c = 0; c < channels; c++) target[offset + (row * width + col) * channels + c] = source[(from * width + fromCol) * channels + c];
      }
    }
  }
}
