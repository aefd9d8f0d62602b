// Which column of a log feeds which field. Logs name their columns after the framework that wrote
// them (`grad_norm`, `train/loss`, `lr-AdamW`, `trl`); a column is chosen per record shape, because
// one log holds records of several shapes (train rows, eval rows, an lr row of its own).

/** The fields Gradscope charts and checks. */
export type FieldName = 'step' | 'lr' | 'loss' | 'validationLoss' | 'gradNorm';
export type ValueField = Exclude<FieldName, 'step'>;
export const VALUE_FIELDS: readonly ValueField[] = ['lr', 'loss', 'validationLoss', 'gradNorm'];
export const FIELD_NAMES: readonly FieldName[] = ['step', ...VALUE_FIELDS];

/** A user's choice of column per field (`--map gradNorm=total_norm`, the `gradscope.metrics.columns` setting). */
export type ColumnMapping = Partial<Record<FieldName, string>>;

/**
 * Exact names, most specific first, as PyTorch loops, Hugging Face, Lightning, detectron2, MMEngine,
 * LLaMA-Factory, W&B and Gradscope write them. Checked before the patterns below.
 */
export const FIELD_ALIASES: Readonly<Record<FieldName, readonly string[]>> = {
  // Not `epoch`: several rows share an epoch (or a rounded fractional one), and merging them would
  // hide a spike. A log that counts nothing else is numbered by its epoch while it has one row an
  // epoch (RecordLayout.epoch), else by row.
  step: ['step', 'global_step', 'train/global_step', 'trainer/global_step', 'iteration', 'iter', 'current_steps', '_step'],
  lr: ['lr', 'learning_rate', 'train/learning_rate', 'learningRate', 'train/lr'],
  loss: ['loss', 'train/loss', 'train_loss', 'training_loss', 'train_loss_step', 'loss_step', 'train/loss_step', 'total_loss', 'train/total_loss'],
  validationLoss: ['val_loss', 'validation_loss', 'valid_loss', 'eval_loss', 'eval/loss', 'val/loss', 'validation/loss', 'validationLoss', 'val_loss_epoch'],
  gradNorm: ['grad_norm', 'train/grad_norm', 'gradNorm', 'grad_2.0_norm_total', 'grad_2.0_norm_total_step', 'global_grad_norm', 'total_grad_norm', 'grad_norm_total', 'total_norm'],
};

/**
 * Names no alias matched, in any case: Lightning's `lr-<Optimizer>[-k]`, a user's `train/nll_loss`,
 * several eval sets' `eval_<set>_loss`, the PyTorch tutorials' `Loss/train` and `Loss/val`,
 * `gradient_norm`, `LearningRate`. Epoch aggregates (`*_epoch`) and summary values
 * (`train_runtime`, HF's `train/train_loss`) are not per-step values and never match.
 */
const FIELD_PATTERNS: Readonly<Partial<Record<ValueField, readonly RegExp[]>>> = {
  // Lightning's LearningRateMonitor: lr-Adam, lr-Adam-1 (a second optimizer), lr-AdamW/pg1 (param
  // groups, from pg1); never lr-SGD-momentum or lr-Adam-weight_decay, which it logs beside them.
  lr: [/^lr-[A-Za-z0-9_.]+?(-\d+)?(\/pg1)?$/, /^lr-[A-Za-z0-9_.]+?(-\d+)?\/pg\d+$/, /^(train[/_.-])?(lr|learning[_ -]?rate)([/_.-](group[_-]?)?0|\/pg[01])?$/i],
  loss: [/^(train|training)[/_.-](?!.*_epoch$)(?!train_loss$)[\w/.-]*loss(_step)?$/i, /^[\w-]*loss[/_.-](train|training)$/i, /^(train|training)[ _-]?loss$/i, /^loss$/i],
  validationLoss: [/^(val|valid|validation|eval)[/_.-](?!.*runtime)[\w/. -]*loss(_epoch)?$/i, /^[\w-]*loss[/_.-](val|valid|validation|eval)$/i],
  gradNorm: [/^(train[/_.-])?grad(ient)?[_/ .-]?norm([_/.-](total|global|l2))?$/i, /^(total|global)[_/.-]?grad(ient)?[_/.-]?norm$/i],
};

/** Prefixes of per-layer gradient-norm columns: `grad_norm/fc.weight`, `grad_2.0_norm/fc.weight`, `gradNorm/dense_1`. */
export const LAYER_PREFIXES = ['grad_norm/', 'grad_2.0_norm/', 'gradNorm/', 'train/grad_norm/'];

/** Which column feeds each field for records of one shape (one set of keys). */
export interface RecordLayout {
  step?: string;
  /**
   * With no step column, the record's `epoch` column (still listed unused): a log written once an
   * epoch (Ultralytics' results.csv) is numbered by it, as long as each row's epoch is the one
   * before + 1 (RowAssembler); rows that share an epoch stay rows, numbered by row.
   */
  epoch?: string;
  fields: [ValueField, string][];
  layers: [layer: string, column: string][];
  /** Numeric columns that feed nothing (listed so that --map is easy). */
  unused: string[];
  /** Columns whose values are numbers written as strings ("0.5"): not read, but named in errors. */
  numericStrings: string[];
  /** Where `step`, each field's and each layer's column comes in the record's keys (records of one shape have their keys in one order). */
  slots: { step: number; epoch: number; fields: number[]; layers: number[] };
}

/**
 * Resolves the layout of each record shape once and reuses it: a record matches a cached layout when
 * it has the same keys in the same order, with numbers in the same of them, which a loop over its keys checks without allocating.
 * Formats add their own aliases (llm.c's `trl`, Keras' `train/epoch_loss`); the user's mapping wins.
 */
export class ColumnResolver {
  /** A shape is the keys in order and which of them hold numbers (a column null in one row and a number in the next is two shapes). */
  private readonly shapes: { keys: string[]; numeric: boolean[]; layout: RecordLayout }[] = [];
  private last = -1;
  /** Shapes forgotten so far: a layout handed out stays the layout of its shape until the resolver forgets one. */
  evictions = 0;
  /** A field found by pattern keeps its first column: `eval_g0_loss` stays the validation loss when `eval_g1_loss` comes. */
  private readonly byPattern: Partial<Record<ValueField, string>> = {};

  constructor(
    private readonly mapping: ColumnMapping = {},
    private readonly formatAliases: Partial<Record<FieldName, readonly string[]>> = {},
  ) {}

  layoutOf(record: Record<string, unknown>): RecordLayout {
    if (this.last >= 0 && sameShape(record, this.shapes[this.last])) return this.shapes[this.last].layout;
    for (let i = 0; i < this.shapes.length; i++) {
      if (i !== this.last && sameShape(record, this.shapes[i])) {
        this.last = i;
        return this.shapes[i].layout;
      }
    }
    const layout = this.resolve(record);
    // Bounded: a log whose every record has new keys still uses fixed memory (the oldest shape goes).
    if (this.shapes.length >= 64) {
      this.shapes.shift();
      this.evictions++;
    }
    const keys = Object.keys(record);
    layout.slots = {
      step: layout.step !== undefined ? keys.indexOf(layout.step) : -1,
      epoch: layout.epoch !== undefined ? keys.indexOf(layout.epoch) : -1,
      fields: layout.fields.map(([, column]) => keys.indexOf(column)),
      layers: layout.layers.map(([, column]) => keys.indexOf(column)),
    };
    this.shapes.push({ keys, numeric: keys.map((key) => typeof record[key] === 'number'), layout });
    this.last = this.shapes.length - 1;
    return layout;
  }

  private resolve(record: Record<string, unknown>): RecordLayout {
    const numeric = Object.keys(record).filter((key) => typeof record[key] === 'number');
    // A W&B panel export names columns `<run> - train/loss` beside `…__MIN`/`…__MAX` bands: the
    // name after the run is the metric, and the bands are not.
    const bare = new Map(numeric.filter((key) => !/__(MIN|MAX)$/.test(key)).map((key) => [key, / - (.+)$/.exec(key)?.[1] ?? key]));
    const used = new Set<string>();
    const free = (key: string) => !used.has(key) && !isLayerColumn(key);
    const choose = (field: FieldName): string | undefined => {
      const mapped = this.mapping[field];
      if (mapped !== undefined) return numeric.includes(mapped) ? mapped : undefined;
      const aliases = [...(this.formatAliases[field] ?? []), ...FIELD_ALIASES[field]];
      for (const name of aliases) if (numeric.includes(name) && !used.has(name)) return name;
      // Then in any case, with '-', '_' and '/' alike, and after a W&B run prefix: `Step`,
      // `train-loss` (Lightning with a '-' separator), `glorious-sun-3 - train/loss`.
      for (const name of aliases) {
        const spelt = columnSpelling(name);
        for (const [key, metric] of bare) if (columnSpelling(metric) === spelt && free(key)) return key;
      }
      if (field === 'step') return undefined;
      const patterns = FIELD_PATTERNS[field];
      if (!patterns) return undefined;
      const earlier = this.byPattern[field];
      if (earlier !== undefined) return numeric.includes(earlier) && !used.has(earlier) ? earlier : undefined;
      let found: string | undefined;
      for (const pattern of patterns) {
        for (const [key, metric] of bare) {
          if (pattern.test(metric) && free(key)) {
            found = key;
            break;
          }
        }
        if (found !== undefined) break;
      }
      if (found !== undefined) this.byPattern[field] = found;
      return found;
    };
    const numericStrings = Object.keys(record).filter((key) => typeof record[key] === 'string' && /^\s*-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i.test(record[key] as string));
    const layout: RecordLayout = { fields: [], layers: [], unused: [], numericStrings, slots: NO_SLOTS };
    const step = choose('step');
    if (step !== undefined) {
      layout.step = step;
      used.add(step);
    }
    for (const field of VALUE_FIELDS) {
      const column = choose(field);
      if (column === undefined) continue;
      layout.fields.push([field, column]);
      used.add(column);
    }
    for (const key of numeric) {
      const prefix = LAYER_PREFIXES.find((p) => key.startsWith(p));
      if (prefix && !used.has(key)) {
        layout.layers.push([key.slice(prefix.length), key]);
        used.add(key);
      }
    }
    layout.unused = numeric.filter((key) => !used.has(key));
    if (layout.step === undefined) layout.epoch = layout.unused.find((key) => columnSpelling(bare.get(key) ?? key) === 'epoch');
    return layout;
  }
}

const NO_SLOTS: RecordLayout['slots'] = { step: -1, epoch: -1, fields: [], layers: [] };

/** A column name as compared with the aliases: in lower case, its separators '-', '_' and '/' alike (`Train-Loss`, `train_loss` and `train/loss` are one name). */
export function columnSpelling(name: string): string {
  return name.toLowerCase().replace(/[-/]/g, '_');
}

function isLayerColumn(name: string): boolean {
  return LAYER_PREFIXES.some((p) => name.startsWith(p));
}

/** The same keys in the same order, the same of them numbers; a loop over the keys, no allocation. */
function sameShape(record: Record<string, unknown>, shape: { keys: readonly string[]; numeric: readonly boolean[] }): boolean {
  const { keys, numeric } = shape;
  let i = 0;
  for (const key in record) {
    if (keys[i] !== key || (typeof record[key] === 'number') !== numeric[i]) return false;
    i++;
  }
  return i === keys.length;
}

/** `--map gradNorm=total_norm,loss=train_loss`; throws an Error naming the bad pair. */
export function parseColumnMapping(text: string | undefined): ColumnMapping {
  if (!text) return {};
  const mapping: ColumnMapping = {};
  for (const pair of text.split(',')) {
    const at = pair.indexOf('=');
    const field = pair.slice(0, at).trim();
    const column = pair.slice(at + 1).trim();
    if (at < 0 || !(FIELD_NAMES as readonly string[]).includes(field) || !column) {
      throw new Error(`--map takes field=column pairs with fields ${FIELD_NAMES.join(', ')} (got ${JSON.stringify(pair)})`);
    }
    mapping[field as FieldName] = column;
  }
  return mapping;
}
