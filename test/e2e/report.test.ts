// The HTML report opened as a file in Chromium, with the network off: charts drawn, markers placed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { root, screenshots } from './vscode';

test('the report renders offline with its charts, markers and events table', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gradscope-report-'));
  const log = join(dir, 'log.jsonl');
  writeFileSync(
    log,
    Array.from({ length: 3000 }, (_, step) => JSON.stringify({ step, lr: 1e-3, loss: 2 - step / 3000, grad_norm: step === 2000 ? 80 : 1 + 0.01 * (step % 5), 'grad_norm/fc.weight': 0.5 })).join('\n'),
  );
  const out = join(dir, 'report.html');
  assert.equal(spawnSync(process.execPath, [join(root, 'bin/gradscope.js'), 'report', log, '-o', out]).status, 0);
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const context = await browser.newContext({ offline: true, viewport: { width: 1200, height: 1400 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`file://${out}`);
    await page.locator('[data-chart="gradNorm"] canvas').waitFor();
    assert.deepEqual(errors, []);
    assert.equal(await page.locator('[data-chart]').count(), 4);
    assert.equal(await page.locator('[data-chart="gradNorm"]').getAttribute('data-event-steps'), '2000');
    assert.match(await page.locator('table').innerText(), /2000\s+warning\s+explosion/);
    await page.screenshot({ path: join(screenshots, 'report.png'), fullPage: true });
  } finally {
    await browser.close();
  }
});
