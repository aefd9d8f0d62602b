import type { CosineRestartsSpec, CyclicSpec, FixedScheduleSpec, OneCycleSpec, WarmupStableDecaySpec } from './spec';

/** The learning rate used by update `k` (k ≥ 0; fractional k is allowed where PyTorch allows step(epoch)). */
export type LrAt = (k: number) => number;

/**
 * Closed forms of the fixed schedules, written as the reference implementations write them (PyTorch
 * `_get_closed_form_lr`, transformers' lambdas) so that values agree to floating-point rounding.
 */
export function fixedSchedule(spec: FixedScheduleSpec): LrAt {
  switch (spec.type) {
    case 'constant':
      return () => spec.lr;
    case 'step':
      return (k) => spec.lr * spec.gamma ** Math.floor(k / spec.stepSize);
    case 'multistep': {
      const milestones = [...spec.milestones].sort((a, b) => a - b);
      return (k) => spec.lr * spec.gamma ** countAtOrBelow(milestones, k);
    }
    case 'exponential':
      return (k) => spec.lr * spec.gamma ** k;
    case 'cosine':
      return (k) => spec.etaMin + ((spec.lr - spec.etaMin) * (1 + Math.cos((Math.PI * k) / spec.tMax))) / 2;
    case 'cosineRestarts':
      return cosineRestarts(spec);
    case 'linear':
      return (k) => spec.lr * (spec.startFactor + ((spec.endFactor - spec.startFactor) * Math.min(spec.totalIters, k)) / spec.totalIters);
    case 'polynomial':
      return (k) => spec.lr * (1 - Math.min(spec.totalIters, k) / spec.totalIters) ** spec.power;
    case 'cyclic':
      return cyclic(spec);
    case 'oneCycle':
      return oneCycle(spec);
    case 'warmupLinear':
      return (k) => spec.lr * (k < spec.warmupSteps ? k / Math.max(1, spec.warmupSteps) : Math.max(0, (spec.totalSteps - k) / Math.max(1, spec.totalSteps - spec.warmupSteps)));
    case 'warmupCosine':
      return (k) => {
        if (k < spec.warmupSteps) return (spec.lr * k) / Math.max(1, spec.warmupSteps);
        // Clamped at totalSteps: transformers lets the cosine rise again, which no one wants from a run that goes on.
        const progress = Math.min(1, (k - spec.warmupSteps) / Math.max(1, spec.totalSteps - spec.warmupSteps));
        return spec.minLr + (spec.lr - spec.minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
      };
    case 'inverseSqrt': {
      const timescale = spec.timescale ?? (spec.warmupSteps || 10_000);
      return (k) => (k < spec.warmupSteps ? (spec.lr * k) / Math.max(1, spec.warmupSteps) : spec.lr / Math.sqrt((k + timescale - spec.warmupSteps) / timescale));
    }
    case 'warmupStableDecay':
      return warmupStableDecay(spec);
    case 'sequential': {
      const parts = spec.schedules.map((child) => fixedSchedule(child as FixedScheduleSpec));
      return (k) => {
        const index = countAtOrBelow(spec.milestones, k);
        return parts[index](index === 0 ? k : k - spec.milestones[index - 1]);
      };
    }
  }
}

/** Number of sorted values ≤ x (Python's bisect_right). */
function countAtOrBelow(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function cosineRestarts(spec: CosineRestartsSpec): LrAt {
  return (k) => {
    let cycleStart = 0;
    let cycleLength = spec.t0;
    if (spec.tMult === 1) {
      cycleStart = k - (k % spec.t0);
    } else {
      // Walking the cycles is exact at restart boundaries, where PyTorch's log formula can be off by one ulp.
      while (k >= cycleStart + cycleLength) {
        cycleStart += cycleLength;
        cycleLength *= spec.tMult;
      }
    }
    const tCur = k - cycleStart;
    return spec.etaMin + ((spec.lr - spec.etaMin) * (1 + Math.cos((Math.PI * tCur) / cycleLength))) / 2;
  };
}

function cyclic(spec: CyclicSpec): LrAt {
  const total = spec.stepSizeUp + spec.stepSizeDown;
  const ratio = spec.stepSizeUp / total;
  return (k) => {
    const cycle = Math.floor(1 + k / total);
    const x = 1 + k / total - cycle;
    const scaleFactor = x <= ratio ? x / ratio : (x - 1) / (ratio - 1);
    const amplitude = spec.mode === 'triangular' ? 1 : spec.mode === 'triangular2' ? 1 / 2 ** (cycle - 1) : spec.gamma ** k;
    return spec.baseLr + (spec.maxLr - spec.baseLr) * scaleFactor * amplitude;
  };
}

function oneCycle(spec: OneCycleSpec): LrAt {
  const initial = spec.maxLr / spec.divFactor;
  const min = initial / spec.finalDivFactor;
  const total = spec.totalSteps;
  const rampEnd = spec.pctStart * total - 1;
  const phases: { end: number; from: number; to: number }[] = spec.threePhase
    ? [
        { end: rampEnd, from: initial, to: spec.maxLr },
        { end: 2 * spec.pctStart * total - 2, from: spec.maxLr, to: initial },
        { end: total - 1, from: initial, to: min },
      ]
    : [
        { end: rampEnd, from: initial, to: spec.maxLr },
        { end: total - 1, from: spec.maxLr, to: min },
      ];
  const anneal =
    spec.annealStrategy === 'cos'
      ? (from: number, to: number, pct: number) => to + ((from - to) / 2) * (Math.cos(Math.PI * pct) + 1)
      : (from: number, to: number, pct: number) => (to - from) * pct + from;
  return (k) => {
    // PyTorch raises past totalSteps; a run that goes on keeps the final rate.
    const t = Math.min(k, total - 1);
    let start = 0;
    for (let i = 0; i < phases.length; i++) {
      const phase = phases[i];
      if (t <= phase.end || i === phases.length - 1) return anneal(phase.from, phase.to, (t - start) / (phase.end - start));
      start = phase.end;
    }
    return min;
  };
}

function warmupStableDecay(spec: WarmupStableDecaySpec): LrAt {
  const floor = spec.minLrRatio;
  const scaled = (factor: number) => Math.max(0, factor * (1 - floor) + floor);
  const stableEnd = spec.warmupSteps + spec.stableSteps;
  const decayEnd = stableEnd + spec.decaySteps;
  return (k) => {
    if (k < spec.warmupSteps) return spec.lr * scaled(k / Math.max(1, spec.warmupSteps));
    if (k < stableEnd) return spec.lr;
    if (k < decayEnd) {
      const progress = (k - stableEnd) / Math.max(1, spec.decaySteps);
      const factor = spec.decayType === 'linear' ? 1 - progress : spec.decayType === '1-sqrt' ? 1 - Math.sqrt(progress) : 0.5 * (1 + Math.cos(Math.PI * progress));
      return spec.lr * scaled(factor);
    }
    return spec.lr * floor;
  };
}
