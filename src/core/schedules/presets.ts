// The schedules "Train with Schedule" offers: the job's own first, then presets built around its peak rate.
import type { ScheduleSpec } from './spec';

export interface SchedulePreset {
  label: string;
  /** The curve, in words. */
  detail: string;
  spec: ScheduleSpec | Record<string, unknown>;
}

export function schedulePresets(jobSchedule: ScheduleSpec, peak: number, totalSteps: number): SchedulePreset[] {
  const T = Math.max(1, totalSteps);
  const warmup = Math.max(1, Math.round(T * 0.05));
  const f = (value: number) => Number(value.toPrecision(3));
  return [
    { label: `$(file) Job's schedule (${jobSchedule.type})`, detail: describe(jobSchedule, T), spec: jobSchedule },
    { label: 'Constant', detail: `${f(peak)} for all ${T} steps`, spec: { type: 'constant', lr: peak } },
    { label: 'Step decay', detail: `${f(peak)}, ×0.1 every ${Math.ceil(T / 3)} steps`, spec: { type: 'step', lr: peak, stepSize: Math.ceil(T / 3), gamma: 0.1 } },
    { label: 'Cosine', detail: `${f(peak)} → 0 along a half cosine over ${T} steps`, spec: { type: 'cosine', lr: peak, tMax: T } },
    {
      label: 'Warmup + cosine',
      detail: `0 → ${f(peak)} linearly over ${warmup} steps, then a half cosine to 0 at step ${T}`,
      spec: { type: 'warmupCosine', lr: peak, warmupSteps: warmup, totalSteps: T },
    },
    { label: 'One-cycle', detail: `${f(peak / 25)} → ${f(peak)} over ${Math.round(0.3 * T)} steps, then down to ${f(peak / 25 / 1e4)}`, spec: { type: 'oneCycle', maxLr: peak, totalSteps: T } },
    {
      label: 'Cyclic (triangular)',
      detail: `between ${f(peak / 10)} and ${f(peak)}, ${Math.max(1, Math.round(T / 8))} steps up and down`,
      spec: { type: 'cyclic', baseLr: peak / 10, maxLr: peak, stepSizeUp: Math.max(1, Math.round(T / 8)) },
    },
    { label: 'Reduce on plateau', detail: `${f(peak)}, ×0.1 after 2 checks without improvement of the validation loss`, spec: { type: 'plateau', lr: peak, patience: 2 } },
  ];
}

/** A one-line description of a schedule's curve. */
export function describe(spec: ScheduleSpec, totalSteps: number): string {
  const f = (value: number) => Number(value.toPrecision(3));
  switch (spec.type) {
    case 'constant':
      return `${f(spec.lr)} for all steps`;
    case 'step':
      return `${f(spec.lr)}, ×${spec.gamma} every ${spec.stepSize} steps`;
    case 'multistep':
      return `${f(spec.lr)}, ×${spec.gamma} at steps ${spec.milestones.join(', ')}`;
    case 'exponential':
      return `${f(spec.lr)}, ×${spec.gamma} every step`;
    case 'cosine':
      return `${f(spec.lr)} → ${f(spec.etaMin)} along a half cosine over ${spec.tMax} steps`;
    case 'cosineRestarts':
      return `cosine from ${f(spec.lr)}, restarting after ${spec.t0} steps (×${spec.tMult} each cycle)`;
    case 'linear':
      return `${f(spec.lr * spec.startFactor)} → ${f(spec.lr * spec.endFactor)} over ${spec.totalIters} steps`;
    case 'polynomial':
      return `${f(spec.lr)} → 0 over ${spec.totalIters} steps (power ${spec.power})`;
    case 'cyclic':
      return `between ${f(spec.baseLr)} and ${f(spec.maxLr)} (${spec.mode})`;
    case 'oneCycle':
      return `${f(spec.maxLr / spec.divFactor)} → ${f(spec.maxLr)} → ${f(spec.maxLr / spec.divFactor / spec.finalDivFactor)} over ${spec.totalSteps} steps`;
    case 'warmupLinear':
      return `0 → ${f(spec.lr)} over ${spec.warmupSteps} steps, then linearly to 0 at step ${spec.totalSteps}`;
    case 'warmupCosine':
      return `0 → ${f(spec.lr)} over ${spec.warmupSteps} steps, then a half cosine to ${f(spec.minLr)} at step ${spec.totalSteps}`;
    case 'inverseSqrt':
      return `0 → ${f(spec.lr)} over ${spec.warmupSteps} steps, then 1/√step`;
    case 'warmupStableDecay':
      return `warmup ${spec.warmupSteps}, ${f(spec.lr)} for ${spec.stableSteps} steps, ${spec.decayType} decay over ${spec.decaySteps}`;
    case 'sequential':
      return spec.schedules.map((child) => describe(child, totalSteps)).join(', then ');
    case 'plateau':
      return `${f(spec.lr)}, ×${spec.factor} after ${spec.patience + 1} checks without improvement (floor ${f(spec.minLr)})`;
  }
}
