// Bring your own run: a metrics log written by another framework, followed live in VS Code.
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { concat, eventBytes, record } from '../support/tfevents';
import { sharedReference } from '../unit/shared';
import { closeAll, launch, panelFrame, runCommand, screenshot, type VsCode } from './vscode';

let vs: VsCode;
const row = (step: number, spike = false) =>
  JSON.stringify({ 'train/global_step': step, 'train/learning_rate': 1e-3, 'train/loss': 2 - step / 400, 'train/grad_norm': spike ? 90 : 1 + 0.02 * (step % 5) });

describe('logs from other frameworks in VS Code', { timeout: 300_000 }, () => {
  before(async () => {
    vs = await launch([]);
  });
  after(async () => {
    await closeAll();
  });

  test('a watched metrics file drives the panel, the status bar and Problems as it grows', async () => {
    const { page } = vs;
    const file = join(vs.workspace, 'trainer_log.jsonl');
    writeFileSync(file, `${Array.from({ length: 100 }, (_, step) => row(step)).join('\n')}\n`);
    await runCommand(page, 'Gradscope: Open Training Log');
    // code-server's file dialog is a quick input that takes a path.
    const input = page.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill(file);
    await page.keyboard.press('Enter');
    const frame = await panelFrame(page);
    await frame.locator('#run-status', { hasText: 'step 100 ·' }).waitFor({ timeout: 30_000 });

    // The other framework goes on writing; a spike arrives at step 140.
    appendFileSync(file, `${Array.from({ length: 60 }, (_, i) => row(100 + i, 100 + i === 140)).join('\n')}\n`);
    await page.locator('.statusbar-item', { hasText: 'Gradient explosion at step 140' }).waitFor({ timeout: 30_000 });
    await frame.locator('[data-chart="gradNorm"][data-event-steps="140"]').waitFor({ timeout: 30_000 });
    await runCommand(page, 'Focus on Problems View');
    const entry = page.locator('.markers-panel .monaco-list-row', { hasText: 'step 140: gradient explosion' });
    await entry.waitFor({ timeout: 15_000 });
    assert.match(await entry.innerText(), /\[Ln 141, Col 1\]/);
    await screenshot(page, 'watched-log');
  });

  test('a TensorBoard log directory opens from the Explorer, one run per folder, spikes flagged', async () => {
    const { page } = vs;
    for (const [run, spikeAt] of [
      ['clean', undefined],
      ['spiky', 150],
    ] as const) {
      mkdirSync(join(vs.workspace, 'tb', run), { recursive: true });
      const events = Array.from({ length: 200 }, (_, step) => record(eventBytes(step, { 'train/loss': 2 - step / 200, 'train/grad_norm': step === spikeAt ? 70 : 1 + 0.01 * (step % 3) })));
      writeFileSync(join(vs.workspace, 'tb', run, 'events.out.tfevents.1700000000.host'), concat(events));
    }
    await runCommand(page, 'View: Show Explorer');
    const folder = page.locator('.explorer-folders-view .monaco-list-row', { hasText: /^tb$/ }).first();
    await folder.waitFor({ timeout: 30_000 });
    await folder.click({ button: 'right' });
    // A fresh menu sits under a pointer block until the mouse moves: hover, then choose.
    await chooseFromMenu(page, 'Open Training Log');
    const frame = await panelFrame(page);
    // The run list: a click on a run's name focuses it.
    const spiky = frame.locator('#run-picker li', { hasText: 'tb/spiky' }).locator('.run-name');
    await spiky.waitFor({ timeout: 30_000 });
    await spiky.click();
    await frame.locator('[data-chart="gradNorm"][data-event-steps="150"]').waitFor({ timeout: 30_000 });
    await screenshot(page, 'tensorboard-log');
  });

  test(
    'a Hugging Face trainer_state.json opens from the Explorer: charts, the non-finite alert, Problems at the log_history entry',
    { skip: sharedReference('logs') ? false : 'shared/reference not found' },
    async () => {
      const { page } = vs;
      const source = sharedReference('logs', 'hf', '5hiri__Fine-Tuning-LLM-Test__unsloth-ckpt60-nan.json')!;
      mkdirSync(join(vs.workspace, 'outputs'), { recursive: true });
      const file = join(vs.workspace, 'outputs', 'trainer_state.json');
      cpSync(source, file);
      await runCommand(page, 'View: Show Explorer');
      await page
        .locator('.explorer-folders-view .monaco-list-row', { hasText: /^outputs$/ })
        .first()
        .click();
      const entry = page.locator('.explorer-folders-view .monaco-list-row', { hasText: /^trainer_state\.json$/ }).first();
      await entry.waitFor({ timeout: 30_000 });
      await entry.click({ button: 'right' });
      await chooseFromMenu(page, 'Open Training Log');
      const frame = await panelFrame(page);
      await frame.locator('[data-chart="gradNorm"][data-event-steps*="18"]').waitFor({ timeout: 30_000 });
      await page.locator('.statusbar-item', { hasText: 'Non-finite gradient at step 5' }).waitFor({ timeout: 30_000 });
      await runCommand(page, 'Focus on Problems View');
      const problem = page.locator('.markers-panel .monaco-list-row', { hasText: 'step 5: non-finite gradNorm' });
      await problem.waitFor({ timeout: 15_000 });
      // The entry of step 5 in log_history opens on this line of the file.
      const line =
        readFileSync(file, 'utf8')
          .split('\n')
          .findIndex((text, i, lines) => text.trim() === '{' && lines.slice(i, i + 8).some((l) => /"step": 5\b/.test(l))) + 1;
      assert.match(await problem.innerText(), new RegExp(`\\[Ln ${line}, Col 1\\]`));
      await screenshot(page, 'trainer-state');
    },
  );

  test(
    'a Keras run folder (train/ + validation/) opens from the Explorer as one run with its validation spikes',
    { skip: sharedReference('logs') ? false : 'shared/reference not found' },
    async () => {
      const { page } = vs;
      cpSync(sharedReference('logs', 'keras', 'pedramfekri__OCTTextureDetector__20220106-123415')!, join(vs.workspace, 'fit', '20220106-123415'), { recursive: true });
      // A second entry keeps the Explorer from compacting fit/20220106-123415 into one row.
      writeFileSync(join(vs.workspace, 'fit', 'notes.txt'), 'Keras model.fit logs\n');
      await runCommand(page, 'View: Show Explorer');
      await page.locator('.explorer-folders-view .monaco-list-row', { hasText: /^fit$/ }).first().click();
      const folder = page.locator('.explorer-folders-view .monaco-list-row', { hasText: /^20220106-123415$/ }).first();
      await folder.waitFor({ timeout: 30_000 });
      await folder.click({ button: 'right' });
      await chooseFromMenu(page, 'Open Training Log');
      const frame = await panelFrame(page);
      const picker = frame.locator('#run-picker');
      await picker.locator('li', { hasText: 'Keras' }).waitFor({ timeout: 30_000 });
      await frame.locator('[data-chart="loss"][data-event-steps="10,44"]').waitFor({ timeout: 30_000 });
      await screenshot(page, 'keras-run');
    },
  );
});

/** A fresh context menu sits under a pointer block until the mouse moves: hover, then choose. */
async function chooseFromMenu(page: VsCode['page'], label: string): Promise<void> {
  await page.locator('.context-view .action-label', { hasText: label }).hover();
  await page.waitForTimeout(200);
  await page.keyboard.press('Enter');
}
