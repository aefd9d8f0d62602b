import '../support/installFakeVscode';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RunSnapshot } from '../../src/core/protocol';
import { loadRun } from '../../src/extension/openRun';
import { RowFeeder } from '../../src/extension/logs';
import { DiagnosticsPanel } from '../../src/extension/panel';
import { KEPT_FINISHED_RUNS, Run, RunManager } from '../../src/extension/runs';
import type { JobProblems } from '../../src/extension/problems';
import { live, panels } from '../support/fakeVscode';

const extensionUri = { path: '/ext' } as never;
const problems = {} as JobProblems;

function finishedRun(title: string, steps = 3): Run {
  const run = new Run(title, undefined, undefined, undefined, false);
  run.receive({ type: 'steps', batch: { step: [...Array(steps).keys()], lr: Array(steps).fill(0.1), loss: Array(steps).fill(1), gradNorm: Array(steps).fill(1) } });
  return run;
}

test('reopening the panel ten times leaves one set of listeners', () => {
  const runs = new RunManager();
  runs.add(finishedRun('a'));
  const panel = new DiagnosticsPanel(extensionUri, runs, problems);
  const before = live.listeners;
  panel.show();
  const oneSet = live.listeners - before;
  assert.ok(oneSet > 0);
  for (let i = 0; i < 10; i++) {
    panels.at(-1)!.dispose();
    assert.equal(live.listeners, before, 'closing the panel releases its listeners');
    panel.show();
  }
  assert.equal(live.listeners - before, oneSet);
  assert.equal(panel.listenerCount, oneSet);
  panel.dispose();
  runs.dispose();
});

test("ready sends the run list and only the focused and overlaid runs' data", () => {
  const runs = new RunManager();
  const [a, b, c] = ['a', 'b', 'c'].map((t) => runs.add(finishedRun(t)));
  runs.focused = c;
  const panel = new DiagnosticsPanel(extensionUri, runs, problems);
  panel.show();
  const view = panels.at(-1)!;
  view.say({ type: 'ready', show: [a.id] });
  const list = view.posted.find((m) => m.type === 'runs') as unknown as { runs: { runId: string; title: string; status: string; steps: number; events: number; startedAt?: number }[] };
  assert.deepEqual(
    list.runs.map((r) => r.title),
    ['a', 'b', 'c'],
  );
  assert.ok(list.runs.every((r) => r.status === 'finished' && r.steps === 3 && r.events === 0 && typeof r.startedAt === 'number'));
  const snapshots = view.posted.filter((m) => m.type === 'snapshot').flatMap((m) => (m.runs as RunSnapshot[]).map((s) => s.runId));
  assert.deepEqual(snapshots.sort(), [a.id, c.id].sort());
  // Ticking another run sends just that one.
  view.posted.length = 0;
  view.say({ type: 'showRuns', runIds: [c.id, a.id, b.id] });
  assert.deepEqual(
    view.posted.filter((m) => m.type === 'snapshot').flatMap((m) => (m.runs as RunSnapshot[]).map((s) => s.runId)),
    [b.id],
  );
  panel.dispose();
  runs.dispose();
});

test('a large run is sent decimated, and a zoomed range again at pixel resolution', () => {
  const runs = new RunManager();
  const run = runs.add(finishedRun('big', 200_000));
  const panel = new DiagnosticsPanel(extensionUri, runs, problems);
  panel.show();
  const view = panels.at(-1)!;
  view.say({ type: 'ready', width: 500 });
  const [snapshot] = view.posted.find((m) => m.type === 'snapshot')!.runs as RunSnapshot[];
  assert.equal(snapshot.rowCount, 200_000);
  assert.ok(snapshot.batch.step.length <= 500 * 4 * 4, `${snapshot.batch.step.length} rows sent`);
  view.say({ type: 'requestRange', runId: run.id, min: 1000, max: 1999, width: 500 });
  const range = view.posted.find((m) => m.type === 'range') as unknown as { batch: { step: number[] } };
  // The range, and one row either side so that lines reach the chart's edges.
  assert.equal(range.batch.step[0], 999);
  assert.equal(range.batch.step.at(-1), 2000);
  assert.equal(range.batch.step.length, 1002, '1,002 rows fit in 500 px at 4 a pixel: all are sent');
  panel.dispose();
  runs.dispose();
});

test(`RunManager keeps the last ${KEPT_FINISHED_RUNS} finished runs (and every live one)`, () => {
  const runs = new RunManager();
  const removed: string[] = [];
  runs.onDidRemoveRun((run) => removed.push(run.snapshot.title));
  const liveRun = runs.add(new Run('live', undefined, undefined, undefined, true));
  for (let i = 0; i < KEPT_FINISHED_RUNS + 5; i++) runs.add(finishedRun(`run ${i}`));
  const titles = runs.all().map((r) => r.snapshot.title);
  assert.ok(titles.includes('live') && liveRun.status === 'running');
  assert.equal(runs.all().length, KEPT_FINISHED_RUNS + 2, 'the bound, the focused one and the live one');
  assert.deepEqual(removed, ['run 0', 'run 1', 'run 2', 'run 3']);
  assert.equal(runs.focused?.snapshot.title, `run ${KEPT_FINISHED_RUNS + 4}`);
  runs.dispose();
});

test('Open Run… lists a run folder once: a finished entry is replaced by its log, a live one is shown as it is; upgrades fold as they did live', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gradscope-reopen-'));
  writeFileSync(join(dir, 'job.json'), JSON.stringify({ name: 'reopened' }));
  writeFileSync(join(dir, 'metrics.jsonl'), [0, 1, 2, 3].map((step) => JSON.stringify({ step, lr: 0.1, loss: 1, gradNorm: step === 2 ? 30 : 1 })).join('\n') + '\n');
  const spike = { kind: 'explosion', step: 2, series: 'gradNorm', value: 30, baseline: 1, ratio: 30, severity: 'info' };
  writeFileSync(join(dir, 'events.jsonl'), `${JSON.stringify(spike)}\n${JSON.stringify({ ...spike, severity: 'warning', upgradedAt: 3 })}\n`);
  writeFileSync(join(dir, 'summary.json'), JSON.stringify({ status: 'finished', steps: 4, durationMs: 10, backend: 'cpu' }));
  const runs = new RunManager();
  const first = await loadRun(dir, runs);
  assert.deepEqual(
    first.snapshot.events.map((e) => [e.step, 'severity' in e ? e.severity : undefined]),
    [[2, 'warning']],
    'the upgrade replaced the info event it regrades',
  );
  const again = await loadRun(dir, runs);
  assert.notEqual(again, first);
  assert.deepEqual(runs.all(), [again], 'the earlier entry of the same folder is gone');
  const training = runs.add(new Run('training', undefined, undefined, undefined, true));
  training.runDir = join(dir, '.', '');
  runs.remove(again);
  assert.equal(await loadRun(dir, runs), training, 'a run still training in this window is shown, not read again');
  assert.deepEqual(runs.all(), [training]);
  runs.dispose();
});

test('Open Run… charts every layer of any row: a module without a gradient in the first row is a layer, in the model order of job.json', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gradscope-layers-'));
  writeFileSync(join(dir, 'job.json'), JSON.stringify({ name: 'r04', source: 'gradscope-python', layerNames: ['aux', 'body', 'head'] }));
  const rows = [
    { step: 0, lr: 0.1, loss: 1, gradNorm: 1, 'gradNorm/body': 1 },
    { step: 1, lr: 0.1, loss: 1, gradNorm: 1, 'gradNorm/body': 1, 'gradNorm/aux': 0.5 },
    { step: 2, lr: 0.1, loss: 1, gradNorm: 1, 'gradNorm/body': 1 },
  ];
  writeFileSync(join(dir, 'metrics.jsonl'), rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
  const runs = new RunManager();
  const run = await loadRun(dir, runs);
  assert.deepEqual(run.snapshot.layerNames, ['aux', 'body'], 'head never had a gradient: no column, no layer');
  assert.deepEqual(run.snapshot.batch.layerGradNorms, [
    [NaN, 0.5, NaN],
    [1, 1, 1],
  ]);
  runs.dispose();
});

/** A run fed as a followed log is, shown in a panel whose view has said it is ready. */
function followedRunInPanel() {
  const runs = new RunManager();
  const run = runs.add(new Run('followed', undefined, undefined, undefined, true));
  const panel = new DiagnosticsPanel(extensionUri, runs, problems);
  panel.show({ runId: run.id });
  const view = panels.at(-1)!;
  view.say({ type: 'ready' });
  const feeder = new RowFeeder(
    run,
    () => {},
    () => assert.fail('one segment'),
  );
  return { runs, run, panel, view, feeder };
}

/** What the view holds once the panel has sent what waited: the last snapshot it got, and every step drawn (the snapshot's and those posted after it). */
function whatTheViewHolds(panel: DiagnosticsPanel, view: (typeof panels)[number]) {
  (panel as unknown as { flush(): void }).flush();
  const lastSnapshot = view.posted.map((m) => m.type).lastIndexOf('snapshot');
  const [seen] = view.posted[lastSnapshot].runs as RunSnapshot[];
  const steps = [...seen.batch.step, ...view.posted.slice(lastSnapshot + 1).flatMap((m) => (m.type === 'steps' ? (m.batch as { step: number[] }).step : []))];
  return { seen, steps };
}

test('a followed log that names a layer after its first rows: the run gets the layer, the view its name, every step once', () => {
  const { runs, run, panel, view, feeder } = followedRunInPanel();
  try {
    const row = (step: number, layers: Record<string, number>) => ({ step, loss: 1, gradNorm: 1, layers: new Map(Object.entries(layers)), segment: 0 });
    feeder.add(row(0, { body: 1 }));
    feeder.add(row(1, { body: 1 }));
    feeder.flush();
    feeder.add(row(2, { body: 1, aux: 0.5 }));
    feeder.add(row(3, { body: 1 }));
    feeder.flush();
    assert.deepEqual(run.snapshot.layerNames, ['body', 'aux']);
    assert.deepEqual(run.snapshot.batch.step, [0, 1, 2, 3]);
    assert.deepEqual(run.snapshot.batch.layerGradNorms, [
      [1, 1, 1, 1],
      [NaN, NaN, 0.5, NaN],
    ]);
    const { seen, steps } = whatTheViewHolds(panel, view);
    assert.deepEqual(seen.layerNames, ['body', 'aux']);
    assert.deepEqual(steps, [0, 1, 2, 3]);
  } finally {
    panel.dispose();
    runs.dispose();
  }
});

test('a followed log made controllable (a PyTorch run) is redrawn whole with its controls: steps waiting to be sent do not come twice', () => {
  const { runs, run, panel, view, feeder } = followedRunInPanel();
  try {
    for (let step = 0; step < 4; step++) feeder.add({ step, loss: 1, gradNorm: 1, layers: new Map(), segment: 0 });
    feeder.flush(); // steps 0–3 wait for the panel's next frame
    run.control({ stop: () => true, pause: () => true, resume: () => true, setLrMultiplier: () => {}, setClipThreshold: () => {} }, 'pytorch');
    const { seen, steps } = whatTheViewHolds(panel, view);
    assert.equal(seen.source, 'pytorch');
    assert.deepEqual(steps, [0, 1, 2, 3]);
  } finally {
    panel.dispose();
    runs.dispose();
  }
});

test("Open Run… on a PyTorch run folder shows the events it showed live (the detectors' over its rows, and the guard's actions), its validation losses as validation points", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gradscope-python-run-'));
  writeFileSync(join(dir, 'job.json'), JSON.stringify({ name: 'train', source: 'gradscope-python', layerNames: ['fc'] }));
  const rows: Record<string, number>[] = [];
  for (let step = 0; step < 120; step++) {
    rows.push({ step, lr: 0.01, loss: 2 - step / 200, gradNorm: step === 100 ? 60 : 1 + 0.02 * (step % 5), 'gradNorm/fc': 1 });
    if (step % 50 === 49) rows.push({ step, validationLoss: 1.9 - step / 500 });
  }
  writeFileSync(join(dir, 'metrics.jsonl'), rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
  writeFileSync(
    join(dir, 'events.jsonl'),
    [
      { kind: 'control', step: 20, change: 'lrMultiplier', value: 0.5, previous: 1 },
      { kind: 'nonFinite', step: 110, fields: ['loss'], loss: null, gradNorm: 1 },
      { kind: 'guard', step: 110, action: 'skip', cause: 'nonFinite' },
    ]
      .map((event) => JSON.stringify(event))
      .join('\n') + '\n',
  );
  writeFileSync(join(dir, 'summary.json'), JSON.stringify({ status: 'finished', steps: 120, durationMs: 1000 }));
  const runs = new RunManager();
  const run = await loadRun(dir, runs);
  assert.deepEqual(
    run.snapshot.events.map((e) => [e.kind, e.step]),
    [
      ['explosion', 100],
      ['guard', 110],
    ],
  );
  assert.deepEqual(run.snapshot.batch.step, [...Array(120).keys()], 'a validation row is not a step');
  assert.deepEqual(
    run.snapshot.validation.map((p) => p.step),
    [49, 99],
  );
  runs.dispose();
});
