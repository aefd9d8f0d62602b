// (In-page checks are passed as text: this file is type-checked without the DOM.)
// The diagnostics panel as a chart tool, in a real VS Code, in a dark and a light theme: two runs
// overlaid, drag-zoom shared by every chart and its reset, smoothing, log/linear per chart, the run
// header. Screenshots land in test-results/e2e (panel-dark*.png, panel-light*.png).
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Frame } from 'playwright-core';
import { closeAll, launch, panelFrame, pick, root, runCommand, screenshot, type Theme, type VsCode } from './vscode';

const runFolders = (workspace: string) => {
  const dir = join(workspace, '.gradscope', 'runs');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
};

/** Trains an example job with its own schedule and waits until the panel shows it finished. */
async function train(v: VsCode, job: string): Promise<Frame> {
  const before = runFolders(v.workspace);
  // The job list now and then opens with its rows not yet shown (a webview just took focus): open it again.
  for (let attempt = 1; ; attempt++) {
    try {
      await runCommand(v.page, 'Gradscope: Train with Schedule');
      await pick(v.page, `${job}.gradscope.json`);
      break;
    } catch (error) {
      if (attempt === 3) throw error;
      await v.page.keyboard.press('Escape');
    }
  }
  await pick(v.page, "Job's schedule");
  const deadline = Date.now() + 120_000;
  for (;;) {
    const fresh = runFolders(v.workspace).filter((f) => !before.includes(f));
    if (fresh.length && existsSync(join(v.workspace, '.gradscope', 'runs', fresh[0], 'summary.json'))) break;
    if (Date.now() > deadline) throw new Error(`${job} did not finish in time`);
    await v.page.waitForTimeout(250);
  }
  const frame = await panelFrame(v.page);
  await frame
    .locator('#run-title', { hasText: job.replace('mnist', 'mnist-mlp') })
    .waitFor({ timeout: 30_000 })
    .catch(() => {});
  await frame.locator('#root[data-run-status="finished"]').waitFor({ timeout: 30_000 });
  return frame;
}

/** Two runs trained, the panel wide (sidebar hidden). */
async function twoRuns(theme: Theme): Promise<{ v: VsCode; frame: Frame }> {
  // Started in the theme (not switched to it): the whole workbench is in it.
  const v = await launch(['mnist-exploding', 'mnist-fixed'], { theme });
  await v.page.setViewportSize({ width: 1500, height: 1300 });
  await train(v, 'mnist-fixed');
  const frame = await train(v, 'mnist-exploding');
  await runCommand(v.page, 'View: Close Primary Side Bar').catch(() => {});
  await v.page.waitForTimeout(800);
  return { v, frame };
}

const attr = (frame: Frame, selector: string, name: string) => frame.locator(selector).first().getAttribute(name);

/** Drags across a chart's canvas from fraction `from` to `to` of its width. */
async function dragAcross(v: VsCode, frame: Frame, chart: string, from: number, to: number): Promise<void> {
  const box = await frame.locator(`[data-chart="${chart}"] canvas`).boundingBox();
  assert.ok(box, `no ${chart} canvas`);
  const y = box.y + box.height * 0.45;
  await v.page.mouse.move(box.x + box.width * from, y);
  await v.page.mouse.down();
  await v.page.mouse.move(box.x + box.width * ((from + to) / 2), y, { steps: 4 });
  await v.page.mouse.move(box.x + box.width * to, y, { steps: 4 });
  await v.page.mouse.up();
}

/**
 * A screenshot of the window (`name`.png) and of the webview alone (`name`-webview.png); `docs`
 * copies one of them into docs/ for the README: `{ window: 'panel-dark.png' }`.
 */
async function shot(v: VsCode, frame: Frame, name: string, docs: { window?: string; webview?: string } = {}): Promise<void> {
  await runCommand(v.page, 'Notifications: Clear All Notifications').catch(() => {});
  await v.page.mouse.move(5, 400);
  await v.page.waitForTimeout(300);
  const window = await screenshot(v.page, name);
  const webview = join(__dirname, '../../test-results/e2e', `${name}-webview.png`);
  await (await frame.frameElement()).screenshot({ path: webview });
  if (docs.window) copyFileSync(window, join(root, 'docs', docs.window));
  if (docs.webview) copyFileSync(webview, join(root, 'docs', docs.webview));
}

describe('the diagnostics panel as a chart tool', { timeout: 900_000 }, () => {
  after(async () => {
    await closeAll();
  });

  test('dark theme: two runs overlaid, drag-zoom on one chart zooms all, reset, smoothing, log/linear', async () => {
    const { v, frame } = await twoRuns('Default Dark Modern');
    // The run list: both runs, with start time, status and event count; the exploding one focused.
    const rows = frame.locator('#run-picker li');
    assert.equal(await rows.count(), 2);
    const texts = await rows.allInnerTexts();
    assert.ok(
      texts.every((t) => /\d{1,2}:\d{2}/.test(t) && /finished/.test(t) && /\d+ events?/.test(t)),
      texts.join(' | '),
    );
    const focused = await attr(frame, '#root', 'data-active-run');
    assert.match(await frame.locator('#run-picker li[aria-current]').innerText(), /exploding/);
    // The header: status, backend, steps, duration, losses, accuracy, events.
    for (const stat of ['Status', 'Backend', 'Steps', 'Duration', 'Train loss', 'Val. loss', 'Val. accuracy', 'Events']) {
      assert.notEqual((await frame.locator(`dd[data-stat="${stat}"]`).innerText()).trim(), '', stat);
    }
    assert.match(await frame.locator('dd[data-stat="Val. accuracy"]').innerText(), /%/);
    assert.match(await frame.locator('dd[data-stat="Events"]').innerText(), /Explosion ×\d/);
    // One legend entry per event kind; the dead network's zero norms are edge markers, and the x axis spans the run.
    assert.match((await attr(frame, '[data-chart="gradNorm"]', 'data-datasets')) ?? '', /Explosion/);
    assert.equal(await attr(frame, '[data-chart="gradNorm"]', 'data-x-range'), await attr(frame, '[data-chart="loss"]', 'data-x-range'));

    // The header names the run the charts show; focusing another run moves both (the run list cannot disagree).
    assert.match(await frame.locator('#run-title').innerText(), /exploding/);
    await frame.locator('#run-picker li:not([aria-current]) .run-name').click();
    await frame.locator('#run-picker li[aria-current]', { hasText: 'fixed' }).waitFor();
    // The header follows once the run's data has come from the host (with the charts, in one render).
    await frame.locator('#run-title', { hasText: 'fixed' }).waitFor({ timeout: 15_000 });
    assert.match((await attr(frame, '[data-chart="loss"]', 'data-datasets')) ?? '', /^train/);
    await frame.locator('#run-picker li:not([aria-current]) .run-name').click();
    await frame.locator('#run-picker li[aria-current]', { hasText: 'exploding' }).waitFor();

    // Overlay the healthy run.
    await frame.locator('#run-picker li:not([aria-current]) input[type="checkbox"]').check();
    await frame.waitForFunction(`(document.getElementById('root')?.dataset.shownRuns ?? '').split(',').length === 2`);
    const datasets = (await attr(frame, '[data-chart="loss"]', 'data-datasets')) ?? '';
    assert.match(datasets, /exploding.*train/);
    assert.match(datasets, /fixed.*train/);
    assert.equal(await attr(frame, '#root', 'data-active-run'), focused);
    await shot(v, frame, 'panel-dark', { window: 'panel-dark.png' });

    // Drag across the loss chart: every chart takes the same, narrower x range.
    const full = await attr(frame, '[data-chart="loss"]', 'data-x-range');
    await dragAcross(v, frame, 'loss', 0.3, 0.6);
    await frame.waitForFunction(`Boolean(document.getElementById('root')?.dataset.zoomed)`);
    const zoomed = await attr(frame, '[data-chart="loss"]', 'data-x-range');
    assert.notEqual(zoomed, full);
    for (const chart of ['lr', 'gradNorm', 'layers']) assert.equal(await attr(frame, `[data-chart="${chart}"]`, 'data-x-range'), zoomed, chart);
    await shot(v, frame, 'panel-dark-zoomed', { webview: 'panel-zoomed.png' });
    // Shift-drag pans: the range moves, every chart with it.
    await v.page.keyboard.down('Shift');
    await dragAcross(v, frame, 'loss', 0.7, 0.4);
    await v.page.keyboard.up('Shift');
    await frame.waitForFunction(`(document.getElementById('root')?.dataset.zoomed ?? '') !== ${JSON.stringify(zoomed)}`);
    const panned = await attr(frame, '[data-chart="loss"]', 'data-x-range');
    assert.notEqual(panned, zoomed);
    assert.equal(await attr(frame, '[data-chart="gradNorm"]', 'data-x-range'), panned);
    await frame.locator('#reset-zoom').click();
    await frame.waitForFunction(`document.getElementById('root')?.dataset.zoomed === ''`);
    assert.equal(await attr(frame, '[data-chart="gradNorm"]', 'data-x-range'), full);

    // Smoothing: off, the raw series are the only ones; on, each has a faint raw twin behind it.
    await frame.locator('#smoothing').fill('0');
    await frame.waitForFunction(`document.getElementById('root')?.dataset.smoothing === '0'`);
    assert.doesNotMatch((await attr(frame, '[data-chart="loss"]', 'data-datasets')) ?? '', /\(raw\)/);
    await frame.locator('#smoothing').fill('0.9');
    await frame.waitForFunction(`document.getElementById('root')?.dataset.smoothing === '0.9'`);
    assert.match((await attr(frame, '[data-chart="loss"]', 'data-datasets')) ?? '', /train \(raw\)/);
    await shot(v, frame, 'panel-dark-smoothing');

    // Log/linear per chart: only the chart toggled changes.
    assert.equal(await attr(frame, '[data-chart="gradNorm"]', 'data-scale'), 'log');
    await frame.locator('[data-chart="gradNorm"] .log-toggle').click();
    await frame.waitForFunction(`document.querySelector('[data-chart="gradNorm"]')?.getAttribute('data-scale') === 'linear'`);
    assert.equal(await attr(frame, '[data-chart="loss"]', 'data-scale'), 'log');
    await shot(v, frame, 'panel-dark-linear');
    await frame.locator('[data-chart="gradNorm"] .log-toggle').click();
    await frame.waitForFunction(`document.querySelector('[data-chart="gradNorm"]')?.getAttribute('data-scale') === 'log'`);
    await v.close();
  });

  test('light theme: the same panel, readable', async () => {
    const { v, frame } = await twoRuns('Default Light Modern');
    await frame.locator('#run-picker li:not([aria-current]) input[type="checkbox"]').check();
    await frame.waitForFunction(`(document.getElementById('root')?.dataset.shownRuns ?? '').split(',').length === 2`);
    const background = (await frame.evaluate('getComputedStyle(document.body).backgroundColor')) as string;
    const [r, g, b] = (background.match(/\d+/g) ?? []).map(Number);
    assert.ok(r + g + b > 600, `a light background, got ${background}`);
    await shot(v, frame, 'panel-light', { window: 'panel-light.png' });
    await dragAcross(v, frame, 'gradNorm', 0.2, 0.5);
    await frame.waitForFunction(`Boolean(document.getElementById('root')?.dataset.zoomed)`);
    await shot(v, frame, 'panel-light-zoomed');
    await frame.locator('#reset-zoom').click();
    await frame.waitForFunction(`document.getElementById('root')?.dataset.zoomed === ''`);
    await frame.locator('#smoothing').fill('0.9');
    await frame.waitForFunction(`document.getElementById('root')?.dataset.smoothing === '0.9'`);
    await shot(v, frame, 'panel-light-smoothing');
    await frame.locator('#smoothing').fill('0.6');
    await frame.waitForFunction(`document.getElementById('root')?.dataset.smoothing === '0.6'`);

    // A live run overlaid on a finished one: it grows on the charts while the finished one stays.
    const long = JSON.parse(readFileSync(join(root, 'examples', 'mnist-fixed.gradscope.json'), 'utf8'));
    long.name = 'long-run';
    long.epochs = 200;
    writeFileSync(join(v.workspace, 'long.gradscope.json'), JSON.stringify(long, null, 2));
    await runCommand(v.page, 'Gradscope: Train with Schedule');
    await pick(v.page, 'long.gradscope.json');
    await pick(v.page, "Job's schedule");
    await frame.locator('#run-picker li[aria-current]', { hasText: 'long-run' }).waitFor({ timeout: 60_000 });
    await frame.locator('#root[data-run-status="running"]').waitFor({ timeout: 60_000 });
    await frame.locator('#run-picker li', { hasText: 'mnist-mlp-fixed' }).locator('input[type="checkbox"]').check();
    await frame.waitForFunction(`(document.getElementById('root')?.dataset.shownRuns ?? '').split(',').length === 2`);
    const points = async () => Number(await attr(frame, '[data-chart="loss"]', 'data-points'));
    const first = await points();
    await v.page.waitForTimeout(3000);
    assert.ok((await points()) > first, 'the live run grows while overlaid');
    assert.match((await attr(frame, '[data-chart="loss"]', 'data-datasets')) ?? '', /long-run.*mnist-mlp-fixed|mnist-mlp-fixed.*long-run/);
    // The training's progress toast cannot be cleared; in Do Not Disturb mode it is not shown over the charts.
    await runCommand(v.page, 'Notifications: Toggle Do Not Disturb Mode');
    await shot(v, frame, 'panel-light-live', { webview: 'panel-live-overlay.png' });
    await frame.locator('#stop').click();
    await frame.locator('#root[data-run-status="stopped"]').waitFor({ timeout: 60_000 });
  });
});
