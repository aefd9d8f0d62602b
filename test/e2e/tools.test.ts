// The strategy tools in a real VS Code: range test and Apply, comparison table, schedule preview.
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Frame } from 'playwright-core';
import { closeAll, launch, panelFrame, pick, root, runCommand, screenshot, type VsCode } from './vscode';

let vs: VsCode;

/** A small job for Compare (3,000 samples, 2 epochs): three strategies take seconds. */
function smallJob(): string {
  const small = JSON.parse(readFileSync(join(root, 'examples', 'mnist-fixed.gradscope.json'), 'utf8'));
  Object.assign(small, { name: 'small', epochs: 2, data: { type: 'mnist', samples: 3000, validationSplit: 0.2 } });
  return JSON.stringify(small, null, 2);
}

/** Waits until the Compare view shows its finished table (no toast over it, the pointer off its headers). */
async function shownCompare(page: VsCode['page']): Promise<void> {
  await runCommand(page, 'Notifications: Clear All Notifications').catch(() => {});
  await page.mouse.move(5, 400);
  const frame = await panelFrame(page, 30_000, '#compare-table tbody tr');
  await frame.locator('#summary', { hasText: 'done' }).waitFor({ timeout: 30_000 });
  await (await frame.frameElement()).waitForElementState('visible');
  await frame.locator('[data-chart="compare-loss"] canvas').waitFor({ state: 'visible' });
  await page.waitForTimeout(800);
}

/** Compare Schedules on small.gradscope.json with constant, cosine and clip; the Compare view's frame. */
async function startCompare(page: VsCode['page'], pickShot?: string): Promise<Frame> {
  await runCommand(page, 'Gradscope: Compare Schedules');
  await pick(page, 'small.gradscope.json');
  // Every strategy starts picked: untick all, then tick three.
  await page.locator('.quick-input-widget [aria-label="Toggle all checkboxes"]').click();
  for (const name of ['constant', 'cosine', 'clip']) await page.locator(`.quick-input-list .monaco-custom-toggle[aria-label="${name}"]`).click();
  if (pickShot) await screenshot(page, pickShot);
  await page.locator('.quick-input-widget .monaco-button', { hasText: 'OK' }).click();
  return panelFrame(page, 60_000, '#compare-table');
}

describe('strategy tools in VS Code', { timeout: 600_000 }, () => {
  before(async () => {
    vs = await launch(['mnist-warmup-cosine']);
    writeFileSync(join(vs.workspace, 'small.gradscope.json'), smallJob());
  });
  after(async () => {
    await closeAll();
  });

  test('a range test suggests a peak learning rate, and Apply writes it into the job file', async () => {
    const { page } = vs;
    const file = join(vs.workspace, 'mnist-warmup-cosine.gradscope.json');
    await runCommand(page, 'Gradscope: Find Learning Rate');
    await pick(page, 'mnist-warmup-cosine.gradscope.json');
    const frame = await panelFrame(page, 120_000, '#suggestion');
    const suggestion = Number(await frame.locator('#suggestion').getAttribute('data-suggestion'));
    assert.ok(suggestion > 1e-4 && suggestion < 0.1, `suggestion ${suggestion}`);
    const plot = await frame.locator('[data-chart="lrFind"] .canvas-box').boundingBox();
    assert.ok(plot && plot.height >= 300, `the range-test plot is ${plot?.height} px tall`);
    await screenshot(page, 'lr-find');
    await frame.locator('#apply').click();
    const deadline = Date.now() + 30_000;
    let job = JSON.parse(readFileSync(file, 'utf8'));
    while (Math.abs(job.schedule.lr / suggestion - 1) > 1e-3 && Date.now() < deadline) {
      await page.waitForTimeout(250);
      job = JSON.parse(readFileSync(file, 'utf8'));
    }
    assert.ok(Math.abs(job.schedule.lr / suggestion - 1) < 1e-3, `schedule.lr ${job.schedule.lr} vs ${suggestion}`);
    assert.ok(Math.abs(job.optimizer.lr / suggestion - 1) < 1e-3);
  });

  test('comparing three strategies: progress and live charts while they run, then a table that sorts by any header and marks the best values', async () => {
    const { page } = vs;
    const frame = await startCompare(page, 'compare-pick');

    // While the runs go: a progress bar per strategy still to finish, and charts that already draw.
    await frame.locator('#compare-table tr.pending [role="progressbar"]').first().waitFor({ timeout: 60_000 });
    await frame.locator('[data-chart="compare-loss"]:not([data-series="0"])').waitFor({ timeout: 60_000 });
    assert.match(await frame.locator('#summary').innerText(), /running/);
    await screenshot(page, 'compare-running');

    await frame.locator('#summary', { hasText: 'done' }).waitFor({ timeout: 180_000 });
    const table = frame.locator('#compare-table');
    assert.deepEqual((await table.getAttribute('data-strategies'))!.split(',').sort(), ['clip', 'constant', 'cosine']);
    const body = await table.locator('tbody tr').allInnerTexts();
    assert.equal(body.length, 3);
    for (const r of body) assert.match(r, /finished/);

    // Headers are words (no raw keys), and none is cut or wrapped inside a word.
    const headers = table.locator('thead th');
    for (const text of await headers.allInnerTexts()) assert.doesNotMatch(text, /[a-z][A-Z]|Ms\b/, `header ${text}`);
    const clipped = await headers.evaluateAll((ths) => ths.filter((th) => th.scrollWidth > th.clientWidth + 1).map((th) => th.textContent));
    assert.deepEqual(clipped, []);
    assert.equal(await frame.locator('#sort').count(), 0, 'no sort box: headers sort');

    const column = async (index: number) => (await table.locator(`tbody tr td:nth-child(${index})`).allInnerTexts()).map((t) => Number.parseFloat(t.replace(/[^\d.eE-]/g, '')));
    await table.locator('th', { hasText: 'Val. accuracy' }).click();
    await frame.locator('#compare-table[data-sorted-by="finalValidationAccuracy"]').waitFor();
    const accuracy = await column(6);
    assert.deepEqual(
      accuracy,
      [...accuracy].sort((a, b) => b - a),
      `accuracy ${accuracy}`,
    );
    await table.locator('th', { hasText: 'Time' }).click();
    await frame.locator('#compare-table[data-sorted-by="wallTimeMs"]').waitFor();
    const times = await column(10);
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
      `times ${times}`,
    );
    assert.ok((await table.locator('td.best').count()) >= 3, 'the best value of each column is marked');
    // The comparison on its own, as wide as the window allows, for the screenshots.
    await runCommand(page, 'View: Join All Editor Groups');
    await page.locator('.tab', { hasText: 'Compare: small' }).first().click();
    // Moved to another group, the webview is shown again: wait for its table, not a fixed time.
    await shownCompare(page);
    // This VS Code started dark; the light screenshot comes from one started light (the last test).
    copyFileSync(await screenshot(page, 'compare-dark'), join(root, 'docs', 'compare-dark.png'));
  });

  test('the schedule preview plots the planned rate from the CodeLens', async () => {
    const { page } = vs;
    await runCommand(page, 'View: Show Explorer');
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'mnist-warmup-cosine.gradscope.json' }).first().click();
    const lens = page.locator('.codelens-decoration a', { hasText: 'Preview schedule' });
    await lens.waitFor({ timeout: 30_000 });
    await lens.click();
    const frame = await panelFrame(page, 30_000, '[data-chart="preview"]');
    await frame.locator('#root[data-steps="315"]').waitFor({ timeout: 30_000 });
    await screenshot(page, 'preview');
  });

  test('in a VS Code started in the light theme: the comparison, sorted by time', async () => {
    await vs.close();
    vs = await launch([], { theme: 'Default Light Modern', files: { 'small.gradscope.json': smallJob() } });
    const { page } = vs;
    await page.locator('.monaco-workbench.vs').waitFor();
    const frame = await startCompare(page);
    await frame.locator('#summary', { hasText: 'done' }).waitFor({ timeout: 180_000 });
    await frame.locator('#compare-table th', { hasText: 'Time' }).click();
    await frame.locator('#compare-table[data-sorted-by="wallTimeMs"]').waitFor();
    await shownCompare(page);
    copyFileSync(await screenshot(page, 'compare-light'), join(root, 'docs', 'compare-light.png'));
  });
});
