// Quick fixes for a job file, as text edits that keep the user's formatting and comments.
import { applyEdits, findNodeAtLocation, modify, parseTree, type Edit, type JSONPath, type Node } from 'jsonc-parser';

export type JobFix = 'addClipping' | 'addWarmup' | 'halvePeakLr';

export interface TextEditSpec {
  offset: number;
  length: number;
  content: string;
}

const FORMAT = { formattingOptions: { insertSpaces: true, tabSize: 2, eol: '\n' } };

/**
 * The edits for one fix. `totalSteps` is the run's update count (the warmup is 5% of it). Returns
 * an empty list when the fix does not apply (e.g. the job already clips by global norm).
 */
export function jobFixEdits(text: string, fix: JobFix, totalSteps: number): TextEditSpec[] {
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
      const warmupSteps = Math.max(1, Math.round(totalSteps * 0.05));
      if ((schedule.type === 'warmupLinear' || schedule.type === 'warmupCosine' || schedule.type === 'inverseSqrt' || schedule.type === 'warmupStableDecay') && !schedule.warmupSteps) {
        return modify(text, ['schedule', 'warmupSteps'], warmupSteps, FORMAT);
      }
      if (schedule.type === 'constant') {
        return modify(text, ['schedule'], { type: 'warmupStableDecay', lr: schedule.lr, warmupSteps, stableSteps: totalSteps, decaySteps: 0 }, FORMAT);
      }
      // Any other schedule: a linear warmup to its starting rate, then the schedule from its own step 0.
      return modify(text, ['schedule'], {
        type: 'sequential',
        schedules: [{ type: 'linear', lr: peakOf(schedule) ?? 0.001, startFactor: 0.01, endFactor: 1, totalIters: warmupSteps }, schedule],
        milestones: [warmupSteps],
      }, FORMAT);
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

function peakOf(schedule: Record<string, unknown>): number | undefined {
  const values = ['lr', 'maxLr'].map((key) => schedule[key]).filter((v): v is number => typeof v === 'number');
  return values.length ? Math.max(...values) : undefined;
}

function nodeValue(node: Node | undefined): unknown {
  if (!node) return undefined;
  switch (node.type) {
    case 'object': return Object.fromEntries((node.children ?? []).map((p) => [p.children![0].value as string, nodeValue(p.children![1])]));
    case 'array': return (node.children ?? []).map(nodeValue);
    default: return node.value;
  }
}

/** 0.05 / 2 → 0.025, without 0.025000000000000001-style noise; 4 significant digits. */
function roundTo(value: number): number {
  return Number(value.toPrecision(4));
}
