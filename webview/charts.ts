// The diagnostics panel's charts: one x range and one crosshair shared by all, drag/wheel zoom and
// pan, TensorBoard smoothing with the raw series faint behind, log/linear per chart, several runs
// overlaid, and the values a log axis cannot show (0, NaN, ±Infinity) drawn as markers at its edges.
import {
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  ScatterController,
  Tooltip,
  type ChartDataset,
  type LegendItem,
  type Plugin,
  type Tick,
} from 'chart.js';
import zoomPlugin from 'chartjs-plugin-zoom';
import { decimate } from '../src/core/series/decimate';
import type { RunEvent, RunEventKind } from '../src/core/protocol';
import { eventDetails, eventLabel, KIND_LABELS } from './eventText';
import { headroom, logTick, logTickShown, si, sig3, tick } from './numbers';
import { lowerBound, type RunData, type Rows } from './runData';
import { RunningEma } from './smoothing';
import { withAlpha, type Palette } from './theme';
import { isChecked } from './toolkit';

Chart.register(LineController, ScatterController, LineElement, PointElement, LinearScale, LogarithmicScale, Tooltip, Legend, zoomPlugin);

export type Range = { min: number; max: number };
type Point = { x: number; y: number | null };

/** A run drawn on the charts, in its colour (the focused run first). */
export interface ShownRun {
  data: RunData;
  color: string;
}

interface Series {
  label: string;
  values: ArrayLike<number>;
  steps: ArrayLike<number>;
  start: number;
  end: number;
  style: 'line' | 'dashed' | 'points';
  /** Smoothed when smoothing is on (measured, noisy series; not a planned schedule). */
  smooth: boolean;
}

interface ChartSpec {
  id: string;
  title: string;
  /** The y axis title, with its unit. */
  yTitle: string;
  log: boolean;
  series(run: RunData, rows: Rows, range: Range): Series[];
  threshold?(run: RunData): number | undefined;
}

const column = (label: string, values: ArrayLike<number> | undefined, rows: Rows, style: Series['style'] = 'line', smooth = true): Series[] =>
  values ? [{ label, values, steps: rows.batch.step, start: rows.start, end: rows.end, style, smooth }] : [];

/** Index of a column's first value (a number, not NaN: a value a row lacked arrives as null or NaN). */
function firstValue(values: ArrayLike<number | null>): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'number' && !Number.isNaN(v)) return i;
  }
  return values.length;
}

/** A series with its own steps (validation points, a decimated plan), cut to the x range. */
function sparse(label: string, steps: number[], values: number[], range: Range, style: Series['style'], smooth = false): Series {
  return { label, values, steps, start: Math.max(0, lowerBound(steps, range.min) - 1), end: Math.min(steps.length, lowerBound(steps, range.max + 1) + 1), style, smooth };
}

const SPECS: ChartSpec[] = [
  {
    id: 'lr',
    title: 'Learning rate',
    yTitle: 'learning rate',
    log: false,
    series: (run, rows, range) => {
      const s = run.snapshot;
      // plannedLr[i] is step i's rate, unless the host decimated it (then plannedSteps says whose).
      const planned: Series = s.plannedSteps
        ? sparse('planned', s.plannedSteps, s.plannedLr, range, 'dashed')
        : {
            label: 'planned',
            values: s.plannedLr,
            steps: indexSteps(s.plannedLr.length),
            start: Math.max(0, Math.floor(range.min)),
            end: Math.min(s.plannedLr.length, Math.ceil(range.max) + 1),
            style: 'dashed',
            smooth: false,
          };
      return [...column('actual', rows.batch.lr, rows, 'line', false), planned];
    },
  },
  {
    id: 'loss',
    title: 'Loss',
    yTitle: 'loss',
    log: true,
    series: (run, rows, range) => [
      ...column('train', rows.batch.loss, rows),
      sparse(
        'validation',
        run.snapshot.validation.map((p) => p.step),
        run.snapshot.validation.map((p) => p.loss),
        range,
        'points',
      ),
    ],
  },
  {
    id: 'accuracy',
    title: 'Validation accuracy',
    yTitle: 'accuracy (%)',
    log: false,
    series: (run, _rows, range) => {
      const points = run.snapshot.validation.filter((p) => p.accuracy !== undefined);
      return [
        sparse(
          'validation',
          points.map((p) => p.step),
          points.map((p) => 100 * p.accuracy!),
          range,
          'points',
        ),
      ];
    },
  },
  {
    id: 'gradNorm',
    title: 'Global gradient norm',
    yTitle: '‖g‖₂',
    log: true,
    series: (run, rows) => [...column('‖g‖', rows.batch.gradNorm, rows), ...(run.snapshot.clipThreshold !== undefined ? column('after clipping', rows.batch.clippedNorm, rows, 'dashed') : [])],
    threshold: (run) => run.snapshot.clipThreshold,
  },
  {
    id: 'layers',
    title: 'Per-layer gradient norms',
    yTitle: '‖g‖₂ of the layer',
    log: true,
    // A layer a log names after its first rows (a module without a gradient yet) starts where its
    // values do: the rows before have none to draw, not a rail of non-finite markers.
    series: (run, rows) =>
      (rows.batch.layerGradNorms ?? []).flatMap((values, i) => column(run.snapshot.layerNames[i] ?? `layer ${i}`, values, rows).map((s) => ({ ...s, start: Math.max(s.start, firstValue(values)) }))),
  },
  {
    id: 'updateRatio',
    title: 'Update / weight ratio',
    yTitle: '‖Δw‖ / ‖w‖',
    log: true,
    series: (_run, rows) => column('‖Δw‖/‖w‖', rows.batch.updateRatio, rows),
  },
];

const indexCache = { n: 0, steps: new Float64Array(0) };
/** 0, 1, …, n-1 (plannedLr is indexed by step). */
function indexSteps(n: number): Float64Array {
  if (indexCache.n !== n) Object.assign(indexCache, { n, steps: Float64Array.from({ length: n }, (_, i) => i) });
  return indexCache.steps;
}

/** What the plugins below draw besides the datasets, per chart. */
interface Extras {
  events: { step: number; color: string }[];
  /** Values a log axis cannot place (0, negatives, ±Infinity, NaN): markers at the bottom or top edge. */
  edges: { x: number; top: boolean; color: string }[];
}

type MarkerDataset = ChartDataset<'scatter', Point[]> & { events: { run: RunData; event: RunEvent }[] };
/** `raw`: on a smoothed series, its raw column (the tooltip shows both values, as TensorBoard). */
type LineDataset = ChartDataset<'line', Point[]> & { events?: undefined; inLegend?: boolean; raw?: { steps: ArrayLike<number>; values: ArrayLike<number> } };

/** One chart: its element, Chart.js instance, log toggle. */
interface Panel {
  spec: ChartSpec;
  chart: Chart<'line'>;
  element: HTMLElement;
  extras: Extras;
  /** Scrolled out of view: its datasets are kept up to date but Chart.js does not redraw it. */
  offscreen: boolean;
  /** Has data Chart.js has not drawn yet (it was off screen). */
  stale: boolean;
  /** The rows and x range it last drew, to skip a live update that adds no row in its range. */
  drawnRows: string;
}

export interface ChartGridOptions {
  onEventClick(run: RunData, event: RunEvent): void;
  /** The shared x range changed (zoom, pan, reset): the owner re-renders and may fetch finer rows. */
  onRangeChange(range: Range | undefined): void;
  /** A chart's scale changed (log/linear): the owner re-renders. */
  onScaleChange(): void;
}

/** The charts of the shown runs, sharing one step axis, one x range and one crosshair. */
export class ChartGrid {
  private readonly panels: Panel[] = [];
  /** The shared x range; undefined shows every step. */
  range: Range | undefined;
  /** TensorBoard's smoothing weight in [0, 1). Default 0.6, as TensorBoard. */
  smoothing = 0.6;
  private hoverStep: number | undefined;
  private full: Range = { min: 0, max: 1 };

  constructor(
    container: HTMLElement,
    private palette: Palette,
    private readonly options: ChartGridOptions,
  ) {
    for (const spec of SPECS) this.panels.push(this.create(container, spec));
    this.applyPalette();
    // Live updates redraw only the charts on screen; one scrolled into view is drawn then.
    const observer = new IntersectionObserver(
      (entries) => {
        for (const entry of entries) {
          const panel = this.panels.find((p) => p.element === entry.target);
          if (!panel) continue;
          panel.offscreen = !entry.isIntersecting;
          if (!panel.offscreen && panel.stale) {
            panel.stale = false;
            panel.chart.update('none');
          }
        }
      },
      { rootMargin: '0px' },
    );
    for (const panel of this.panels) observer.observe(panel.element);
  }

  private create(container: HTMLElement, spec: ChartSpec): Panel {
    const element = document.createElement('section');
    element.className = 'chart';
    element.dataset.chart = spec.id;
    element.innerHTML = `<div class="chart-head"><h3>${spec.title}</h3><vscode-checkbox class="log-toggle" ${spec.log ? 'checked' : ''}>log scale</vscode-checkbox></div><div class="canvas-box"><canvas></canvas></div>`;
    container.appendChild(element);
    const extras: Extras = { events: [], edges: [] };
    const canvas = element.querySelector('canvas')!;
    const chart: Chart<'line'> = new Chart<'line'>(canvas, {
      type: 'line',
      data: { datasets: [] },
      plugins: [this.drawPlugin(extras)],
      options: {
        animation: false,
        parsing: false,
        normalized: true,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'nearest', intersect: false, axis: 'x' },
        scales: {
          x: { type: 'linear', title: { display: true, text: 'step' }, ticks: { callback: (value) => si(Number(value)), maxRotation: 0 } },
          y: this.yScale(spec, spec.log),
        },
        plugins: {
          legend: {
            display: true,
            labels: {
              boxWidth: 10,
              usePointStyle: true,
              pointStyleWidth: 22,
              boxHeight: 8,
              sort: (a, b) => a.datasetIndex! - b.datasetIndex!,
              filter: (item, data) => {
                // Series without a point (a run with no validation yet) have no legend entry.
                const dataset = data.datasets[item.datasetIndex!] as LineDataset;
                return dataset.inLegend ?? dataset.data.length > 0;
              },
              // A kind's entry in its full colour (its first marker may be a lighter, info-level one).
              // Kept while the datasets' names, colours and visibility are those it was made for: a
              // live update changes only their points.
              generateLabels: (c) => {
                const key = [
                  String(Chart.defaults.color),
                  ...(c.data.datasets as LineDataset[]).map((d, i) =>
                    [d.label, d.type, d.borderColor, d.backgroundColor, d.borderDash, d.borderWidth, c.isDatasetVisible(i)].map(String).join('\u0000'),
                  ),
                ].join('\u0001');
                if (legendCache.get(c)?.key !== key)
                  legendCache.set(c, {
                    key,
                    items: Chart.defaults.plugins.legend.labels.generateLabels(c).map((item) => {
                      const dataset = c.data.datasets[item.datasetIndex!] as unknown as MarkerDataset;
                      if (dataset.events) return { ...item, fillStyle: dataset.borderColor as string, strokeStyle: dataset.borderColor as string };
                      // A series is shown by a stroke of its line, dashed as it is drawn (a dashed box read as a checkbox).
                      const series = c.data.datasets[item.datasetIndex!] as LineDataset;
                      // (With point styles Chart.js takes the item's style from a point, which has no dash.)
                      if (series.showLine !== false && !series.pointStyle) return { ...item, pointStyle: 'line' as const, lineWidth: 2, lineDash: (series.borderDash as number[] | undefined) ?? [] };
                      // A series of points (validation) by one dot; Chart.js would stretch a circle to the line's width.
                      if (series.showLine === false) return { ...item, pointStyle: legendDot(String(series.borderColor)) };
                      return item;
                    }),
                  });
                return legendCache.get(c)!.items;
              },
            },
          },
          tooltip: {
            // A faint raw series is not listed on its own: its smoothed twin shows its value.
            filter: (item) => (item.dataset as LineDataset).inLegend !== false,
            callbacks: {
              title: (items) => (items.length ? `step ${Math.round(items[0].parsed.x ?? 0).toLocaleString('en')}` : ''),
              label: (item) => tooltipLabel(item.dataset as LineDataset | MarkerDataset, item.dataIndex, item.parsed.y ?? NaN),
            },
          },
          zoom: {
            zoom: {
              drag: { enabled: true, borderWidth: 1 },
              wheel: { enabled: true, modifierKey: 'ctrl' },
              pinch: { enabled: true },
              mode: 'x',
              onZoomComplete: ({ chart: c }) => this.rangeFrom(c),
            },
            pan: { enabled: true, mode: 'x', modifierKey: 'shift', onPanComplete: ({ chart: c }) => this.rangeFrom(c) },
            limits: { x: { min: 0, max: 1, minRange: 4 } },
          },
        },
        onClick: (_e, elements) => {
          const hit = elements.find((el) => (chart.data.datasets[el.datasetIndex] as MarkerDataset).events);
          if (!hit) return;
          const { run, event } = (chart.data.datasets[hit.datasetIndex] as MarkerDataset).events[hit.index];
          this.options.onEventClick(run, event);
        },
      },
    });
    canvas.addEventListener('dblclick', () => this.resetZoom());
    element.querySelector('.log-toggle')!.addEventListener('change', (e) => {
      const log = isChecked(e.target as Element);
      chart.options.scales!.y = this.yScale(spec, log);
      element.dataset.scale = log ? 'log' : 'linear';
      this.options.onScaleChange();
    });
    element.dataset.scale = spec.log ? 'log' : 'linear';
    return { spec, chart, element, extras, offscreen: false, stale: false, drawnRows: '' };
  }

  private yScale(spec: ChartSpec, log: boolean) {
    return log
      ? {
          type: 'logarithmic' as const,
          title: { display: true, text: spec.yTitle },
          ticks: { autoSkip: false, callback: yTickLabel(true) },
        }
      : {
          type: 'linear' as const,
          afterDataLimits: headroom,
          title: { display: true, text: spec.yTitle },
          ticks: { callback: yTickLabel(false) },
        };
  }

  /** The event lines, the crosshair and the edge markers, drawn by each chart. */
  private drawPlugin(extras: Extras): Plugin<'line'> {
    return {
      id: 'gradscopeDraw',
      beforeDatasetsDraw: (chart) => {
        const { ctx, chartArea, scales } = chart;
        ctx.save();
        ctx.lineWidth = 1;
        ctx.globalAlpha = 0.45;
        for (const { step, color } of extras.events) {
          const x = scales.x.getPixelForValue(step);
          if (x < chartArea.left || x > chartArea.right) continue;
          ctx.strokeStyle = color;
          ctx.beginPath();
          ctx.moveTo(x, chartArea.top);
          ctx.lineTo(x, chartArea.bottom);
          ctx.stroke();
        }
        ctx.restore();
      },
      afterDatasetsDraw: (chart) => {
        const { ctx, chartArea, scales } = chart;
        ctx.save();
        // One marker per 6 px at most along each edge: a long dead stretch reads as a dotted rail.
        const lastX = { top: -Infinity, bottom: -Infinity };
        for (const { x: step, top, color } of extras.edges) {
          const x = scales.x.getPixelForValue(step);
          if (x < chartArea.left - 1 || x > chartArea.right + 1) continue;
          const edge = top ? 'top' : 'bottom';
          if (Math.abs(x - lastX[edge]) < 6) continue;
          lastX[edge] = x;
          const y = top ? chartArea.top + 4 : chartArea.bottom - 4;
          ctx.fillStyle = color;
          ctx.beginPath();
          ctx.moveTo(x, y - 4);
          ctx.lineTo(x + 4, y);
          ctx.lineTo(x, y + 4);
          ctx.lineTo(x - 4, y);
          ctx.closePath();
          ctx.fill();
        }
        if (this.hoverStep !== undefined) {
          const x = scales.x.getPixelForValue(this.hoverStep);
          if (x >= chartArea.left && x <= chartArea.right) {
            ctx.strokeStyle = this.palette.crosshair;
            ctx.globalAlpha = 0.6;
            ctx.setLineDash([3, 3]);
            ctx.beginPath();
            ctx.moveTo(x, chartArea.top);
            ctx.lineTo(x, chartArea.bottom);
            ctx.stroke();
          }
        }
        ctx.restore();
      },
      afterEvent: (chart, args) => {
        const { event } = args;
        if (event.type === 'mousemove' && args.inChartArea && event.x !== null) this.hover(chart.scales.x.getValueForPixel(event.x));
        else if (event.type === 'mouseout' || (event.type === 'mousemove' && !args.inChartArea)) this.hover(undefined);
      },
    };
  }

  /** One crosshair for all charts: at the step under the pointer in any of them. */
  private hover(step: number | undefined): void {
    if (step === this.hoverStep) return;
    this.hoverStep = step;
    for (const { chart, element } of this.panels) if (!element.hidden) chart.draw();
  }

  /** A chart was zoomed or panned: every chart takes its x range. */
  private rangeFrom(chart: Chart): void {
    // Whole steps: the axis then starts and ends on a step, not on 52.42.
    const min = Math.max(this.full.min, Math.floor(chart.scales.x.min));
    const max = Math.min(this.full.max, Math.ceil(chart.scales.x.max));
    this.range = min <= this.full.min && max >= this.full.max ? undefined : { min, max };
    this.options.onRangeChange(this.range);
  }

  resetZoom(): void {
    this.range = undefined;
    this.options.onRangeChange(undefined);
  }

  setPalette(palette: Palette): void {
    this.palette = palette;
    this.applyPalette();
  }

  private applyPalette(): void {
    Chart.defaults.color = this.palette.foreground;
    Chart.defaults.borderColor = this.palette.grid;
    for (const { chart } of this.panels) {
      const zoom = chart.options.plugins!.zoom!.zoom!;
      zoom.drag = { ...zoom.drag, backgroundColor: withAlpha(this.palette.selection, 0.35), borderColor: this.palette.crosshair };
    }
  }

  /** Redraws every chart for the shown runs (the focused one first), within the shared x range. */
  /**
   * Live updates: redraw the charts one animation frame at a time (a few per frame, within a time
   * budget) instead of all in one task, so that a live update never blocks the view for a whole frame.
   * Off by default: a first paint, a zoom or a click draws everything at once.
   */
  sliced = false;
  private readonly drawQueue = new Set<Panel>();
  private drawStats = { total: 0, longest: 0, charts: 0 };
  /** After each sliced redraw: its total drawing time and its longest single task, in ms, and how many charts it redrew. */
  onSlicedDrawn: ((total: number, longest: number, charts: number) => void) | undefined;

  private queueDraw(panel: Panel): void {
    if (this.drawQueue.size === 0) {
      this.drawStats = { total: 0, longest: 0, charts: 0 };
      requestAnimationFrame(() => this.drawSlice());
    }
    this.drawQueue.add(panel);
  }

  /** Draws queued charts for up to 6 ms (at least one), then yields to the next frame. */
  private drawSlice(): void {
    const start = performance.now();
    for (const panel of this.drawQueue) {
      this.drawQueue.delete(panel);
      if (!panel.element.hidden) {
        panel.chart.update('none');
        this.drawStats.charts++;
      }
      if (performance.now() - start > 6) break;
    }
    const spent = performance.now() - start;
    this.drawStats.total += spent;
    this.drawStats.longest = Math.max(this.drawStats.longest, spent);
    if (this.drawQueue.size) requestAnimationFrame(() => this.drawSlice());
    else this.onSlicedDrawn?.(this.drawStats.total, this.drawStats.longest, this.drawStats.charts);
  }

  render(runs: ShownRun[]): void {
    // A full render supersedes any sliced redraw still pending.
    if (!this.sliced) this.drawQueue.clear();
    const last = Math.max(1, ...runs.map((r) => Math.max(r.data.snapshot.totalSteps - 1, r.data.lastStep)));
    // The axis spans the runs' planned steps, never shrunk to where some series happens to have data.
    this.full = { min: 0, max: last };
    const range = this.range ?? this.full;
    const overlay = runs.length > 1;
    const hidden: string[] = [];
    for (const panel of this.panels) if (!this.renderChart(panel, runs, range, overlay)) hidden.push(panel.spec.title);
    this.hiddenTitles = hidden;
    // A live update with nothing to redraw (zoomed elsewhere, charts scrolled away) is done at once.
    if (this.sliced && this.drawQueue.size === 0) queueMicrotask(() => this.onSlicedDrawn?.(0, 0, 0));
  }

  /** Titles of the charts hidden for want of data. */
  hiddenTitles: string[] = [];

  private renderChart(panel: Panel, runs: ShownRun[], range: Range, overlay: boolean): boolean {
    const { spec, chart, element, extras } = panel;
    // A live update (new rows only) past the end of a zoomed range changes nothing this chart shows.
    const drawnRows = `${range.min}-${range.max}:${runs.map((r) => {
      const rows = r.data.rows(this.range);
      return `${r.data.snapshot.runId}@${rows.start}-${rows.end}`;
    })}`;
    if (this.sliced && drawnRows === panel.drawnRows && element.dataset.drawn) {
      chart.options.plugins!.zoom!.limits = { x: { min: this.full.min, max: this.full.max, minRange: 4 } };
      return !element.hidden;
    }
    panel.drawnRows = drawnRows;
    const log = element.dataset.scale === 'log';
    // Min/max buckets of a few pixels: at most 4 points per bucket keep every spike and dip at screen
    // resolution while a live update stays cheap (a bucket per pixel would draw up to 4 points a pixel).
    // A smoothed line is smooth: 8 px buckets draw it exactly enough, and its faint raw series 4 px.
    // The canvas's width as Chart.js last sized it: reading the element's would force a layout.
    const pixels = chart.width || element.clientWidth || 800;
    const smoothing = this.smoothing > 0;
    const datasets: (LineDataset | MarkerDataset)[] = [];
    const markers = new Map<RunEventKind, MarkerDataset>();
    extras.events = [];
    extras.edges = [];
    let finite = 0;
    for (const [r, shown] of runs.entries()) {
      const rows = shown.data.rows(this.range);
      const series = spec.series(shown.data, rows, range);
      const keep = shown.data.snapshot.events.map((e) => lowerBound(rows.batch.step, e.step));
      const prefix = overlay ? `${shortTitle(shown.data.snapshot.title)}: ` : '';
      let firstTop = -Infinity;
      for (const [i, s] of series.entries()) {
        const color = overlay ? shown.color : this.palette.series[i % this.palette.series.length];
        const dash = s.style === 'dashed' ? [5, 4] : overlay && spec.id === 'layers' ? DASHES[i % DASHES.length] : undefined;
        const smoothed = s.smooth && smoothing && s.style !== 'points';
        const indices = decimate(s.values, Math.max(20, Math.round(pixels / (smoothed ? 4 : 3))), { start: s.start, end: s.end, keep, keepNonFinite: true });
        const raw: Point[] = new Array(indices.length);
        for (let k = 0; k < indices.length; k++) {
          const j = indices[k];
          const v = s.values[j];
          const ok = Number.isFinite(v) && (!log || v > 0);
          raw[k] = { x: s.steps[j], y: ok ? v : null };
          if (ok) {
            finite++;
            if (i === 0 && v > firstTop) firstTop = v;
          } else if (s.style !== 'points' || !Number.isNaN(v)) {
            extras.edges.push({ x: s.steps[j], top: Number.isNaN(v) || v === Infinity, color });
          }
        }
        const base = { borderColor: color, backgroundColor: color, borderDash: dash, spanGaps: false, pointRadius: s.style === 'points' ? 3 : 0, pointHoverRadius: 4 };
        if (smoothed) {
          const values = smoothedColumn(s.values, this.smoothing, s.end, log);
          const smoothIndices = decimate(values, Math.max(20, Math.round(pixels / 8)), { start: s.start, end: s.end, keep });
          const points = Array.from(smoothIndices, (j): Point => {
            const v = values[j];
            return { x: s.steps[j], y: Number.isFinite(v) && (!log || v > 0) ? v : null };
          });
          datasets.push({
            ...base,
            label: `${prefix}${s.label} (raw)`,
            data: raw,
            borderColor: withAlpha(color, 0.25),
            backgroundColor: withAlpha(color, 0.25),
            borderWidth: 1,
            inLegend: false,
            order: 2,
          });
          datasets.push({ ...base, label: `${prefix}${s.label}`, data: points, borderWidth: 1.5, order: 1, raw: { steps: s.steps, values: s.values } });
        } else {
          // Points (validation) at the first or last step are drawn whole, not cut by the x axis's ends.
          const clip = s.style === 'points' ? { clip: 5 } : {};
          datasets.push({ ...base, ...clip, label: `${prefix}${s.label}`, data: raw, borderWidth: s.style === 'points' ? 1 : 1.25, showLine: s.style !== 'points', order: 1 });
        }
      }
      const threshold = spec.threshold?.(shown.data);
      if (threshold !== undefined && finite > 0) {
        datasets.push({
          label: `${prefix}clip threshold`,
          data: [
            { x: range.min, y: threshold },
            { x: range.max, y: threshold },
          ],
          borderColor: this.palette.muted,
          backgroundColor: this.palette.muted,
          borderDash: [2, 3],
          borderWidth: 1,
          pointRadius: 0,
        });
      }
      this.addMarkers(markers, extras, shown.data, rows, series[0], range, firstTop, overlay ? shown.color : undefined);
      if (r === 0)
        element.dataset.eventSteps = shown.data.snapshot.events
          .filter((e) => e.step >= range.min && e.step <= range.max)
          .map((e) => e.step)
          .join(',');
    }
    if (extras.edges.length) {
      datasets.push({
        label: log ? '0 / non-finite (at the edges)' : 'non-finite (at the edges)',
        data: [],
        borderColor: this.palette.muted,
        backgroundColor: this.palette.muted,
        pointStyle: 'rectRot',
        inLegend: true,
      });
    }
    datasets.push(...markers.values());
    chart.data.datasets = reuseDatasets(chart.data.datasets as (LineDataset | MarkerDataset)[], datasets) as ChartDataset<'line', Point[]>[];
    const x = chart.options.scales!.x!;
    x.min = range.min;
    x.max = range.max;
    chart.options.plugins!.zoom!.limits = { x: { min: this.full.min, max: this.full.max, minRange: 4 } };
    // No empty charts: a chart without a single drawable value is hidden (the view lists it as "no data").
    element.hidden = finite === 0;
    if (finite > 0 && panel.offscreen && element.dataset.drawn) panel.stale = true;
    else if (finite > 0 && this.sliced && element.dataset.drawn) this.queueDraw(panel);
    else if (finite > 0) {
      chart.update('none');
      element.dataset.drawn = 'true';
    }
    // What this chart shows, for people reading the DOM and for the end-to-end tests.
    element.dataset.points = String(datasets.reduce((n, d) => n + d.data.length, 0));
    element.dataset.edges = String(extras.edges.length);
    element.dataset.datasets = datasets.map((d) => d.label).join('|');
    element.dataset.xRange = `${Math.round(range.min)}-${Math.round(range.max)}`;
    return finite > 0;
  }

  /** Event markers on the chart's first series, one dataset (legend entry) per kind, coloured by kind. */
  private addMarkers(markers: Map<RunEventKind, MarkerDataset>, extras: Extras, run: RunData, rows: Rows, first: Series | undefined, range: Range, top: number, runColor: string | undefined): void {
    if (!first) return;
    const events = run.snapshot.events.filter((e) => e.step >= range.min && e.step <= range.max).slice(-500);
    for (const event of events) {
      const info = (event as { severity?: string }).severity === 'info';
      const color = info ? withAlpha(this.palette.kind[event.kind], 0.45) : this.palette.kind[event.kind];
      let dataset = markers.get(event.kind);
      if (!dataset) {
        dataset = {
          type: 'scatter',
          label: KIND_LABELS[event.kind],
          data: [],
          events: [],
          pointBackgroundColor: [],
          pointBorderColor: [],
          pointRadius: 5,
          pointHoverRadius: 7,
          pointStyle: 'triangle',
          // A marker at the first or last step is drawn whole.
          clip: 8,
          showLine: false,
          borderColor: this.palette.kind[event.kind],
          backgroundColor: this.palette.kind[event.kind],
          order: 0,
        };
        markers.set(event.kind, dataset);
      }
      const index = lowerBound(rows.batch.step, event.step);
      const value = first.steps === rows.batch.step && rows.batch.step[index] === event.step ? first.values[index] : NaN;
      // A value the axis cannot place puts the marker at the top of the series.
      dataset.data.push({ x: event.step, y: Number.isFinite(value) && value > 0 ? value : Number.isFinite(top) ? top : null });
      dataset.events.push({ run, event });
      (dataset.pointBackgroundColor as string[]).push(color);
      (dataset.pointBorderColor as string[]).push(runColor ?? color);
      extras.events.push({ step: event.step, color });
    }
  }
}

const DASHES = [[], [6, 3], [2, 2], [8, 3, 2, 3]];

const legendDots = new Map<string, HTMLCanvasElement>();

/** An 8 px dot of a colour, drawn at its own size by the legend (as an image point style). */
function legendDot(color: string): HTMLCanvasElement {
  let dot = legendDots.get(color);
  if (!dot) {
    dot = document.createElement('canvas');
    dot.width = dot.height = 8;
    const context = dot.getContext('2d')!;
    context.fillStyle = color;
    context.beginPath();
    context.arc(4, 4, 3.5, 0, 2 * Math.PI);
    context.fill();
    legendDots.set(color, dot);
  }
  return dot;
}

/** Each chart's legend items and what they were made from. */
const legendCache = new WeakMap<Chart, { key: string; items: LegendItem[] }>();

/**
 * The new datasets, each written into the chart's dataset of the same label where there is one.
 * Chart.js keys its controller and drawn elements on the dataset object: a new object each render
 * would make it build a controller and an element per point again on every live update.
 */
function reuseDatasets<D extends object & { label?: string }>(old: D[], next: D[]): D[] {
  const byLabel = new Map<string, D[]>();
  for (const d of old) {
    const key = d.label ?? '';
    byLabel.set(key, [...(byLabel.get(key) ?? []), d]);
  }
  return next.map((d) => {
    const kept = byLabel.get(d.label ?? '')?.shift();
    if (!kept) return d;
    for (const key of Object.keys(kept)) if (!(key in d)) delete (kept as Record<string, unknown>)[key];
    return Object.assign(kept, d);
  });
}

/** Smoothed columns, extended as rows are appended (columns grow in place) instead of recomputed. */
const smoothCache = new WeakMap<object, RunningEma>();

function smoothedColumn(values: ArrayLike<number>, weight: number, end: number, log: boolean): ArrayLike<number> {
  let running = smoothCache.get(values);
  if (!running || running.weight !== weight || running.positiveOnly !== log || running.length > end) {
    running = new RunningEma(weight, log);
    smoothCache.set(values, running);
  }
  return running.extend(values, end);
}

/** A run's name in a legend: its job name (before " · schedule"), cut to 20 characters. */
function shortTitle(title: string): string {
  const name = title.split(' · ')[0];
  return name.length > 20 ? `${name.slice(0, 19)}…` : name;
}

/**
 * What a tick label depends on besides its value, computed once per axis (Chart.js calls the label
 * callback for each tick with the same array): a linear axis's tick step and largest tick.
 */
const linearSummaries = new WeakMap<Tick[], { step: number; largest: number }>();
function linearSummary(ticks: Tick[]): { step: number; largest: number } {
  let summary = linearSummaries.get(ticks);
  if (!summary) {
    let largest = -Infinity;
    for (const t of ticks) largest = Math.max(largest, Math.abs(t.value));
    summary = { step: ticks.length > 1 ? Math.abs(ticks[1].value - ticks[0].value) : 0, largest };
    linearSummaries.set(ticks, summary);
  }
  return summary;
}

/** A y axis's tick labels (also the tool views'): 0.05, not 0.050; 10, not 10.0; log axes labelled where they do not crowd. */
export function yTickLabel(log: boolean): (value: string | number, index: number, ticks: Tick[]) => string {
  return log
    ? (value, _i, ticks) => logLabel(Number(value), ticks)
    : (value, _i, ticks) => {
        const { step, largest } = linearSummary(ticks);
        return tick(Number(value), step, largest);
      };
}

/** A log axis's decades, once per axis. */
const logDecades = new WeakMap<Tick[], number>();
function logLabel(value: number, ticks: Tick[]): string {
  let decades = logDecades.get(ticks);
  if (decades === undefined) {
    let min = Infinity;
    let max = -Infinity;
    for (const t of ticks)
      if (t.value > 0) {
        min = Math.min(min, t.value);
        max = Math.max(max, t.value);
      }
    decades = max > 0 ? Math.log10(max / min) : 0;
    logDecades.set(ticks, decades);
  }
  return logTickShown(value, ticks.length, decades) ? logTick(value) : '';
}

function tooltipLabel(dataset: LineDataset | MarkerDataset, index: number, y: number): string {
  if (dataset.events) {
    const { event } = dataset.events[index];
    return `${eventLabel(event)} at step ${event.step}: ${eventDetails(event)}`;
  }
  if (dataset.raw) {
    const x = dataset.data[index].x;
    const i = lowerBound(dataset.raw.steps, x);
    if (dataset.raw.steps[i] === x) return `${dataset.label ?? ''}: ${sig3(y)} (raw ${sig3(dataset.raw.values[i])})`;
  }
  return `${dataset.label ?? ''}: ${sig3(y)}`;
}
