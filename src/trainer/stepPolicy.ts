import { Detectors, type DetectorEvent } from '../core/detect';
import { AdaptiveClipStats, decideGuard, defaultGuard, LrBackoff, type GuardDecision } from '../core/detect/guard';
import type { JobSpec } from '../core/job/spec';
import type { RunEvent } from '../core/protocol';
import type { StepStats } from './gradientStep';
import type { RunControl } from './runControl';

/** What the policy decided for one step, from its readback. */
export interface StepPlan {
  gradNorm: number;
  layerGradNorms: number[];
  /** The detectors' events for this step. */
  events: readonly DetectorEvent[];
  guard: GuardDecision;
  /** The guard's own event, when it acted. */
  guardEvent?: RunEvent;
  /** Learning rate of this update: schedule × guard backoff × the user's multiplier. */
  lr: number;
  /** Factor applied to the gradient (global-norm and adaptive clipping), 1 when none. */
  scale: number;
  /** Global gradient norm after clipping; 0 when the update is not applied. */
  clippedNorm: number;
}

/**
 * The clip and guard policy of a first-order loop: norms from the readback, the detectors, the
 * guard's decision and backoff, and the clipping (global norm, adaptive, or the user's live
 * threshold; value and AGC clipping happen on the device and only report their norm here).
 */
export class StepPolicy {
  private readonly detectors: Detectors;
  private readonly guardSpec: NonNullable<JobSpec['guard']>;
  private readonly backoff: LrBackoff;
  private readonly adaptive: AdaptiveClipStats | undefined;

  constructor(
    private readonly job: JobSpec,
    /** Each layer's variable indices into the readback's gradSquares. */
    private readonly layers: { name: string; variables: number[] }[],
    private readonly control: RunControl,
  ) {
    this.guardSpec = job.guard ?? defaultGuard;
    this.detectors = new Detectors(
      layers.map((l) => l.name),
      job.detect,
    );
    this.backoff = new LrBackoff(this.guardSpec.backoffFactor, this.guardSpec.recoverySteps);
    const clip = job.clip;
    this.adaptive = clip?.type === 'adaptive' ? new AdaptiveClipStats(clip.zThreshold, clip.alpha, clip.warmupSteps) : undefined;
  }

  get guard(): NonNullable<JobSpec['guard']> {
    return this.guardSpec;
  }

  /** Decides step `step` from its readback; `baseLr` is the schedule's (or plateau's) rate. */
  plan(step: number, stats: StepStats, baseLr: number): StepPlan {
    const { job, control, backoff } = this;
    const layerGradNorms = this.layers.map((layer) => Math.sqrt(layer.variables.reduce((sum, v) => sum + stats.gradSquares[v], 0)));
    const gradNorm = Math.sqrt(stats.gradSquares.reduce((a, b) => a + b, 0));
    // The rate in force for this step (before any cut it causes): a jump right after it rose is graded `lrRose`.
    const lrInForce = baseLr * backoff.multiplier(step) * control.lrMultiplier;
    const events = this.detectors.observe({ step, loss: stats.loss, gradNorm, lr: lrInForce, layerGradNorms });
    const guard = decideGuard(events, this.guardSpec);
    const cuts = guard.action === 'backoff' || guard.action === 'rollback';
    if (cuts) backoff.cut(step);
    const lr = baseLr * backoff.multiplier(step) * control.lrMultiplier;
    let clippedNorm = gradNorm;
    let scale = 1;
    const maxNorm = control.clipThreshold ?? (job.clip?.type === 'globalNorm' ? job.clip.maxNorm : this.adaptive?.limit(gradNorm));
    if (job.clip?.type === 'value' || job.clip?.type === 'agc') clippedNorm = stats.clippedNorm;
    if (maxNorm !== undefined && Number.isFinite(gradNorm) && gradNorm > maxNorm) {
      scale = maxNorm / (gradNorm + 1e-6); // PyTorch clip_grad_norm_
      clippedNorm = Math.min(clippedNorm, gradNorm) * scale;
    }
    const guardEvent: RunEvent | undefined = guard.action ? { kind: 'guard', step, action: guard.action, cause: guard.cause!, ...(cuts ? { lrMultiplier: backoff.multiplier(step) } : {}) } : undefined;
    return { gradNorm, layerGradNorms, events, guard, ...(guardEvent ? { guardEvent } : {}), lr, scale, clippedNorm: guard.apply ? clippedNorm : 0 };
  }
}
