import * as vscode from 'vscode';
import { parseWebviewMessage, type HostToWebview, type WebviewToHost } from '../core/protocol';
import { webviewHtml, type WebviewView } from './webviewHtml';

/**
 * A webview for one tool (range test, comparison, schedule preview). It keeps the latest state and
 * sends it whenever the webview says ready, so hiding or reloading the panel loses nothing.
 */
export class ToolPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private state: HostToWebview | undefined;
  private ready = false;
  private readonly received = new vscode.EventEmitter<WebviewToHost>();
  readonly onMessage = this.received.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly view: WebviewView,
    private title: string,
  ) {}

  get visible(): boolean {
    return this.panel !== undefined;
  }

  show(title = this.title): void {
    this.title = title;
    if (this.panel) {
      this.panel.title = title;
      this.panel.reveal(undefined, true);
      return;
    }
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    this.panel = vscode.window.createWebviewPanel(`gradscope.${this.view}`, title, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, { enableScripts: true, localResourceRoots: [dist] });
    this.panel.webview.html = webviewHtml(this.panel.webview, dist, this.view);
    this.panel.webview.onDidReceiveMessage((raw) => {
      const message = parseWebviewMessage(raw);
      if (!message) return;
      if (message.type === 'ready') {
        this.ready = true;
        if (this.state) void this.panel?.webview.postMessage(this.state);
      } else {
        this.received.fire(message);
      }
    });
    this.panel.onDidChangeViewState(() => !this.panel?.visible && (this.ready = false));
    this.panel.onDidDispose(() => {
      this.panel = undefined;
      this.ready = false;
    });
  }

  /** Replaces the state and shows it. */
  post(state: HostToWebview): void {
    this.state = state;
    if (this.panel && this.ready) void this.panel.webview.postMessage(state);
  }

  dispose(): void {
    this.panel?.dispose();
    this.received.dispose();
  }
}
