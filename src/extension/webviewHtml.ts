import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

export type WebviewView = 'diagnostics' | 'lrFind' | 'compare' | 'preview';

/**
 * The page every Gradscope webview loads: a strict CSP (nothing by default; scripts and styles only
 * from the bundle folder with this page's nonce, made by crypto), one script, one stylesheet.
 */
export function webviewHtml(webview: vscode.Webview, dist: vscode.Uri, view: WebviewView): string {
  const nonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.css'));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src ${webview.cspSource} data:; font-src ${webview.cspSource}; style-src ${webview.cspSource} 'nonce-${nonce}'; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}" nonce="${nonce}">
<title>Gradscope</title>
</head>
<body>
<div id="root" data-view="${view}"></div>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}
