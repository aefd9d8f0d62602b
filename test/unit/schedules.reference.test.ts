// Every schedule family of the spec against upstream test-suite values (../shared/reference/schedules).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { createSchedule, PlateauScheduler, parseScheduleSpec, type PlateauSpec } from '../../src/core/schedules';
import { sharedReference } from './shared';

interface ReferenceCase {
  source: string;
  schedule: string;
  library_api: string;
  params: Record<string, unknown>;
  expected: number[];
  expected_groups?: number[][];
  expected_exact?: number[];
  metrics?: number[];
  epochs?: number[];
  steps?: number[];
}

/** One comparison: our spec, where to evaluate it, what upstream says, and how exact the source is. */
interface Check {
  label: string;
  spec: Record<string, unknown>;
  at: number[];
  expected: number[];
  rtol: number;
  atol?: number;
  metrics?: number[];
}

const casesFile = sharedReference('schedules', 'schedule_cases.json');
const cases: ReferenceCase[] = casesFile ? JSON.parse(readFileSync(casesFile, 'utf8')) : [];

// PyTorch and transformers values are float64: agree to 1e-9 relative (the bar). optax tests are float32.
const FLOAT64_RTOL = 1e-9;

function pytorchChild(child: Record<string, unknown>, lr: number): Record<string, unknown> | string {
  switch (child.type) {
    case 'exponential':
      return { type: 'exponential', lr, gamma: child.gamma };
    case 'step':
      return { type: 'step', lr, stepSize: child.step_size, gamma: child.gamma };
    case 'linear_warmup':
      return { type: 'linear', lr, startFactor: child.start_factor, endFactor: child.end_factor, totalIters: child.total_iters };
    default:
      return `child ${String(child.type)} is not a Gradscope family`;
  }
}

/** Maps a reference case to checks, or says why it is out of scope. */
function checksFor(c: ReferenceCase): Check[] | string {
  const p = c.params;
  const groups = c.expected_groups ?? [c.expected];
  const range = (n: number) => Array.from({ length: n }, (_, k) => k);
  const lib = c.source.split('/')[0];
  if (lib === 'pytorch') {
    const perGroup = (make: (i: number) => Record<string, unknown> | string, at?: number[]): Check[] | string => {
      const out: Check[] = [];
      for (let i = 0; i < groups.length; i++) {
        const spec = make(i);
        if (typeof spec === 'string') return spec;
        out.push({ label: `group ${i}`, spec, at: at ?? range(groups[i].length), expected: groups[i], rtol: FLOAT64_RTOL, metrics: c.metrics });
      }
      return out;
    };
    const base = (i: number) => (p.base_lrs as number[])[i];
    const pick = (value: unknown, i: number) => (Array.isArray(value) ? value[i] : value);
    switch (c.schedule) {
      case 'step':
        return perGroup((i) => ({ type: 'step', lr: base(i), stepSize: p.step_size, gamma: p.gamma }));
      case 'multistep':
        return perGroup((i) => ({ type: 'multistep', lr: base(i), milestones: p.milestones, gamma: p.gamma }));
      case 'exponential':
        return perGroup((i) => ({ type: 'exponential', lr: base(i), gamma: p.gamma }));
      case 'cosine': {
        const checks = perGroup((i) => ({ type: 'cosine', lr: base(i), tMax: p.T_max, etaMin: p.eta_min }));
        // Pitfall 6 of the reference README: upstream's group-1 targets are group 0 × 10, off by up to 9·etaMin.
        if (typeof checks !== 'string') checks.slice(1).forEach((check) => (check.atol = 9 * (p.eta_min as number) * (1 + 1e-9)));
        return checks;
      }
      case 'linear_warmup':
        return perGroup((i) => ({ type: 'linear', lr: base(i), startFactor: p.start_factor, endFactor: p.end_factor, totalIters: p.total_iters }));
      case 'polynomial':
        return perGroup((i) => ({ type: 'polynomial', lr: base(i), power: p.power, totalIters: p.total_iters }));
      case 'cosine_warm_restarts':
        return perGroup((i) => ({ type: 'cosineRestarts', lr: base(i), t0: p.T_0, tMult: p.T_mult, etaMin: p.eta_min }), c.epochs);
      case 'cyclic_triangular':
      case 'cyclic_triangular2':
      case 'cyclic_exp_range':
        return perGroup((i) => ({
          type: 'cyclic',
          baseLr: pick(p.base_lr, i),
          maxLr: pick(p.max_lr, i),
          stepSizeUp: p.step_size_up,
          mode: p.mode,
          ...(p.step_size_down != null ? { stepSizeDown: p.step_size_down } : {}),
          ...(p.gamma != null ? { gamma: p.gamma } : {}),
        }));
      case 'one_cycle_cos':
      case 'one_cycle_linear':
        return perGroup(() => ({
          type: 'oneCycle',
          maxLr: p.max_lr,
          totalSteps: p.total_steps,
          pctStart: p.pct_start,
          annealStrategy: p.anneal_strategy,
          divFactor: p.div_factor,
          finalDivFactor: p.final_div_factor,
          threePhase: p.three_phase,
        }));
      case 'reduce_on_plateau':
        return perGroup((i) => ({
          type: 'plateau',
          lr: (p.initial_lrs as number[])[i],
          mode: p.mode,
          factor: p.factor,
          patience: p.patience,
          threshold: p.threshold,
          thresholdMode: p.threshold_mode,
          cooldown: p.cooldown,
          minLr: pick(p.min_lr, i),
          eps: p.eps,
        }));
      case 'sequential': {
        const children = p.schedulers as Record<string, unknown>[];
        return perGroup((i) => {
          const mapped = children.map((child) => pytorchChild(child, base(i)));
          const unsupported = mapped.find((m) => typeof m === 'string');
          return unsupported ?? { type: 'sequential', schedules: mapped, milestones: p.milestones };
        });
      }
      default:
        return `${c.library_api} is not one of the schedule families Gradscope implements`;
    }
  }
  if (lib === 'huggingface' || lib === 'yeatscircle') {
    const lr = p.base_lr as number;
    const make = (spec: Record<string, unknown>): Check[] => [{ label: 'exact', spec, at: range(c.expected_exact!.length), expected: c.expected_exact!, rtol: FLOAT64_RTOL }];
    const W = p.num_warmup_steps as number;
    const N = p.num_training_steps as number;
    switch (c.schedule) {
      case 'constant':
        return make({ type: 'constant', lr });
      case 'linear_with_warmup':
        return make({ type: 'warmupLinear', lr, warmupSteps: W, totalSteps: N });
      case 'cosine_with_warmup':
        return make({ type: 'warmupCosine', lr, warmupSteps: W, totalSteps: N });
      case 'inverse_sqrt':
        return make({ type: 'inverseSqrt', lr, warmupSteps: W });
      // Warmup then constant is warmup-stable-decay without a decay.
      case 'constant_with_warmup':
        return make({ type: 'warmupStableDecay', lr, warmupSteps: W, stableSteps: 1e9, decaySteps: 0 });
      case 'warmup_stable_decay': {
        const D = p.num_decay_steps as number;
        return make({ type: 'warmupStableDecay', lr, warmupSteps: W, stableSteps: N - W - D, decaySteps: D, minLrRatio: p.min_lr_ratio, decayType: p.decay_type });
      }
      default:
        return `${c.library_api} is not one of the schedule families Gradscope implements`;
    }
  }
  // optax: pure functions of the count. Only cases whose parameters mean the same as a Gradscope family map.
  const at = c.steps ?? range(c.expected.length);
  const float32 = (spec: Record<string, unknown>): Check[] => [{ label: 'float32', spec, at, expected: c.expected, rtol: 1e-6 }];
  if (c.schedule === 'constant') return float32({ type: 'constant', lr: p.value });
  if (c.schedule === 'exponential' && p.transition_steps === 1 && !p.transition_begin && p.end_value == null && !p.staircase) {
    return float32({ type: 'exponential', lr: p.init_value, gamma: p.decay_rate });
  }
  if (c.schedule === 'cosine' && (p.exponent ?? 1) === 1 && Math.max(...at) <= (p.decay_steps as number)) {
    return float32({ type: 'cosine', lr: p.init_value, tMax: p.decay_steps, etaMin: (p.alpha as number) * (p.init_value as number) });
  }
  return `${c.library_api} with these parameters has no Gradscope equivalent (optax conventions differ: clamped horizons, fractional floors, float32)`;
}

function evaluate(check: Check): number[] {
  if (check.spec.type === 'plateau') {
    const scheduler = new PlateauScheduler(parseScheduleSpec(check.spec) as PlateauSpec);
    // ReduceLROnPlateau harness: step(metric[k]) then read.
    return check.metrics!.map((metric) => scheduler.observe(metric).lr);
  }
  const schedule = createSchedule(check.spec);
  return check.at.map((k) => schedule.at(k));
}

describe('schedules match upstream reference values', { skip: casesFile ? false : 'shared/reference not found' }, () => {
  const skipped: string[] = [];
  const families = new Set<string>();
  for (const [index, c] of cases.entries()) {
    const checks = checksFor(c);
    if (typeof checks === 'string') {
      skipped.push(checks);
      continue;
    }
    const name = `#${index} ${c.source.split('::')[1] ?? c.source}`;
    for (const check of checks) {
      families.add(String(check.spec.type));
      test(`${name} ${check.label}`, () => {
        const actual = evaluate(check);
        assert.equal(actual.length, check.expected.length);
        actual.forEach((value, k) => {
          const expected = check.expected[k];
          const tolerance = check.rtol * Math.abs(expected) + (check.atol ?? 1e-15);
          assert.ok(Math.abs(value - expected) <= tolerance, `value ${k} (at ${check.at[k]}): got ${value}, expected ${expected}, |diff| ${Math.abs(value - expected)}`);
        });
      });
    }
  }

  test('every family of the spec is covered by reference cases', () => {
    const specFamilies = [
      'constant',
      'step',
      'multistep',
      'exponential',
      'cosine',
      'cosineRestarts',
      'linear',
      'polynomial',
      'cyclic',
      'oneCycle',
      'warmupLinear',
      'warmupCosine',
      'inverseSqrt',
      'warmupStableDecay',
      'sequential',
      'plateau',
    ];
    assert.deepEqual(
      specFamilies.filter((f) => !families.has(f)),
      [],
    );
    console.log(`reference cases: ${cases.length - skipped.length} compared, ${skipped.length} out of scope`);
    const reasons = new Map<string, number>();
    for (const reason of skipped) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    for (const [reason, count] of reasons) console.log(`  out of scope (${count}): ${reason}`);
  });
});
