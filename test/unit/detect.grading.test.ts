// Severity, regrading, missing values, signed losses, zero norms, lr and loss-scaler skips, and the
// streaming properties (no look-ahead, an event names its own step) on the cases the issue names.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { describeEvent } from '../../src/core/detect/describe';
import { applyEvent, Detectors, isUpgrade, type DetectorEvent, type LossSpikeEvent, type StepSample } from '../../src/core/detect';
import { seededNormal, seededUniform } from '../../src/core/random';

interface Fed {
  event: DetectorEvent;
  fedStep: number;
  row: number;
}

function feed(samples: StepSample[], detectors = new Detectors()): Fed[] {
  return samples.flatMap((sample, row) => detectors.observe(sample).map((event) => ({ event, fedStep: sample.step, row })));
}
const kinds = (fed: Fed[]) => fed.map(({ event }) => `${event.kind}@${event.step}/${event.severity}${isUpgrade(event) ? '+' : ''}`);

describe('severity', () => {
  test('a memorising fine-tune: the norm decays 2.1 → 0.001 over 40 rows, then jumps 514× in one row', () => {
    const normal = seededNormal(5);
    const samples: StepSample[] = [];
    for (let step = 0; step < 60; step++) {
      const decay = 2.1 * (0.001 / 2.1) ** (Math.min(step, 40) / 40);
      samples.push({ step, loss: 0.3 * 0.9 ** step + 1e-3, gradNorm: decay * Math.exp(0.1 * normal()) * (step === 41 ? 514 : 1) });
    }
    const explosions = feed(samples).filter(({ event }) => event.kind === 'explosion');
    assert.deepEqual(
      explosions.map(({ event }) => event.step),
      [41],
    );
    // Absorbed at once and below the 2.1 the run started at: within the run's range, so info.
    assert.equal(explosions[0].event.severity, 'info');
  });

  test('late in a healthy run, one hard batch (norm 12×, loss 10×) absorbed the next row is info only', () => {
    const normal = seededNormal(9);
    const samples: StepSample[] = [];
    for (let step = 0; step < 3000; step++) {
      const hard = step === 2600 ? 1 : 0;
      const gradNorm = Math.exp(-step / 1000) * Math.exp(0.25 * normal()) * (hard ? 12 : 1);
      const loss = (2.3 * Math.exp(-step / 300) + 1e-3) * Math.exp(0.1 * normal()) * (hard ? 10 : 1);
      samples.push({ step, loss, gradNorm, lr: 1e-3 * Math.min(1, (step + 1) / 100) * (0.5 + 0.5 * Math.cos((Math.PI * step) / 3000)) });
    }
    const fed = feed(samples);
    assert.deepEqual(
      fed.filter(({ event }) => event.severity === 'warning'),
      [],
    );
    assert.deepEqual(kinds(fed), ['explosion@2600/info', 'lossSpike@2600/info']);
  });

  test('an explosion the run does not absorb is regraded to a warning that replaces the info event', () => {
    const samples: StepSample[] = Array.from({ length: 40 }, (_, step) => ({ step, gradNorm: step < 20 ? 1 + 0.05 * Math.sin(step) : step === 20 ? 8 : 3.5 }));
    const fed = feed(samples, new Detectors([], { explosion: { rangeFactor: 100 } }));
    assert.deepEqual(kinds(fed), ['explosion@20/info', 'explosion@20/warning+']);
    const upgrade = fed[1].event;
    assert.ok(upgrade.kind === 'explosion' && upgrade.grade === 'notAbsorbed' && upgrade.upgradedAt === 23 && fed[1].row === 23);
    const list = fed.reduce<DetectorEvent[]>((events, { event }) => applyEvent(events, event), []);
    assert.deepEqual(list, [upgrade]);
  });

  test('a too-high learning rate at the start: the norm comes back but the loss does not, so the explosion is a warning', () => {
    const norms = [1.2, 15.6, 1.5, 8.5, 1.1, 0.9, 1, 1];
    const losses = [2.3, 11.7, 9, 10, 9.5, 9.8, 9.9, 9.7];
    const fed = feed(norms.map((gradNorm, step) => ({ step, gradNorm, loss: losses[step] })));
    assert.deepEqual(kinds(fed), ['explosion@1/info', 'lossSpike@1/info', 'explosion@3/info', 'lossSpike@1/warning+', 'explosion@1/warning+', 'explosion@3/warning+']);
    assert.ok(fed.slice(3).every(({ event, fedStep }) => fedStep === 4 && 'grade' in event && event.grade === 'notAbsorbed'));
  });

  test('a second spike before the first was absorbed makes both warnings (repeated)', () => {
    const samples: StepSample[] = Array.from({ length: 30 }, (_, step) => ({ step, gradNorm: step === 20 || step === 22 ? 9 : step === 21 ? 3 : 1 }));
    const fed = feed(samples, new Detectors([], { explosion: { rangeFactor: 100 } }));
    assert.deepEqual(kinds(fed), ['explosion@20/info', 'explosion@20/warning+', 'explosion@22/warning']);
  });

  test("beyond the run's own range is a warning at once; within it and absorbed, info", () => {
    const base = (step: number) => (step < 10 ? 20 : 1);
    const beyond = feed(Array.from({ length: 80 }, (_, step) => ({ step, gradNorm: step === 70 ? 100 : base(step) })));
    assert.deepEqual(kinds(beyond), ['explosion@70/warning']);
    const within = feed(Array.from({ length: 80 }, (_, step) => ({ step, gradNorm: step === 70 ? 30 : base(step) })));
    assert.deepEqual(kinds(within), ['explosion@70/info']);
  });

  test('a norm jump right after the learning rate rose is a warning (lrRose)', () => {
    const samples: StepSample[] = Array.from({ length: 60 }, (_, step) => ({ step, lr: step < 50 ? 1e-3 : 1e-2, gradNorm: step === 51 ? 6 : 1 + 0.1 * Math.cos(step) }));
    const fed = feed(samples, new Detectors([], { explosion: { rangeFactor: 100 } }));
    assert.equal(fed.length, 1);
    const event = fed[0].event;
    assert.ok(event.kind === 'explosion' && event.step === 51 && event.severity === 'warning' && event.grade === 'lrRose' && event.lr === 1e-2);
  });

  test('non-finite values, vanishing layers and divergence are warnings', () => {
    const detectors = new Detectors(['a']);
    const events = [...detectors.observe({ step: 0, loss: 1, gradNorm: 1, layerGradNorms: [1] }), ...detectors.observe({ step: 1, loss: NaN, gradNorm: 1, layerGradNorms: [1] })];
    assert.deepEqual(
      events.map((e) => e.severity),
      ['warning'],
    );
  });
});

describe('real-log shapes', () => {
  test('missing values are missing: no non-finite event, and the detectors that need them skip the row', () => {
    const detectors = new Detectors(['a', 'b']);
    const events: DetectorEvent[] = [];
    for (let step = 0; step < 50; step++) {
      const sample: StepSample = step % 2 ? { step, loss: 1 } : { step, gradNorm: 1, layerGradNorms: [1, undefined as unknown as number] };
      events.push(...detectors.observe(sample));
    }
    assert.deepEqual(events, []);
    // Windows count rows that carry the value: a spike in the 13th gradient row is scored after 12 rows.
    const sparse = new Detectors([], { explosion: { minHistory: 12 } });
    const out: DetectorEvent[] = [];
    for (let row = 0; row < 13; row++) {
      out.push(...sparse.observe({ step: row * 10, gradNorm: row === 12 ? 6 : 1 }));
      out.push(...sparse.observe({ step: row * 10 + 5, loss: 1 }));
    }
    assert.deepEqual(
      out.map((e) => [e.kind, e.step]),
      [['explosion', 120]],
    );
  });

  test('sparse logging: the same rows logged every 50 steps raise the same events at the logged steps', () => {
    const normal = seededNormal(21);
    const rows = Array.from({ length: 400 }, (_, i) => ({ loss: 2 * Math.exp(-i / 100) * Math.exp(0.1 * normal()) + 0.1, gradNorm: Math.exp(0.3 * normal()) * (i === 250 ? 40 : 1) }));
    const dense = feed(rows.map((r, i) => ({ step: i, ...r })));
    const sparse = feed(rows.map((r, i) => ({ step: i * 50, ...r })));
    assert.ok(dense.length > 0);
    assert.deepEqual(
      sparse.map(({ event }) => ({ ...event, step: event.step / 50 })),
      dense.map(({ event }) => event),
    );
  });

  test('GRPO: bimodal norms with exact zeros and a signed loss near 0 raise nothing, and say why', () => {
    const normal = seededNormal(4);
    const uniform = seededUniform(4);
    const detectors = new Detectors();
    const events: DetectorEvent[] = [];
    for (let step = 1; step <= 1000; step++) {
      const u = uniform();
      const gradNorm = u < 0.16 ? 0 : u < 0.25 ? 0.002 * Math.exp(0.5 * normal()) : 0.07 * Math.exp(0.6 * normal());
      const loss = Math.round(4e-4 * normal() * 1e4) / 1e4;
      events.push(...detectors.observe({ step, loss, gradNorm, lr: 3e-5 }));
    }
    assert.deepEqual(
      events.filter((e) => e.severity === 'warning'),
      [],
    );
    const notes = detectors.notes();
    assert.equal(notes.length, 2);
    assert.match(notes[0], /^loss checks off from step \d+: the loss goes ≤ 0/);
    assert.match(notes[1], /^\d+ rows with a gradient norm of exactly 0 \(first at step \d+\) left out of the explosion check/);
  });

  test('validation loss: rows that carry it form their own series; a spike is a lossSpike of series validation', () => {
    const detectors = new Detectors();
    const events: DetectorEvent[] = [];
    for (let step = 0; step < 500; step++) {
      const sample: StepSample = { step, loss: 1 + 0.01 * Math.sin(step), gradNorm: 1 };
      if (step % 10 === 9) sample.validationLoss = step === 309 ? 0.66 : 0.01 * (1 + 0.05 * Math.cos(step));
      events.push(...detectors.observe(sample));
    }
    assert.deepEqual(
      events.map((e) => e.kind === 'lossSpike' && [e.series, e.step, e.severity]),
      [['validation', 309, 'info']],
    );
    // A regraded training spike does not replace a validation spike at the same step.
    const validation = events[0] as LossSpikeEvent;
    const training: LossSpikeEvent = { ...validation, series: undefined, loss: 5 };
    const list = applyEvent<DetectorEvent>(applyEvent<DetectorEvent>([validation], training), { ...training, severity: 'warning', grade: 'notAbsorbed', upgradedAt: 312 });
    assert.deepEqual(
      list.map((e) => [e.kind === 'lossSpike' && e.series, e.severity]),
      [
        ['validation', 'info'],
        [undefined, 'warning'],
      ],
    );
  });

  test('fp16 loss-scaler skip: a non-finite norm where the changing lr repeats gets the hint', () => {
    const detectors = new Detectors();
    const lrs = [1e-4, 2e-4, 3e-4, 3e-4, 4e-4, 4e-4];
    const norms = [1, 1, 1, NaN, 1, Infinity];
    const events = lrs.flatMap((lr, step) => [...detectors.observe({ step, lr, gradNorm: norms[step], loss: 1 })]);
    assert.deepEqual(
      events.map((e) => e.kind === 'nonFinite' && [e.step, e.hint]),
      [
        [3, 'lossScalerSkip'],
        [5, 'lossScalerSkip'],
      ],
    );
    assert.deepEqual(events.map(describeEvent), [
      'step 3: non-finite gradNorm NaN (the learning rate did not advance: the fp16 loss scaler skipped this step)',
      'step 5: non-finite gradNorm Infinity (the learning rate did not advance: the fp16 loss scaler skipped this step)',
    ]);
    // A constant lr says nothing about the scaler.
    const constant = new Detectors();
    const flat = [1, NaN].flatMap((gradNorm, step) => [...constant.observe({ step, lr: 1e-3, gradNorm })]);
    assert.ok(flat.length === 1 && flat[0].kind === 'nonFinite' && flat[0].hint === undefined);
  });
});

describe('healthy shapes raise no warning', () => {
  const N = 3000;
  const lrAt = (t: number) => 1e-3 * Math.min(1, (t + 1) / 100) * (0.5 + 0.5 * Math.cos((Math.PI * t) / N));
  const shapes: Record<string, (seed: number) => StepSample[]> = {
    'warmup then decay, noise 0.2, late hard batches (norm 12×, loss 10×)': (seed) => {
      const normal = seededNormal(seed);
      const uniform = seededUniform(seed + 7);
      return Array.from({ length: N }, (_, t) => {
        const level = t < 100 ? 0.05 * 20 ** (t / 100) : Math.exp((-3 * (t - 100)) / N);
        const hard = t > N / 2 && uniform() < 1 / 300;
        return { step: t, lr: lrAt(t), gradNorm: level * Math.exp(0.2 * normal()) * (hard ? 12 : 1), loss: (2.3 * Math.exp(-t / 300) + 1e-3) * Math.exp(0.3 * normal()) * (hard ? 10 : 1) };
      });
    },
    'noise 0.5': (seed) => {
      const normal = seededNormal(seed);
      return Array.from({ length: N }, (_, t) => ({ step: t, lr: lrAt(t), gradNorm: Math.exp(-t / N) * Math.exp(0.5 * normal()), loss: 2 * Math.exp(-t / 500) + 0.1 }));
    },
    'RL: 20 % exact zeros, 10–30 % near-zero steps': (seed) => {
      const normal = seededNormal(seed);
      const uniform = seededUniform(seed + 3);
      const low = 0.1 + 0.05 * (seed % 5);
      return Array.from({ length: 1000 }, (_, t) => {
        const u = uniform();
        return { step: t, lr: 3e-5, gradNorm: u < 0.2 ? 0 : u < 0.2 + low ? 0.002 * Math.exp(0.7 * normal()) : 0.08 * Math.exp(0.6 * normal()), loss: 1e-4 * normal() };
      });
    },
    'LoRA: the norm starts near 0 and jumps 100× in the first rows': (seed) => {
      const normal = seededNormal(seed);
      return Array.from({ length: 500 }, (_, t) => ({
        step: t,
        lr: 1e-4 * Math.min(1, (t + 1) / 20),
        gradNorm: (t < 3 ? 0.01 : 1) * Math.exp(0.5 * normal()),
        loss: 3 * Math.exp(-t / 100) * Math.exp(0.1 * normal()) + 0.5,
      }));
    },
  };
  for (const [name, shape] of Object.entries(shapes)) {
    test(name, () => {
      for (let seed = 1; seed <= 5; seed++) {
        const warnings = feed(shape(seed)).filter(({ event }) => event.severity === 'warning');
        assert.deepEqual(kinds(warnings), [], `seed ${seed}`);
      }
    });
  }
});

describe('streaming properties', () => {
  const row = fc.record({
    loss: fc.option(fc.oneof(fc.double({ min: 1e-3, max: 10, noNaN: true }), fc.constant(NaN)), { nil: undefined }),
    gradNorm: fc.option(fc.oneof(fc.double({ min: 0, max: 1e3, noNaN: true }), fc.constant(Infinity)), { nil: undefined }),
    lr: fc.option(fc.constantFrom(1e-3, 1e-2), { nil: undefined }),
  });

  test('no look-ahead: the events raised by the first rows do not depend on the rows after them', () => {
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 120 }), fc.array(row, { maxLength: 40 }), (head, tail) => {
        const samples = (rows: typeof head) => rows.map((r, step) => ({ step, ...r }));
        const alone = feed(samples(head)).map(({ event }) => event);
        const continued = feed(samples([...head, ...tail]))
          .filter(({ row: at }) => at < head.length)
          .map(({ event }) => event);
        assert.deepEqual(continued, alone);
      }),
      { numRuns: 200 },
    );
  });

  test('an event names the row it was raised on; a regraded copy names one at most absorbRows rows (carrying its value) before', () => {
    fc.assert(
      fc.property(fc.array(row, { maxLength: 200 }), (rows) => {
        const samples = rows.map((r, step) => ({ step: step * 3, ...r }));
        for (const { event, fedStep } of feed(samples)) {
          if (!isUpgrade(event)) {
            assert.equal(event.step, fedStep);
            continue;
          }
          // An explosion is also regraded by the loss spike raised with it (or before it) not coming back.
          const signals = event.kind === 'explosion' ? (['gradNorm', 'loss'] as const) : (['loss'] as const);
          const rowsBetween = Math.min(...signals.map((signal) => samples.filter((s) => s.step > event.step && s.step <= fedStep && s[signal] !== undefined).length));
          assert.ok(event.step <= fedStep && rowsBetween <= 3, `${event.kind} at ${event.step} regraded at ${fedStep} after ${rowsBetween} rows`);
          assert.ok('upgradedAt' in event && event.upgradedAt === fedStep && event.severity === 'warning');
        }
      }),
      { numRuns: 200 },
    );
  });
});
