// A PyTorch loop monitored by the gradscope Python package, live in VS Code: it appears in the panel
// while it trains, its explosion raises the status-bar alert, and Stop in the panel ends the script
// (through the run folder's control.json). Needs Debian's python3-torch (/usr/bin/python3).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { closeAll, launch, panelFrame, root, runCommand, screenshot, type VsCode } from './vscode';

const TRAIN = `
import sys, time, torch, gradscope
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
projection = torch.randn(784, 10)
with gradscope.Monitor(model, optimizer, name=sys.argv[1]) as monitor:
    print("run_dir", monitor.run_dir, flush=True)
    for step in range(100000):
        optimizer.param_groups[0]["lr"] = 20.0 if 120 <= step < 122 else 0.01  # a two-step LR spike: the explosion
        x = torch.randn(32, 1, 28, 28)
        y = (x.flatten(1) @ projection).argmax(1)
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        if monitor.step(loss):
            optimizer.step()
        if monitor.should_stop:
            print("stopped at", step, flush=True)
            break
        time.sleep(0.02)
`;

let vs: VsCode;
let child: ChildProcess | undefined;

describe('PyTorch loops in VS Code', { timeout: 300_000 }, () => {
  before(async () => {
    vs = await launch([]);
  });
  after(async () => {
    child?.kill();
    await closeAll();
  });

  test('a monitored script appears live in the panel, its explosion alerts, and Stop in the panel ends it', async () => {
    const { page } = vs;
    writeFileSync(join(vs.workspace, 'train.py'), TRAIN);
    const { runDir, exited, output } = await startScript('pytorch-e2e');

    await runCommand(page, 'Gradscope: Open Training Log');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor();
    // The simple file dialog opens a folder on Enter instead of choosing it: choose its metrics file.
    await input.fill(join(runDir, 'metrics.jsonl'));
    // The dialog lists the folder as the path is typed (.gradscope is hidden) and may swallow the
    // first OK while it does: OK until it closes.
    const ok = page.locator('.quick-input-widget .monaco-button', { hasText: 'OK' });
    for (let attempt = 0; attempt < 10 && (await ok.isVisible()); attempt++) {
      await page.waitForTimeout(1000);
      if (await ok.isVisible()) await ok.click().catch(() => {});
    }
    const frame = await panelFrame(page);
    // Live: the step count grows while the script trains.
    await frame.locator('#run-status', { hasText: /running · step [1-9]\d*/ }).waitFor({ timeout: 30_000 });
    await page.locator('.statusbar-item', { hasText: /Gradient explosion at step 12[0-9]/ }).waitFor({ timeout: 60_000 });
    await screenshot(page, 'pytorch-live');

    const stop = frame.locator('#stop');
    assert.equal(await stop.isDisabled(), false);
    await stop.click();
    const code = await Promise.race([exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 30_000))]);
    assert.equal(code, 0, `the script did not end after Stop (${String(code)}): ${output()}`);
    assert.match(output(), /stopped at \d+/);
    assert.equal(JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')).status, 'stopped');
    assert.deepEqual(JSON.parse(readFileSync(join(runDir, 'control.json'), 'utf8')), { stop: true });
    await frame.locator('#run-status', { hasText: /^stopped/ }).waitFor({ timeout: 30_000 });
  });

  test('Watch New PyTorch Runs opens a run as its script starts; Pause holds the loop, Resume frees it, LR × and Clip reach it, Stop ends it', async () => {
    const { page } = vs;
    await runCommand(page, 'Gradscope: Watch New PyTorch Runs');
    await page.locator('.notification-toast', { hasText: 'watching for new PyTorch runs' }).waitFor({ timeout: 15_000 });
    const { runDir, exited, output } = await startScript('watched');
    const frame = await panelFrame(page);
    await frame
      .locator('#run-status', { hasText: /running · step [1-9]\d*/ })
      .waitFor({ timeout: 30_000 })
      .catch(async (error: unknown) => {
        await runCommand(page, 'Notifications: Show Notifications');
        await page.waitForTimeout(1000);
        await screenshot(page, 'pytorch-watch-failed');
        throw error;
      });
    assert.match(await frame.locator('#runs, body').first().innerText(), /watched/);

    await frame.locator('#pause').click();
    await frame.locator('#run-status', { hasText: /^paused/ }).waitFor({ timeout: 15_000 });
    await waitFor(
      () => (JSON.parse(readFileSync(join(runDir, 'control.json'), 'utf8')).pause === true ? true : undefined),
      10_000,
      () => 'no pause in control.json',
    );
    // The loop records the pause as an event once it holds, its rows written before it.
    await waitFor(
      () => (existsSync(join(runDir, 'events.jsonl')) && readFileSync(join(runDir, 'events.jsonl'), 'utf8').includes('"change":"pause"') ? true : undefined),
      30_000,
      () => 'no pause event in events.jsonl',
    );
    const held = rowCount(runDir);
    await page.waitForTimeout(1500);
    assert.equal(rowCount(runDir), held, 'rows were written while paused');

    await frame.locator('#pause', { hasText: 'Resume' }).click();
    await frame.locator('#run-status', { hasText: /^running/ }).waitFor({ timeout: 15_000 });
    await waitFor(
      () => (rowCount(runDir) > held ? true : undefined),
      15_000,
      () => 'no rows after Resume',
    );

    // LR × and Clip from the panel reach the loop: its rows show the halved rate and the clipped norm.
    await frame.locator('#lr-multiplier input').fill('0.5');
    await frame.locator('#clip-threshold input').fill('1.5');
    await frame.locator('#apply-controls').click();
    await waitFor(
      () => {
        const rows = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as { lr: number; clippedNorm?: number });
        const last = rows.at(-1);
        return last && last.lr === 0.005 && last.clippedNorm !== undefined ? true : undefined;
      },
      15_000,
      () => `no row with lr 0.005 and a clippedNorm; control.json: ${readFileSync(join(runDir, 'control.json'), 'utf8')}`,
    );

    await frame.locator('#stop').click();
    const code = await Promise.race([exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 30_000))]);
    assert.equal(code, 0, `the script did not end after Stop: ${output()}`);
    assert.deepEqual(JSON.parse(readFileSync(join(runDir, 'control.json'), 'utf8')), { pause: false, lrMultiplier: 0.5, clipThreshold: 1.5, stop: true });
    assert.equal(JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')).status, 'stopped');
    await runCommand(page, 'Gradscope: Watch New PyTorch Runs'); // toggled off again
  });

  test('Add PyTorch Monitoring… shows the loop and asks before installing the package', async () => {
    const { page } = vs;
    await runCommand(page, 'Notifications: Clear All Notifications');
    await runCommand(page, 'Gradscope: Add PyTorch Monitoring');
    await page.locator('.monaco-editor .view-lines', { hasText: 'gradscope.Monitor(model, optimizer' }).waitFor({ timeout: 15_000 });
    const toast = page.locator('.notification-toast', { hasText: 'install the gradscope package into' });
    await toast.waitFor({ timeout: 15_000 });
    await screenshot(page, 'pytorch-add-monitoring');
    await toast.locator('.monaco-button', { hasText: 'Not Now' }).click();
    // Nothing is installed without a yes: no terminal was opened.
    assert.equal(await page.locator('.terminal-tab, .single-terminal-tab', { hasText: 'pip install' }).count(), 0);
  });
});

/** Starts train.py (written by the first test) as another program would, and waits for its run folder. `output`: its stdout then stderr. */
async function startScript(name: string): Promise<{ runDir: string; exited: Promise<number | null>; output: () => string }> {
  const script = spawn('/usr/bin/python3', ['train.py', name], { cwd: vs.workspace, env: { ...process.env, PYTHONPATH: join(root, 'python') }, stdio: ['ignore', 'pipe', 'pipe'] });
  child = script;
  let stdout = '';
  let stderr = '';
  script.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  script.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => script.on('exit', (code) => resolve(code)));
  const runDir = await waitFor(
    () => /run_dir (.+)\n/.exec(stdout)?.[1],
    60_000,
    () => `the script printed no run folder: ${stderr}`,
  );
  return { runDir, exited, output: () => `${stdout}${stderr}` };
}

const rowCount = (runDir: string) => readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean).length;

async function waitFor<T>(probe: () => T | undefined, timeoutMs: number, why: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(why());
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
