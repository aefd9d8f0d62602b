// Detectors on synthetic traces with known spike steps: recall, precision and lag.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Detectors, type DetectorEvent, type StepSample } from '../../src/core/detect';
import { seededNormal, seededUniform } from '../../src/core/random';

interface Trace {
  samples: StepSample[];
  spikes: Map<number, number>;
}

/**
 * A healthy-looking run: the gradient norm drifts (rises early, decays later) with log-normal noise;
 * the loss decays with noise. Spikes multiply the norm (and, like a real spike, the loss) at known steps.
 */
function syntheticTrace(seed: number, steps: number, spikeCount: number, factors: number[], noise = 0.3): Trace {
  const normal = seededNormal(seed);
  const uniform = seededUniform(seed + 1);
  const spikes = new Map<number, number>();
  while (spikes.size < spikeCount) {
    const step = 60 + Math.floor(uniform() * (steps - 80));
    if ([...spikes.keys()].every((other) => Math.abs(other - step) > 20)) spikes.set(step, factors[spikes.size % factors.length]);
  }
  const samples: StepSample[] = [];
  for (let step = 0; step < steps; step++) {
    const trend = Math.log(0.5) + (1.5 * Math.min(step, 40)) / 40 - step / steps;
    const factor = spikes.get(step) ?? 1;
    const gradNorm = Math.exp(trend + noise * normal()) * factor;
    const loss = (2.3 * Math.exp(-step / (steps / 4)) + 0.05) * Math.exp(0.1 * normal()) * (factor > 1 ? 1 + Math.log10(factor) : 1);
    samples.push({ step, loss, gradNorm, layerGradNorms: [gradNorm * 0.6, gradNorm * 0.3] });
  }
  return { samples, spikes };
}

function run(samples: StepSample[], detectors = new Detectors(['dense1', 'dense2'])): DetectorEvent[] {
  return samples.flatMap((sample) => [...detectors.observe(sample)]);
}

describe('explosion detector on synthetic traces', () => {
  test('flags spikes of 10× or more at their own step, and nothing else', () => {
    let truePositives = 0;
    let falsePositives = 0;
    let spikesTotal = 0;
    let lateFlags = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const { samples, spikes } = syntheticTrace(seed, 2000, 8, [10, 30, 100, 1000]);
      const flagged = run(samples)
        .filter((e) => e.kind === 'explosion')
        .map((e) => e.step);
      spikesTotal += spikes.size;
      for (const step of flagged) {
        if (spikes.has(step)) truePositives++;
        else if (spikes.has(step - 1)) lateFlags++;
        else falsePositives++;
      }
    }
    const recall = truePositives / spikesTotal;
    const precision = truePositives / (truePositives + falsePositives + lateFlags);
    console.log(`synthetic explosion: recall ${recall.toFixed(3)} precision ${precision.toFixed(3)} (${spikesTotal} spikes, ${falsePositives} false, ${lateFlags} late)`);
    // A 10× spike drawn on a −2.6σ noise sample is only ~4.6× its level: a rare miss is the noise, not lag.
    assert.ok(recall >= 0.98, `recall ${recall}`);
    assert.equal(precision, 1);
    assert.equal(lateFlags, 0);
  });

  test('raises nothing on healthy runs', () => {
    for (let seed = 100; seed < 120; seed++) {
      const { samples } = syntheticTrace(seed, 3000, 0, [1]);
      assert.deepEqual(run(samples), [], `seed ${seed}`);
    }
  });

  test('an exploding run (norm growing 20% a step) is flagged within its first steps', () => {
    const samples: StepSample[] = [];
    const normal = seededNormal(7);
    for (let step = 0; step < 300; step++) {
      const gradNorm = Math.exp(0.2 * normal()) * (step < 200 ? 1 : 1.2 ** (step - 199) * 3);
      samples.push({ step, loss: 1, gradNorm });
    }
    const first = run(samples).find((e) => e.kind === 'explosion');
    assert.ok(first && first.step >= 200 && first.step <= 203, `first explosion at ${first?.step}`);
  });
});

describe('non-finite, vanishing, loss and divergence detectors', () => {
  test('NaN and Infinity are reported at their step with the fields that were not finite', () => {
    const detectors = new Detectors(['a', 'b']);
    const events = [...detectors.observe({ step: 0, loss: 1, gradNorm: 1, layerGradNorms: [1, 1] }), ...detectors.observe({ step: 1, loss: NaN, gradNorm: Infinity, layerGradNorms: [1, Infinity] })];
    assert.deepEqual(events, [{ kind: 'nonFinite', step: 1, severity: 'warning', fields: ['loss', 'gradNorm', 'layerGradNorm'], loss: NaN, gradNorm: Infinity, layers: ['b'] }]);
  });

  test('a layer whose gradient collapses is reported once after the patience, and again after recovering', () => {
    const detectors = new Detectors(['first', 'last'], { vanishing: { patience: 5 } });
    const events: DetectorEvent[] = [];
    for (let step = 0; step < 60; step++) {
      const first = step >= 10 && step < 30 ? 1e-9 : step >= 40 ? 1e-9 : 0.5;
      events.push(...detectors.observe({ step, loss: 1, gradNorm: 1, layerGradNorms: [first, 1] }));
    }
    assert.deepEqual(
      events.map((e) => [e.kind, e.step]),
      [
        ['vanishing', 14],
        ['vanishing', 44],
      ],
    );
  });

  test('a loss spike is flagged at its step', () => {
    const normal = seededNormal(3);
    const samples: StepSample[] = Array.from({ length: 400 }, (_, step) => ({ step, loss: Math.exp(0.1 * normal()) * (step === 250 ? 8 : 1), gradNorm: 1 }));
    assert.deepEqual(
      run(samples).map((e) => [e.kind, e.step]),
      [['lossSpike', 250]],
    );
  });

  test('divergence: far above the best once, and a slow rise after risingSteps', () => {
    const jump: StepSample[] = Array.from({ length: 600 }, (_, step) => ({ step, loss: step < 300 ? 1 : 10, gradNorm: 1 }));
    const divergence = run(jump).filter((e) => e.kind === 'divergence');
    assert.equal(divergence.length, 1);
    assert.equal(divergence[0].kind === 'divergence' && divergence[0].reason, 'aboveBest');

    const rising: StepSample[] = Array.from({ length: 1500 }, (_, step) => ({ step, loss: step < 300 ? 1 : 2, gradNorm: 1 }));
    const slow = run(rising, new Detectors([], { divergence: { risingSteps: 200 } })).filter((e) => e.kind === 'divergence');
    assert.equal(slow.length, 1);
    assert.ok(slow[0].kind === 'divergence' && slow[0].reason === 'rising' && slow[0].step > 300 + 200 && slow[0].step < 300 + 260);
  });

  test('disabled detectors stay silent', () => {
    const detectors = new Detectors([], { explosion: { enabled: false } });
    const samples = Array.from({ length: 100 }, (_, step) => ({ step, loss: 1, gradNorm: step === 50 ? 1000 : 1 }));
    assert.deepEqual(
      samples.flatMap((s) => [...detectors.observe(s)]),
      [],
    );
  });
});
