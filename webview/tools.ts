// The tool views: learning-rate range test, strategy comparison, schedule preview.
import { Chart, Filler, Legend, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, ScatterController, Tooltip, type ChartDataset } from 'chart.js';
import { COLUMNS, type CompareRow } from '../src/core/compareTable';
import { decimate } from '../src/core/decimate';
import type { CompareState, HostToWebview, PreviewState, WebviewToHost } from '../src/core/protocol';
import type { LrFindResult } from '../src/core/lrFind';
import { onThemeChange, readPalette } from './theme';

Chart.register(LineController, ScatterController, LineElement, PointElement, LinearScale, LogarithmicScale, Tooltip, Legend, Filler);

type Post = (message: WebviewToHost) => void;
type Point = { x: number; y: number | null };
const e = (v: number) => v.toExponential(2);

const GRID_COLUMNS = COLUMNS.filter((c) => c !== 'description');
const COLUMN_TITLES: Record<keyof CompareRow, string> = {
  strategy: 'Strategy', description: 'What', status: 'Status', steps: 'Steps', finalTrainLoss: 'Train loss', finalValidationLoss: 'Val. loss',
  finalValidationAccuracy: 'Val. accuracy', stepsToTarget: 'Steps to target', explosions: 'Explosions', nonFinite: 'Non-finite', wallTimeMs: 'Time (ms)',
};

export function startTool(root: HTMLElement, post: Post): void {
  let palette = readPalette();
  let last: HostToWebview | undefined;
  const charts = new Map<string, Chart>();
  const draw = () => {
    if (!last) return;
    if (last.type === 'lrFind') drawLrFind(last.title, last.result, last.currentPeak, last.applied === true);
    if (last.type === 'compare') drawCompare(last.state);
    if (last.type === 'preview') drawPreview(last.state);
  };
  onThemeChange(() => {
    palette = readPalette();
    Chart.defaults.color = palette.foreground;
    draw();
  });
  Chart.defaults.color = palette.foreground;
  Chart.defaults.borderColor = palette.grid;
  root.innerHTML = '<header><h2 id="title"></h2><span id="summary" class="status"></span><span id="actions"></span></header><div id="body"></div>';
  window.addEventListener('message', (event: MessageEvent<HostToWebview>) => {
    last = event.data;
    draw();
  });

  /** A chart in its own box, made once and updated in place. */
  function chart(id: string, title: string, datasets: ChartDataset<'line', Point[]>[], xLog: boolean, yLog: boolean, xTitle: string): void {
    let box = document.getElementById(`chart-${id}`);
    if (!box) {
      box = document.createElement('section');
      box.id = `chart-${id}`;
      box.className = 'chart';
      box.dataset.chart = id;
      box.innerHTML = `<h3>${title}</h3><div class="canvas-box"><canvas></canvas></div>`;
      document.getElementById('body')!.appendChild(box);
      charts.set(id, new Chart(box.querySelector('canvas')!, {
        type: 'line', data: { datasets: [] },
        options: { animation: false, parsing: false, responsive: true, maintainAspectRatio: false, interaction: { mode: 'nearest', intersect: false },
          scales: {
            x: { type: xLog ? 'logarithmic' : 'linear', title: { display: true, text: xTitle }, ...(xLog ? { ticks: { callback: (value: string | number) => (Math.log10(Number(value)) % 1 === 0 ? Number(value).toExponential(0) : '') } } : {}) },
            y: { type: yLog ? 'logarithmic' : 'linear' },
          } },
      }));
    }
    const c = charts.get(id)!;
    c.data.datasets = datasets;
    c.update('none');
  }

  function setHeader(title: string, summary: string): void {
    document.getElementById('title')!.textContent = title;
    document.getElementById('summary')!.textContent = summary;
  }

  /** The last step a chart's x axis should reach (Chart.js would round it up). */
  function setXMax(id: string, max: number): void {
    const c = charts.get(id);
    if (!c) return;
    c.options.scales!.x!.max = max;
    c.update('none');
  }

  function vertical(x: number, low: number, high: number, label: string, color: string, dashed = false): ChartDataset<'line', Point[]> {
    return { label, data: [{ x, y: low }, { x, y: high }], borderColor: color, backgroundColor: color, borderWidth: 1.5, borderDash: dashed ? [4, 3] : undefined, pointRadius: 0 };
  }

  function drawLrFind(title: string, result: LrFindResult, currentPeak: number | undefined, applied: boolean): void {
    setHeader(title, `${result.lrs.length} steps from ${e(result.lrs[0])} to ${e(result.lrs.at(-1)!)}${result.stoppedEarly ? ` (${result.stoppedEarly})` : ''}`);
    const actions = document.getElementById('actions')!;
    if (!actions.querySelector('#apply')) {
      actions.innerHTML = '<vscode-button id="apply">Apply to the job</vscode-button>';
      actions.querySelector('#apply')!.addEventListener('click', () => post({ type: 'applyLr' }));
    }
    (actions.querySelector('#apply') as HTMLButtonElement).disabled = applied;
    let text = document.getElementById('suggestion');
    if (!text) {
      text = document.createElement('p');
      text.id = 'suggestion';
      document.getElementById('body')!.prepend(text);
    }
    text.dataset.suggestion = String(result.suggestion);
    text.textContent = `Suggested peak learning rate ${e(result.suggestion)}: the median of valley ${e(result.methods.valley)}, steepest slope ${e(result.methods.steepest)} and minimum/10 ${e(result.methods.minimumDiv10)}`
      + `${result.explosionLr !== undefined ? `, kept under a third of ${e(result.explosionLr)} where the gradient norm explodes` : ''}.`
      + `${currentPeak !== undefined ? ` The job's peak is ${applied ? 'now' : 'currently'} ${e(currentPeak)}.` : ''}`;
    const finite = result.losses.filter(Number.isFinite);
    const low = Math.min(...finite);
    const high = Math.min(Math.max(...finite), 4 * Math.max(...result.smoothedLosses.filter(Number.isFinite)));
    const points = (values: number[]) => values.map((y, i) => ({ x: result.lrs[i], y: Number.isFinite(y) && y > 0 ? y : null }));
    const datasets: ChartDataset<'line', Point[]>[] = [
      { label: 'loss', data: points(result.losses), borderColor: palette.muted, borderWidth: 1, pointRadius: 0 },
      { label: 'smoothed', data: points(result.smoothedLosses), borderColor: palette.series[0], borderWidth: 2, pointRadius: 0 },
      vertical(result.suggestion, low, high, 'suggestion', palette.kind.lrCut),
      vertical(result.methods.valley, low, high, 'valley', palette.series[3], true),
      vertical(result.methods.steepest, low, high, 'steepest', palette.series[2], true),
    ];
    if (result.explosionLr !== undefined) datasets.push(vertical(result.explosionLr, low, high, 'gradient explodes', palette.kind.explosion));
    chart('lrFind', 'Loss against learning rate', datasets, true, true, 'learning rate');
  }

  function drawCompare(state: CompareState): void {
    setHeader(state.title, state.pending.length ? `running: ${state.pending.join(', ')}` : `done · target loss ${state.target?.toPrecision(3) ?? '–'}`);
    const actions = document.getElementById('actions')!;
    if (!actions.querySelector('#sort')) {
      actions.innerHTML = `<vscode-dropdown id="sort" aria-label="Sort by">${COLUMNS.map((c) => `<vscode-option value="${c}">${c}</vscode-option>`).join('')}</vscode-dropdown>
        <vscode-button id="export-csv" appearance="secondary">Export CSV</vscode-button><vscode-button id="export-md" appearance="secondary">Export Markdown</vscode-button>`;
      actions.querySelector('#sort')!.addEventListener('change', (ev) => post({ type: 'sortCompare', column: (ev.target as HTMLInputElement).value as keyof CompareRow }));
      actions.querySelector('#export-csv')!.addEventListener('click', () => post({ type: 'exportCompare', format: 'csv' }));
      actions.querySelector('#export-md')!.addEventListener('click', () => post({ type: 'exportCompare', format: 'markdown' }));
    }
    (actions.querySelector('#sort') as HTMLInputElement).value = state.sortedBy;
    let grid = document.getElementById('compare-table') as (HTMLElement & { rowsData: object[]; columnDefinitions: object[] }) | null;
    if (!grid) {
      grid = document.createElement('vscode-data-grid') as HTMLElement & { rowsData: object[]; columnDefinitions: object[] };
      grid.id = 'compare-table';
      grid.setAttribute('generate-header', 'sticky');
      // The description is in the export; on screen the strategy's name says enough.
      grid.columnDefinitions = GRID_COLUMNS.map((c) => ({ columnDataKey: c, title: COLUMN_TITLES[c] }));
      grid.setAttribute('grid-template-columns', '120px 75px 60px 85px 85px 95px 95px 85px 85px 85px');
      document.getElementById('body')!.prepend(grid);
    }
    const format = (v: unknown) => (v === null ? '–' : typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : String(v));
    grid.rowsData = state.rows.map((row) => Object.fromEntries(GRID_COLUMNS.map((c) => [c, format(row[c])])));
    grid.dataset.strategies = state.rows.map((r) => r.strategy).join(',');
    const width = Math.max(200, root.clientWidth);
    for (const [id, title, key, log] of [['lr', 'Learning rate', 'lr', false], ['loss', 'Training loss', 'loss', true], ['gradNorm', 'Gradient norm', 'gradNorm', true]] as const) {
      const datasets: ChartDataset<'line', Point[]>[] = state.runs.map((run, i) => {
        const values = run[key];
        const keep = run.events.map((ev) => run.step.indexOf(ev.step)).filter((k) => k >= 0);
        const indices = decimate(values, width, { keep });
        return { label: run.strategy, data: Array.from(indices, (k) => ({ x: run.step[k], y: Number.isFinite(values[k]) && (!log || values[k] > 0) ? values[k] : null })), borderColor: palette.series[i % palette.series.length], borderWidth: 1.25, pointRadius: 0 };
      });
      const flagged = state.runs.flatMap((run) => run.events.filter((ev) => ev.kind === 'explosion' || ev.kind === 'nonFinite').map((ev) => ({ x: ev.step, y: run[key][run.step.indexOf(ev.step)] })))
        .map((p) => ({ x: p.x, y: Number.isFinite(p.y) && (!log || p.y > 0) ? p.y : null }));
      if (flagged.length) datasets.push({ type: 'scatter', label: 'explosions', data: flagged, pointStyle: 'triangle', pointRadius: 5, borderColor: palette.kind.explosion, backgroundColor: palette.kind.explosion } as unknown as ChartDataset<'line', Point[]>);
      chart(`compare-${id}`, title, datasets, false, log, 'step');
    }
  }

  function drawPreview(state: PreviewState): void {
    setHeader(`Schedule of ${state.title}`, state.problems.length ? 'the job has problems' : `${state.totalSteps} steps: ${state.stepsNote}`);
    let problems = document.getElementById('problems');
    if (!problems) {
      problems = document.createElement('ul');
      problems.id = 'problems';
      document.getElementById('body')!.prepend(problems);
    }
    problems.innerHTML = state.problems.map((p) => `<li>${p.replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`)}</li>`).join('');
    const width = Math.max(200, root.clientWidth);
    const indices = decimate(state.planned, width);
    const line = (values: number[]) => Array.from(indices, (k) => ({ x: k, y: values[k] }));
    const datasets: ChartDataset<'line', Point[]>[] = [{ label: 'planned learning rate', data: line(state.planned), borderColor: palette.series[0], borderWidth: 2, pointRadius: 0 }];
    if (state.band) datasets.push({ label: state.band.label, data: line(state.band.low), borderColor: palette.muted, borderDash: [3, 3], borderWidth: 1, pointRadius: 0, fill: '-1', backgroundColor: `${palette.series[0]}22` });
    chart('preview', 'Learning rate of each step', datasets, false, false, 'step');
    setXMax('preview', Math.max(1, state.planned.length - 1));
    root.dataset.steps = String(state.planned.length);
  }
}
