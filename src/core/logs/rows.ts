// Records of a log → one row per step. A step's values often come in several records (the train
// entry, an eval entry, Lightning's lr row); a step counter that goes back starts a new segment.
import { ColumnResolver, VALUE_FIELDS, type FieldName, type RecordLayout } from './columns';
import type { RecordShape, ShapedRecord } from './jsonShapes';

/** One step of someone else's log, in Gradscope's terms. A missing value is absent, never 0 or 1. */
export interface MetricsRow {
  step: number;
  lr?: number;
  loss?: number;
  validationLoss?: number;
  gradNorm?: number;
  /** Per-layer gradient norms by layer name (empty for most logs). */
  layers: ReadonlyMap<string, number>;
  /** Counts from 0: an appended or resumed run whose step counter went back starts the next segment. */
  segment: number;
  /** 1-based line (or log_history entry's line) of the first record of this step, for Problems entries. */
  line?: number;
}

/** A row that says something about training (not only an eval result or a learning rate). */
export function isTrainingRow(row: MetricsRow): boolean {
  return row.loss !== undefined || row.gradNorm !== undefined || row.layers.size > 0;
}

/** One record as a format reader found it. */
export interface LogRecord {
  /** The record's columns as the file names them; only numbers are read. */
  values: Record<string, unknown>;
  /** 1-based line where the record starts. */
  line?: number;
  /**
   * What the reader knows: `eval` records feed only the validation fields; `summary` records
   * (end-of-run totals such as Hugging Face's `train_loss`) are not steps and are dropped.
   */
  role?: 'eval' | 'summary';
  /** The record's step is not a training step (MMEngine's validation rows carry the epoch): it joins the current step. */
  joinsCurrent?: boolean;
}

export interface RowsReport {
  /** Records read (train, eval, lr and summary records alike). */
  records: number;
  /** Rows with a loss, a gradient norm or layer norms: the steps the detectors see. */
  trainingRows: number;
  /** Rows that hold only validation results. */
  validationRows: number;
  /** The steps of the first and last of those rows (what a log with no training loss covers). */
  firstValidationStep?: number;
  lastValidationStep?: number;
  firstStep?: number;
  lastStep?: number;
  /** 1 + the number of times the step counter went back. */
  segments: number;
  /** Which column(s) fed each field. */
  columns: Partial<Record<FieldName, string[]>>;
  /** Numeric columns that fed nothing, in order of appearance. */
  unused: string[];
  /** Columns holding numbers written as strings ("0.5"), which are not read. */
  numericStrings: string[];
}

const UNUSED_LIMIT = 200;

/**
 * Streams records in, rows out. A row is held until a record of another step arrives (its values
 * may come in several records), or until `flush()` (the end of what a followed file holds now).
 */
export class RowAssembler {
  private current: MetricsRow | undefined;
  private lastStep: number | undefined;
  private segment = 0;
  private lastLr: number | undefined;
  private index = 0;
  private readonly counted = new Set<RecordLayout>();
  private readonly report_: RowsReport = { records: 0, trainingRows: 0, validationRows: 0, segments: 1, columns: {}, unused: [], numericStrings: [] };
  private readonly unusedSeen = new Set<string>();

  constructor(
    private readonly resolver: ColumnResolver,
    private readonly onRow: (row: MetricsRow) => void,
  ) {}

  push(record: LogRecord): void {
    this.report_.records++;
    if (record.role === 'summary') return;
    const values = record.values;
    this.assemble(this.resolver.layoutOf(values), values, undefined, record.line, record.role === 'eval', record.joinsCurrent === true);
  }

  /** A line the JSON fast path read: the same as push() of the record JSON.parse makes of that line. */
  pushShaped(record: ShapedRecord): void {
    this.report_.records++;
    const shape = record.shape;
    if (shape.role === 'summary') return;
    this.assemble(this.layoutOfShape(shape), undefined, record.numbers, record.line, shape.role === 'eval', shape.joinsCurrent);
  }

  private readonly shapeLayouts = new Map<RecordShape, RecordLayout>();
  private shapeEvictions = 0;

  /** The resolver's layout for a shape's records, without looking at a record: it stays the same until the resolver forgets a shape. */
  private layoutOfShape(shape: RecordShape): RecordLayout {
    if (this.resolver.evictions !== this.shapeEvictions) {
      this.shapeLayouts.clear();
      this.shapeEvictions = this.resolver.evictions;
    }
    let layout = this.shapeLayouts.get(shape);
    if (layout === undefined) {
      layout = this.resolver.layoutOf(shape.sample);
      // Resolving may have made the resolver forget a shape: cache only a layout it still holds.
      if (this.resolver.evictions === this.shapeEvictions) this.shapeLayouts.set(shape, layout);
    }
    return layout;
  }

  /** A record's values are read from `values` by column name, or from `numbers` by the column's place in the layout's shape. */
  private assemble(layout: RecordLayout, values: Record<string, unknown> | undefined, numbers: Float64Array | undefined, line: number | undefined, evalOnly: boolean, joinsCurrent: boolean): void {
    let found = false;
    // Every row has every field (absent ones undefined): one object shape for all rows keeps the
    // code that reads them fast, whatever columns a log has.
    const row: MetricsRow = { step: NaN, lr: undefined, loss: undefined, validationLoss: undefined, gradNorm: undefined, layers: NO_LAYERS, segment: this.segment, line };
    const fields = layout.fields;
    const slots = layout.slots;
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i][0];
      if (evalOnly && field !== 'validationLoss') continue;
      row[field] = numbers ? numbers[slots.fields[i]] : (values![fields[i][1]] as number);
      found = true;
    }
    const layers = layout.layers;
    if (!evalOnly && layers.length) {
      const map = new Map<string, number>();
      for (let i = 0; i < layers.length; i++) map.set(layers[i][0], numbers ? numbers[slots.layers[i]] : (values![layers[i][1]] as number));
      row.layers = map;
      found = true;
    }
    if (layout !== this.lastNoted) this.note(layout, evalOnly);
    // A record with none of the fields (an `eta_seconds` row, an `hp_metric` row) is not a step.
    if (!found) return;
    const stepValue = layout.step === undefined ? undefined : numbers ? numbers[slots.step] : (values![layout.step] as number);
    const step = stepValue !== undefined && Number.isFinite(stepValue) ? stepValue : undefined;
    const previous = this.current?.step ?? this.lastStep;
    // A validation result stamped with a smaller counter (an epoch) belongs to the step it follows.
    const stampedBack = step !== undefined && previous !== undefined && step < previous && !isTrainingRow(row) && row.lr === undefined;
    // Two training records of one step (logs appended with the same counter, a step logged twice)
    // are two rows: merging them would keep only the later value and could hide a spike.
    const current = this.current;
    const repeated = current !== undefined && step === current.step && ((row.loss !== undefined && current.loss !== undefined) || (row.gradNorm !== undefined && current.gradNorm !== undefined));
    if (current && !repeated && (joinsCurrent || stampedBack || step === current.step)) {
      merge(current, row);
      return;
    }
    if (joinsCurrent || stampedBack) {
      // The step it belongs to was handed out already (a followed file was flushed): a row of its own.
      if (previous === undefined) return;
      row.step = previous;
      this.current = row;
      this.emitCurrent();
      return;
    }
    const epoch = this.byEpoch !== 'off' ? this.epochStep(row, step, layout, values, numbers) : undefined;
    // The row held may have been numbered again (its epoch turned out not to number the rows).
    const before = this.current?.step ?? this.lastStep;
    this.emitCurrent();
    row.step = step ?? epoch ?? (before !== undefined ? before + 1 : this.index);
    this.index++;
    if (before !== undefined && row.step < before) {
      this.segment++;
      this.report_.segments++;
      row.segment = this.segment;
      this.lastLr = undefined;
    }
    this.current = row;
  }

  /**
   * A log without a step column, written once an epoch (Ultralytics' results.csv: epoch 1, 2, …), is
   * numbered by its epoch, as its TensorBoard file is: while each row's epoch (an integer) is the one
   * before + 1. A row that breaks it (an epoch of several rows, one missing) turns this off for good,
   * and rows are numbered by row from there; the second row says it of the first, if still held.
   */
  private byEpoch: 'undecided' | 'on' | 'off' = 'undecided';
  private lastEpoch = 0;
  private epochColumn: string | undefined;
  /** The first row, numbered by its epoch before a second row confirmed it, and the step it has by row. */
  private firstByEpoch: { row: MetricsRow; byRow: number } | undefined;

  private epochStep(row: MetricsRow, step: number | undefined, layout: RecordLayout, values: Record<string, unknown> | undefined, numbers: Float64Array | undefined): number | undefined {
    const value = step !== undefined || layout.epoch === undefined ? undefined : numbers ? numbers[layout.slots.epoch] : values![layout.epoch];
    const epoch = typeof value === 'number' && Number.isInteger(value) ? value : undefined;
    const first = this.firstByEpoch;
    this.firstByEpoch = undefined;
    if (this.byEpoch === 'undecided' && epoch !== undefined && this.current === undefined && this.lastStep === undefined) {
      this.byEpoch = 'on';
      this.epochColumn = layout.epoch;
      this.lastEpoch = epoch;
      this.firstByEpoch = { row, byRow: this.index };
      return epoch;
    }
    if (this.byEpoch === 'on' && epoch === this.lastEpoch + 1 && layout.epoch === this.epochColumn) {
      this.lastEpoch = epoch;
      return epoch;
    }
    this.byEpoch = 'off';
    if (first && this.current === first.row) first.row.step = first.byRow;
    return undefined;
  }

  /** Hands out the row still held (the end of the log, or of what a followed file holds now). */
  flush(): void {
    this.emitCurrent();
  }

  report(): RowsReport {
    const r = this.report_;
    // Numbered by the epoch so far: it is the step column.
    const epoch = this.byEpoch === 'on' ? this.epochColumn : undefined;
    if (epoch === undefined || r.trainingRows + r.validationRows === 0) return r;
    return { ...r, columns: { step: [epoch], ...r.columns }, unused: r.unused.filter((column) => column !== epoch) };
  }

  private emitCurrent(): void {
    const row = this.current;
    if (!row) return;
    this.current = undefined;
    if (row.lr !== undefined) this.lastLr = row.lr;
    const training = isTrainingRow(row);
    // Lightning's LearningRateMonitor logs the rate on rows of its own: it holds until the next one.
    if (training && row.lr === undefined && this.lastLr !== undefined) row.lr = this.lastLr;
    const r = this.report_;
    if (training) {
      r.trainingRows++;
      r.firstStep ??= row.step;
      r.lastStep = row.step;
    } else if (row.validationLoss !== undefined) {
      r.validationRows++;
      r.firstValidationStep ??= row.step;
      r.lastValidationStep = row.step;
    }
    this.lastStep = row.step;
    this.onRow(row);
  }

  private lastNoted: RecordLayout | undefined;

  private note(layout: RecordLayout, evalOnly: boolean): void {
    this.lastNoted = layout;
    if (this.counted.has(layout)) return;
    this.counted.add(layout);
    const columns = this.report_.columns;
    if (layout.step !== undefined) add(columns, 'step', layout.step);
    for (const [field, column] of layout.fields) if (!evalOnly || field === 'validationLoss') add(columns, field, column);
    for (const column of layout.numericStrings) if (!this.report_.numericStrings.includes(column) && this.report_.numericStrings.length < 50) this.report_.numericStrings.push(column);
    for (const column of layout.unused) {
      if (this.unusedSeen.size >= UNUSED_LIMIT || this.unusedSeen.has(column)) continue;
      this.unusedSeen.add(column);
      this.report_.unused.push(column);
    }
  }
}

function add(columns: RowsReport['columns'], field: FieldName, column: string): void {
  const list = (columns[field] ??= []);
  if (!list.includes(column)) list.push(column);
}

/** Shared by every row without layer norms (most logs): rows are handed out, never changed after. */
const NO_LAYERS: ReadonlyMap<string, number> = new Map();

function merge(into: MetricsRow, from: MetricsRow): void {
  for (const field of VALUE_FIELDS) if (from[field] !== undefined) into[field] = from[field];
  if (from.layers.size === 0) return;
  if (into.layers === NO_LAYERS) into.layers = new Map();
  for (const [layer, value] of from.layers) (into.layers as Map<string, number>).set(layer, value);
}

/** A column named for a field in the summary: `loss ← train/loss`. */
export function describeColumns(columns: RowsReport['columns']): string {
  return VALUE_FIELDS.filter((field) => columns[field]?.length)
    .map((field) => `${field} ← ${columns[field]!.join(' | ')}`)
    .join(', ');
}
