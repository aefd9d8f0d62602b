// What an HTML report holds: each series decimated (every flagged step kept) and the events.
import { decimate } from '../series/decimate';
import type { DetectorEvent } from '../detect';
import { Inspector } from './inspect';
import { isTrainingRow, type MetricsRow } from './rows';

/** Per-layer series drawn at most (each is decimated; hundreds of them would make a page of tens of MB). */
const MAX_LAYERS = 12;

export interface ReportSeries {
  label: string;
  steps: number[];
  values: (number | null)[];
}

export interface ReportRun {
  title: string;
  /** The log format, as detected. */
  format?: string;
  rows: number;
  charts: { id: string; title: string; log: boolean; series: ReportSeries[] }[];
  events: DetectorEvent[];
}

/** Runs the detectors over the rows and decimates each series to about `width` buckets. */
export function reportRun(title: string, allRows: MetricsRow[], format?: string, width = 1500): ReportRun {
  const inspector = new Inspector();
  for (const row of allRows) inspector.add(row);
  const { events, fields } = inspector.result();
  const validation = allRows.filter((r) => r.validationLoss !== undefined);
  const rows = allRows.filter(isTrainingRow);
  const steps = rows.map((r) => r.step);
  const stepIndex = new Map(steps.map((s, i) => [s, i]));
  const keep = events.map((e) => stepIndex.get(e.step)).filter((i): i is number => i !== undefined);
  // A segment (an appended or resumed run) starts where the step counter went back: keep its first
  // point, and put a gap before it so that no line is drawn back to the start.
  const segmentStarts = rows.flatMap((r, i) => (i > 0 && r.segment !== rows[i - 1].segment ? [i] : []));
  // A value that is absent (undefined: the log has no such column, or not at this step) is not
  // drawn; one that is NaN or infinite is a gap in the line, and the events say where. A series
  // with values, all NaN, is still a series: a run whose loss is NaN throughout is not "no loss".
  const series = (label: string, present: (number | undefined)[], at = steps, starts = segmentStarts, flagged: number[] = keep): ReportSeries | undefined => {
    if (present.every((v) => v === undefined)) return undefined;
    const values = present.map((v) => v ?? NaN);
    const indices = decimate(values, width, { keep: [...flagged, ...starts] });
    const out: ReportSeries = { label, steps: [], values: [] };
    const startSet = new Set(starts);
    for (const i of indices) {
      if (startSet.has(i) && out.steps.length) {
        out.steps.push(at[i]);
        out.values.push(null);
      }
      out.steps.push(at[i]);
      out.values.push(Number.isFinite(values[i]) ? values[i] : null);
    }
    return out;
  };
  const column = (pick: (r: MetricsRow) => number | undefined) => rows.map(pick);
  // A page stays light however wide the model: the layers whose norm reached the highest are drawn.
  // Every layer of any row, in the order first seen (a log may leave a layer out of its first rows).
  const allLayers = fields.layers;
  const peak = (name: string) =>
    rows.reduce((m, r) => {
      const v = r.layers.get(name);
      return v !== undefined && Number.isFinite(v) && v > m ? v : m;
    }, -Infinity);
  const layerNames =
    allLayers.length > MAX_LAYERS
      ? allLayers
          .map((name) => [name, peak(name)] as const)
          .sort((a, b) => b[1] - a[1])
          .slice(0, MAX_LAYERS)
          .map(([name]) => name)
      : allLayers;
  const charts = [
    {
      id: 'lr',
      title: 'Learning rate',
      log: false,
      series: [
        series(
          'lr',
          column((r) => r.lr),
        ),
      ],
    },
    {
      id: 'loss',
      title: 'Loss',
      log: !allRows.some((r) => r.loss !== undefined && r.loss <= 0),
      series: [
        series(
          'train',
          column((r) => r.loss),
        ),
        series(
          'validation',
          validation.map((r) => r.validationLoss!),
          validation.map((r) => r.step),
          validation.flatMap((r, i) => (i > 0 && r.segment !== validation[i - 1].segment ? [i] : [])),
          [],
        ),
      ],
    },
    {
      id: 'gradNorm',
      title: 'Global gradient norm',
      log: true,
      series: [
        series(
          '‖g‖',
          column((r) => r.gradNorm),
        ),
      ],
    },
    {
      id: 'layers',
      title: allLayers.length > MAX_LAYERS ? `Per-layer gradient norms (the ${MAX_LAYERS} of ${allLayers.length} layers with the highest)` : 'Per-layer gradient norms',
      log: true,
      series: layerNames.map((name) =>
        series(
          name,
          column((r) => r.layers.get(name)),
        ),
      ),
    },
  ]
    .map((chart) => ({ ...chart, series: chart.series.filter((s): s is ReportSeries => s !== undefined) }))
    .filter((chart) => chart.series.length > 0);
  return { title, ...(format ? { format } : {}), rows: rows.length, charts, events };
}
