// What a row of someone else's metrics log means: recognised names (and common aliases) for the
// step, learning rate, losses and gradient norms, plus a user mapping for anything else.

export interface MetricsRow {
  step: number;
  lr?: number;
  loss?: number;
  validationLoss?: number;
  gradNorm?: number;
  /** Per-layer gradient norms by layer name. */
  layers: Map<string, number>;
}

/** Aliases of each field, as PyTorch loops, Hugging Face Trainer, Lightning and Gradscope write them. */
export const FIELD_ALIASES = {
  step: ['step', 'global_step', 'iteration', 'iter', 'train/global_step'],
  lr: ['lr', 'learning_rate', 'train/learning_rate', 'lr-Adam', 'lr-SGD', 'lr-AdamW', 'learningRate'],
  loss: ['loss', 'train/loss', 'train_loss', 'training_loss', 'loss_step', 'train_loss_step'],
  validationLoss: ['val_loss', 'validation_loss', 'eval/loss', 'eval_loss', 'valid_loss', 'validationLoss'],
  gradNorm: ['grad_norm', 'train/grad_norm', 'grad_2.0_norm_total', 'gradNorm', 'global_grad_norm', 'total_grad_norm'],
} as const;

/** Prefixes of per-layer gradient-norm fields: `grad_norm/fc.weight`, `grad_2.0_norm/fc.weight`, `gradNorm/dense_1`. */
export const LAYER_PREFIXES = ['grad_norm/', 'grad_2.0_norm/', 'gradNorm/', 'train/grad_norm/'];

export type FieldName = keyof typeof FIELD_ALIASES;

/** Maps a raw object to a metrics row; `mapping` names a column for a field (it wins over aliases). */
export function readMetricsRow(raw: Record<string, unknown>, index: number, mapping: Partial<Record<FieldName, string>> = {}): MetricsRow {
  const pick = (field: FieldName): number | undefined => {
    const names = mapping[field] ? [mapping[field]!] : FIELD_ALIASES[field];
    for (const name of names) {
      const value = raw[name];
      if (typeof value === 'number') return value;
    }
    // Lightning names the LR column after the optimizer: lr-<Name>.
    if (field === 'lr' && !mapping.lr) for (const [key, value] of Object.entries(raw)) if (key.startsWith('lr-') && typeof value === 'number') return value;
    return undefined;
  };
  const layers = new Map<string, number>();
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value !== 'number') continue;
    const prefix = LAYER_PREFIXES.find((p) => key.startsWith(p));
    if (prefix) layers.set(key.slice(prefix.length), value);
  }
  const row: MetricsRow = { step: pick('step') ?? index, layers };
  for (const field of ['lr', 'loss', 'validationLoss', 'gradNorm'] as const) {
    const value = pick(field);
    if (value !== undefined) row[field] = value;
  }
  return row;
}
