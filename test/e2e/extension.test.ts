// End to end in a real VS Code (code-server + chromium): what a user does, and what they see.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { panelFrame, pick, root, runCommand, screenshot, closeAll, launch, type VsCode } from './vscode';

let vs: VsCode;
const runsDir = () => join(vs.workspace, '.gradscope', 'runs');
const runFolders = () => (existsSync(runsDir()) ? readdirSync(runsDir()).sort() : []);

/** Waits until a new run folder appears and (optionally) its summary is written. */
async function waitForRun(before: string[], finished = true, timeout = 120_000): Promise<string> {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    const fresh = runFolders().filter((f) => !before.includes(f));
    if (fresh.length && (!finished || existsSync(join(runsDir(), fresh[0], 'summary.json')))) return join(runsDir(), fresh[0]);
    await vs.page.waitForTimeout(250);
  }
  throw new Error('no run finished in time');
}

const events = (dir: string) =>
  readFileSync(join(dir, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line.replace(/\bNaN\b/g, 'null').replace(/-?Infinity/g, '1e999')));
const summary = (dir: string) => JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8').replace(/\bNaN\b/g, 'null'));

/** Trainer child processes of the installed extension (their command line names its dist/trainer.js). */
function trainerProcesses(): string[] {
  const out = spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter((line) => line.includes('gradscope.gradscope') && line.includes('trainer.js'));
}

/** Line (1-based) of the schedule's peak "lr" in a job file (where advice about the rate is attached). */
function scheduleLrLine(file: string): number {
  const lines = readFileSync(file, 'utf8').split('\n');
  const schedule = lines.findIndex((line) => line.includes('"schedule"'));
  let best = { line: 0, lr: -Infinity };
  lines.forEach((line, i) => {
    const lr = i >= schedule ? /"lr":\s*([0-9.eE+-]+)/.exec(line) : null;
    if (lr && Number(lr[1]) > best.lr) best = { line: i + 1, lr: Number(lr[1]) };
  });
  return best.line;
}

/** A job whose schedule breaks a rule (pctStart must be < 1). */
function brokenJob(): string {
  const broken = JSON.parse(readFileSync(join(root, 'examples', 'mnist-fixed.gradscope.json'), 'utf8'));
  broken.schedule = { type: 'oneCycle', maxLr: 0.1, totalSteps: 315, pctStart: 1.5 };
  return JSON.stringify(broken, null, 2);
}

/** Opens a workspace file by clicking it in the Explorer (which notices new files by itself). */
async function openFile(name: string): Promise<void> {
  await runCommand(vs.page, 'View: Show Explorer');
  const row = vs.page.locator('.explorer-folders-view .monaco-list-row', { hasText: name }).first();
  await row.waitFor({ timeout: 30_000 });
  await row.click();
  await vs.page.locator('.tab.active', { hasText: name }).waitFor();
}

/** Before a screenshot of the editor or the panel: no toast over it, the pointer out of the way. */
async function clearView(): Promise<void> {
  await runCommand(vs.page, 'Notifications: Clear All Notifications').catch(() => {});
  await vs.page.mouse.move(5, 400);
}

async function problems(): Promise<string[]> {
  await runCommand(vs.page, 'Focus on Problems View');
  const rows = vs.page.locator('.markers-panel .monaco-list-row');
  await rows.first().waitFor({ timeout: 30_000 });
  await vs.page.waitForTimeout(500);
  return rows.allInnerTexts();
}

/** Opens the quick-fix menu at a line; returns the titles it offers. */
async function openQuickFixes(line: number): Promise<string[]> {
  await vs.page.keyboard.press('Control+G');
  await vs.page.locator('.quick-input-widget input').fill(`:${line}:10`);
  await vs.page.keyboard.press('Enter');
  await vs.page.keyboard.press('Control+.');
  const items = vs.page.locator('.action-widget .monaco-list-row');
  await items.first().waitFor({ timeout: 15_000 });
  return items.allInnerTexts();
}

/** Adam at 0.001 for 100 steps, then 0.05: it explodes just after the jump. */
const ramp = /Ramp the rate from 0\.001 to 0\.05 over steps 0–100 instead of jumping at step 100/;

/** The quick fixes for the exploding example: the ramp first, a lower peak, no clipping under Adam. */
function assertRampOffered(offered: string[]): void {
  assert.ok(ramp.test(offered[0] ?? '') || ramp.test(offered.join('|')), `offered: ${offered.join(' | ')}`);
  assert.ok(
    offered.some((t) => /Lower the peak learning rate/.test(t)),
    `offered: ${offered.join(' | ')}`,
  );
  assert.ok(!offered.some((t) => /clipping/i.test(t)), `clipping offered under Adam: ${offered.join(' | ')}`);
}

/**
 * Applies the quick fix titled `title` at `line` of `file`, saves, and waits until the file on disk
 * holds the edit. Waits on what a user would see (the row focused, the menu closed, the file changed),
 * never on a fixed delay: on a loaded machine the edit or the save can land seconds later.
 */
async function applyQuickFix(file: string, line: number, title: string | RegExp): Promise<void> {
  const before = readFileSync(file, 'utf8');
  for (let attempt = 1; ; attempt++) {
    await openQuickFixes(line);
    const item = vs.page.locator('.action-widget .monaco-list-row', { hasText: title }).first();
    await item.waitFor({ timeout: 15_000 });
    // A freshly opened menu sits under a pointer block until the mouse moves: hover until the row is focused.
    const focused = vs.page.locator('.action-widget .monaco-list-row.focused', { hasText: title });
    for (let i = 0; i < 20 && !(await focused.count()); i++) {
      await item.hover({ force: true });
      await vs.page.waitForTimeout(100);
    }
    await focused.first().waitFor({ timeout: 5_000 });
    await vs.page.keyboard.press('Enter');
    await vs.page.locator('.action-widget .monaco-list-row').first().waitFor({ state: 'hidden', timeout: 15_000 });
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      await vs.page.keyboard.press('Control+S');
      await vs.page.waitForTimeout(500);
      if (readFileSync(file, 'utf8') !== before) return;
    }
    // The menu closed without the edit reaching the file: say so, and choose once more.
    if (attempt === 2) throw new Error(`the quick fix "${title}" did not change ${basename(file)}`);
    console.log(`applyQuickFix: "${title}" closed the menu without changing ${basename(file)}; choosing again`);
  }
}

describe('Gradscope in VS Code', { timeout: 900_000 }, () => {
  before(async () => {
    vs = await launch(['mnist-exploding', 'mnist-fixed']);
  });
  after(async () => {
    await closeAll();
  });

  test('training the exploding example flags the explosion in the status bar, the Problems panel and the charts', async () => {
    const { page } = vs;
    const previous = runFolders();
    await runCommand(page, 'Gradscope: Train with Schedule');
    await pick(page, 'mnist-exploding.gradscope.json');
    await pick(page, "Job's schedule");
    const alert = page.locator('.statusbar-item', { hasText: 'Gradient explosion at step' });
    await alert.waitFor({ timeout: 60_000 });
    const run = await waitForRun(previous);
    const explosions = events(run).filter((e) => e.kind === 'explosion');
    assert.ok(explosions.length > 0);
    assert.match(await alert.innerText(), new RegExp(`Gradient explosion at step ${explosions[0].step}`));
    assert.match((await alert.getAttribute('class')) ?? '', /warning-kind/);

    const frame = await panelFrame(page);
    await frame.locator('#root[data-run-status="finished"]').waitFor({ timeout: 30_000 });
    const marked = ((await frame.locator('[data-chart="gradNorm"]').getAttribute('data-event-steps')) ?? '').split(',').map(Number);
    for (const e of events(run)) assert.ok(marked.includes(e.step), `no marker at step ${e.step}`);
    await screenshot(page, 'exploding-panel');

    // Choosing the event in the table reveals the job-file line it is attached to.
    const line = scheduleLrLine(join(vs.workspace, 'mnist-exploding.gradscope.json'));
    await frame.locator('vscode-data-grid-row', { hasText: 'Explosion' }).first().click();
    await page.locator('.tab.active', { hasText: 'mnist-exploding.gradscope.json' }).waitFor({ timeout: 15_000 });
    await page.locator('.statusbar-item', { hasText: `Ln ${line},` }).waitFor({ timeout: 15_000 });
    const rows = await problems();
    const entry = rows.find((row) => row.includes(`Gradient explosion at step ${explosions[0].step}`));
    assert.ok(entry, `Problems: ${rows.join(' | ')}`);
    assert.match(entry, new RegExp(`\\[Ln ${line}, Col \\d+\\]`));
    await screenshot(page, 'exploding-problems');
  });

  test('the quick fixes fit the cause and the optimizer (a jump in the rate under Adam: ramp it, no clipping); applied and trained again, it does not explode', async () => {
    const { page } = vs;
    const file = join(vs.workspace, 'mnist-exploding.gradscope.json');
    await openFile('mnist-exploding.gradscope.json');
    const line = scheduleLrLine(file);
    // This VS Code started in the dark theme; the light screenshot comes from one started light (the last test).
    await clearView();
    const offered = await openQuickFixes(line);
    copyFileSync(await screenshot(page, 'quickfix-dark'), join(root, 'docs', 'quickfix-dark.png'));
    await page.keyboard.press('Escape');
    assertRampOffered(offered);
    const rows = await problems();
    const entry = rows.find((row) => row.includes('Gradient explosion at step'));
    assert.ok(entry && /jumped 50×/.test(entry) && !/clip/i.test(entry), `Problems: ${rows.join(' | ')}`);
    await openFile('mnist-exploding.gradscope.json');
    await applyQuickFix(file, line, ramp);
    const job = JSON.parse(readFileSync(file, 'utf8'));
    assert.deepEqual(job.schedule.schedules[0], { type: 'linear', lr: 0.05, startFactor: 0.02, endFactor: 1, totalIters: 100 });
    await screenshot(page, 'quick-fixed-job');

    const previous = runFolders();
    await runCommand(page, 'Gradscope: Train with Schedule');
    await pick(page, "Job's schedule");
    const run = await waitForRun(previous);
    assert.equal(summary(run).status, 'finished');
    assert.deepEqual(
      events(run).filter((e) => e.kind === 'explosion' || e.kind === 'nonFinite'),
      [],
    );
    const frame = await panelFrame(page);
    await frame.locator('#root[data-run-status="finished"]').waitFor({ timeout: 30_000 });
    assert.equal(await frame.locator('[data-chart="gradNorm"]').getAttribute('data-event-steps'), '');
  });

  test('a reopened run shows its validation loss and accuracy, read back from epochs.jsonl', async () => {
    const { page } = vs;
    const newest = runFolders().at(-1)!;
    assert.ok(existsSync(join(runsDir(), newest, 'epochs.jsonl')), 'the run log keeps the epochs');
    await runCommand(page, 'Gradscope: Open Run…');
    await pick(page, newest);
    const frame = await panelFrame(page, 30_000, '#run-title');
    await frame.locator('#run-title', { hasText: newest }).waitFor({ timeout: 30_000 });
    await frame.locator('[data-chart="accuracy"]:not([data-points="0"])').waitFor({ timeout: 30_000 });
    assert.match((await frame.locator('[data-chart="loss"]').getAttribute('data-datasets')) ?? '', /validation/);
    assert.match(await frame.locator('dd[data-stat="Val. loss"]').innerText(), /^\d/);
    assert.match(await frame.locator('dd[data-stat="Val. accuracy"]').innerText(), /^\d+(\.\d)?% \(best/);
    assert.notEqual(await frame.locator('dd[data-stat="Duration"]').innerText(), '—', 'its duration, from the folder name and the summary');
    // The Problems view of the earlier tests would cover half the charts.
    await runCommand(page, 'View: Hide Panel').catch(() => {});
    await clearView();
    await screenshot(page, 'reopened-run');
  });

  test('a run can be followed after reopening the panel, and stopped from the status bar', async () => {
    const { page } = vs;
    const long = JSON.parse(readFileSync(join(root, 'examples', 'mnist-fixed.gradscope.json'), 'utf8'));
    long.name = 'long-run';
    long.epochs = 200;
    writeFileSync(join(vs.workspace, 'long.gradscope.json'), JSON.stringify(long, null, 2));
    const previous = runFolders();
    await runCommand(page, 'Gradscope: Train with Schedule');
    await pick(page, 'long.gradscope.json');
    await pick(page, "Job's schedule");
    const run = await waitForRun(previous, false);
    let frame = await panelFrame(page);
    await frame.locator('#root[data-run-status="running"]').waitFor({ timeout: 30_000 });
    // Some steps before closing, so that there is something to come back (waited for, not slept on).
    const stepShown = async () => Number(/step (\d+)\//.exec(await frame.locator('#run-status').innerText())?.[1] ?? 0);
    for (const deadline = Date.now() + 60_000; (await stepShown()) <= 60 && Date.now() < deadline;) await page.waitForTimeout(250);
    const before = await stepShown();

    // Close the panel mid-run, reopen it: every point so far comes back.
    await runCommand(page, 'View: Close All Editors');
    await page.waitForTimeout(1500);
    await runCommand(page, 'Gradscope: Show Diagnostics Panel');
    frame = await panelFrame(page);
    await frame.locator('#root[data-run-status="running"]').waitFor({ timeout: 30_000 });
    await frame.waitForFunction(`Number(document.querySelector('[data-chart="loss"]')?.getAttribute('data-points')) >= ${before}`, undefined, {
      timeout: 30_000,
    });
    const status = await frame.locator('#run-status').innerText();
    const shown = Number(/step (\d+)\//.exec(status)?.[1]);
    assert.ok(shown >= before && before > 60, `the reopened panel shows ${status}; ${before} steps were shown before closing`);
    await screenshot(page, 'reopened-panel');

    // Stop from the status bar tooltip's link.
    const item = page.locator('.statusbar-item', { hasText: 'step' }).first();
    await item.hover();
    const stop = page.locator('.monaco-hover a', { hasText: 'Stop' });
    await stop.waitFor({ timeout: 15_000 });
    await stop.click();
    const deadline = Date.now() + 60_000;
    while (!existsSync(join(run, 'summary.json')) && Date.now() < deadline) await page.waitForTimeout(250);
    assert.equal(summary(run).status, 'stopped');
    await frame.locator('#root[data-run-status="stopped"]').waitFor({ timeout: 30_000 });
  });

  test('closing VS Code mid-run leaves no trainer process behind', async () => {
    const { page } = vs;
    const previous = runFolders();
    await openFile('long.gradscope.json');
    await runCommand(page, 'Gradscope: Train with Schedule');
    await pick(page, "Job's schedule");
    const run = await waitForRun(previous, false);
    await page.locator('.statusbar-item', { hasText: 'step' }).first().waitFor({ timeout: 30_000 });
    await vs.close();
    const deadline = Date.now() + 30_000;
    while (trainerProcesses().length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
    assert.deepEqual(trainerProcesses(), []);
    // The child noticed its parent go, finished its step and closed the run log.
    assert.equal(summary(run).status, 'stopped');
    // The next test's broken job is there from the start: a file written into a running workspace
    // sometimes reaches the Explorer only after its 30 s wait on a loaded machine.
    vs = await launch(['mnist-fixed'], { files: { 'broken.gradscope.json': brokenJob() } });
  });

  test('a job file with errors gets Problems entries, and training it says what is wrong without crashing', async () => {
    const { page } = vs;
    if (!existsSync(join(vs.workspace, 'broken.gradscope.json'))) writeFileSync(join(vs.workspace, 'broken.gradscope.json'), brokenJob());
    await openFile('broken.gradscope.json');
    const rows = await problems();
    const pctStart = rows.filter((row) => /pctStart|maximum|1\.5/.test(row));
    assert.equal(pctStart.length, 1, `one entry for the error, not one per checker: ${rows.join(' | ')}`);
    assert.equal((await page.locator('.markers-panel .monaco-list-row .codicon-error').count()) >= 1, true, 'shown as an error');
    assert.equal(await page.locator('.markers-panel .monaco-list-row .codicon-warning').count(), 0, 'no warnings');

    await runCommand(page, 'Gradscope: Train with Schedule');
    const toast = page.locator('.notification-toast', { hasText: 'broken.gradscope.json' });
    await toast.waitFor({ timeout: 30_000 });
    assert.match(await toast.innerText(), /broken\.gradscope\.json:\d+:\d+: schedule\.pctStart must be < 1 \(got 1\.5\)/);
    // After Train, still one entry per problem.
    const after = (await problems()).filter((row) => /pctStart|maximum|1\.5/.test(row));
    assert.equal(after.length, 1, `after Train: ${after.join(' | ')}`);
    await screenshot(page, 'broken-job');

    // The extension is still alive: its commands still answer.
    await runCommand(page, 'Gradscope: Show Diagnostics Panel');
    await panelFrame(page);
  });

  // The light screenshots come from a VS Code started in the light theme: one switched mid-session
  // can keep parts of the dark workbench around a light webview.
  test('in a VS Code started in the light theme: the exploding run, its quick fixes and the run reopened', async () => {
    await vs.close();
    vs = await launch(['mnist-exploding'], { theme: 'Default Light Modern' });
    const { page } = vs;
    await page.locator('.monaco-workbench.vs').waitFor();
    const previous = runFolders();
    await runCommand(page, 'Gradscope: Train with Schedule');
    await pick(page, 'mnist-exploding.gradscope.json');
    await pick(page, "Job's schedule");
    await page.locator('.statusbar-item', { hasText: 'Gradient explosion at step' }).waitFor({ timeout: 60_000 });
    const run = await waitForRun(previous);
    const frame = await panelFrame(page);
    await frame.locator('#root[data-run-status="finished"]').waitFor({ timeout: 30_000 });
    await screenshot(page, 'exploding-panel-light');

    // As in the dark screenshot: the Problems view below the job file with its quick-fix menu.
    await problems();
    await openFile('mnist-exploding.gradscope.json');
    await clearView();
    const offered = await openQuickFixes(scheduleLrLine(join(vs.workspace, 'mnist-exploding.gradscope.json')));
    await screenshot(page, 'quickfix-light');
    await page.keyboard.press('Escape');
    assertRampOffered(offered);

    await runCommand(page, 'View: Close All Editors');
    await runCommand(page, 'View: Hide Panel').catch(() => {});
    await runCommand(page, 'Gradscope: Open Run…');
    await pick(page, basename(run));
    const reopened = await panelFrame(page, 30_000, '#run-title');
    await reopened.locator('#run-title', { hasText: basename(run) }).waitFor({ timeout: 30_000 });
    await reopened.locator('[data-chart="accuracy"]:not([data-points="0"])').waitFor({ timeout: 30_000 });
    await clearView();
    await screenshot(page, 'reopened-run-light');
  });
});
