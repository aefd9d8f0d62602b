// Entry of every Gradscope webview: registers the toolkit components, starts the view the host asked
// for (#root[data-view]), and says ready (the host answers with everything to draw).
import { provideVSCodeDesignSystem, vsCodeButton, vsCodeDataGrid, vsCodeDataGridCell, vsCodeDataGridRow, vsCodeDropdown, vsCodeOption, vsCodeTextField } from '@vscode/webview-ui-toolkit';
import type { WebviewToHost } from '../src/core/protocol';
import { startDiagnostics } from './diagnostics';
import './style.css';
import { startTool } from './tools';

provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeDropdown(), vsCodeOption(), vsCodeDataGrid(), vsCodeDataGridRow(), vsCodeDataGridCell(), vsCodeTextField());

declare function acquireVsCodeApi(): { postMessage(message: WebviewToHost): void };
const vscode = acquireVsCodeApi();
const post = (message: WebviewToHost) => vscode.postMessage(message);
const root = document.getElementById('root')!;
const view = root.dataset.view;
if (view === 'lrFind' || view === 'compare' || view === 'preview') startTool(root, post);
else startDiagnostics(root, post);
post({ type: 'ready' });
