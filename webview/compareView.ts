// What the compare table shows: readable column titles (never the raw keys), widths, formats, and
// the best value of each column.
import type { CompareRow } from '../src/core/tools/compareTable';

export interface CompareColumn {
  key: keyof CompareRow;
  /** Words a header may wrap between (never inside one). */
  title: string;
  /** Share of the table's width; the table's layout is fixed. */
  width: string;
  numeric: boolean;
  /** How a click on the header sorts it (the host's order: the best first). */
  order: string;
  /** Which end of a numeric column is best; undefined when no value is better than another. */
  best?: 'low' | 'high';
}

/** The description is in the row's tooltip and the export; on screen the strategy's name says enough. */
export const compareColumns: CompareColumn[] = [
  { key: 'strategy', title: 'Strategy', width: '14%', numeric: false, order: 'A to Z' },
  { key: 'status', title: 'Status', width: '10%', numeric: false, order: 'A to Z' },
  { key: 'steps', title: 'Steps', width: '7%', numeric: true, order: 'fewest first' },
  { key: 'finalTrainLoss', title: 'Train loss', width: '9%', numeric: true, order: 'lowest first', best: 'low' },
  { key: 'finalValidationLoss', title: 'Val. loss', width: '9%', numeric: true, order: 'lowest first', best: 'low' },
  { key: 'finalValidationAccuracy', title: 'Val. accuracy', width: '10%', numeric: true, order: 'highest first', best: 'high' },
  { key: 'stepsToTarget', title: 'Steps to target', width: '10%', numeric: true, order: 'fewest first', best: 'low' },
  { key: 'explosions', title: 'Explosions', width: '11%', numeric: true, order: 'fewest first', best: 'low' },
  { key: 'nonFinite', title: 'Non-finite', width: '10%', numeric: true, order: 'fewest first', best: 'low' },
  { key: 'wallTimeMs', title: 'Time', width: '10%', numeric: true, order: 'fastest first', best: 'low' },
];

/** A cell as shown: losses to 3 significant digits, accuracy in %, time in seconds, – for none. */
export function formatCell(key: keyof CompareRow, value: CompareRow[keyof CompareRow]): string {
  if (value === null || (typeof value === 'number' && Number.isNaN(value))) return '–';
  if (typeof value !== 'number') return value;
  if (key === 'finalValidationAccuracy') return `${(100 * value).toFixed(1)}%`;
  if (key === 'wallTimeMs') return `${(value / 1000).toFixed(value < 10_000 ? 1 : 0)} s`;
  if (key === 'finalTrainLoss' || key === 'finalValidationLoss') return value.toPrecision(3);
  return String(value);
}

/**
 * The best value of each column that has one, over the rows with a value: only where at least two
 * rows differ (a column where all are equal has no best).
 */
export function bestValues(rows: CompareRow[]): Partial<Record<keyof CompareRow, number>> {
  const best: Partial<Record<keyof CompareRow, number>> = {};
  for (const column of compareColumns) {
    if (!column.best) continue;
    const values = rows.map((row) => row[column.key]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    if (values.length < 2 || values.every((v) => v === values[0])) continue;
    best[column.key] = column.best === 'low' ? Math.min(...values) : Math.max(...values);
  }
  return best;
}
