// The comparison table: one row per strategy, sortable, exportable as CSV and Markdown.

export interface CompareRow {
  strategy: string;
  description: string;
  status: string;
  steps: number;
  finalTrainLoss: number | null;
  finalValidationLoss: number | null;
  finalValidationAccuracy: number | null;
  /** First step whose smoothed training loss reached the target; null if it never did. */
  stepsToTarget: number | null;
  explosions: number;
  nonFinite: number;
  wallTimeMs: number;
}

export const COLUMNS: (keyof CompareRow)[] = [
  'strategy',
  'description',
  'status',
  'steps',
  'finalTrainLoss',
  'finalValidationLoss',
  'finalValidationAccuracy',
  'stepsToTarget',
  'explosions',
  'nonFinite',
  'wallTimeMs',
];

/** Column titles for people (the Markdown export, the CLI): CSV and JSON keep the keys. */
export const COLUMN_TITLES: Record<keyof CompareRow, string> = {
  strategy: 'Strategy',
  description: 'What',
  status: 'Status',
  steps: 'Steps',
  finalTrainLoss: 'Train loss',
  finalValidationLoss: 'Val. loss',
  finalValidationAccuracy: 'Val. accuracy',
  stepsToTarget: 'Steps to target',
  explosions: 'Explosions',
  nonFinite: 'Non-finite',
  wallTimeMs: 'Time (ms)',
};

/** Mean of the last `window` finite losses (the last value alone is one noisy batch). */
export function finalLoss(losses: number[], window = 10): number | null {
  const finite = losses.filter(Number.isFinite).slice(-window);
  return finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : null;
}

/** First step where the running mean of the last `window` losses is at or below `target`. */
export function stepsToTarget(steps: number[], losses: number[], target: number, window = 10): number | null {
  let sum = 0;
  for (let i = 0; i < losses.length; i++) {
    sum += Number.isFinite(losses[i]) ? losses[i] : Infinity;
    if (i >= window) sum -= Number.isFinite(losses[i - window]) ? losses[i - window] : Infinity;
    const mean = sum / Math.min(i + 1, window);
    if (i + 1 >= Math.min(window, losses.length) && mean <= target) return steps[i];
  }
  return null;
}

/** Sorts rows by a column; nulls last; losses and times ascending, accuracy descending. */
export function sortRows(rows: CompareRow[], column: keyof CompareRow): CompareRow[] {
  const descending = column === 'finalValidationAccuracy';
  return [...rows].sort((a, b) => {
    const x = a[column];
    const y = b[column];
    if (x === null || (typeof x === 'number' && Number.isNaN(x))) return 1;
    if (y === null || (typeof y === 'number' && Number.isNaN(y))) return -1;
    const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return descending ? -order : order;
  });
}

const cell = (value: CompareRow[keyof CompareRow]) => (value === null ? '' : typeof value === 'number' ? (Number.isInteger(value) ? String(value) : value.toPrecision(4)) : value);

export function toCsv(rows: CompareRow[]): string {
  const quote = (text: string) => (/[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
  return [COLUMNS.join(','), ...rows.map((row) => COLUMNS.map((c) => quote(cell(row[c]))).join(','))].join('\n') + '\n';
}

export function toMarkdown(rows: CompareRow[]): string {
  const escape = (text: string) => text.replace(/\|/g, '\\|');
  return (
    [
      `| ${COLUMNS.map((c) => COLUMN_TITLES[c]).join(' | ')} |`,
      `| ${COLUMNS.map((c) => (c === 'strategy' || c === 'description' || c === 'status' ? '---' : '---:')).join(' | ')} |`,
      ...rows.map((row) => `| ${COLUMNS.map((c) => escape(cell(row[c]))).join(' | ')} |`),
    ].join('\n') + '\n'
  );
}
