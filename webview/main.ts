// Entry of every Gradscope webview: registers the toolkit components, starts the view the host asked
// for (#root[data-view]); each view says ready itself (the host answers with everything to draw).
import type { WebviewToHost } from '../src/core/protocol';
import { startDiagnostics, type ViewState } from './diagnostics';
import './style.css';
import { registerToolkit } from './toolkit';
import { startTool } from './tools';

registerToolkit();

declare function acquireVsCodeApi(): { postMessage(message: WebviewToHost): void; getState(): unknown; setState(state: unknown): void };
const vscode = acquireVsCodeApi();
const post = (message: WebviewToHost) => vscode.postMessage(message);
const root = document.getElementById('root')!;
const view = root.dataset.view;
if (view === 'lrFind' || view === 'compare' || view === 'preview') {
  startTool(root, post);
  post({ type: 'ready' });
} else {
  startDiagnostics(root, post, { load: () => vscode.getState?.() as ViewState | undefined, save: (state) => vscode.setState?.(state) });
}
