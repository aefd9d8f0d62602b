// Diagnostics panel (browser side). The panel issue fills this in; the ready handshake is the
// contract it starts from.
import type { HostToWebview, WebviewToHost } from '../src/core/protocol';

interface VsCodeApi {
  postMessage(message: WebviewToHost): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
window.addEventListener('message', (event: MessageEvent<HostToWebview>) => {
  const root = document.getElementById('root');
  if (root && event.data.type === 'snapshot') root.textContent = `${event.data.runs.length} run(s)`;
});
vscode.postMessage({ type: 'ready' });
