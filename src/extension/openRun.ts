import { join } from 'node:path';
import * as vscode from 'vscode';
import { applyEvent } from '../core/detect/events';
import type { JobSpec } from '../core/job/spec';
import { RUN_EVENT_KINDS, type RunEvent, type RunSummary, type ValidationPoint } from '../core/protocol';
import { Inspector } from '../core/logs/inspect';
import { ColumnResolver } from '../core/logs/columns';
import { jsonLines } from '../core/logs/formats';
import { RowAssembler } from '../core/logs/rows';
import { openRunLog, readValidation } from '../node/runlog';
import { StepColumns } from '../core/series/stepColumns';
import { listRunFolders } from '../node/localFiles';
import { configFor } from './train';
import { Run, type RunManager } from './runs';

/** "Open Run…": a past run log from the runs directory of any workspace folder, shown read-only in the panel. */
export async function openRun(runs: RunManager, showPanel: (focus: { runId: string }) => void): Promise<void> {
  const workspaceFolders = vscode.workspace.workspaceFolders ?? [];
  if (workspaceFolders.length === 0) return void vscode.window.showErrorMessage('Gradscope: open a folder first.');
  const runsDirs = workspaceFolders.map((folder) => join(folder.uri.fsPath, configFor(folder.uri).runsDirectory));
  const found = await listRunFolders(runsDirs);
  if (found.length === 0) return void vscode.window.showInformationMessage(`Gradscope: no runs in ${runsDirs.map((dir) => vscode.workspace.asRelativePath(dir)).join(' or ')} yet.`);
  const items = found.map((run) => ({ label: run.name, ...(workspaceFolders.length > 1 ? { description: vscode.workspace.asRelativePath(run.runsDir) } : {}), run }));
  const picked = await vscode.window.showQuickPick(items, { title: 'Gradscope: open a run', placeHolder: 'Newest first' });
  if (!picked) return;
  try {
    const run = await loadRun(picked.run.dir, runs);
    showPanel({ runId: run.id });
  } catch (error) {
    void vscode.window.showErrorMessage(`Gradscope: ${(error as Error).message}`);
  }
}

/**
 * Reads a run folder into a read-only Run (a crashed run, without summary, reads as failed). A run
 * still training in this window is shown as it is; a finished one listed already is replaced by what
 * its log holds, so a run folder is listed once.
 */
export async function loadRun(dir: string, runs: RunManager): Promise<Run> {
  const listed = runs.byFolder(dir);
  if (listed && (listed.status === 'running' || listed.status === 'paused')) {
    runs.focused = listed;
    return listed;
  }
  const log = openRunLog(dir);
  const job = log.job as JobSpec;
  const run = new Run(`${job.name} (${dir.split(/[\\/]/).pop()})`, undefined, undefined, job, false);
  run.runDir = dir;
  const python = (log.job as { source?: unknown }).source === 'gradscope-python';
  const rows: Record<string, number>[] = [];
  // The Python package writes a validation loss as a row of its own (log_validation): a validation point, not a step.
  const validationRows: ValidationPoint[] = [];
  // Its run log holds no detector events: the detectors run over its rows here, assembled as the live
  // view's follower assembles them (validation rows joining their step).
  const inspector = python ? new Inspector() : undefined;
  const assembler = inspector && new RowAssembler(new ColumnResolver(undefined, jsonLines.aliases), (row) => inspector.add(row));
  for await (const record of log.metrics({ onBadLine: () => {} })) {
    const row = record.value as Record<string, number>;
    assembler?.push({ values: row });
    if (row.loss === undefined && row.gradNorm === undefined && typeof row.validationLoss === 'number') validationRows.push({ step: row.step, loss: row.validationLoss });
    else rows.push(row);
  }
  assembler?.flush();
  const layerNames = runLayerNames(rows, log.job);
  const columns = new StepColumns(layerNames.length);
  for (const row of rows) {
    columns.push({
      step: row.step,
      lr: row.lr,
      loss: row.loss,
      gradNorm: row.gradNorm,
      clippedNorm: row.clippedNorm ?? row.gradNorm,
      updateRatio: row.updateRatio ?? NaN,
      weightNorm: row.weightNorm ?? NaN,
      layerGradNorms: layerNames.map((name) => row[`gradNorm/${name}`] ?? NaN),
    });
  }
  const summary = log.summary as RunSummary | undefined;
  // A trainer's run log holds its detectors' events. The Python package's holds only its guard's
  // actions and control changes: its run gets the events it showed live, the detectors' over its
  // rows, and the guard's actions beside them.
  const events: RunEvent[] = inspector ? inspector.result().events : [];
  for await (const record of log.events({ onBadLine: () => {} })) {
    const event = record.value as RunEvent;
    if (!RUN_EVENT_KINDS.has(event.kind) || (python && event.kind !== 'guard')) continue; // control changes, or a kind this version does not know
    // An upgraded event replaces the one it regrades, as it did while the run was live.
    applyEvent(events, event);
  }
  if (python) events.sort((a, b) => a.step - b.step);
  const validation = [...(await readValidation(log)), ...validationRows];
  // The folder is named after the run's start (UTC, to the second); the summary has its duration.
  const started = /(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})/.exec(dir.split(/[\\/]/).pop() ?? '');
  const startedAt = started ? Date.UTC(+started[1], +started[2] - 1, +started[3], +started[4], +started[5], +started[6]) : undefined;
  const timing = startedAt !== undefined ? { startedAt, ...(summary && Number.isFinite(summary.durationMs) ? { endedAt: startedAt + summary.durationMs } : {}) } : {};
  Object.assign(run.snapshot, {
    layerNames,
    totalSteps: rows.length,
    plannedLr: rows.map((row) => row.lr),
    batch: columns.take(),
    events,
    validation,
    status: summary?.status ?? 'failed',
    ...timing,
    ...(summary ? { backend: summary.backend } : {}),
  });
  if (listed) runs.remove(listed);
  return runs.add(run);
}

/**
 * The layers of a run folder: every `gradNorm/<layer>` column of any row (the Python package leaves
 * out a module that had no gradient, in the first row too), in the order of the job's `layerNames`
 * when it has them (the model's), else in the order first seen.
 */
export function runLayerNames(rows: readonly Record<string, unknown>[], job?: unknown): string[] {
  const seen = new Set<string>();
  for (const row of rows) for (const key in row) if (key.startsWith('gradNorm/')) seen.add(key.slice('gradNorm/'.length));
  const declared = (job as { layerNames?: unknown } | undefined)?.layerNames;
  const order = Array.isArray(declared) ? declared.filter((name): name is string => typeof name === 'string' && seen.has(name)) : [];
  return [...new Set([...order, ...seen])];
}
