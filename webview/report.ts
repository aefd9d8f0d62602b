// The script of a self-contained HTML report (gradscope report): the data is inlined in the page.
import { Chart, Legend, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, ScatterController, Tooltip, type ChartDataset } from 'chart.js';
import { describeEvent } from '../src/core/detect/describe';
import type { ReportRun } from '../src/core/logs/reportData';

Chart.register(LineController, ScatterController, LineElement, PointElement, LinearScale, LogarithmicScale, Tooltip, Legend);

declare global {
  interface Window {
    GRADSCOPE_REPORT: ReportRun[];
  }
}

const css = getComputedStyle(document.documentElement);
const color = (name: string) => css.getPropertyValue(name).trim();
const palette = ['--blue', '--green', '--orange', '--purple', '--yellow'].map(color);
Chart.defaults.color = color('--fg');
Chart.defaults.borderColor = color('--grid');

const root = document.getElementById('report')!;
for (const run of window.GRADSCOPE_REPORT) {
  // The page's JSON carries an event's NaN and ±Infinity as text (reportHtml): numbers again.
  for (const event of run.events as unknown as Record<string, unknown>[]) {
    for (const key in event) if (event[key] === 'NaN' || event[key] === 'Infinity' || event[key] === '-Infinity') event[key] = Number(event[key]);
  }
  const section = document.createElement('section');
  section.innerHTML = `<h2></h2><p class="summary"></p>`;
  section.querySelector('h2')!.textContent = run.title;
  const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
  section.querySelector('.summary')!.textContent = `${count(run.rows, 'step')}, ${count(run.events.length, 'event')}`;
  root.appendChild(section);
  for (const chart of run.charts) {
    const box = document.createElement('div');
    box.className = 'chart';
    box.dataset.chart = chart.id;
    box.dataset.eventSteps = run.events.map((e) => e.step).join(',');
    box.innerHTML = `<h3>${chart.title}</h3><div class="canvas"><canvas></canvas></div>`;
    section.appendChild(box);
    const first = chart.series[0];
    const datasets: ChartDataset<'line', { x: number; y: number | null }[]>[] = chart.series.map((s, i) => ({
      label: s.label,
      data: s.steps.map((x, k) => ({ x, y: chart.log && (s.values[k] ?? 0) <= 0 ? null : s.values[k] })),
      borderColor: palette[i % palette.length],
      borderWidth: 1.25,
      pointRadius: 0,
    }));
    // An event's marker sits on its point, or at the top of the line where that point is a gap (NaN);
    // on a line with no finite value at all (a loss NaN throughout) on the axis's 1 (log) or 0.
    const finite = first.values.filter((v): v is number => v !== null);
    const top = finite.length ? finite.reduce((a, b) => Math.max(a, b)) : chart.log ? 1 : 0;
    const at = new Map(first.steps.map((x, k) => [x, first.values[k]]));
    datasets.push({
      type: 'scatter',
      label: 'events',
      data: run.events.map((e) => ({ x: e.step, y: at.get(e.step) ?? top })),
      pointStyle: 'triangle',
      pointRadius: 5,
      borderColor: color('--red'),
      backgroundColor: color('--red'),
    } as unknown as ChartDataset<'line', { x: number; y: number | null }[]>);
    // Chart.js's log axis can guess its lower bound from a few points: give it the smallest value.
    const positives = chart.series.flatMap((s) => s.values).filter((v): v is number => v !== null && v > 0);
    const yMin = chart.log && positives.length ? positives.reduce((a, b) => Math.min(a, b)) : undefined;
    new Chart(box.querySelector('canvas')!, {
      type: 'line',
      data: { datasets },
      options: {
        animation: false,
        parsing: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: { x: { type: 'linear', title: { display: true, text: 'step' } }, y: { type: chart.log ? 'logarithmic' : 'linear', ...(yMin !== undefined ? { min: yMin } : {}) } },
        plugins: {
          tooltip: { callbacks: { label: (item) => (item.dataset.label === 'events' ? describeEvent(run.events[item.dataIndex]) : `${item.dataset.label}: ${item.formattedValue}`) } },
          // As in the panel: a series by a stroke of its line, the events by their marker (a filled box read as a checkbox).
          legend: {
            labels: {
              usePointStyle: true,
              pointStyleWidth: 22,
              boxHeight: 8,
              generateLabels: (c) =>
                Chart.defaults.plugins.legend.labels
                  .generateLabels(c)
                  .map((item) =>
                    (c.data.datasets[item.datasetIndex!] as { type?: string }).type === 'scatter'
                      ? { ...item, pointStyle: legendTriangle(color('--red')) }
                      : { ...item, pointStyle: 'line' as const, lineWidth: 2 },
                  ),
            },
          },
        },
      },
    });
  }
  const table = document.createElement('table');
  table.innerHTML = '<thead><tr><th>Step</th><th>Severity</th><th>Kind</th><th>What</th></tr></thead><tbody></tbody>';
  for (const event of run.events) {
    const tr = document.createElement('tr');
    for (const text of [String(event.step), 'severity' in event ? event.severity : '', event.kind, describeEvent(event)]) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.appendChild(td);
    }
    table.tBodies[0].appendChild(tr);
  }
  section.appendChild(table);
}

/** The events' marker for the legend, drawn at its own size (a point style would be stretched to a line's width). */
function legendTriangle(fill: string): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = 10;
  canvas.height = 9;
  const context = canvas.getContext('2d')!;
  context.fillStyle = fill;
  context.beginPath();
  context.moveTo(5, 0);
  context.lineTo(10, 9);
  context.lineTo(0, 9);
  context.closePath();
  context.fill();
  return canvas;
}
