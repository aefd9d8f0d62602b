import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { MetricsRow, FieldName } from '../core/metricsFormat';
import { readMetricsRow } from '../core/metricsFormat';
import { readJsonl, RUN_FILES } from '../core/runlog';
import { findTbRuns, readTbRun, scalarsToRows } from '../core/tensorboardLog';
import { UsageError } from './usageError';

export interface LoadedLog {
  title: string;
  rows: MetricsRow[];
}

/**
 * Every metric row of a JSONL file, a run folder or a TensorBoard log (one LoadedLog per run).
 * Bad lines and records are reported on stderr and skipped; unreadable input is a UsageError.
 */
export async function loadLogs(target: string, mapping: Partial<Record<FieldName, string>> = {}): Promise<LoadedLog[]> {
  if (!existsSync(target)) throw new UsageError(`${target}: no such file or folder`);
  const isDir = statSync(target).isDirectory();
  if (isDir && !existsSync(join(target, RUN_FILES.metrics))) {
    const runs = findTbRuns(target);
    if (runs.length === 0) throw new UsageError(`${target}: neither a metrics file, a run folder (no ${RUN_FILES.metrics}) nor a TensorBoard log (no events.out.tfevents.* files)`);
    return runs.map((run) => ({
      title: run.name === '.' ? target : `${target}/${run.name}`,
      rows: scalarsToRows(readTbRun(run, (file, problem) => process.stderr.write(`gradscope: ${file} at byte ${problem.offset}: ${problem.message}\n`))).map((row, i) => readMetricsRow(row, i, mapping)),
    }));
  }
  const file = isDir ? join(target, RUN_FILES.metrics) : target;
  const rows: MetricsRow[] = [];
  for await (const record of readJsonl(file, { onBadLine: (error) => process.stderr.write(`gradscope: skipped ${error.message}\n`) })) {
    if (typeof record.value === 'object' && record.value !== null && !Array.isArray(record.value)) rows.push(readMetricsRow(record.value as Record<string, unknown>, rows.length, mapping));
  }
  if (rows.length === 0) throw new UsageError(`${file}: no metric rows`);
  return [{ title: target, rows }];
}
