import { Chart, Legend, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, ScatterController, Tooltip, type ChartDataset, type Plugin } from 'chart.js';
import { decimate } from '../src/core/decimate';
import type { RunEvent } from '../src/core/protocol';
import { eventDetails, eventLabel } from './eventText';
import type { RunData } from './runData';
import type { Palette } from './theme';

Chart.register(LineController, ScatterController, LineElement, PointElement, LinearScale, LogarithmicScale, Tooltip, Legend);

type Point = { x: number; y: number | null };
interface Series { label: string; values: ArrayLike<number>; dashed?: boolean; steps?: ArrayLike<number> }
interface ChartSpec { id: string; title: string; log: boolean; series(run: RunData): Series[]; threshold?(run: RunData): number | undefined }

const SPECS: ChartSpec[] = [
  { id: 'lr', title: 'Learning rate', log: false, series: (r) => [{ label: 'actual', values: r.snapshot.batch.lr }, { label: 'planned', values: r.snapshot.plannedLr, dashed: true, steps: indexSteps(r.snapshot.plannedLr.length) }] },
  { id: 'loss', title: 'Loss', log: true, series: (r) => [{ label: 'train', values: r.snapshot.batch.loss }, { label: 'validation', values: r.snapshot.validation.map((p) => p.loss), steps: r.snapshot.validation.map((p) => p.step) }] },
  { id: 'gradNorm', title: 'Global gradient norm', log: true, series: (r) => [{ label: '‖g‖', values: r.snapshot.batch.gradNorm }, ...(r.snapshot.batch.clippedNorm && r.snapshot.clipThreshold !== undefined ? [{ label: 'after clipping', values: r.snapshot.batch.clippedNorm }] : [])], threshold: (r) => r.snapshot.clipThreshold },
  { id: 'layers', title: 'Per-layer gradient norms', log: true, series: (r) => (r.snapshot.batch.layerGradNorms ?? []).map((values, i) => ({ label: r.snapshot.layerNames[i] ?? `layer ${i}`, values })) },
  { id: 'updateRatio', title: 'Update / weight ratio', log: true, series: (r) => (r.snapshot.batch.updateRatio ? [{ label: '‖Δw‖/‖w‖', values: r.snapshot.batch.updateRatio }] : []) },
];

function indexSteps(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Draws a thin vertical line at every event step, in the event's colour. */
const eventLines: Plugin<'line'> = {
  id: 'gradscopeEventLines',
  beforeDatasetsDraw(chart) {
    const events = (chart.options.plugins as { gradscopeEvents?: { steps: number[]; colors: string[] } }).gradscopeEvents;
    if (!events) return;
    const { ctx, chartArea, scales } = chart;
    ctx.save();
    ctx.lineWidth = 1;
    ctx.globalAlpha = 0.45;
    events.steps.forEach((step, i) => {
      const x = scales.x.getPixelForValue(step);
      if (x < chartArea.left || x > chartArea.right) return;
      ctx.strokeStyle = events.colors[i];
      ctx.beginPath();
      ctx.moveTo(x, chartArea.top);
      ctx.lineTo(x, chartArea.bottom);
      ctx.stroke();
    });
    ctx.restore();
  },
};

/** The five charts of a run, sharing one step axis; re-decimated on every render. */
export class ChartGrid {
  private readonly charts = new Map<string, { chart: Chart<'line'>; element: HTMLElement }>();

  constructor(container: HTMLElement, private palette: Palette, private readonly onEventClick: (event: RunEvent) => void) {
    for (const spec of SPECS) {
      const element = document.createElement('section');
      element.className = 'chart';
      element.dataset.chart = spec.id;
      element.innerHTML = `<h3>${spec.title}</h3><div class="canvas-box"><canvas></canvas></div>`;
      container.appendChild(element);
      const canvas = element.querySelector('canvas')!;
      const chart = new Chart<'line'>(canvas, {
        type: 'line',
        data: { datasets: [] },
        plugins: [eventLines],
        options: {
          animation: false, parsing: false, normalized: true, responsive: true, maintainAspectRatio: false,
          interaction: { mode: 'nearest', intersect: false, axis: 'x' },
          scales: { x: { type: 'linear', title: { display: false, text: 'step' } }, y: { type: spec.log ? 'logarithmic' : 'linear' } },
          plugins: { legend: { display: true, labels: { boxWidth: 10 } }, tooltip: { callbacks: { label: (item) => tooltipLabel(item.dataset as EventDataset, item.dataIndex, item.formattedValue) } } },
          onClick: (_e, elements) => {
            const hit = elements.find((el) => (chart.data.datasets[el.datasetIndex] as EventDataset).events);
            if (hit) this.onEventClick((chart.data.datasets[hit.datasetIndex] as EventDataset).events![hit.index]);
          },
        },
      });
      this.charts.set(spec.id, { chart, element });
    }
    this.applyPalette();
  }

  setPalette(palette: Palette): void {
    this.palette = palette;
    this.applyPalette();
  }

  private applyPalette(): void {
    Chart.defaults.color = this.palette.foreground;
    Chart.defaults.borderColor = this.palette.grid;
  }

  /** Redraws every chart for a run, zoomed to [min, max] steps when given. */
  render(run: RunData, range?: { min: number; max: number }): void {
    const steps = run.snapshot.batch.step;
    const start = range ? run.indexOf(range.min) : 0;
    const end = range ? Math.min(steps.length, run.indexOf(range.max) + 1) : steps.length;
    const keep = run.eventIndices();
    for (const spec of SPECS) {
      const { chart, element } = this.charts.get(spec.id)!;
      const width = Math.max(100, element.clientWidth);
      const series = spec.series(run);
      const datasets: ChartDataset<'line', Point[]>[] = series.map((s, i) => ({
        label: s.label,
        data: s.steps ? pointsOf(s.values, s.steps, spec.log, range) : decimatedPoints(s.values, steps, width, start, end, keep, spec.log),
        borderColor: this.palette.series[i % this.palette.series.length],
        backgroundColor: this.palette.series[i % this.palette.series.length],
        borderWidth: 1.25, pointRadius: s.steps && s.label === 'validation' ? 3 : 0, borderDash: s.dashed ? [5, 4] : undefined, spanGaps: false,
      }));
      const threshold = spec.threshold?.(run);
      if (threshold !== undefined && steps.length) {
        datasets.push({ label: 'clip threshold', data: [{ x: range?.min ?? steps[0], y: threshold }, { x: range?.max ?? steps[steps.length - 1], y: threshold }], borderColor: this.palette.muted, borderDash: [2, 3], borderWidth: 1, pointRadius: 0 });
      }
      const markers = this.markers(run, series[0]?.values, spec.log, range);
      if (markers) datasets.push(markers as unknown as ChartDataset<'line', Point[]>);
      chart.data.datasets = datasets;
      (chart.options.plugins as Record<string, unknown>).gradscopeEvents = { steps: (markers?.events ?? []).map((e) => e.step), colors: markers?.pointBackgroundColor ?? [] };
      // The axis spans the run's planned steps, not Chart.js's rounded-up guess.
      chart.options.scales!.x!.min = range?.min ?? 0;
      chart.options.scales!.x!.max = range?.max ?? Math.max(run.snapshot.totalSteps - 1, steps.length - 1, 1);
      chart.update('none');
      // Which steps this chart marks, for people reading the DOM and for the end-to-end tests.
      element.dataset.eventSteps = (markers?.events ?? []).map((e) => e.step).join(',');
      element.dataset.points = String(datasets.reduce((n, d) => n + d.data.length, 0));
    }
  }

  /** A scatter dataset with one marker per event, on the chart's first series, coloured by kind. */
  private markers(run: RunData, values: ArrayLike<number> | undefined, log: boolean, range?: { min: number; max: number }): EventDataset | undefined {
    if (!values || run.snapshot.events.length === 0) return undefined;
    const events = run.snapshot.events.filter((e) => !range || (e.step >= range.min && e.step <= range.max)).slice(-500);
    const top = maxFinite(values);
    const data = events.map((event) => {
      const value = values[run.indexOf(event.step)];
      // A non-finite (or, on a log axis, non-positive) value has no place: the marker sits at the top.
      return { x: event.step, y: Number.isFinite(value) && (!log || value > 0) ? value : top };
    });
    const colors = events.map((e) => this.palette.kind[e.kind]);
    return { type: 'scatter', label: 'events', data, events, pointBackgroundColor: colors, pointBorderColor: colors, pointRadius: 5, pointHoverRadius: 7, pointStyle: 'triangle', showLine: false } as EventDataset;
  }

  resize(): void {
    for (const { chart } of this.charts.values()) chart.resize();
  }
}

type EventDataset = ChartDataset<'scatter', Point[]> & { events?: RunEvent[]; pointBackgroundColor: string[] };

function tooltipLabel(dataset: EventDataset, index: number, value: string): string {
  if (dataset.events) {
    const event = dataset.events[index];
    return `${eventLabel(event)} at step ${event.step}: ${eventDetails(event)}`;
  }
  return `${dataset.label}: ${value}`;
}

function decimatedPoints(values: ArrayLike<number>, steps: ArrayLike<number>, width: number, start: number, end: number, keep: number[], log: boolean): Point[] {
  const indices = decimate(values, width, { start, end, keep });
  const points: Point[] = new Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const v = values[indices[i]];
    points[i] = { x: steps[indices[i]], y: Number.isFinite(v) && (!log || v > 0) ? v : null };
  }
  return points;
}

function pointsOf(values: ArrayLike<number>, steps: ArrayLike<number>, log: boolean, range?: { min: number; max: number }): Point[] {
  const points: Point[] = [];
  for (let i = 0; i < values.length; i++) {
    if (range && (steps[i] < range.min || steps[i] > range.max)) continue;
    const v = values[i];
    points.push({ x: steps[i], y: Number.isFinite(v) && (!log || v > 0) ? v : null });
  }
  return points;
}

function maxFinite(values: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i]) && values[i] > max) max = values[i];
  return max === -Infinity ? 1 : max;
}
