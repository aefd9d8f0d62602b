import type { NonFiniteEvent } from './events';
import type { StepSample } from './sample';

/** NaN or ±Infinity among the values a row has (a missing value is not checked). */
export function nonFiniteEvent(sample: StepSample, layerNames: readonly string[], scalerSkipped: boolean): NonFiniteEvent | undefined {
  const { loss, gradNorm, validationLoss } = sample;
  const fields: NonFiniteEvent['fields'] = [];
  if (loss !== undefined && !Number.isFinite(loss)) fields.push('loss');
  if (validationLoss !== undefined && !Number.isFinite(validationLoss)) fields.push('validationLoss');
  if (gradNorm !== undefined && !Number.isFinite(gradNorm)) fields.push('gradNorm');
  let layers: string[] | undefined;
  const norms = sample.layerGradNorms;
  if (norms) {
    for (let i = 0; i < norms.length; i++) {
      const norm = norms[i];
      if (norm !== undefined && !Number.isFinite(norm)) (layers ??= []).push(layerNames[i] ?? `layer ${i}`);
    }
    if (layers) fields.push('layerGradNorm');
  }
  if (fields.length === 0) return undefined;
  return {
    kind: 'nonFinite',
    step: sample.step,
    severity: 'warning',
    fields,
    ...(loss !== undefined ? { loss } : {}),
    ...(gradNorm !== undefined ? { gradNorm } : {}),
    ...(validationLoss !== undefined && !Number.isFinite(validationLoss) ? { validationLoss } : {}),
    ...(layers ? { layers } : {}),
    ...(scalerSkipped && fields.includes('gradNorm') ? { hint: 'lossScalerSkip' as const } : {}),
  };
}
