// The tool views: learning-rate range test, strategy comparison, schedule preview.
import { Chart, Filler, Legend, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, ScatterController, Tooltip, type ChartDataset } from 'chart.js';
import type { CompareRow } from '../src/core/tools/compareTable';
import { decimate } from '../src/core/series/decimate';
import type { CompareState, HostToWebview, PreviewState, WebviewToHost } from '../src/core/protocol';
import type { LrFindResult } from '../src/core/tools/lrFind';
import { yTickLabel } from './charts';
import { headroom } from './numbers';
import { onThemeChange, readPalette, withAlpha } from './theme';

Chart.register(LineController, ScatterController, LineElement, PointElement, LinearScale, LogarithmicScale, Tooltip, Legend, Filler);

type Post = (message: WebviewToHost) => void;
type Point = { x: number; y: number | null };
const e = (v: number) => v.toExponential(2);

import { compareColumns, formatCell, bestValues } from './compareView';
import './tools.css';

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
    // Grid lines too: charts made under a dark theme would keep near-black grids in a light one.
    Chart.defaults.borderColor = palette.grid;
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
      charts.set(
        id,
        new Chart(box.querySelector('canvas')!, {
          type: 'line',
          data: { datasets: [] },
          options: {
            animation: false,
            parsing: false,
            responsive: true,
            maintainAspectRatio: false,
            interaction: { mode: 'nearest', intersect: false },
            scales: {
              x: {
                type: xLog ? 'logarithmic' : 'linear',
                title: { display: true, text: xTitle },
                ...(xLog ? { ticks: { callback: (value: string | number) => (Math.log10(Number(value)) % 1 === 0 ? Number(value).toExponential(0) : '') } } : {}),
              },
              // Labelled as the diagnostics panel's axes are: 0.05 and 10, not 0.050 and 10.0.
              y: { type: yLog ? 'logarithmic' : 'linear', ...(yLog ? {} : { afterDataLimits: headroom }), ticks: { callback: yTickLabel(yLog) } },
            },
          },
        }),
      );
    }
    const c = charts.get(id)!;
    c.data.datasets = datasets;
    // Colours set on each axis, not left to Chart.defaults: a chart keeps the axes' colours it was
    // made with, and the theme may have changed since.
    for (const axis of [c.options.scales!.x, c.options.scales!.y] as { ticks?: object; grid?: object; border?: object; title?: { color?: string } }[]) {
      Object.assign(axis, { ticks: { ...axis.ticks, color: palette.foreground }, grid: { ...axis.grid, color: palette.grid }, border: { ...axis.border, color: palette.grid } });
      if (axis.title) axis.title.color = palette.foreground;
    }
    if (c.options.plugins?.legend?.labels) c.options.plugins.legend.labels.color = palette.foreground;
    c.update('none');
    // For tests: how many series hold points now.
    box.dataset.series = String(datasets.filter((d) => d.data.length > 0).length);
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
    return {
      label,
      data: [
        { x, y: low },
        { x, y: high },
      ],
      borderColor: color,
      backgroundColor: color,
      borderWidth: 1.5,
      borderDash: dashed ? [4, 3] : undefined,
      pointRadius: 0,
    };
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
    text.textContent =
      `Suggested peak learning rate ${e(result.suggestion)}: the median of valley ${e(result.methods.valley)}, steepest slope ${e(result.methods.steepest)} and minimum/10 ${e(result.methods.minimumDiv10)}` +
      `${result.explosionLr !== undefined ? `, kept under a third of ${e(result.explosionLr)} where the gradient norm explodes` : ''}.` +
      `${currentPeak !== undefined ? ` The job's peak is ${applied ? 'now' : 'currently'} ${e(currentPeak)}.` : ''}`;
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
    const running = state.progress?.filter((p) => p.state === 'running') ?? [];
    setHeader(
      state.title,
      state.pending.length
        ? `running ${running.map((p) => `${p.strategy} ${p.totalSteps ? Math.round((100 * p.step) / p.totalSteps) : 0}%`).join(', ') || '…'} · ${state.pending.length} to go`
        : `done · target loss ${state.target?.toPrecision(3) ?? '–'}`,
    );
    const actions = document.getElementById('actions')!;
    if (!actions.querySelector('#export-csv')) {
      actions.innerHTML = `<vscode-button id="export-csv" appearance="secondary">Export CSV</vscode-button><vscode-button id="export-md" appearance="secondary">Export Markdown</vscode-button>`;
      actions.querySelector('#export-csv')!.addEventListener('click', () => post({ type: 'exportCompare', format: 'csv' }));
      actions.querySelector('#export-md')!.addEventListener('click', () => post({ type: 'exportCompare', format: 'markdown' }));
    }
    let table = document.getElementById('compare-table') as HTMLTableElement | null;
    if (!table) {
      table = document.createElement('table');
      table.id = 'compare-table';
      table.className = 'compare';
      // Fixed layout: the widths below hold whatever the values are; headers wrap between words only.
      table.innerHTML = `<colgroup>${compareColumns.map(() => '<col>').join('')}</colgroup>
        <thead><tr>${compareColumns.map((c) => `<th scope="col" data-column="${c.key}" class="${c.numeric ? 'num' : ''}" tabindex="0" title="Sort by ${c.title.toLowerCase()}, ${c.order}">${c.title}<span class="arrow" aria-hidden="true"></span></th>`).join('')}</tr></thead><tbody></tbody>`;
      // Through the CSSOM: the page's CSP allows no inline style attributes.
      table.querySelectorAll('col').forEach((col, i) => (col.style.width = compareColumns[i].width));
      table.querySelectorAll<HTMLElement>('th').forEach((th) => {
        const sort = () => post({ type: 'sortCompare', column: th.dataset.column as keyof CompareRow });
        th.addEventListener('click', sort);
        th.addEventListener('keydown', (ev: KeyboardEvent) => {
          if (ev.key !== 'Enter' && ev.key !== ' ') return;
          ev.preventDefault();
          sort();
        });
      });
      // Below its minimum width the table scrolls sideways instead of squeezing its headers.
      const scroller = document.createElement('div');
      scroller.className = 'table-scroll';
      scroller.appendChild(table);
      document.getElementById('body')!.prepend(scroller);
    }
    table.querySelectorAll<HTMLElement>('th').forEach((th) => {
      const sorted = th.dataset.column === state.sortedBy;
      th.setAttribute('aria-sort', sorted ? (state.sortedBy === 'finalValidationAccuracy' ? 'descending' : 'ascending') : 'none');
      th.querySelector('.arrow')!.textContent = sorted ? (state.sortedBy === 'finalValidationAccuracy' ? ' ▼' : ' ▲') : '';
    });
    const best = bestValues(state.rows);
    const done = new Set(state.rows.map((r) => r.strategy));
    const escape = (text: string) => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
    const finished = state.rows.map(
      (row) =>
        `<tr data-strategy="${escape(row.strategy)}" title="${escape(row.description)}">${compareColumns
          .map((c) => {
            const isBest = best[c.key] !== undefined && row[c.key] === best[c.key];
            return `<td class="${c.numeric ? 'num' : ''}${isBest ? ' best' : ''}"${isBest ? ' title="best in this column"' : ''}>${escape(formatCell(c.key, row[c.key]))}</td>`;
          })
          .join('')}</tr>`,
    );
    // Strategies still training or queued: a progress bar in their row, below the finished ones.
    const waiting = (state.progress ?? [])
      .filter((p) => !done.has(p.strategy))
      .map((p) => {
        const share = p.totalSteps ? p.step / p.totalSteps : 0;
        const label = p.state === 'queued' ? 'queued' : `${p.step} / ${p.totalSteps || '…'}`;
        return `<tr class="pending" data-strategy="${escape(p.strategy)}"><td>${escape(p.strategy)}</td><td colspan="${compareColumns.length - 1}"><div class="progress" role="progressbar" aria-valuenow="${Math.round(100 * share)}" aria-valuemin="0" aria-valuemax="100"><div class="bar" data-share="${share.toFixed(4)}"></div><span>${label}</span></div></td></tr>`;
      });
    table.tBodies[0].innerHTML = [...finished, ...waiting].join('');
    table.querySelectorAll<HTMLElement>('.bar').forEach((bar) => (bar.style.width = `${100 * Number(bar.dataset.share)}%`));
    table.dataset.strategies = state.rows.map((r) => r.strategy).join(',');
    table.dataset.sortedBy = state.sortedBy;
    const width = Math.max(200, root.clientWidth);
    for (const [id, title, key, log] of [
      ['lr', 'Learning rate', 'lr', false],
      ['loss', 'Training loss', 'loss', true],
      ['gradNorm', 'Gradient norm', 'gradNorm', true],
    ] as const) {
      const datasets: ChartDataset<'line', Point[]>[] = state.runs.map((run, i) => {
        // One colour per strategy whatever order the runs finish in.
        const order = state.progress?.findIndex((p) => p.strategy === run.strategy) ?? -1;
        const color = palette.series[(order >= 0 ? order : i) % palette.series.length];
        const values = run[key];
        const keep = run.events.map((ev) => run.step.indexOf(ev.step)).filter((k) => k >= 0);
        const indices = decimate(values, width, { keep });
        return {
          label: run.strategy,
          data: Array.from(indices, (k) => ({ x: run.step[k], y: Number.isFinite(values[k]) && (!log || values[k] > 0) ? values[k] : null })),
          borderColor: color,
          backgroundColor: color,
          borderWidth: 1.25,
          pointRadius: 0,
        };
      });
      const flagged = state.runs
        .flatMap((run) => run.events.filter((ev) => ev.kind === 'explosion' || ev.kind === 'nonFinite').map((ev) => ({ x: ev.step, y: run[key][run.step.indexOf(ev.step)] })))
        .map((p) => ({ x: p.x, y: Number.isFinite(p.y) && (!log || p.y > 0) ? p.y : null }));
      if (flagged.length)
        datasets.push({
          type: 'scatter',
          label: 'explosions',
          data: flagged,
          pointStyle: 'triangle',
          pointRadius: 5,
          borderColor: palette.kind.explosion,
          backgroundColor: palette.kind.explosion,
        } as unknown as ChartDataset<'line', Point[]>);
      chart(`compare-${id}`, title, datasets, false, log, 'step');
      // Live runs grow into a fixed frame: the longest planned run.
      const planned = Math.max(0, ...(state.progress ?? []).map((p) => p.totalSteps));
      if (planned > 0) setXMax(`compare-${id}`, planned - 1);
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
    if (state.band)
      datasets.push({
        label: state.band.label,
        data: line(state.band.low),
        borderColor: palette.muted,
        borderDash: [3, 3],
        borderWidth: 1,
        pointRadius: 0,
        fill: '-1',
        backgroundColor: withAlpha(palette.series[0], 0.13),
      });
    chart('preview', 'Learning rate of each step', datasets, false, false, 'step');
    setXMax('preview', Math.max(1, state.planned.length - 1));
    root.dataset.steps = String(state.planned.length);
  }
}
