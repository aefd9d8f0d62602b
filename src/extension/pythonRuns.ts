import { cpSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { ControlFileController, livePythonRunDir, pipInstallCommand } from '../node/controlFile';
import { listRunFolders } from '../node/localFiles';
import type { LogSource } from '../node/logs/sources';
import type { LogViews } from './logs';
import type { Run, RunManager } from './runs';
import { configFor } from './train';

/** How often Watch New PyTorch Runs looks at the runs folders, in milliseconds. */
const WATCH_POLL_MS = 1000;

/** How long a new run folder may take to get its metrics.jsonl after its job.json (the package writes both at once). */
const NEW_RUN_WAIT_MS = 5000;

/** Time the follower gets to read the last rows after the loop wrote summary.json (it looks every 200 ms). */
const LAST_ROWS_MS = 1000;

export const PYTORCH_SNIPPET = `import gradscope

# Writes .gradscope/runs/<time>-<script>/ as it trains; open it with "Gradscope: Open Training Log…".
with gradscope.Monitor(model, optimizer, clip=None, nonfinite="skip") as monitor:
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        if monitor.step(loss):          # False: skip this update (a NaN or infinite loss or gradient)
            optimizer.step()
        scheduler.step()
        if monitor.should_stop:         # Stop in the Gradscope panel, or: gradscope control <run_dir> stop
            break
`;

/**
 * PyTorch loops monitored by the gradscope Python package: their run folders, opened as training
 * logs, become controllable (Stop, Pause, LR×, Clip write the folder's control.json), and "Add
 * PyTorch Monitoring…" shows the loop and installs the package.
 */
export class PythonRuns implements vscode.Disposable {
  private watcher: vscode.Disposable | undefined;

  constructor(
    private readonly runs: RunManager,
    private readonly logs: LogViews,
    private readonly extensionUri: vscode.Uri,
  ) {}

  /** "Open Training Log…": the log views open the target; runs the package writes get a controller. */
  async openLog(uri?: vscode.Uri): Promise<void> {
    for (const { run, source } of await this.logs.open(uri)) this.controlIfPython(run, source);
  }

  /**
   * "Watch New PyTorch Runs" (a toggle): every run folder the package starts under a workspace's
   * .gradscope/runs opens in the panel as soon as it appears, live and controllable.
   */
  toggleWatchNewRuns(): void {
    if (this.watcher) {
      this.watcher.dispose();
      this.watcher = undefined;
      void vscode.window.showInformationMessage('Gradscope: no longer watching for new PyTorch runs.');
      return;
    }
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (folders.length === 0) return void vscode.window.showErrorMessage('Gradscope: open a folder first.');
    // Each workspace folder's own runs directory, as Open Run… lists them.
    const runsDirs = folders.map((folder) => join(folder.uri.fsPath, configFor(folder.uri).runsDirectory));
    // Polled, not watched: file watchers coalesce or drop the events of a folder created with its
    // files inside a dot-folder, and one readdir a second per workspace folder costs nothing.
    const seen = new Set<string>();
    let first = true;
    let looking = false;
    const look = async () => {
      if (looking) return;
      looking = true;
      try {
        for (const { dir } of await listRunFolders(runsDirs)) {
          if (seen.has(dir)) continue;
          seen.add(dir);
          if (!first) void this.openNewRun(dir); // runs that were there before the toggle are not new
        }
      } finally {
        first = false;
        looking = false;
      }
    };
    void look();
    const timer = setInterval(() => void look(), WATCH_POLL_MS);
    this.watcher = { dispose: () => clearInterval(timer) };
    void vscode.window.showInformationMessage(
      `Gradscope: watching for new PyTorch runs in ${runsDirs.map((dir) => vscode.workspace.asRelativePath(dir)).join(', ')}; each opens in the panel as it starts.`,
    );
  }

  private async openNewRun(dir: string): Promise<void> {
    const metrics = join(dir, 'metrics.jsonl');
    // The package writes job.json, then opens metrics.jsonl: wait for both.
    for (let waited = 0; !(existsSync(metrics) && existsSync(join(dir, 'job.json'))) && waited < NEW_RUN_WAIT_MS; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
    if (livePythonRunDir(metrics)) await this.openLog(vscode.Uri.file(dir));
  }

  dispose(): void {
    this.watcher?.dispose();
  }

  private controlIfPython(run: Run, source: LogSource): void {
    const dir = source.kind === 'lines' ? livePythonRunDir(source.file) : undefined;
    if (!dir) return;
    const controller = new ControlFileController(dir, {
      onEnd: (end) =>
        setTimeout(() => {
          run.setStatus(end.status, undefined, end.message);
          run.stop(); // the loop has ended: stop following its log
        }, LAST_ROWS_MS),
      onError: (message) => void vscode.window.showErrorMessage(`Gradscope: ${message}`),
    });
    run.control(controller, 'pytorch');
  }

  /** "Add PyTorch Monitoring…": the loop to copy, and (if the user agrees) pip install of the package. */
  async addMonitoring(): Promise<void> {
    const document = await vscode.workspace.openTextDocument({ language: 'python', content: PYTORCH_SNIPPET });
    await vscode.window.showTextDocument(document, { preview: false });
    const python = await selectedPython();
    const packageDir = vscode.Uri.joinPath(this.extensionUri, 'python').fsPath;
    const choice = await vscode.window.showInformationMessage(
      `Gradscope: install the gradscope package into ${python.label}? It runs "pip install" on the package shipped with this extension (it needs torch ≥ 1.13, which it does not install).`,
      'Install',
      'Not Now',
    );
    if (choice !== 'Install') return;
    // pip builds in the source folder (build/, *.egg-info): build a copy, never the installed extension.
    const copy = join(tmpdir(), `gradscope-python-${process.pid}-${Date.now()}`);
    try {
      cpSync(packageDir, copy, { recursive: true, filter: (path) => !/__pycache__|\.egg-info|[\\/]build$/.test(path) });
    } catch (error) {
      return void vscode.window.showErrorMessage(`Gradscope: could not copy ${packageDir}: ${(error as Error).message}`);
    }
    const terminal = vscode.window.createTerminal({ name: 'Gradscope: pip install' });
    terminal.show();
    terminal.sendText(pipInstallCommand(python.command, copy, process.platform === 'win32'));
  }
}

/** The subset of the Python extension's API used here (ms-python.python exports `environments`). */
interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string };
    resolveEnvironment(environment: { path: string }): Promise<{ executable: { uri?: vscode.Uri } } | undefined>;
  };
}

/** The interpreter selected in the Python extension, else python.defaultInterpreterPath, else python3. */
async function selectedPython(): Promise<{ command: string; label: string }> {
  const extension = vscode.extensions.getExtension<PythonExtensionApi>('ms-python.python');
  try {
    const api = extension ? (extension.isActive ? extension.exports : await extension.activate()) : undefined;
    const active = api?.environments?.getActiveEnvironmentPath(vscode.workspace.workspaceFolders?.[0]?.uri);
    const resolved = active ? await api?.environments?.resolveEnvironment(active) : undefined;
    const executable = resolved?.executable.uri?.fsPath ?? active?.path;
    if (executable) return { command: executable, label: `the selected interpreter (${executable})` };
  } catch {
    // No usable Python extension: fall back to the setting or the PATH.
  }
  const configured = vscode.workspace.getConfiguration('python').get<string>('defaultInterpreterPath');
  if (configured && configured !== 'python') return { command: configured, label: configured };
  const command = process.platform === 'win32' ? 'python' : 'python3';
  return { command, label: `"${command}" on the PATH` };
}
