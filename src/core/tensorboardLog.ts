import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { decodeScalars, readRecords, type TbProblem, type TbScalar } from './tensorboard';

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

/** All scalars of a run, every step kept, in file order; problems name the file and byte offset. */
export function readTbRun(run: TbRun, onProblem: (file: string, problem: TbProblem) => void): TbScalar[] {
  const scalars: TbScalar[] = [];
  for (const file of run.files) {
    const buffer = readFileSync(file);
    const end = readRecords(buffer, 0, (data, offset) => {
      try {
        scalars.push(...decodeScalars(data));
      } catch (error) {
        onProblem(file, { offset, message: `not an Event proto (${(error as Error).message}); record skipped` });
      }
    }, (problem) => onProblem(file, problem));
    if (end < buffer.length) onProblem(file, { offset: end, message: `the last record is cut off (${buffer.length - end} bytes; a file still being written?)` });
  }
  return scalars;
}

/** Scalars grouped into one row per step (tags become columns), in step order. */
export function scalarsToRows(scalars: TbScalar[]): Record<string, number>[] {
  const byStep = new Map<number, Record<string, number>>();
  for (const s of scalars) {
    let row = byStep.get(s.step);
    if (!row) byStep.set(s.step, (row = { step: s.step }));
    row[s.tag] = s.value;
  }
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}
