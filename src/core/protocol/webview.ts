// Any webview ↔ host: the unions each side sends, and the host's check of what a webview sends.
import { COLUMNS, type CompareRow } from '../tools/compareTable';
import type { DiagnosticsToHost, DiagnosticsToWebview } from './diagnosticsView';
import type { ToolToHost, ToolToWebview } from './toolViews';

/** Host → any webview. Each view switches over its own union (DiagnosticsToWebview, ToolToWebview). */
export type HostToWebview = DiagnosticsToWebview | ToolToWebview;

/** Webview → host. Untrusted: the host checks each with parseWebviewMessage. */
export type WebviewToHost = DiagnosticsToHost | ToolToHost;

/** Validates a message from the webview; undefined for anything malformed. */
export function parseWebviewMessage(message: unknown): WebviewToHost | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const m = message as Record<string, unknown>;
  const runId = typeof m.runId === 'string' && m.runId.length <= 200 ? m.runId : undefined;
  const positive = typeof m.value === 'number' && Number.isFinite(m.value) && m.value > 0 ? m.value : undefined;
  switch (m.type) {
    case 'ready': {
      const show = Array.isArray(m.show) ? m.show.filter((id): id is string => typeof id === 'string' && id.length <= 200).slice(0, 50) : undefined;
      const width = typeof m.width === 'number' && Number.isInteger(m.width) && m.width > 0 && m.width <= 10_000 ? m.width : undefined;
      return { type: 'ready', ...(show ? { show } : {}), ...(width ? { width } : {}) };
    }
    case 'showRuns':
      return Array.isArray(m.runIds) && m.runIds.length <= 50 && m.runIds.every((id) => typeof id === 'string' && id.length <= 200) ? { type: 'showRuns', runIds: m.runIds as string[] } : undefined;
    case 'requestRange': {
      const ok =
        runId && Number.isFinite(m.min) && Number.isFinite(m.max) && (m.min as number) <= (m.max as number) && Number.isInteger(m.width) && (m.width as number) > 0 && (m.width as number) <= 10_000;
      return ok ? { type: 'requestRange', runId, min: m.min as number, max: m.max as number, width: m.width as number } : undefined;
    }
    case 'selectRun':
    case 'stop':
    case 'pause':
    case 'resume':
      return runId ? { type: m.type, runId } : undefined;
    case 'setLrMultiplier':
    case 'setClipThreshold':
      return runId && positive !== undefined ? { type: m.type, runId, value: positive } : undefined;
    case 'revealEvent':
      return runId && Number.isInteger(m.step) && (m.step as number) >= 0 ? { type: 'revealEvent', runId, step: m.step as number } : undefined;
    case 'applyLr':
      return { type: 'applyLr' };
    case 'sortCompare':
      return typeof m.column === 'string' && (COLUMNS as string[]).includes(m.column) ? { type: 'sortCompare', column: m.column as keyof CompareRow } : undefined;
    case 'exportCompare':
      return m.format === 'csv' || m.format === 'markdown' ? { type: 'exportCompare', format: m.format } : undefined;
    default:
      return undefined;
  }
}
