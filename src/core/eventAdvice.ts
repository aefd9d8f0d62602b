// Where a run event belongs in the job file, and what to tell the user about it.
import { findNodeAtLocation, parseTree, type JSONPath } from 'jsonc-parser';
import type { JobFix } from './jobEdits';
import { peakLrPath } from './jobEdits';
import type { RunEvent } from './protocol';

export interface EventAdvice {
  /** The job field a user would change. */
  path: JSONPath;
  /** One line: what happened, with numbers, and what to do. */
  message: string;
  severity: 'error' | 'warning' | 'info';
  fixes: JobFix[];
}

const fmt = (value: number) => (Math.abs(value) >= 1e4 || (Math.abs(value) < 1e-3 && value !== 0) ? value.toExponential(2) : Number(value.toPrecision(3)).toString());

/** Advice for the events that call for a change to the job; undefined for the others. */
export function adviceFor(event: RunEvent, jobText: string): EventAdvice | undefined {
  const root = parseTree(jobText);
  if (!root) return undefined;
  const has = (path: JSONPath) => findNodeAtLocation(root, path) !== undefined;
  const clips = has(['clip']) && (findNodeAtLocation(root, ['clip', 'type'])?.value ?? 'none') !== 'none';
  const peak = peakLrPath(root) ?? ['schedule'];
  switch (event.kind) {
    case 'explosion':
      return {
        path: clips ? ['clip'] : peak,
        severity: 'warning',
        message: `Gradient explosion at step ${event.step}: ‖g‖ ${fmt(event.gradNorm)} is ${fmt(event.ratio)}× its running level ${fmt(event.level)}. `
          + (clips ? 'Clipping did not prevent it: lower the clip threshold or the peak learning rate.' : 'Lower the peak learning rate, add a warmup, or clip the global gradient norm.'),
        fixes: clips ? ['halvePeakLr', 'addWarmup'] : ['addClipping', 'addWarmup', 'halvePeakLr'],
      };
    case 'nonFinite':
      return {
        path: has(['optimizer', 'lr']) ? ['optimizer', 'lr'] : has(['optimizer']) ? ['optimizer'] : peak,
        severity: 'error',
        message: `Non-finite ${event.fields.join(' and ')} at step ${event.step}${event.layers ? ` (${event.layers.join(', ')})` : ''}: the update was not applied. Lower the learning rate or clip the gradient norm.`,
        fixes: ['halvePeakLr', 'addClipping'],
      };
    case 'vanishing': {
      const index = Number(event.layer.split('_').pop());
      const layerPath: JSONPath = Number.isInteger(index) && has(['model', index]) ? ['model', index] : ['model'];
      return {
        path: layerPath,
        severity: 'warning',
        message: `Vanishing gradient in ${event.layer} from step ${event.step}: ‖g‖ ${fmt(event.gradNorm)} (${fmt(event.ratioToMax)}× the largest layer). Its units may be dead: lower the learning rate, or use another activation or initializer.`,
        fixes: ['halvePeakLr'],
      };
    }
    case 'divergence':
      return {
        path: peak,
        severity: 'warning',
        message: `Loss diverging at step ${event.step}: smoothed ${fmt(event.loss)} vs best ${fmt(event.best)} (${fmt(event.ratio)}×). Lower the learning rate or decay it sooner.`,
        fixes: ['halvePeakLr', 'addWarmup'],
      };
    default:
      return undefined;
  }
}
