// Source of schema/job.schema.json. The schedule definitions are repetitive, so they are generated
// here from a compact table; run `node scripts/schema-src.mjs` after editing and commit both files.
// A unit test fails if the committed schema differs from what this script writes.
import { readFileSync, writeFileSync } from 'node:fs';

const positive = (description) => ({ type: 'number', exclusiveMinimum: 0, description });
const nonNegative = (description) => ({ type: 'number', minimum: 0, description });
const count = (description) => ({ type: 'integer', minimum: 1, description });
const countFrom0 = (description) => ({ type: 'integer', minimum: 0, description });
const withDefault = (schema, value) => ({ ...schema, default: value, description: `${schema.description} Default: ${value}.` });
const lr = positive('Learning rate (peak or base, as the schedule defines).');

/** type -> [description, properties, required] */
const schedules = {
  constant: ['Constant learning rate.', { lr }, ['lr']],
  step: ['Multiply by gamma every stepSize updates (PyTorch StepLR).', {
    lr, stepSize: count('Updates between two decays.'), gamma: withDefault(positive('Decay factor.'), 0.1),
  }, ['lr', 'stepSize']],
  multistep: ['Multiply by gamma at each milestone (PyTorch MultiStepLR).', {
    lr,
    milestones: { type: 'array', items: { type: 'integer', minimum: 0 }, description: 'Update indices where the rate is multiplied by gamma (a repeated milestone decays twice).' },
    gamma: withDefault(positive('Decay factor.'), 0.1),
  }, ['lr', 'milestones']],
  exponential: ['Multiply by gamma every update (PyTorch ExponentialLR).', { lr, gamma: positive('Decay factor per update.') }, ['lr', 'gamma']],
  cosine: ['Cosine annealing from lr to etaMin over tMax updates (PyTorch CosineAnnealingLR; periodic past tMax).', {
    lr, tMax: count('Half period in updates.'), etaMin: withDefault(nonNegative('Minimum learning rate (absolute).'), 0),
  }, ['lr', 'tMax']],
  cosineRestarts: ['Cosine annealing with warm restarts (PyTorch CosineAnnealingWarmRestarts).', {
    lr, t0: count('Updates in the first cycle.'), tMult: withDefault({ type: 'integer', minimum: 1, description: 'Growth factor of the cycle length.' }, 1),
    etaMin: withDefault(nonNegative('Minimum learning rate (absolute).'), 0),
  }, ['lr', 't0']],
  linear: ['Linear change of a factor of lr from startFactor to endFactor over totalIters updates (PyTorch LinearLR).', {
    lr, startFactor: withDefault({ type: 'number', exclusiveMinimum: 0, maximum: 1, description: 'Factor at update 0.' }, 1 / 3),
    endFactor: withDefault({ type: 'number', minimum: 0, maximum: 1, description: 'Factor from totalIters on.' }, 1),
    totalIters: withDefault(count('Updates to reach endFactor.'), 5),
  }, ['lr']],
  polynomial: ['Polynomial decay to 0 over totalIters updates (PyTorch PolynomialLR).', {
    lr, totalIters: withDefault(count('Updates to reach 0.'), 5), power: withDefault(positive('Exponent of the decay.'), 1),
  }, ['lr']],
  cyclic: ['Cyclical learning rate between baseLr and maxLr (PyTorch CyclicLR).', {
    baseLr: positive('Lower bound of the cycle.'), maxLr: positive('Upper bound of the cycle.'),
    stepSizeUp: withDefault(count('Updates in the rising half.'), 2000),
    stepSizeDown: count('Updates in the falling half. Default: stepSizeUp.'),
    mode: withDefault({ enum: ['triangular', 'triangular2', 'exp_range'], description: 'Amplitude policy: constant, halved every cycle, or scaled by gamma^update.' }, 'triangular'),
    gamma: withDefault(positive('Amplitude factor per update in exp_range mode.'), 1),
  }, ['baseLr', 'maxLr']],
  oneCycle: ['One-cycle policy (PyTorch OneCycleLR).', {
    maxLr: positive('Peak learning rate.'), totalSteps: count('Total number of updates in the cycle.'),
    pctStart: withDefault({ type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, description: 'Fraction of the cycle spent rising.' }, 0.3),
    annealStrategy: withDefault({ enum: ['cos', 'linear'], description: 'Shape of the ramps.' }, 'cos'),
    divFactor: withDefault(positive('Initial lr = maxLr / divFactor.'), 25),
    finalDivFactor: withDefault(positive('Final lr = initial lr / finalDivFactor.'), 1e4),
    threePhase: withDefault({ type: 'boolean', description: 'Ramp back to the initial lr before the final annihilation.' }, false),
  }, ['maxLr', 'totalSteps']],
  warmupLinear: ['Linear warmup from 0, then linear decay to 0 at totalSteps (transformers get_linear_schedule_with_warmup).', {
    lr, warmupSteps: countFrom0('Warmup updates.'), totalSteps: count('Total updates.'),
  }, ['lr', 'warmupSteps', 'totalSteps']],
  warmupCosine: ['Linear warmup from 0, then cosine decay to minLr at totalSteps (transformers get_cosine_schedule_with_warmup).', {
    lr, warmupSteps: countFrom0('Warmup updates.'), totalSteps: count('Total updates.'),
    minLr: withDefault(nonNegative('Learning rate at the end of the decay (absolute).'), 0),
  }, ['lr', 'warmupSteps', 'totalSteps']],
  inverseSqrt: ['Linear warmup from 0, then decay with 1/sqrt(update) (transformers get_inverse_sqrt_schedule).', {
    lr, warmupSteps: countFrom0('Warmup updates.'),
    timescale: count('Decay timescale. Default: warmupSteps, or 10000 when warmupSteps is 0.'),
  }, ['lr', 'warmupSteps']],
  warmupStableDecay: ['Warmup, a stable phase at lr, then a decay (transformers get_wsd_schedule).', {
    lr, warmupSteps: countFrom0('Warmup updates.'), stableSteps: countFrom0('Updates held at lr.'), decaySteps: countFrom0('Decay updates.'),
    minLrRatio: withDefault({ type: 'number', minimum: 0, maximum: 1, description: 'Floor as a fraction of lr (warmup starts there too).' }, 0),
    decayType: withDefault({ enum: ['cosine', 'linear', '1-sqrt'], description: 'Shape of the decay.' }, 'cosine'),
  }, ['lr', 'warmupSteps', 'stableSteps', 'decaySteps']],
  sequential: ['Schedules one after another; schedule i+1 starts at its own update 0 at milestone i (PyTorch SequentialLR).', {
    schedules: { type: 'array', minItems: 1, items: { $ref: '#/definitions/schedule' }, description: 'The schedules, in order.' },
    milestones: { type: 'array', items: { type: 'integer', minimum: 1 }, description: 'Update index where each next schedule starts (one fewer than schedules).' },
  }, ['schedules', 'milestones']],
  plateau: ['Reduce the learning rate when a metric stops improving (PyTorch ReduceLROnPlateau).', {
    lr,
    mode: withDefault({ enum: ['min', 'max'], description: 'Whether the metric should go down or up.' }, 'min'),
    factor: withDefault({ type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, description: 'Multiplier applied on a plateau.' }, 0.1),
    patience: withDefault(countFrom0('Bad checks tolerated before a cut.'), 10),
    threshold: withDefault(nonNegative('Minimum change that counts as an improvement.'), 1e-4),
    thresholdMode: withDefault({ enum: ['rel', 'abs'], description: 'Threshold relative to the best value, or absolute.' }, 'rel'),
    cooldown: withDefault(countFrom0('Checks to wait after a cut before counting bad checks again.'), 0),
    minLr: withDefault(nonNegative('Lower bound of the learning rate.'), 0),
    eps: withDefault(nonNegative('Cuts smaller than this are ignored.'), 1e-8),
  }, ['lr'],],
};

const definitions = {
  schedule: {
    type: 'object', description: 'Learning-rate schedule: value k is the rate used by update k.', required: ['type'],
    properties: { type: { enum: Object.keys(schedules), description: 'Schedule family.' } },
    discriminator: { propertyName: 'type' }, oneOf: [],
  },
};
for (const [type, [description, properties, required]] of Object.entries(schedules)) {
  const name = `schedule.${type}`;
  definitions.schedule.oneOf.push({ $ref: `#/definitions/${name}` });
  definitions[name] = {
    type: 'object', description, additionalProperties: false, required: ['type', ...required],
    properties: { type: { const: type, description }, ...properties },
  };
}

const detectorOptions = {
  type: 'object', additionalProperties: false, description: 'Detector thresholds. The defaults raise no alarm on healthy runs of the reference traces.',
  properties: {
    explosion: { type: 'object', additionalProperties: false, description: 'Gradient explosion: the global gradient norm jumps far above its recent robust level.', properties: {
      enabled: withDefault({ type: 'boolean', description: 'Run this detector.' }, true),
      window: withDefault({ type: 'integer', minimum: 4, description: 'Steps in the running window of log-norms.' }, 50),
      minHistory: withDefault({ type: 'integer', minimum: 2, description: 'Steps seen before the detector may fire.' }, 8),
      ratio: withDefault({ type: 'number', minimum: 1, description: 'Norm / running median above which a step can be an explosion.' }, 5),
      zScore: withDefault(nonNegative('Robust z-score of the log-norm that must also be exceeded.'), 3.5),
    } },
    lossSpike: { type: 'object', additionalProperties: false, description: 'Loss spike: the loss jumps far above its recent robust level.', properties: {
      enabled: withDefault({ type: 'boolean', description: 'Run this detector.' }, true),
      window: withDefault({ type: 'integer', minimum: 4, description: 'Steps in the running window.' }, 50),
      minHistory: withDefault({ type: 'integer', minimum: 2, description: 'Steps seen before the detector may fire.' }, 8),
      ratio: withDefault({ type: 'number', minimum: 1, description: 'Loss / running median above which a step can be a spike.' }, 3),
      zScore: withDefault(nonNegative('Robust z-score of the log-loss that must also be exceeded.'), 4),
    } },
    divergence: { type: 'object', additionalProperties: false, description: 'Divergence: the smoothed loss far above its best, or above it for long.', properties: {
      enabled: withDefault({ type: 'boolean', description: 'Run this detector.' }, true),
      smoothing: withDefault({ type: 'integer', minimum: 1, description: 'Half-life, in steps, of the loss average.' }, 20),
      factor: withDefault({ type: 'number', minimum: 1, description: 'Smoothed loss / best smoothed loss that counts as diverged.' }, 4),
      risingFactor: withDefault({ type: 'number', minimum: 1, description: 'Smoothed loss / best above which a run counts as rising.' }, 1.5),
      risingSteps: withDefault(count('Consecutive steps above risingFactor that count as diverging.'), 500),
    } },
    vanishing: { type: 'object', additionalProperties: false, description: 'Vanishing gradients: a layer\'s gradient norm collapses.', properties: {
      enabled: withDefault({ type: 'boolean', description: 'Run this detector.' }, true),
      floor: withDefault(nonNegative('Absolute gradient norm below which a layer counts as vanishing.'), 1e-7),
      ratioToMax: withDefault(nonNegative('Layer norm / largest layer norm below which a layer counts as vanishing.'), 1e-5),
      patience: withDefault(count('Consecutive steps a layer must stay below before it is flagged.'), 10),
    } },
  },
};

const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://gradscope.invalid/schema/job.schema.json',
  title: 'Gradscope training job',
  description: 'A training job for Gradscope (*.gradscope.json).',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'schedule'],
  properties: {
    $schema: { type: 'string', description: 'Path or URL of this schema (for editors).' },
    name: { type: 'string', minLength: 1, pattern: '^[^/\\\\]+$', description: 'Name of the job, used in run folder names.' },
    seed: withDefault({ type: 'integer', minimum: 0, description: 'Seed for weights, shuffling and augmentation.' }, 0),
    backend: withDefault({ enum: ['auto', 'tensorflow', 'wasm', 'cpu'], description: 'TensorFlow.js backend: auto tries tensorflow (tfjs-node), then wasm, then cpu.' }, 'auto'),
    data: { type: 'object', required: ['type'], properties: { type: { type: 'string' } }, description: 'Training data (see the trainer documentation).' },
    model: { type: ['object', 'array'], description: 'Model: a list of layers or a user module.' },
    optimizer: { type: 'object', required: ['type'], properties: { type: { type: 'string' } }, description: 'Optimizer and its options.' },
    schedule: { $ref: '#/definitions/schedule' },
    clip: { type: 'object', required: ['type'], properties: { type: { type: 'string' } }, description: 'Gradient clipping. Default: none.' },
    guard: { type: 'object', description: 'What happens on an event (skip, back off, roll back, stop).' },
    detect: detectorOptions,
    epochs: withDefault(count('Passes over the training data.'), 1),
    batchSize: withDefault(count('Samples per update.'), 32),
  },
  definitions,
};

const target = new URL('../schema/job.schema.json', import.meta.url);
const text = `${JSON.stringify(schema, null, 2)}\n`;
if (process.argv.includes('--check')) {
  if (readFileSync(target, 'utf8') !== text) {
    console.error('schema/job.schema.json is out of date: run node scripts/schema-src.mjs');
    process.exit(1);
  }
} else {
  writeFileSync(target, text);
}
