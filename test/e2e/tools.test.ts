// The strategy tools in a real VS Code: range test and Apply, comparison table, schedule preview.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launch, panelFrame, pick, root, runCommand, screenshot, type VsCode } from './vscode';

let vs: VsCode;

describe('strategy tools in VS Code', { timeout: 600_000 }, () => {
  before(async () => {
    vs = await launch(['mnist-warmup-cosine']);
    const small = JSON.parse(readFileSync(join(root, 'examples', 'mnist-fixed.gradscope.json'), 'utf8'));
    Object.assign(small, { name: 'small', epochs: 2, data: { type: 'mnist', samples: 3000, validationSplit: 0.2 } });
    writeFileSync(join(vs.workspace, 'small.gradscope.json'), JSON.stringify(small, null, 2));
  });
  after(async () => {
    await vs?.close();
  });

  test('a range test suggests a peak learning rate, and Apply writes it into the job file', async () => {
    const { page } = vs;
    const file = join(vs.workspace, 'mnist-warmup-cosine.gradscope.json');
    await runCommand(page, 'Gradscope: Find Learning Rate');
    await pick(page, 'mnist-warmup-cosine.gradscope.json');
    const frame = await panelFrame(page, 120_000, '#suggestion');
    const suggestion = Number(await frame.locator('#suggestion').getAttribute('data-suggestion'));
    assert.ok(suggestion > 1e-4 && suggestion < 0.1, `suggestion ${suggestion}`);
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

  test('comparing three strategies fills a table with their results', async () => {
    const { page } = vs;
    await runCommand(page, 'Gradscope: Compare Schedules');
    await pick(page, 'small.gradscope.json');
    // Every strategy starts picked: untick all, then tick three.
    await page.locator('.quick-input-widget [aria-label="Toggle all checkboxes"]').click();
    for (const name of ['constant', 'cosine', 'clip']) await page.locator(`.quick-input-list .monaco-custom-toggle[aria-label="${name}"]`).click();
    await screenshot(page, 'compare-pick');
    await page.locator('.quick-input-widget .monaco-button', { hasText: 'OK' }).click();
    const frame = await panelFrame(page, 60_000, '#compare-table');
    await frame.locator('#summary', { hasText: 'done' }).waitFor({ timeout: 180_000 });
    const strategies = (await frame.locator('#compare-table').getAttribute('data-strategies'))!.split(',').sort();
    assert.deepEqual(strategies, ['clip', 'constant', 'cosine']);
    const rows = await frame.locator('vscode-data-grid-row').allInnerTexts();
    const body = rows.filter((r) => /constant|cosine|clip/.test(r));
    assert.equal(body.length, 3);
    for (const r of body) assert.match(r, /finished/);
    await screenshot(page, 'compare');
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
});
