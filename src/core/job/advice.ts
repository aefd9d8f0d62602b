// Where a run event belongs in the job file, what caused it (given the job's optimizer and schedule),
// and which fixes can change it.
import { findNodeAtLocation, parseTree, type JSONPath, type Node } from 'jsonc-parser';
import { checkJobText } from './parse';
import { estimateTotalSteps } from './plan';
import type { JobFix } from './edits';
import { peakLrPath } from './edits';
import type { RunEvent } from '../protocol';
import { createSchedule } from '../schedules';

export interface EventAdvice {
  /** The job field a user would change. */
  path: JSONPath;
  /** One line: what happened, with numbers, and what to do. */
  message: string;
  severity: 'error' | 'warning' | 'info';
  /** Fixes that can change what happened, the most effective first. */
  fixes: JobFix[];
  /** The planned learning rate at the event's step, when the job's schedule could be read. */
  lrAtEvent?: number;
}

/** What the advice may know about the run beyond its job text. */
export interface AdviceContext {
  /** The run's update count; the default is the job's epochs × batches when it can be read, else unknown. */
  totalSteps?: number;
  /**
   * The rate the run planned for each update (the `started` message's plannedLr). It wins over the job
   * text's schedule, which a run may have overridden. Default: the job's schedule.
   */
  plannedLr?: ArrayLike<number>;
}

/**
 * Optimizers that divide each gradient by a running RMS of itself (Adam, AdamW, RMSprop, Adagrad):
 * scaling the gradient by a constant — what global-norm, value and AGC clipping do to it — cancels
 * in the update (Adam's first update is lr·sign(g) whatever the norm). Clipping changes their
 * update only marginally, so it is never advised for them.
 */
export const SCALE_INVARIANT_OPTIMIZERS: ReadonlySet<string> = new Set(['adam', 'adamw', 'rmsprop', 'adagrad']);

/** A rate at least this many times the rate JUMP_LOOKBACK updates before has jumped, not ramped. */
const JUMP_FACTOR = 2;
const JUMP_LOOKBACK = 5;

/** An explosion this early in a run without warmup is the optimizer's start, not the rate's level. */
const EARLY_FRACTION = 0.1;

const fmt = (value: number) => (Math.abs(value) >= 1e4 || (Math.abs(value) < 1e-3 && value !== 0) ? value.toExponential(2) : Number(value.toPrecision(3)).toString());

interface JobFacts {
  optimizer?: string;
  /** Clip type, when the job clips. */
  clip?: string;
  clipMaxNorm?: number;
  /** Planned lr of a step, when the schedule can be built. */
  lrAt?: (step: number) => number;
  peakLr?: number;
  /** Whether the schedule starts well below its peak (any warmup). */
  warmsUp: boolean;
  totalSteps?: number;
}

/** Advice for the events that call for a change to the job; undefined for the others. */
export function adviceFor(event: RunEvent, jobText: string, context: AdviceContext = {}): EventAdvice | undefined {
  const job = understoodJob(jobText, context);
  if (!job) return undefined;
  const { root, facts, peak } = job;
  const has = (path: JSONPath) => findNodeAtLocation(root, path) !== undefined;
  const scaleInvariant = facts.optimizer !== undefined && SCALE_INVARIANT_OPTIMIZERS.has(facts.optimizer);
  const lrAtEvent = 'step' in event ? facts.lrAt?.(event.step) : undefined;
  const withLr = lrAtEvent !== undefined && Number.isFinite(lrAtEvent) && lrAtEvent > 0 ? { lrAtEvent } : {};
  switch (event.kind) {
    case 'explosion': {
      const head = `Gradient explosion at step ${event.step}: ‖g‖ ${fmt(event.gradNorm)} is ${fmt(event.ratio)}× its running level ${fmt(event.level)}`;
      // A rate that jumped just before the spike (a constant warmup that ends in a step, a later stage
      // that starts higher): the jump is the cause, whatever the optimizer. Ramp instead of jumping.
      const before = facts.lrAt && event.step >= 1 ? facts.lrAt(Math.max(0, event.step - JUMP_LOOKBACK)) : undefined;
      if (withLr.lrAtEvent !== undefined && before !== undefined && before > 0 && withLr.lrAtEvent >= JUMP_FACTOR * before) {
        return {
          path: peak,
          severity: 'warning',
          ...withLr,
          message: `${head} at lr ${fmt(withLr.lrAtEvent)}, just after the rate jumped ${fmt(withLr.lrAtEvent / before)}× (from ${fmt(before)}). Ramp it up linearly instead of jumping, or lower the peak learning rate.`,
          fixes: scaleInvariant ? ['rampLr', 'lowerPeakLr'] : ['rampLr', 'addClipping', 'lowerPeakLr'],
        };
      }
      const early = !facts.warmsUp && facts.totalSteps !== undefined && event.step <= Math.max(10, EARLY_FRACTION * facts.totalSteps);
      const atRate = withLr.lrAtEvent !== undefined ? ` at lr ${fmt(withLr.lrAtEvent)}` : '';
      if (scaleInvariant) {
        const clipNote = facts.clip ? ` Clipping cannot prevent it: ${facts.optimizer} divides the gradient's scale out of its update.` : '';
        if (early) {
          return {
            path: peak,
            severity: 'warning',
            ...withLr,
            message: `${head}${atRate}, before ${facts.optimizer}'s moment estimates settle (its first updates move every weight by about the learning rate).${clipNote} Warm the rate up, or lower the peak learning rate.`,
            fixes: ['addWarmup', 'lowerPeakLr'],
          };
        }
        return {
          path: peak,
          severity: 'warning',
          ...withLr,
          message: `${head}${atRate}: the rate is too high for this model.${clipNote} Lower the peak learning rate${facts.warmsUp ? '' : ', or warm it up'}.`,
          fixes: facts.warmsUp ? ['lowerPeakLr'] : ['lowerPeakLr', 'addWarmup'],
        };
      }
      if (facts.clip) {
        const limit = facts.clip === 'globalNorm' && facts.clipMaxNorm !== undefined ? ` at maxNorm ${fmt(facts.clipMaxNorm)}` : '';
        return {
          path: ['clip'],
          severity: 'warning',
          ...withLr,
          message: `${head}${atRate}. Clipping${limit} bounded the update but not the gradient: lower the peak learning rate${facts.warmsUp ? '' : ', or warm it up'}.`,
          fixes: facts.warmsUp ? ['lowerPeakLr'] : ['lowerPeakLr', 'addWarmup'],
        };
      }
      return {
        path: peak,
        severity: 'warning',
        ...withLr,
        message: `${head}${atRate}. Clip the global gradient norm (${facts.optimizer ?? 'this optimizer'}'s update grows with the gradient), or lower the peak learning rate.`,
        fixes: facts.warmsUp ? ['addClipping', 'lowerPeakLr'] : ['addClipping', 'lowerPeakLr', 'addWarmup'],
      };
    }
    case 'nonFinite':
      return {
        path: has(['optimizer', 'lr']) ? ['optimizer', 'lr'] : has(['optimizer']) ? ['optimizer'] : peak,
        severity: 'error',
        message:
          `Non-finite ${event.fields.join(' and ')} at step ${event.step}${event.layers ? ` (${event.layers.join(', ')})` : ''}: the update was not applied. ` +
          (scaleInvariant || facts.clip ? 'Lower the learning rate.' : 'Lower the learning rate or clip the gradient norm.'),
        fixes: scaleInvariant || facts.clip ? ['halvePeakLr'] : ['halvePeakLr', 'addClipping'],
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
        message: `Loss diverging at step ${event.step}: the loss (running median) ${fmt(event.loss)} vs its lowest ${fmt(event.best)} (${fmt(event.ratio)}×). Lower the learning rate${facts.warmsUp ? '' : ', or warm it up'}.`,
        fixes: facts.warmsUp ? ['halvePeakLr'] : ['halvePeakLr', 'addWarmup'],
      };
    default:
      return undefined;
  }
}

/** What the advice needs from the job; every field is optional because the text may be mid-edit. */
/** The last job understood: a run's events all ask about the same job text in the same context. */
let lastJob: { jobText: string; totalSteps?: number; plannedLr?: ArrayLike<number>; understood: UnderstoodJob | undefined } | undefined;

interface UnderstoodJob {
  root: Node;
  facts: JobFacts;
  /** The path of the job's peak learning rate (the schedule when there is none to point at). */
  peak: JSONPath;
}

/** The job's tree and facts, parsed once per job text and context rather than once per event. */
function understoodJob(jobText: string, context: AdviceContext): UnderstoodJob | undefined {
  if (lastJob && lastJob.jobText === jobText && lastJob.totalSteps === context.totalSteps && lastJob.plannedLr === context.plannedLr) return lastJob.understood;
  const root = parseTree(jobText);
  const understood = root ? { root, facts: jobFacts(jobText, context), peak: peakLrPath(root) ?? ['schedule'] } : undefined;
  lastJob = { jobText, totalSteps: context.totalSteps, plannedLr: context.plannedLr, understood };
  return understood;
}

function jobFacts(jobText: string, context: AdviceContext): JobFacts {
  const { job } = checkJobText(jobText);
  if (!job) {
    // Invalid as a whole: read what we can straight from the tree.
    const root = parseTree(jobText);
    const value = (path: JSONPath) => (root ? findNodeAtLocation(root, path)?.value : undefined) as unknown;
    const clip = value(['clip', 'type']);
    return {
      optimizer: typeof value(['optimizer', 'type']) === 'string' ? (value(['optimizer', 'type']) as string) : undefined,
      clip: typeof clip === 'string' && clip !== 'none' ? clip : undefined,
      warmsUp: false,
      totalSteps: context.totalSteps,
    };
  }
  const facts: JobFacts = {
    optimizer: job.optimizer.type,
    clip: job.clip && job.clip.type !== 'none' ? job.clip.type : undefined,
    clipMaxNorm: job.clip?.type === 'globalNorm' ? job.clip.maxNorm : undefined,
    warmsUp: false,
    totalSteps: context.totalSteps ?? estimateTotalSteps(job),
  };
  const planned = context.plannedLr;
  if (planned && planned.length > 0) {
    let peak = 0;
    for (let step = 0; step < planned.length; step++) peak = Math.max(peak, planned[step]);
    facts.lrAt = (step) => planned[Math.min(step, planned.length - 1)];
    facts.peakLr = peak;
    facts.warmsUp = planned[0] < 0.5 * peak;
    return facts;
  }
  try {
    const schedule = createSchedule(job.schedule);
    const horizon = facts.totalSteps ?? 1000;
    let peak = 0;
    for (let step = 0; step < horizon; step++) peak = Math.max(peak, schedule.at(step));
    facts.lrAt = (step) => schedule.at(step);
    facts.peakLr = peak;
    facts.warmsUp = schedule.at(0) < 0.5 * peak;
  } catch {
    // A plateau schedule (or one we cannot build) has no fixed plan: leave the rate unknown.
  }
  return facts;
}
