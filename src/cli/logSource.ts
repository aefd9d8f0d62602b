import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MetricsReader, type FieldName, type MetricsRow } from '../core/metricsFormat';
import { readJsonl, RUN_FILES } from '../core/runlog';
import { findTbRuns, readTbRows } from '../core/tensorboardLog';
import { UsageError } from './usageError';

export interface LoadedLog {
  title: string;
  /** The run's folder within a TensorBoard log ('.' for the directory itself); undefined for a file. */
  run?: string;
  rows: MetricsRow[];
}

/**
 * Every metric row of a JSONL file, a run folder or a TensorBoard log (one LoadedLog per run).
 * Bad lines and records are reported on stderr and skipped; unreadable input is a UsageError.
 */
/** A directory that is not a Gradscope run folder: read as a TensorBoard log. */
export function isTensorBoardDir(target: string): boolean {
  return existsSync(target) && statSync(target).isDirectory() && !existsSync(join(target, RUN_FILES.metrics));
}

export async function loadLogs(target: string, mapping: Partial<Record<FieldName, string>> = {}): Promise<LoadedLog[]> {
  if (!existsSync(target)) throw new UsageError(`${target}: no such file or folder`);
  if (isTensorBoardDir(target)) {
    const runs = findTbRuns(target);
    if (runs.length === 0) throw new UsageError(`${target}: neither a metrics file, a run folder (no ${RUN_FILES.metrics}) nor a TensorBoard log (no events.out.tfevents.* files)`);
    return runs.map((run) => ({
      title: run.name === '.' ? target : `${target}/${run.name}`,
      run: run.name,
      rows: readRows(readTbRows(run, (file, problem) => process.stderr.write(`gradscope: ${file} at byte ${problem.offset}: ${problem.message}\n`)), mapping),
    }));
  }
  const file = statSync(target).isDirectory() ? join(target, RUN_FILES.metrics) : target;
  const rows: MetricsRow[] = [];
  const reader = new MetricsReader(mapping);
  for await (const record of readJsonl(file, { onBadLine: (error) => process.stderr.write(`gradscope: skipped ${error.message}\n`) })) {
    if (typeof record.value === 'object' && record.value !== null && !Array.isArray(record.value)) rows.push(reader.read(record.value as Record<string, unknown>));
  }
  if (rows.length === 0) throw new UsageError(`${file}: no metric rows`);
  return [{ title: target, rows }];
}

function readRows(raws: Record<string, number>[], mapping: Partial<Record<FieldName, string>>): MetricsRow[] {
  const reader = new MetricsReader(mapping);
  return raws.map((raw) => reader.read(raw));
}
