// The diagnostics panel, browser side. It announces itself with `ready`, draws the snapshot it gets
// back, then follows live messages; every control posts a typed message to the host.
import type { HostToWebview, RunEvent, WebviewToHost } from '../src/core/protocol';
import { ChartGrid } from './charts';
import { eventDetails, eventLabel } from './eventText';
import { RunData } from './runData';
import { onThemeChange, readPalette } from './theme';

export function startDiagnostics(root: HTMLElement, post: (message: WebviewToHost) => void): void {
root.innerHTML = `
  <header>
    <vscode-dropdown id="run-picker" aria-label="Run"></vscode-dropdown>
    <span id="run-status" class="status"></span>
    <vscode-button id="pause" appearance="secondary">Pause</vscode-button>
    <vscode-button id="stop" appearance="secondary">Stop</vscode-button>
    <vscode-text-field id="lr-multiplier" size="5" value="1">LR ×</vscode-text-field>
    <vscode-text-field id="clip-threshold" size="6" placeholder="none">Clip ‖g‖ at</vscode-text-field>
    <vscode-button id="apply-controls" appearance="secondary">Apply</vscode-button>
    <vscode-button id="reset-zoom" appearance="icon" aria-label="Show all steps" title="Show all steps">⤢</vscode-button>
  </header>
  <p id="empty" class="empty">No run yet: run “Gradscope: Train with Schedule” or “Open Run…”.</p>
  <div id="charts"></div>
  <h3 class="events-title">Events</h3>
  <vscode-data-grid id="events" generate-header="sticky" aria-label="Events"></vscode-data-grid>`;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const runs = new Map<string, RunData>();
let activeId: string | undefined;
let zoom: { min: number; max: number } | undefined;
let renderTimer: ReturnType<typeof setTimeout> | undefined;
const charts = new ChartGrid($('charts'), readPalette(), (event) => focusEvent(event));
onThemeChange(() => {
  charts.setPalette(readPalette());
  render();
});

const eventsGrid = $('events') as HTMLElement & { rowsData: object[]; columnDefinitions: object[] };
eventsGrid.columnDefinitions = [
  { columnDataKey: 'step', title: 'Step' }, { columnDataKey: 'kind', title: 'Kind' }, { columnDataKey: 'details', title: 'Details' },
];
eventsGrid.addEventListener('click', (e) => {
  const row = (e.target as HTMLElement).closest('vscode-data-grid-row') as (HTMLElement & { rowData?: { event?: RunEvent } }) | null;
  if (row?.rowData?.event) focusEvent(row.rowData.event);
});

window.addEventListener('message', (e: MessageEvent<HostToWebview>) => {
  const message = e.data;
  switch (message.type) {
    case 'snapshot':
      for (const snapshot of message.runs) runs.set(snapshot.runId, new RunData(snapshot));
      activeId = message.activeRunId && runs.has(message.activeRunId) ? message.activeRunId : activeId ?? message.runs.at(-1)?.runId;
      zoom = undefined;
      refreshPicker();
      break;
    case 'steps': runs.get(message.runId)?.append(message.batch); break;
    case 'event': runs.get(message.runId)?.addEvent(message.event); break;
    case 'validation': runs.get(message.runId)?.snapshot.validation.push(message.point); break;
    case 'status': {
      const run = runs.get(message.runId);
      if (run) run.snapshot.status = message.status;
      break;
    }
    case 'focusStep': {
      activeId = runs.has(message.runId) ? message.runId : activeId;
      refreshPicker();
      zoomTo(message.step);
      break;
    }
  }
  scheduleRender(message.type === 'steps' ? 100 : 0);
});

function refreshPicker(): void {
  const picker = $('run-picker') as HTMLElement & { value: string };
  picker.innerHTML = [...runs.values()].map((r) => `<vscode-option value="${r.snapshot.runId}">${escapeHtml(r.snapshot.title)}</vscode-option>`).join('');
  if (activeId) picker.value = activeId;
}

$('run-picker').addEventListener('change', (e) => {
  activeId = (e.target as HTMLInputElement).value;
  zoom = undefined;
  if (activeId) post({ type: 'selectRun', runId: activeId });
  render();
});
$('stop').addEventListener('click', () => activeId && post({ type: 'stop', runId: activeId }));
$('pause').addEventListener('click', () => {
  const run = activeId ? runs.get(activeId) : undefined;
  if (run) post({ type: run.snapshot.status === 'paused' ? 'resume' : 'pause', runId: run.snapshot.runId });
});
$('apply-controls').addEventListener('click', () => {
  if (!activeId) return;
  const multiplier = Number(($('lr-multiplier') as HTMLInputElement).value);
  const clip = Number(($('clip-threshold') as HTMLInputElement).value);
  if (multiplier > 0) post({ type: 'setLrMultiplier', runId: activeId, value: multiplier });
  if (clip > 0) {
    post({ type: 'setClipThreshold', runId: activeId, value: clip });
    runs.get(activeId)!.snapshot.clipThreshold = clip;
  }
  render();
});
$('reset-zoom').addEventListener('click', () => {
  zoom = undefined;
  render();
});
window.addEventListener('resize', () => scheduleRender(50));

/** Zooms the charts around an event and asks the host to reveal its job-file line. */
function focusEvent(event: RunEvent): void {
  zoomTo(event.step);
  if (activeId) post({ type: 'revealEvent', runId: activeId, step: event.step });
}

function zoomTo(step: number): void {
  const run = activeId ? runs.get(activeId) : undefined;
  const total = run?.snapshot.batch.step.length ?? 0;
  const half = Math.max(10, Math.round(total / 20));
  zoom = { min: Math.max(0, step - half), max: step + half };
  scheduleRender(0);
}

/** At most ten renders a second, however fast messages arrive. */
function scheduleRender(delay: number): void {
  if (renderTimer !== undefined) return;
  renderTimer = setTimeout(() => {
    renderTimer = undefined;
    render();
  }, delay);
}

function render(): void {
  const run = activeId ? runs.get(activeId) : undefined;
  $('empty').hidden = Boolean(run);
  $('charts').hidden = !run;
  if (!run) return;
  const s = run.snapshot;
  const live = s.status === 'running' || s.status === 'paused';
  const last = s.batch.step.length - 1;
  const total = s.source === 'log' ? '' : `/${Math.max(s.totalSteps, last + 1)}`;
  $('run-status').textContent = `${s.status}${s.backend ? ` on ${s.backend}` : ''} · step ${last + 1}${total}${last >= 0 ? ` · loss ${s.batch.loss[last].toPrecision(3)}` : ''} · ${s.events.length} events`;
  root.dataset.runStatus = s.status;
  ($('pause') as HTMLButtonElement).textContent = s.status === 'paused' ? 'Resume' : 'Pause';
  // A log another program writes can only be stopped (followed no more), not steered.
  for (const id of ['pause', 'apply-controls', 'lr-multiplier', 'clip-threshold']) ($(id) as HTMLButtonElement).disabled = !live || s.source === 'log';
  ($('stop') as HTMLButtonElement).disabled = !live;
  charts.render(run, zoom);
  eventsGrid.rowsData = s.events.slice(-1000).map((event) => ({ step: String(event.step), kind: eventLabel(event), details: eventDetails(event), event }));
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

}
