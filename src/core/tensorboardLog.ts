import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { forEachScalar, readRecords, type TbProblem } from './tensorboard';

export interface TbRun {
  /** The run's folder relative to the log directory ('.' for the directory itself). */
  name: string;
  files: string[];
}

const EVENT_FILE = /^events\.out\.tfevents\./;

/** Every folder under `dir` (itself included, 3 levels deep) that holds event files is a run. */
export function findTbRuns(dir: string, depth = 3): TbRun[] {
  const runs: TbRun[] = [];
  const visit = (folder: string, level: number) => {
    let names: string[];
    try {
      names = readdirSync(folder).sort();
    } catch {
      return;
    }
    const files = names.filter((n) => EVENT_FILE.test(n)).map((n) => join(folder, n));
    if (files.length) runs.push({ name: relative(dir, folder) || '.', files });
    if (level < depth) for (const n of names) if (!EVENT_FILE.test(n) && statSync(join(folder, n)).isDirectory()) visit(join(folder, n), level + 1);
  };
  visit(dir, 0);
  return runs;
}

/**
 * A run's scalars as one row per step (tags become columns), every step kept, in step order.
 * Scalars go straight into their row, with tag names shared, so a million of them stay small.
 * Problems name the file and the byte offset of the record.
 */
export function readTbRows(run: TbRun, onProblem: (file: string, problem: TbProblem) => void): Record<string, number>[] {
  const byStep = new Map<number, Record<string, number>>();
  const tags = new Map<string, string>();
  for (const file of run.files) {
    const buffer = readFileSync(file);
    const end = readRecords(buffer, 0, (data, offset) => {
      try {
        forEachScalar(data, (tag, step, value) => {
          let name = tags.get(tag);
          if (name === undefined) tags.set(tag, (name = tag));
          let row = byStep.get(step);
          if (!row) byStep.set(step, (row = { step }));
          row[name] = value;
        });
      } catch (error) {
        onProblem(file, { offset, message: `not an Event proto (${(error as Error).message}); record skipped` });
      }
    }, (problem) => onProblem(file, problem));
    if (end < buffer.length) onProblem(file, { offset: end, message: `the last record is cut off (${buffer.length - end} bytes; a file still being written?)` });
  }
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}
