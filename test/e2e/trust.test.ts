// Workspace trust: a job that runs the user's own JavaScript (a data or model module) is refused in
// an untrusted workspace, with a message that says why and how to trust it; nothing runs.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { closeAll, launch, runCommand, screenshot, type VsCode } from './vscode';

const moduleJob = {
  name: 'module-data',
  data: { type: 'module', path: 'data.js' },
  model: [{ type: 'dense', units: 3, activation: 'softmax' }],
  optimizer: { type: 'sgd', lr: 0.1 },
  schedule: { type: 'constant', lr: 0.1 },
  epochs: 1,
};

let vs: VsCode;
before(async () => {
  vs = await launch([], {
    untrusted: true,
    files: {
      'module.gradscope.json': JSON.stringify(moduleJob, null, 2),
      // Would leave a trace if it ever ran.
      'data.js': "require('fs').writeFileSync(require('path').join(__dirname, 'data-module-ran'), '');\nexports.loadData = () => { throw new Error('must not run'); };\n",
    },
  });
});
after(async () => {
  await closeAll();
});

test('a module job is refused in an untrusted workspace', { timeout: 300_000 }, async () => {
  const { page } = vs;
  await page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).first().waitFor({ timeout: 60_000 });
  await runCommand(page, 'View: Show Explorer');
  const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'module.gradscope.json' }).first();
  await row.waitFor({ timeout: 30_000 });
  await row.click();
  await page.locator('.tab.active', { hasText: 'module.gradscope.json' }).waitFor();

  await runCommand(page, 'Gradscope: Train with Schedule');
  const toast = page.locator('.notification-toast', { hasText: 'trusted workspace' });
  await toast.waitFor({ timeout: 60_000 });
  assert.match(await toast.innerText(), /Gradscope: this job runs code from data\.js, which needs a trusted workspace\./);
  assert.ok((await toast.locator('a.monaco-button, .monaco-button', { hasText: 'Manage Workspace Trust' }).count()) > 0, 'offers to manage trust');
  await screenshot(page, 'untrusted-module-job');
  // No schedule was offered and nothing ran: no run folder, the module never loaded.
  assert.equal(await page.locator('.quick-input-widget:visible').count(), 0);
  assert.equal(existsSync(join(vs.workspace, '.gradscope')), false);
  assert.equal(existsSync(join(vs.workspace, 'data-module-ran')), false);
});
