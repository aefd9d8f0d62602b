// The diagnostics panel, browser side. It says `ready` (with the runs it overlaid before, from its
// saved state), draws the snapshots it gets back, then follows live messages; every control posts a
// typed message to the host.
import type { DiagnosticsToHost, DiagnosticsToWebview, RunEvent, RunEventKind, RunInfo } from '../src/core/protocol';
import { ChartGrid, type Range, type ShownRun } from './charts';
import { eventDetails, eventLabel, KIND_LABELS } from './eventText';
import { duration, sig3 } from './numbers';
import { RunData } from './runData';
import { onThemeChange, readPalette, type Palette } from './theme';

/** What the view keeps across being hidden and shown again (VS Code's webview state). */
export interface ViewState {
  /** Runs overlaid on the focused one. */
  overlay: string[];
  smoothing: number;
}

/** Most runs drawn at once (the focused one and overlays); more would not be told apart. */
const MAX_SHOWN = 6;

export function startDiagnostics(root: HTMLElement, post: (message: DiagnosticsToHost) => void, state: { load(): ViewState | undefined; save(state: ViewState): void }): void {
  root.innerHTML = `
  <header>
    <div class="toolbar">
      <vscode-button id="pause" appearance="secondary">Pause</vscode-button>
      <vscode-button id="stop" appearance="secondary">Stop</vscode-button>
      <vscode-text-field id="lr-multiplier" size="5" value="1">LR ×</vscode-text-field>
      <vscode-text-field id="clip-threshold" size="6" placeholder="none">Clip ‖g‖ at</vscode-text-field>
      <vscode-button id="apply-controls" appearance="secondary">Apply</vscode-button>
      <label class="smoothing">Smoothing <input id="smoothing" type="range" min="0" max="0.99" step="0.01"><output id="smoothing-value"></output></label>
      <vscode-button id="reset-zoom" appearance="secondary" title="Show all steps (or double-click a chart)">Reset zoom</vscode-button>
    </div>
    <p class="hint">Drag across a chart to zoom · Shift-drag to pan · Ctrl-wheel to zoom · double-click to reset</p>
  </header>
  <section class="runs">
    <h3>Runs <span class="hint">(tick to overlay)</span></h3>
    <ul id="run-picker" aria-label="Runs"></ul>
  </section>
  <section id="run-header" aria-label="Run summary">
    <div id="run-title"></div>
    <div id="run-status" class="status"></div>
    <dl id="run-stats"></dl>
  </section>
  <p id="empty" class="empty">No run yet: run “Gradscope: Train with Schedule” or “Open Run…”.</p>
  <p id="no-data" class="empty" hidden></p>
  <div id="charts"></div>
  <h3 class="events-title">Events</h3>
  <vscode-data-grid id="events" generate-header="sticky" aria-label="Events"></vscode-data-grid>`;

  const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
  const saved = state.load();
  let infos: RunInfo[] = [];
  const runs = new Map<string, RunData>();
  /** Colour slot of each run, kept while it is shown so a run does not change colour. */
  const colorSlots = new Map<string, number>();
  let activeId: string | undefined;
  let overlay = new Set<string>(saved?.overlay ?? []);
  let renderTimer: ReturnType<typeof setTimeout> | undefined;
  let rangeTimer: ReturnType<typeof setTimeout> | undefined;
  let renders = 0;
  /** Whether everything since the last render was new step rows (a live update). */
  let liveOnly = false;
  let shownEvents = '';
  let palette: Palette = readPalette();
  const charts = new ChartGrid($('charts'), palette, {
    onEventClick: (run, event) => focusEvent(run, event),
    onRangeChange: (range) => {
      render();
      requestFinerRows(range);
    },
    onScaleChange: () => render(),
  });
  charts.smoothing = saved?.smoothing ?? charts.smoothing;
  charts.onSlicedDrawn = (total, longest, redrawn) => {
    // Read by the benchmark: a live update's chart drawing in all, and its longest single task.
    root.dataset.drawMs = total.toFixed(2);
    root.dataset.redrawnCharts = String(redrawn);
    root.dataset.longestTaskMs = Math.max(longest, Number(root.dataset.renderMs ?? 0)).toFixed(2);
    root.dataset.liveUpdates = String(Number(root.dataset.liveUpdates ?? 0) + 1);
  };
  onThemeChange(() => {
    palette = readPalette();
    charts.setPalette(palette);
    render();
  });

  const smoothing = $('smoothing') as HTMLInputElement;
  smoothing.value = String(charts.smoothing);
  $('smoothing-value').textContent = charts.smoothing.toFixed(2);
  smoothing.addEventListener('input', () => {
    charts.smoothing = Math.min(0.99, Math.max(0, Number(smoothing.value)));
    $('smoothing-value').textContent = charts.smoothing.toFixed(2);
    saveState();
    scheduleRender(0);
  });

  const eventsGrid = $('events') as HTMLElement & { rowsData: object[]; columnDefinitions: object[] };
  eventsGrid.columnDefinitions = [
    { columnDataKey: 'step', title: 'Step' },
    { columnDataKey: 'kind', title: 'Kind' },
    { columnDataKey: 'details', title: 'Details' },
  ];
  eventsGrid.addEventListener('click', (e) => {
    const row = (e.target as HTMLElement).closest('vscode-data-grid-row') as (HTMLElement & { rowData?: { event?: RunEvent } }) | null;
    const run = activeId ? runs.get(activeId) : undefined;
    if (row?.rowData?.event && run) focusEvent(run, row.rowData.event);
  });

  let listedOnce = false;
  window.addEventListener('message', (e: MessageEvent<DiagnosticsToWebview>) => {
    const message = e.data;
    let delay = 0;
    switch (message.type) {
      case 'runs': {
        infos = message.runs;
        const listed = new Set(infos.map((r) => r.runId));
        for (const id of runs.keys()) if (!listed.has(id)) runs.delete(id);
        const drawnBefore = overlay.size + (activeId ? 1 : 0);
        overlay = new Set([...overlay].filter((id) => listed.has(id)));
        if (activeId && !listed.has(activeId)) activeId = undefined;
        refreshList();
        // The host sends the list with each live batch (its step counts change): the charts need a
        // redraw only when a run they draw was dropped, and must not lose the live, frame-sliced one.
        if (listedOnce && overlay.size + (activeId ? 1 : 0) === drawnBefore) return;
        listedOnce = true;
        break;
      }
      case 'snapshot':
        for (const snapshot of message.runs) runs.set(snapshot.runId, new RunData(snapshot));
        if (message.activeRunId && message.activeRunId !== activeId) {
          activeId = message.activeRunId;
          charts.range = undefined;
        }
        activeId ??= message.runs.at(-1)?.runId;
        refreshList();
        break;
      case 'steps':
        runs.get(message.runId)?.append(message.batch);
        delay = 100;
        liveOnly = true;
        break;
      case 'event':
        runs.get(message.runId)?.addEvent(message.event);
        break;
      case 'validation':
        runs.get(message.runId)?.snapshot.validation.push(message.point);
        break;
      case 'status': {
        const run = runs.get(message.runId);
        if (run) {
          run.snapshot.status = message.status;
          if (message.endedAt !== undefined) run.snapshot.endedAt = message.endedAt;
        }
        break;
      }
      case 'focusStep':
        if (message.runId !== activeId) setActive(message.runId);
        zoomTo(message.step);
        break;
      case 'range':
        runs.get(message.runId)?.setDetail(message.min, message.max, message.batch);
        break;
      default: {
        const unexpected: never = message;
        void unexpected;
      }
    }
    if (message.type !== 'steps') liveOnly = false;
    scheduleRender(delay);
  });

  /** Shown runs, focused first, each in its colour. */
  function shownRuns(): ShownRun[] {
    const ids = activeId ? [activeId, ...[...overlay].filter((id) => id !== activeId)] : [];
    const shown = ids
      .map((id) => runs.get(id))
      .filter((run): run is RunData => run !== undefined)
      .slice(0, MAX_SHOWN);
    return shown.map((data) => ({ data, color: colorOf(data.snapshot.runId) }));
  }

  function colorOf(runId: string): string {
    if (!colorSlots.has(runId)) {
      const used = new Set(colorSlots.values());
      let slot = 0;
      while (used.has(slot)) slot++;
      colorSlots.set(runId, slot);
    }
    return palette.series[colorSlots.get(runId)! % palette.series.length];
  }

  /** The run list: name, start time, status and events of every run; a tick overlays it, a click focuses it. */
  function refreshList(): void {
    const list = $('run-picker');
    list.replaceChildren(
      ...infos.map((info) => {
        const item = document.createElement('li');
        item.dataset.runId = info.runId;
        item.dataset.status = info.status;
        const active = info.runId === activeId;
        if (active) item.setAttribute('aria-current', 'true');
        const drawn = active || overlay.has(info.runId);
        const box = document.createElement('input');
        box.type = 'checkbox';
        box.checked = drawn;
        box.disabled = active;
        box.title = active ? 'The focused run is always drawn' : 'Overlay this run';
        box.addEventListener('change', () => toggleOverlay(info.runId, box.checked));
        const swatch = document.createElement('span');
        swatch.className = 'swatch';
        if (drawn) swatch.style.background = colorOf(info.runId);
        const name = document.createElement('button');
        name.className = 'run-name';
        name.textContent = info.title;
        name.title = `Focus ${info.title}`;
        name.addEventListener('click', () => setActive(info.runId));
        const meta = document.createElement('span');
        meta.className = 'run-meta';
        meta.textContent = [
          info.startedAt !== undefined ? startTime(info.startedAt) : '',
          info.status,
          `${info.steps.toLocaleString('en')} steps`,
          `${info.events} event${info.events === 1 ? '' : 's'}`,
        ]
          .filter(Boolean)
          .join(' · ');
        item.append(box, swatch, name, meta);
        return item;
      }),
    );
    for (const id of colorSlots.keys()) if (id !== activeId && !overlay.has(id)) colorSlots.delete(id);
  }

  function setActive(runId: string): void {
    if (runId === activeId) return;
    activeId = runId;
    charts.range = undefined;
    post({ type: 'selectRun', runId });
    post({ type: 'showRuns', runIds: [runId, ...overlay] });
    refreshList();
    scheduleRender(0);
  }

  function toggleOverlay(runId: string, on: boolean): void {
    if (on) overlay.add(runId);
    else overlay.delete(runId);
    if (activeId) post({ type: 'showRuns', runIds: [activeId, ...overlay] });
    saveState();
    refreshList();
    scheduleRender(0);
  }

  function saveState(): void {
    state.save({ overlay: [...overlay], smoothing: charts.smoothing });
  }

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
  $('reset-zoom').addEventListener('click', () => charts.resetZoom());
  window.addEventListener('resize', () => scheduleRender(50));

  /** Zooms the charts around an event and asks the host to reveal its job-file line. */
  function focusEvent(run: RunData, event: RunEvent): void {
    zoomTo(event.step);
    post({ type: 'revealEvent', runId: run.snapshot.runId, step: event.step });
  }

  function zoomTo(step: number): void {
    const run = activeId ? runs.get(activeId) : undefined;
    const half = Math.max(10, Math.round((run?.rowCount ?? 0) / 20));
    charts.range = { min: Math.max(0, step - half), max: step + half };
    requestFinerRows(charts.range);
    scheduleRender(0);
  }

  /** Large runs arrive decimated: a zoomed range is asked again at the chart's pixel resolution. */
  function requestFinerRows(range: Range | undefined): void {
    if (rangeTimer) clearTimeout(rangeTimer);
    if (!range) return;
    rangeTimer = setTimeout(() => {
      const width = chartWidth();
      for (const { data } of shownRuns()) {
        if (data.decimated && !data.hasDetail(range.min, range.max)) post({ type: 'requestRange', runId: data.snapshot.runId, min: Math.floor(range.min), max: Math.ceil(range.max), width });
      }
    }, 120);
  }

  function chartWidth(): number {
    return Math.max(200, Math.round($('charts').clientWidth || 1200));
  }

  /** At most ten renders a second, however fast messages arrive. */
  function scheduleRender(delay: number): void {
    if (renderTimer !== undefined) {
      if (delay === 0 && !liveOnly) {
        clearTimeout(renderTimer);
        renderTimer = undefined;
      } else return;
    }
    renderTimer = setTimeout(() => {
      renderTimer = undefined;
      // Only new rows since the last render: the charts redraw a frame at a time (see ChartGrid.sliced).
      charts.sliced = liveOnly;
      liveOnly = false;
      render();
      charts.sliced = false;
    }, delay);
  }

  function render(): void {
    const started = performance.now();
    const shown = shownRuns();
    const run = shown[0]?.data;
    $('empty').hidden = Boolean(run);
    $('charts').hidden = !run;
    $('run-header').hidden = !run;
    if (!run) {
      $('empty').textContent = activeId ? 'Loading the run…' : 'No run yet: run “Gradscope: Train with Schedule” or “Open Run…”.';
      $('no-data').hidden = true;
      return;
    }
    const s = run.snapshot;
    const live = s.status === 'running' || s.status === 'paused';
    renderHeader(run);
    root.dataset.runStatus = s.status;
    root.dataset.activeRun = s.runId;
    root.dataset.shownRuns = shown.map((r) => r.data.snapshot.runId).join(',');
    setText($('pause'), s.status === 'paused' ? 'Resume' : 'Pause');
    // A log another program writes can only be stopped (followed no more), not steered.
    for (const id of ['pause', 'apply-controls', 'lr-multiplier', 'clip-threshold']) ($(id) as HTMLButtonElement).disabled = !live || s.source === 'log';
    ($('stop') as HTMLButtonElement).disabled = !live;
    charts.render(shown);
    const noData = $('no-data');
    noData.hidden = charts.hiddenTitles.length === 0;
    setText(noData, `No data ${s.batch.step.length ? 'for' : 'yet for'}: ${charts.hiddenTitles.join(', ')}.`);
    root.dataset.zoomed = charts.range ? `${Math.round(charts.range.min)}-${Math.round(charts.range.max)}` : '';
    root.dataset.smoothing = String(charts.smoothing);
    // The grid re-renders all its rows when given new ones: only when the events changed.
    const eventsKey = `${s.runId}:${s.events.length}`;
    if (eventsKey !== shownEvents) {
      shownEvents = eventsKey;
      eventsGrid.rowsData = s.events.slice(-1000).map((event) => ({ step: String(event.step), kind: eventLabel(event), details: eventDetails(event), event }));
    }
    // The cost of a render, read by the benchmark (npm run bench:logs) and visible in the DOM.
    root.dataset.renderMs = (performance.now() - started).toFixed(2);
    root.dataset.renders = String(++renders);
  }

  /** Status, backend, steps, duration, final and best losses and accuracy, event counts. */
  function renderHeader(run: RunData): void {
    const s = run.snapshot;
    const steps = run.rowCount;
    const last = s.batch.step.length - 1;
    const total = s.source === 'log' ? '' : `/${Math.max(s.totalSteps, steps)}`;
    setText($('run-title'), s.title);
    setText(
      $('run-status'),
      `${s.status}${s.backend ? ` on ${s.backend}` : ''} · step ${steps}${total}${last >= 0 && Number.isFinite(s.batch.loss[last]) ? ` · loss ${sig3(s.batch.loss[last])}` : ''} · ${s.events.length} event${s.events.length === 1 ? '' : 's'}`,
    );
    const now = s.endedAt ?? (s.status === 'running' || s.status === 'paused' ? Date.now() : undefined);
    const train = finalAndBest(s.batch.loss, 'min');
    const val = finalAndBest(
      s.validation.map((p) => p.loss),
      'min',
    );
    const acc = finalAndBest(
      s.validation.filter((p) => p.accuracy !== undefined).map((p) => 100 * p.accuracy!),
      'max',
    );
    const counts = new Map<RunEventKind, number>();
    for (const e of s.events) counts.set(e.kind, (counts.get(e.kind) ?? 0) + 1);
    const stats: [string, string][] = [
      ['Status', s.status],
      ['Backend', s.backend ?? (s.source === 'log' ? 'log file' : '—')],
      ['Steps', steps.toLocaleString('en')],
      ['Duration', s.startedAt !== undefined && now !== undefined ? duration(now - s.startedAt) : '—'],
      ['Train loss', train ? `${sig3(train.final)} (best ${sig3(train.best)})` : '—'],
      ['Val. loss', val ? `${sig3(val.final)} (best ${sig3(val.best)})` : '—'],
      ['Val. accuracy', acc ? `${acc.final.toFixed(1)}% (best ${acc.best.toFixed(1)}%)` : '—'],
      ['Events', counts.size ? [...counts].map(([kind, n]) => `${KIND_LABELS[kind]} ×${n}`).join(', ') : 'none'],
    ];
    // Built once; a live update rewrites only the values that changed (no new elements, less layout).
    const list = $('run-stats');
    if (list.children.length !== stats.length)
      list.replaceChildren(
        ...stats.map(([term]) => {
          const pair = document.createElement('div');
          const dt = document.createElement('dt');
          dt.textContent = term;
          const dd = document.createElement('dd');
          dd.dataset.stat = term;
          pair.append(dt, dd);
          if (term === 'Events') pair.className = 'wide';
          return pair;
        }),
      );
    stats.forEach(([, value], i) => setText(list.children[i].lastElementChild!, value));
  }

  function setText(element: Element, text: string): void {
    if (element.textContent !== text) element.textContent = text;
  }

  // The host answers with the run list and the data of the focused and overlaid runs.
  post({ type: 'ready', show: [...overlay], width: chartWidth() });
}

/** The last finite value and the best (smallest or largest) finite one, or undefined when none. */
function finalAndBest(values: ArrayLike<number>, best: 'min' | 'max'): { final: number; best: number } | undefined {
  let final: number | undefined;
  let top: number | undefined;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    final = v;
    if (top === undefined || (best === 'min' ? v < top : v > top)) top = v;
  }
  return final === undefined ? undefined : { final, best: top! };
}

/** A start time: the time of day today, else the date and time. */
function startTime(ms: number): string {
  const date = new Date(ms);
  const today = new Date().toDateString() === date.toDateString();
  return today
    ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : date.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}
