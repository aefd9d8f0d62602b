// Quick fixes for a job file, as text edits that keep the user's formatting and comments.
import { applyEdits, findNodeAtLocation, modify, parseTree, type Edit, type JSONPath, type Node } from 'jsonc-parser';

export type JobFix = 'addClipping' | 'addWarmup' | 'halvePeakLr' | 'lowerPeakLr' | 'rampLr';

/** What a fix may know about the run it answers. */
export interface FixContext {
  /** The run's update count (the warmup spans WARMUP_FRACTION of it). */
  totalSteps: number;
  /** The planned learning rate where the event happened; `lowerPeakLr` aims at a third of it. */
  lrAtEvent?: number;
}

/** Share of the run a quick-fix warmup spans. 5% (16 steps of the MNIST example) was too short for Adam at 0.1. */
export const WARMUP_FRACTION = 0.1;

/**
 * The peak `lowerPeakLr` sets: a third of the rate the explosion happened at (the margin the range
 * test keeps below its explosion rate), and at most half the current peak; 2 significant digits.
 */
export function loweredPeak(currentPeak: number, lrAtEvent?: number): number {
  const target = lrAtEvent !== undefined && lrAtEvent > 0 ? Math.min(currentPeak / 2, lrAtEvent / 3) : currentPeak / 2;
  return Number(target.toPrecision(2));
}

/** The quick fix's title as the lightbulb shows it, with the numbers it will write. */
export function fixTitle(text: string, fix: JobFix, context: FixContext): string {
  switch (fix) {
    case 'addClipping':
      return 'Add global-norm clipping (maxNorm 1.0)';
    case 'addWarmup':
      return `Add a linear warmup over ${warmupStepsFor(context.totalSteps)} steps (${WARMUP_FRACTION * 100}% of the run)`;
    case 'halvePeakLr':
      return 'Halve the peak learning rate';
    case 'rampLr': {
      const root = parseTree(text);
      const jump = root ? findJump(nodeValue(findNodeAtLocation(root, ['schedule'])) as Record<string, unknown> | undefined) : undefined;
      return jump
        ? `Ramp the rate from ${jump.from} to ${jump.to} over steps ${jump.steps - jump.stageSteps}–${jump.steps} instead of jumping at step ${jump.steps}`
        : 'Ramp the rate up instead of jumping';
    }
    case 'lowerPeakLr': {
      const root = parseTree(text);
      const path = root && peakLrPath(root);
      const current = path ? nodeValue(findNodeAtLocation(root, path)) : undefined;
      if (typeof current !== 'number') return 'Lower the peak learning rate';
      const target = loweredPeak(current, context.lrAtEvent);
      return context.lrAtEvent !== undefined && target < current / 2
        ? `Lower the peak learning rate to ${target} (a third of the ${Number(context.lrAtEvent.toPrecision(3))} it exploded at)`
        : `Lower the peak learning rate to ${target}`;
    }
  }
}

const warmupStepsFor = (totalSteps: number) => Math.max(1, Math.round(totalSteps * WARMUP_FRACTION));

export interface TextEditSpec {
  offset: number;
  length: number;
  content: string;
}

const FORMAT = { formattingOptions: { insertSpaces: true, tabSize: 2, eol: '\n' } };

/**
 * The edits for one fix. `totalSteps` is the run's update count (the warmup is WARMUP_FRACTION of it);
 * `lrAtEvent` is the planned rate at the event (see FixContext). Returns an empty list when the fix
 * does not apply (e.g. the job already clips by global norm, or already warms up).
 */
export function jobFixEdits(text: string, fix: JobFix, totalSteps: number, lrAtEvent?: number): TextEditSpec[] {
  const root = parseTree(text);
  if (!root) return [];
  const value = (path: JSONPath) => nodeValue(findNodeAtLocation(root, path));
  switch (fix) {
    case 'addClipping': {
      const clip = value(['clip']) as { type?: string } | undefined;
      if (clip?.type === 'globalNorm') return [];
      return modify(text, ['clip'], { type: 'globalNorm', maxNorm: 1.0 }, FORMAT);
    }
    case 'addWarmup': {
      const schedule = value(['schedule']) as Record<string, unknown> | undefined;
      if (!schedule) return [];
      const warmupSteps = warmupStepsFor(totalSteps);
      if ((schedule.type === 'warmupLinear' || schedule.type === 'warmupCosine' || schedule.type === 'inverseSqrt' || schedule.type === 'warmupStableDecay') && !schedule.warmupSteps) {
        return modify(text, ['schedule', 'warmupSteps'], warmupSteps, FORMAT);
      }
      if (schedule.type === 'warmupLinear' || schedule.type === 'warmupCosine' || schedule.type === 'inverseSqrt' || schedule.type === 'warmupStableDecay') return [];
      if (schedule.type === 'constant') {
        return modify(text, ['schedule'], { type: 'warmupStableDecay', lr: schedule.lr, warmupSteps, stableSteps: totalSteps, decaySteps: 0 }, FORMAT);
      }
      // Any other schedule: a linear warmup to its starting rate, then the schedule from its own step 0.
      return modify(
        text,
        ['schedule'],
        {
          type: 'sequential',
          schedules: [{ type: 'linear', lr: peakOf(schedule) ?? 0.001, startFactor: 0.01, endFactor: 1, totalIters: warmupSteps }, schedule],
          milestones: [warmupSteps],
        },
        FORMAT,
      );
    }
    case 'rampLr': {
      const schedule = value(['schedule']) as Record<string, unknown> | undefined;
      const jump = findJump(schedule);
      if (!jump) return [];
      return modify(text, ['schedule', 'schedules', jump.stage], { type: 'linear', lr: jump.to, startFactor: roundTo(jump.from / jump.to), endFactor: 1, totalIters: jump.stageSteps }, FORMAT);
    }
    case 'lowerPeakLr': {
      const path = peakLrPath(root);
      const current = path ? nodeValue(findNodeAtLocation(root, path)) : undefined;
      return typeof current === 'number' && current > 0 ? setPeakLrEdits(text, loweredPeak(current, lrAtEvent)) : [];
    }
    case 'halvePeakLr': {
      const edits: Edit[] = [];
      let current = text;
      for (const path of lrPaths(root)) {
        const node = findNodeAtLocation(parseTree(current)!, path);
        const lr = nodeValue(node);
        if (typeof lr !== 'number') continue;
        const step = modify(current, path, roundTo(lr / 2), FORMAT);
        current = applyEdits(current, step);
        edits.push(...step);
      }
      // Edits computed one after another on the evolving text: return them as one replacement.
      return edits.length ? [{ offset: 0, length: text.length, content: current }] : [];
    }
  }
}

/**
 * Sets the job's peak learning rate to `peak`, scaling every learning-rate field in proportion (the
 * schedule's shape and the optimizer's starting rate move together). One whole-text replacement.
 */
export function setPeakLrEdits(text: string, peak: number): TextEditSpec[] {
  const root = parseTree(text);
  if (!root) return [];
  const path = peakLrPath(root);
  const current = path ? nodeValue(findNodeAtLocation(root, path)) : undefined;
  if (typeof current !== 'number' || current <= 0) return [];
  const factor = peak / current;
  let updated = text;
  for (const lrPath of lrPaths(root)) {
    const value = nodeValue(findNodeAtLocation(parseTree(updated)!, lrPath));
    if (typeof value === 'number') updated = applyEdits(updated, modify(updated, lrPath, roundTo(value * factor), FORMAT));
  }
  return updated === text ? [] : [{ offset: 0, length: text.length, content: updated }];
}

/** Paths of every peak learning rate in a job: the schedule's peak(s) and the optimizer's lr. */
export function lrPaths(root: Node): JSONPath[] {
  const paths: JSONPath[] = [];
  const visit = (path: JSONPath) => {
    const node = findNodeAtLocation(root, path);
    const schedule = nodeValue(node) as Record<string, unknown> | undefined;
    if (!schedule) return;
    for (const key of ['lr', 'maxLr', 'baseLr']) if (typeof schedule[key] === 'number') paths.push([...path, key]);
    if (schedule.type === 'sequential' && Array.isArray(schedule.schedules)) schedule.schedules.forEach((_, i) => visit([...path, 'schedules', i]));
  };
  visit(['schedule']);
  if (typeof nodeValue(findNodeAtLocation(root, ['optimizer', 'lr'])) === 'number') paths.push(['optimizer', 'lr']);
  return paths;
}

/** The JSON path of the schedule's peak learning rate (the largest lr-like field). */
export function peakLrPath(root: Node): JSONPath | undefined {
  let best: { path: JSONPath; value: number } | undefined;
  for (const path of lrPaths(root)) {
    if (path[0] !== 'schedule') continue;
    const value = nodeValue(findNodeAtLocation(root, path));
    if (typeof value === 'number' && (!best || value > best.value)) best = { path, value };
  }
  return best?.path;
}

/**
 * The first step up in a sequential schedule: a constant stage followed by a stage that starts at
 * least twice as high (a "constant warmup" that ends in a jump). `steps` is the milestone (where the
 * jump happens), `stageSteps` the constant stage's length.
 */
function findJump(schedule: Record<string, unknown> | undefined): { stage: number; from: number; to: number; steps: number; stageSteps: number } | undefined {
  if (!schedule || schedule.type !== 'sequential' || !Array.isArray(schedule.schedules) || !Array.isArray(schedule.milestones)) return undefined;
  const stages = schedule.schedules as Record<string, unknown>[];
  const milestones = schedule.milestones as number[];
  for (let i = 0; i + 1 < stages.length && i < milestones.length; i++) {
    const from = stages[i].type === 'constant' ? stages[i].lr : undefined;
    const to = peakOf(stages[i + 1]);
    if (typeof from !== 'number' || to === undefined || !(from > 0) || to < 2 * from) continue;
    return { stage: i, from, to, steps: milestones[i], stageSteps: milestones[i] - (i > 0 ? milestones[i - 1] : 0) };
  }
  return undefined;
}

function peakOf(schedule: Record<string, unknown>): number | undefined {
  const values = ['lr', 'maxLr'].map((key) => schedule[key]).filter((v): v is number => typeof v === 'number');
  return values.length ? Math.max(...values) : undefined;
}

function nodeValue(node: Node | undefined): unknown {
  if (!node) return undefined;
  switch (node.type) {
    case 'object':
      return Object.fromEntries((node.children ?? []).map((p) => [p.children![0].value as string, nodeValue(p.children![1])]));
    case 'array':
      return (node.children ?? []).map(nodeValue);
    default:
      return node.value;
  }
}

/** 0.05 / 2 → 0.025, without 0.025000000000000001-style noise; 4 significant digits. */
function roundTo(value: number): number {
  return Number(value.toPrecision(4));
}
