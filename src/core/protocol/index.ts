// Every message between the trainer child process, the extension host and the webviews, one file
// per channel: trainer ↔ host (trainer.ts), host ↔ the diagnostics panel (diagnosticsView.ts),
// host ↔ the tool views (toolViews.ts), and what all of them say about a run (run.ts).
export * from './diagnosticsView';
export * from './run';
export * from './toolViews';
export * from './trainer';
export * from './webview';
