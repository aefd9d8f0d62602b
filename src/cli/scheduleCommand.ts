import { existsSync, readFileSync } from 'node:fs';
import { createSchedule, PlateauScheduler, plannedRates } from '../core/schedules';
import { UsageError, parsePositiveInteger } from './usageError';

export interface ScheduleCommandOptions {
  steps?: string;
  metrics?: string;
}

/** `gradscope schedule <spec> --steps N` → the N learning rates; plateau: `--metrics a,b,…` → the rate after each. */
export function scheduleCommand(specText: string, options: ScheduleCommandOptions): number[] {
  const schedule = createSchedule(readSpec(specText));
  if (schedule.spec.type === 'plateau') {
    if (options.metrics === undefined) throw new UsageError('a plateau schedule follows a metric: give its values with --metrics 1.0,0.9,…');
    const plateau = new PlateauScheduler(schedule.spec);
    return parseMetrics(options.metrics).map((metric) => plateau.observe(metric).lr);
  }
  if (options.steps === undefined) throw new UsageError('--steps N is required: how many learning rates to print');
  return Array.from(plannedRates(schedule, parsePositiveInteger(options.steps, '--steps')));
}

function readSpec(text: string): unknown {
  const trimmed = text.trim();
  const source = !trimmed.startsWith('{') && existsSync(trimmed) ? readFileSync(trimmed, 'utf8') : text;
  try {
    return JSON.parse(source);
  } catch (error) {
    throw new UsageError(`the schedule spec is not valid JSON (${(error as Error).message})`);
  }
}

function parseMetrics(text: string): number[] {
  return text.split(',').map((part, i) => {
    const value = Number(part.trim());
    if (part.trim() === '' || Number.isNaN(value)) throw new UsageError(`--metrics value ${i + 1} is not a number (got ${JSON.stringify(part)})`);
    return value;
  });
}
