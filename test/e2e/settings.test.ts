// The settings reach every kind of run (Train, Find Learning Rate, Compare), and the status bar tells
// a guard stop by the summary's stopReason.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { lrJumpJob, tinyJob } from '../integration/harness';
import { closeAll, launch, pick, runCommand, screenshot, type VsCode } from './vscode';

const small = tinyJob({ name: 'small', data: { type: 'synthetic', samples: 512, features: 8, classes: 3 } });
const guarded = {
  name: 'guarded',
  seed: 1,
  optimizer: { type: 'sgd', lr: 0.01 },
  ...lrJumpJob(40, { data: { type: 'synthetic', task: 'regression', samples: 512, features: 8 }, guard: { explosion: 'stop' } }),
};

let vs: VsCode;
const runsDir = () => join(vs.workspace, '.gradscope', 'runs');
const summaries = () =>
  (existsSync(runsDir()) ? readdirSync(runsDir()) : [])
    .filter((name) => existsSync(join(runsDir(), name, 'summary.json')))
    .map((name) => ({ name, ...(JSON.parse(readFileSync(join(runsDir(), name, 'summary.json'), 'utf8').replace(/\bNaN\b/g, 'null')) as { backend: string; stopReason: string }) }));

async function waitForSummary(matching: (name: string) => boolean, known: string[]): Promise<{ name: string; backend: string; stopReason: string }> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const found = summaries().find((s) => matching(s.name) && !known.includes(s.name));
    if (found) return found;
    await vs.page.waitForTimeout(250);
  }
  throw new Error('no run finished in time');
}

describe('settings and the status bar', { timeout: 600_000 }, () => {
  before(async () => {
    vs = await launch([], {
      settings: { 'gradscope.backend': 'cpu' },
      files: { 'small.gradscope.json': JSON.stringify(small, null, 2), 'guarded.gradscope.json': JSON.stringify(guarded, null, 2) },
    });
  });
  after(async () => {
    await closeAll();
  });

  test('Find Learning Rate runs on the backend of the gradscope.backend setting', async () => {
    const { page } = vs;
    const known = summaries().map((s) => s.name);
    await runCommand(page, 'Gradscope: Find Learning Rate');
    await pick(page, 'small.gradscope.json');
    const run = await waitForSummary((name) => name.includes('lr-find'), known);
    assert.equal(run.backend, 'cpu');
  });

  test('Compare runs each strategy on the backend of the gradscope.backend setting', async () => {
    const { page } = vs;
    const known = summaries().map((s) => s.name);
    await runCommand(page, 'Gradscope: Compare Schedules');
    await pick(page, 'small.gradscope.json');
    await page.locator('.quick-input-widget [aria-label="Toggle all checkboxes"]').click();
    await page.locator('.quick-input-list .monaco-custom-toggle[aria-label="constant"]').click();
    await page.locator('.quick-input-widget .monaco-button', { hasText: 'OK' }).click();
    const run = await waitForSummary(() => true, known);
    assert.equal(run.backend, 'cpu');
  });

  test('a run stopped by its guard shows as such in the status bar', async () => {
    const { page } = vs;
    const known = summaries().map((s) => s.name);
    await runCommand(page, 'Gradscope: Train with Schedule');
    await pick(page, 'guarded.gradscope.json');
    await pick(page, "Job's schedule");
    const run = await waitForSummary((name) => name.includes('guarded'), known);
    assert.equal(run.stopReason, 'guard');
    assert.equal(run.backend, 'cpu');
    const alert = page.locator('.statusbar-item', { hasText: 'Stopped by the guard at step' });
    await alert.waitFor({ timeout: 30_000 });
    assert.match((await alert.getAttribute('class')) ?? '', /error-kind/);
    await screenshot(page, 'guard-stop-status-bar');
  });
});
