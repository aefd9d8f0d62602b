import { resolve } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs';
import type { LayerSpec, ModelSpec } from '../core/job/spec';
import type { Tf } from './backend';
import { DataError, type Dataset } from './data';
import { loadAtRuntime } from './loadAtRuntime';

export interface BuiltModel {
  model: LayersModel;
  /** Whether the outputs are probabilities (softmax last) rather than logits. */
  outputsProbabilities: boolean;
  /** Layers with trainable weights, in order: their names and the indices of their variables. */
  layers: { name: string; variables: number[] }[];
  /** True when a layer needs kernels some backends lack for training (conv2d on wasm). */
  usesConv2d: boolean;
}

/**
 * Layers from the job, named `<type>_<index in the job's model list>` so that an event on a layer
 * leads back to the line of the job file that defines it.
 */
export function buildModel(tf: Tf, spec: ModelSpec, dataset: Dataset, jobDir: string): BuiltModel {
  const model = Array.isArray(spec) ? fromLayers(tf, spec, dataset) : fromModule(tf, spec.path, jobDir);
  const last = model.layers[model.layers.length - 1];
  const outputsProbabilities = (last.getConfig() as { activation?: string }).activation === 'softmax';
  const variableIndex = new Map(model.trainableWeights.map((weight, i) => [weight.originalName, i]));
  const layers = model.layers
    .filter((layer) => layer.trainableWeights.length > 0)
    .map((layer) => ({ name: layer.name, variables: layer.trainableWeights.map((w) => variableIndex.get(w.originalName)!) }));
  const usesConv2d = model.layers.some((layer) => layer.getClassName().startsWith('Conv'));
  return { model, outputsProbabilities, layers, usesConv2d };
}

function fromLayers(tf: Tf, specs: LayerSpec[], dataset: Dataset): LayersModel {
  const model = tf.sequential();
  specs.forEach((spec, index) => {
    const name = `${spec.type}_${index}`;
    const first = index === 0 ? { inputShape: spec.inputShape ?? dataset.sampleShape } : {};
    const common = { name, ...first };
    switch (spec.type) {
      case 'dense':
        model.add(tf.layers.dense({ ...common, units: spec.units, activation: spec.activation, useBias: spec.useBias, kernelInitializer: spec.kernelInitializer }));
        break;
      case 'conv2d':
        model.add(
          tf.layers.conv2d({
            ...common,
            filters: spec.filters,
            kernelSize: spec.kernelSize,
            strides: spec.strides,
            padding: spec.padding,
            activation: spec.activation,
            kernelInitializer: spec.kernelInitializer,
          }),
        );
        break;
      case 'maxPooling2d':
        model.add(tf.layers.maxPooling2d({ ...common, poolSize: spec.poolSize, strides: spec.strides ?? spec.poolSize }));
        break;
      case 'flatten':
        model.add(tf.layers.flatten(common));
        break;
      case 'dropout':
        model.add(tf.layers.dropout({ ...common, rate: spec.rate }));
        break;
      case 'batchNormalization':
        model.add(tf.layers.batchNormalization({ ...common, momentum: spec.momentum, epsilon: spec.epsilon }));
        break;
      case 'layerNormalization':
        model.add(tf.layers.layerNormalization({ ...common, epsilon: spec.epsilon }));
        break;
      case 'activation':
        model.add(tf.layers.activation({ ...common, activation: spec.activation }));
        break;
    }
  });
  const outputs = model.outputs[0].shape[model.outputs[0].shape.length - 1];
  if (outputs !== dataset.targetWidth) {
    throw new DataError(
      `model[${specs.length - 1}] gives ${outputs} outputs but the data needs ${dataset.targetWidth} (${dataset.task === 'classification' ? `${dataset.classes} classes` : 'regression targets'})`,
    );
  }
  return model;
}

function fromModule(tf: Tf, path: string, jobDir: string): LayersModel {
  const file = resolve(jobDir, path);
  const loaded = loadAtRuntime<{ createModel?: (tf: Tf) => LayersModel }>(file);
  if (typeof loaded.createModel !== 'function') throw new DataError(`${file}: does not export a function createModel(tf)`);
  const model = loaded.createModel(tf);
  if (!model || !Array.isArray(model.layers)) throw new DataError(`${file}: createModel(tf) did not return a tf.LayersModel`);
  return model;
}

/** Reshapes a flat batch to the model's input shape (e.g. [b, 784] data for a [28, 28, 1] conv input). */
export function inputShapeFor(model: LayersModel, batch: number): number[] {
  return [batch, ...(model.inputs[0].shape.slice(1) as number[])];
}
