// What an HTML report holds: each series decimated (every flagged step kept) and the events.
import { decimate } from './decimate';
import type { DetectorEvent } from './detect';
import { Inspector } from './inspect';
import type { MetricsRow } from './metricsFormat';

export interface ReportSeries {
  label: string;
  steps: number[];
  values: (number | null)[];
}

export interface ReportRun {
  title: string;
  rows: number;
  charts: { id: string; title: string; log: boolean; series: ReportSeries[] }[];
  events: DetectorEvent[];
}

/** Runs the detectors over the rows and decimates each series to about `width` buckets. */
export function reportRun(title: string, rows: MetricsRow[], width = 1500): ReportRun {
  const inspector = new Inspector();
  for (const row of rows) inspector.add(row);
  const { events } = inspector.result();
  const steps = rows.map((r) => r.step);
  const stepIndex = new Map(steps.map((s, i) => [s, i]));
  const keep = events.map((e) => stepIndex.get(e.step)).filter((i): i is number => i !== undefined);
  const series = (label: string, values: number[]): ReportSeries | undefined => {
    if (values.every((v) => Number.isNaN(v))) return undefined;
    const indices = decimate(values, width, { keep });
    return { label, steps: Array.from(indices, (i) => steps[i]), values: Array.from(indices, (i) => (Number.isFinite(values[i]) ? values[i] : null)) };
  };
  const column = (pick: (r: MetricsRow) => number | undefined) => rows.map((r) => pick(r) ?? NaN);
  const layerNames = [...(rows[0]?.layers.keys() ?? [])];
  const charts = [
    { id: 'lr', title: 'Learning rate', log: false, series: [series('lr', column((r) => r.lr))] },
    { id: 'loss', title: 'Loss', log: true, series: [series('train', column((r) => r.loss)), series('validation', column((r) => r.validationLoss))] },
    { id: 'gradNorm', title: 'Global gradient norm', log: true, series: [series('‖g‖', column((r) => r.gradNorm))] },
    { id: 'layers', title: 'Per-layer gradient norms', log: true, series: layerNames.map((name) => series(name, column((r) => r.layers.get(name)))) },
  ].map((chart) => ({ ...chart, series: chart.series.filter((s): s is ReportSeries => s !== undefined) })).filter((chart) => chart.series.length > 0);
  return { title, rows: rows.length, charts, events };
}
