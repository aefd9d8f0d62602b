// A real VS Code for end-to-end tests: code-server (installed by scripts/e2e-setup.sh) with the
// packaged .vsix, driven by playwright-core in Debian's chromium.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';

export const root = join(__dirname, '../..');
const codeServer = join(root, '.e2e/code-server/node_modules/.bin/code-server');
export const screenshots = join(root, 'test-results', 'e2e');

export interface VsCode {
  page: Page;
  workspace: string;
  close(): Promise<void>;
}

export type Theme = 'Default Dark Modern' | 'Default Light Modern';

export interface LaunchOptions {
  /**
   * Workspace trust as a user has it: enabled, and this folder not trusted (Restricted Mode, no
   * prompt). Default: false (trust is disabled, every folder runs as trusted).
   */
  untrusted?: boolean;
  /** Extra files written into the workspace before VS Code opens it, by relative path. Default: none. */
  files?: Record<string, string>;
  /**
   * The colour theme VS Code starts in (written to its user settings before launch). A screenshot in
   * another theme takes a VS Code started in it: switched mid-session, parts of the workbench can stay
   * in the old theme around a webview in the new one. Default: Default Dark Modern.
   */
  theme?: Theme;
  /** User settings on top of the test defaults, e.g. `{ 'gradscope.backend': 'cpu' }`. Default: none. */
  settings?: Record<string, unknown>;
}

/** Starts code-server with the extension installed and a workspace holding the given example jobs. */
export async function launch(examples: string[], options: LaunchOptions = {}): Promise<VsCode> {
  const base = mkdtempSync(join(tmpdir(), 'gradscope-e2e-'));
  const workspace = join(base, 'workspace');
  const userData = join(base, 'user-data');
  const extensions = join(base, 'extensions');
  mkdirSync(workspace);
  mkdirSync(join(userData, 'User'), { recursive: true });
  for (const name of examples) cpSync(join(root, 'examples', `${name}.gradscope.json`), join(workspace, `${name}.gradscope.json`));
  for (const [name, text] of Object.entries(options.files ?? {})) writeFileSync(join(workspace, name), text);
  const trust = options.untrusted ? { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never' } : { 'security.workspace.trust.enabled': false };
  writeFileSync(
    join(userData, 'User', 'settings.json'),
    JSON.stringify({
      ...trust,
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'telemetry.telemetryLevel': 'off',
      'update.mode': 'none',
      'extensions.ignoreRecommendations': true,
      'workbench.enableExperiments': false,
      'window.commandCenter': false,
      'workbench.colorTheme': options.theme ?? 'Default Dark Modern',
      'chat.commandCenter.enabled': false,
      ...options.settings,
    }),
  );
  const install = spawnSync(codeServer, ['--extensions-dir', extensions, '--user-data-dir', userData, '--install-extension', join(root, 'gradscope.vsix')], { encoding: 'utf8' });
  if (install.status !== 0) throw new Error(`installing the .vsix failed: ${install.stderr}`);
  const port = await freePort();
  const server = spawn(
    codeServer,
    [
      '--auth',
      'none',
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--user-data-dir',
      userData,
      '--extensions-dir',
      extensions,
      '--disable-telemetry',
      '--disable-update-check',
      ...(options.untrusted ? [] : ['--disable-workspace-trust']),
      workspace,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // Registered before anything can fail, so that closeAll() stops what was started.
  const started: { browser?: Browser } = {};
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= shutdown(started.browser, server).finally(() => sessions.delete(close));
    return closing;
  };
  sessions.add(close);
  await waitForServer(server, port);
  const browser = (started.browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  }));
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  await page.locator('.statusbar').waitFor();
  return { page, workspace, close };
}

/**
 * The sessions of this test file not closed yet. A test that fails before it closes its VS Code would
 * otherwise leave code-server and chromium running, and the file's process waiting on them forever.
 */
const sessions = new Set<() => Promise<void>>();

/** Closes every VS Code this file launched and has not closed (each file's `after`). */
export async function closeAll(): Promise<void> {
  await Promise.all([...sessions].map((close) => close()));
}

async function shutdown(browser: Browser | undefined, server: ChildProcess): Promise<void> {
  await browser?.close().catch(() => {});
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGTERM');
  await exited;
}

async function waitForServer(server: ChildProcess, port: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (server.exitCode !== null) throw new Error(`code-server exited with ${server.exitCode}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('code-server did not start within 60 s');
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Runs a command from the command palette: types `query`, picks the row that shows it. An open
 * palette does not refresh its list, so while the extension host is still registering commands the
 * palette is closed and opened again until the command shows (for at most a minute).
 */
export async function runCommand(page: Page, query: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill(`>${query}`);
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: query }).first();
    try {
      await row.waitFor({ timeout: 5_000 });
      await row.click();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await page.keyboard.press('Escape');
    }
  }
}

/** Picks a quick pick item by (part of) its label. */
export async function pick(page: Page, label: string): Promise<void> {
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
  await row.waitFor({ timeout: 30_000 });
  await row.click();
}

/** The webview frame that holds a Gradscope view (webviews are nested frames of the page). */
export async function panelFrame(page: Page, timeout = 60_000, selector = '[data-chart="gradNorm"]'): Promise<Frame> {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      if (
        await frame
          .locator(selector)
          .count()
          .catch(() => 0)
      )
        return frame;
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`no Gradscope view with ${selector} appeared`);
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshots, { recursive: true });
  const file = join(screenshots, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}
