import { problemsFromAjv, validatorFor, type JsonPath, type LocatedProblem } from '../job/schema';
import { formatPath, SpecError } from '../job/specError';
import { fixedSchedule, type LrAt } from './fixed';
import type { FixedScheduleSpec, ScheduleSpec } from './spec';

export * from './spec';
export type { LocatedProblem } from '../job/schema';
export { PlateauScheduler, type PlateauStep } from './plateau';

export interface Schedule {
  readonly spec: ScheduleSpec;
  /** Planned rate of update k. For `plateau`, the starting rate: cuts depend on metrics seen while training. */
  readonly at: LrAt;
}

/**
 * Validates a schedule spec against the schema (filling in defaults) and the rules a schema cannot say.
 * Throws SpecError naming the field and the rule. The input is not modified.
 */
export function parseScheduleSpec(input: unknown, path: JsonPath = ['schedule']): ScheduleSpec {
  const copy: unknown = structuredClone(input);
  const validate = validatorFor('schedule');
  const problems = validate(copy) ? scheduleRuleProblems(copy as ScheduleSpec, path) : problemsFromAjv(validate.errors, path);
  if (problems.length > 0) throw new SpecError(problems.map((p) => p.problem));
  return copy as ScheduleSpec;
}

export function createSchedule(input: unknown): Schedule {
  const spec = parseScheduleSpec(input);
  return { spec, at: spec.type === 'plateau' ? () => spec.lr : fixedSchedule(spec) };
}

/** Planned rates for updates 0..steps-1. */
export function plannedRates(schedule: Schedule, steps: number): Float64Array {
  const out = new Float64Array(steps);
  for (let k = 0; k < steps; k++) out[k] = schedule.at(k);
  return out;
}

/** Rules a JSON schema cannot express; the schema has already checked types and ranges. */
export function scheduleRuleProblems(spec: ScheduleSpec, path: JsonPath): LocatedProblem[] {
  const problems: LocatedProblem[] = [];
  const fail = (field: string | number | (string | number)[], message: string) => {
    const at = [...path, ...(Array.isArray(field) ? field : [field])];
    problems.push({ path: at, problem: { path: formatPath(at), message } });
  };
  switch (spec.type) {
    case 'cyclic':
      spec.stepSizeDown ??= spec.stepSizeUp;
      if (spec.maxLr < spec.baseLr) fail('maxLr', `must be ≥ baseLr (got ${spec.maxLr} < ${spec.baseLr})`);
      break;
    case 'oneCycle':
      if (spec.pctStart * spec.totalSteps <= 1) fail('pctStart', `must leave more than one rising update: pctStart × totalSteps must be > 1 (got ${spec.pctStart * spec.totalSteps})`);
      break;
    case 'warmupLinear':
    case 'warmupCosine':
      if (spec.warmupSteps > spec.totalSteps) fail('warmupSteps', `must be ≤ totalSteps (got ${spec.warmupSteps} > ${spec.totalSteps})`);
      if (spec.type === 'warmupCosine' && spec.minLr > spec.lr) fail('minLr', `must be ≤ lr (got ${spec.minLr} > ${spec.lr})`);
      break;
    case 'cosine':
    case 'cosineRestarts':
      if (spec.etaMin > spec.lr) fail('etaMin', `must be ≤ lr (got ${spec.etaMin} > ${spec.lr})`);
      break;
    case 'plateau':
      if (spec.minLr > spec.lr) fail('minLr', `must be ≤ lr (got ${spec.minLr} > ${spec.lr})`);
      break;
    case 'sequential': {
      if (spec.milestones.length !== spec.schedules.length - 1) {
        fail('milestones', `must have one entry fewer than schedules (${spec.schedules.length - 1}), got ${spec.milestones.length}`);
      }
      spec.milestones.forEach((milestone, i) => {
        if (i > 0 && milestone <= spec.milestones[i - 1]) fail(['milestones', i], `must be greater than the previous milestone (got ${milestone} after ${spec.milestones[i - 1]})`);
      });
      spec.schedules.forEach((child, i) => {
        if (child.type === 'plateau') fail(['schedules', i, 'type'], 'cannot be "plateau" inside a sequential schedule (a plateau cut has no fixed position in time)');
        else problems.push(...scheduleRuleProblems(child, [...path, 'schedules', i]));
      });
      break;
    }
  }
  return problems;
}

export type { FixedScheduleSpec };
