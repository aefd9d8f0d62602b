// Source of schema/job.schema.json. The schedule definitions are repetitive, so they are generated
// here from a compact table; run `node scripts/schema-src.mjs` after editing and commit both files.
// A unit test fails if the committed schema differs from what this script writes.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { docsSchema } from './docs-schema.mjs';

const positive = (description) => ({ type: 'number', exclusiveMinimum: 0, description });
const nonNegative = (description) => ({ type: 'number', minimum: 0, description });
const count = (description) => ({ type: 'integer', minimum: 1, description });
const countFrom0 = (description) => ({ type: 'integer', minimum: 0, description });
const withDefault = (schema, value) => ({ ...schema, default: value, description: `${schema.description} Default: ${value}.` });
const lr = positive('Learning rate (peak or base, as the schedule defines).');

/** type -> [description, properties, required] */
const schedules = {
  constant: ['Constant learning rate.', { lr }, ['lr']],
  step: [
    'Multiply by gamma every stepSize updates (PyTorch StepLR).',
    {
      lr,
      stepSize: count('Updates between two decays.'),
      gamma: withDefault(positive('Decay factor.'), 0.1),
    },
    ['lr', 'stepSize'],
  ],
  multistep: [
    'Multiply by gamma at each milestone (PyTorch MultiStepLR).',
    {
      lr,
      milestones: { type: 'array', items: { type: 'integer', minimum: 0 }, description: 'Update indices where the rate is multiplied by gamma (a repeated milestone decays twice).' },
      gamma: withDefault(positive('Decay factor.'), 0.1),
    },
    ['lr', 'milestones'],
  ],
  exponential: ['Multiply by gamma every update (PyTorch ExponentialLR).', { lr, gamma: positive('Decay factor per update.') }, ['lr', 'gamma']],
  cosine: [
    'Cosine annealing from lr to etaMin over tMax updates (PyTorch CosineAnnealingLR; periodic past tMax).',
    {
      lr,
      tMax: count('Half period in updates.'),
      etaMin: withDefault(nonNegative('Minimum learning rate (absolute).'), 0),
    },
    ['lr', 'tMax'],
  ],
  cosineRestarts: [
    'Cosine annealing with warm restarts (PyTorch CosineAnnealingWarmRestarts).',
    {
      lr,
      t0: count('Updates in the first cycle.'),
      tMult: withDefault({ type: 'integer', minimum: 1, description: 'Growth factor of the cycle length.' }, 1),
      etaMin: withDefault(nonNegative('Minimum learning rate (absolute).'), 0),
    },
    ['lr', 't0'],
  ],
  linear: [
    'Linear change of a factor of lr from startFactor to endFactor over totalIters updates (PyTorch LinearLR).',
    {
      lr,
      startFactor: withDefault({ type: 'number', exclusiveMinimum: 0, maximum: 1, description: 'Factor at update 0.' }, 1 / 3),
      endFactor: withDefault({ type: 'number', minimum: 0, maximum: 1, description: 'Factor from totalIters on.' }, 1),
      totalIters: withDefault(count('Updates to reach endFactor.'), 5),
    },
    ['lr'],
  ],
  polynomial: [
    'Polynomial decay to 0 over totalIters updates (PyTorch PolynomialLR).',
    {
      lr,
      totalIters: withDefault(count('Updates to reach 0.'), 5),
      power: withDefault(positive('Exponent of the decay.'), 1),
    },
    ['lr'],
  ],
  cyclic: [
    'Cyclical learning rate between baseLr and maxLr (PyTorch CyclicLR).',
    {
      baseLr: positive('Lower bound of the cycle.'),
      maxLr: positive('Upper bound of the cycle.'),
      stepSizeUp: withDefault(count('Updates in the rising half.'), 2000),
      stepSizeDown: count('Updates in the falling half. Default: stepSizeUp.'),
      mode: withDefault({ enum: ['triangular', 'triangular2', 'exp_range'], description: 'Amplitude policy: constant, halved every cycle, or scaled by gamma^update.' }, 'triangular'),
      gamma: withDefault(positive('Amplitude factor per update in exp_range mode.'), 1),
    },
    ['baseLr', 'maxLr'],
  ],
  oneCycle: [
    'One-cycle policy (PyTorch OneCycleLR).',
    {
      maxLr: positive('Peak learning rate.'),
      totalSteps: count('Total number of updates in the cycle.'),
      pctStart: withDefault({ type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, description: 'Fraction of the cycle spent rising.' }, 0.3),
      annealStrategy: withDefault({ enum: ['cos', 'linear'], description: 'Shape of the ramps.' }, 'cos'),
      divFactor: withDefault(positive('Initial lr = maxLr / divFactor.'), 25),
      finalDivFactor: withDefault(positive('Final lr = initial lr / finalDivFactor.'), 1e4),
      threePhase: withDefault({ type: 'boolean', description: 'Ramp back to the initial lr before the final annihilation.' }, false),
    },
    ['maxLr', 'totalSteps'],
  ],
  warmupLinear: [
    'Linear warmup from 0, then linear decay to 0 at totalSteps (transformers get_linear_schedule_with_warmup).',
    {
      lr,
      warmupSteps: countFrom0('Warmup updates.'),
      totalSteps: count('Total updates.'),
    },
    ['lr', 'warmupSteps', 'totalSteps'],
  ],
  warmupCosine: [
    'Linear warmup from 0, then cosine decay to minLr at totalSteps (transformers get_cosine_schedule_with_warmup).',
    {
      lr,
      warmupSteps: countFrom0('Warmup updates.'),
      totalSteps: count('Total updates.'),
      minLr: withDefault(nonNegative('Learning rate at the end of the decay (absolute).'), 0),
    },
    ['lr', 'warmupSteps', 'totalSteps'],
  ],
  inverseSqrt: [
    'Linear warmup from 0, then decay with 1/sqrt(update) (transformers get_inverse_sqrt_schedule).',
    {
      lr,
      warmupSteps: countFrom0('Warmup updates.'),
      timescale: count('Decay timescale. Default: warmupSteps, or 10000 when warmupSteps is 0.'),
    },
    ['lr', 'warmupSteps'],
  ],
  warmupStableDecay: [
    'Warmup, a stable phase at lr, then a decay (transformers get_wsd_schedule).',
    {
      lr,
      warmupSteps: countFrom0('Warmup updates.'),
      stableSteps: countFrom0('Updates held at lr.'),
      decaySteps: countFrom0('Decay updates.'),
      minLrRatio: withDefault({ type: 'number', minimum: 0, maximum: 1, description: 'Floor as a fraction of lr (warmup starts there too).' }, 0),
      decayType: withDefault({ enum: ['cosine', 'linear', '1-sqrt'], description: 'Shape of the decay.' }, 'cosine'),
    },
    ['lr', 'warmupSteps', 'stableSteps', 'decaySteps'],
  ],
  sequential: [
    'Schedules one after another; schedule i+1 starts at its own update 0 at milestone i (PyTorch SequentialLR).',
    {
      schedules: { type: 'array', minItems: 1, items: { $ref: '#/definitions/schedule' }, description: 'The schedules, in order.' },
      milestones: { type: 'array', items: { type: 'integer', minimum: 1 }, description: 'Update index where each next schedule starts (one fewer than schedules).' },
    },
    ['schedules', 'milestones'],
  ],
  plateau: [
    'Reduce the learning rate when a metric stops improving (PyTorch ReduceLROnPlateau).',
    {
      lr,
      mode: withDefault({ enum: ['min', 'max'], description: 'Whether the metric should go down or up.' }, 'min'),
      factor: withDefault({ type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, description: 'Multiplier applied on a plateau.' }, 0.1),
      patience: withDefault(countFrom0('Bad checks tolerated before a cut.'), 10),
      threshold: withDefault(nonNegative('Minimum change that counts as an improvement.'), 1e-4),
      thresholdMode: withDefault({ enum: ['rel', 'abs'], description: 'Threshold relative to the best value, or absolute.' }, 'rel'),
      cooldown: withDefault(countFrom0('Checks to wait after a cut before counting bad checks again.'), 0),
      minLr: withDefault(nonNegative('Lower bound of the learning rate.'), 0),
      eps: withDefault(nonNegative('Cuts smaller than this are ignored.'), 1e-8),
    },
    ['lr'],
  ],
};

const definitions = {
  schedule: {
    type: 'object',
    description: 'Learning-rate schedule: value k is the rate used by update k.',
    required: ['type'],
    properties: { type: { enum: Object.keys(schedules), description: 'Schedule family.' } },
    discriminator: { propertyName: 'type' },
    oneOf: [],
  },
};
for (const [type, [description, properties, required]] of Object.entries(schedules)) {
  const name = `schedule.${type}`;
  definitions.schedule.oneOf.push({ $ref: `#/definitions/${name}` });
  definitions[name] = {
    type: 'object',
    description,
    additionalProperties: false,
    required: ['type', ...required],
    properties: { type: { const: type, description }, ...properties },
  };
}

/** The options explosion and lossSpike share, with their defaults. */
function spikeProperties({ noun, plural, follows, event, window, levelWindow, minHistory, ratio, zScore, sureRatio, absorbRows, absorbedRatio }) {
  const Noun = noun[0].toUpperCase() + noun.slice(1);
  return {
    enabled: withDefault({ type: 'boolean', description: 'Run this detector.' }, true),
    window: withDefault({ type: 'integer', minimum: 4, description: `Rows in the running window of ${plural} (median and spread).` }, window),
    levelWindow: withDefault({ type: 'integer', minimum: 1, description: `Rows behind the short level (median of the last rows) that follows ${follows}.` }, levelWindow),
    minHistory: withDefault({ type: 'integer', minimum: 2, description: 'Rows seen before the z-score test applies; before that the ratio alone decides (from the second row).' }, minHistory),
    ratio: withDefault({ type: 'number', minimum: 1, description: `${Noun} / running median above which a row can be ${event}.` }, ratio),
    zScore: withDefault(nonNegative(`Robust z-score of the log-${noun} that must also be exceeded.`), zScore),
    sureRatio: withDefault({ type: 'number', minimum: 1, description: `${Noun} / short level at or above which a row is ${event} whatever the spread.` }, sureRatio),
    absorbRows: withDefault(count(`Rows after a spike within which the ${noun} must come back near its level, or the spike becomes a warning.`), absorbRows),
    absorbedRatio: withDefault(
      { type: 'number', minimum: 1, description: 'A later row at or below absorbedRatio × the usual range before the spike (its level, or the top of the recent rows if higher) counts as back.' },
      absorbedRatio,
    ),
  };
}

const detectorOptions = {
  type: 'object',
  additionalProperties: false,
  description: 'Detector thresholds. The defaults raise no alarm on healthy runs of the reference traces.',
  properties: {
    explosion: {
      type: 'object',
      additionalProperties: false,
      description:
        "Gradient explosion: the global gradient norm jumps far above its running level. Counted in logged rows. Severity: warning when the run does not absorb it, it is beyond the run's own range, or it follows an LR rise; info otherwise.",
      properties: {
        ...spikeProperties({
          noun: 'norm',
          plural: 'log-norms',
          follows: 'a decaying or growing norm',
          event: 'an explosion',
          window: 50,
          levelWindow: 12,
          minHistory: 8,
          ratio: 5,
          zScore: 3.5,
          sureRatio: 10,
          absorbRows: 3,
          absorbedRatio: 2,
        }),
        rangeFactor: withDefault(
          { type: 'number', minimum: 1, description: 'A spike above rangeFactor × the largest norm of the run so far (after minHistory rows) is a warning even if absorbed.' },
          4,
        ),
        lrRise: withDefault({ type: 'number', minimum: 1, description: 'A spike on a row whose learning rate is lrRise × its median over the last levelWindow rows is a warning (the LR rose).' }, 2),
      },
    },
    lossSpike: {
      type: 'object',
      additionalProperties: false,
      description: 'Loss spike: the loss jumps far above its running level. Off (and said so in the summary) once the loss goes ≤ 0. Severity: info, or warning when the run does not absorb it.',
      properties: {
        ...spikeProperties({
          noun: 'loss',
          plural: 'log-losses',
          follows: 'a falling loss',
          event: 'a spike',
          window: 50,
          levelWindow: 12,
          minHistory: 8,
          ratio: 3,
          zScore: 4,
          sureRatio: 20,
          absorbRows: 3,
          absorbedRatio: 2,
        }),
      },
    },
    divergence: {
      type: 'object',
      additionalProperties: false,
      description: 'Divergence: the running median of the loss far above its lowest, or above it for long. Always a warning; off once the loss goes ≤ 0.',
      properties: {
        enabled: withDefault({ type: 'boolean', description: 'Run this detector.' }, true),
        smoothing: withDefault(
          { type: 'integer', minimum: 1, description: 'Logged rows in the running median of the loss (it moves only when half of them are up, so an absorbed spike does not).' },
          20,
        ),
        factor: withDefault({ type: 'number', minimum: 1, description: 'Running median / its lowest value so far that counts as diverged.' }, 4),
        risingFactor: withDefault({ type: 'number', minimum: 1, description: 'Running median / its lowest value above which a run counts as rising.' }, 1.5),
        risingSteps: withDefault(count('Consecutive logged rows above risingFactor that count as diverging.'), 500),
      },
    },
    vanishing: {
      type: 'object',
      additionalProperties: false,
      description: "Vanishing gradients: a layer's gradient norm collapses.",
      properties: {
        enabled: withDefault({ type: 'boolean', description: 'Run this detector.' }, true),
        floor: withDefault(nonNegative('Absolute gradient norm below which a layer counts as vanishing.'), 1e-7),
        ratioToMax: withDefault(nonNegative('Layer norm / largest layer norm below which a layer counts as vanishing.'), 1e-5),
        patience: withDefault(count('Consecutive logged rows a layer must stay below before it is flagged.'), 10),
      },
    },
  },
};

const fraction = (description) => ({ type: 'number', minimum: 0, exclusiveMaximum: 1, description });
const variant = (name, description, properties, required = []) => ({
  type: 'object',
  description,
  additionalProperties: false,
  required: ['type', ...required],
  properties: { type: { const: name, description }, ...properties },
});
const union = (description, variants) => {
  const names = variants.map((v) => v.properties.type.const);
  return { type: 'object', description, required: ['type'], properties: { type: { enum: names, description: 'Variant.' } }, discriminator: { propertyName: 'type' }, oneOf: variants };
};
const modulePath = { type: 'string', minLength: 1, description: 'Path of a JavaScript file, relative to the job file. Runs only in a trusted workspace.' };

const augment = {
  type: 'object',
  additionalProperties: false,
  description: 'Augmentation applied to every training batch (never to validation data).',
  properties: {
    shift: withDefault({ type: 'integer', minimum: 0, maximum: 8, description: 'Images: random translation of up to this many pixels in each direction, per sample.' }, 0),
    noise: withDefault(nonNegative('Standard deviation of gaussian noise added to the inputs (images and tabular data).'), 0),
  },
};
const validationSplit = withDefault(fraction('Fraction of the samples held out for validation.'), 0.2);

const data = union('Training data.', [
  variant('mnist', 'Real MNIST digits (10,000 labelled 28×28 images shipped with Gradscope; no download).', {
    samples: withDefault({ type: 'integer', minimum: 10, maximum: 10000, description: 'How many digits to use (a seeded random subset).' }, 10000),
    validationSplit,
    augment,
  }),
  variant('synthetic', 'Seeded synthetic data: gaussian-blob classification or a noisy linear regression.', {
    task: withDefault({ enum: ['classification', 'regression'], description: 'Kind of problem.' }, 'classification'),
    samples: withDefault({ type: 'integer', minimum: 10, description: 'Number of samples.' }, 2000),
    features: withDefault(count('Input features.'), 20),
    classes: withDefault({ type: 'integer', minimum: 2, description: 'Classes (classification).' }, 3),
    noise: withDefault(nonNegative('Label noise: standard deviation of the blobs around their centres, or of the regression target noise.'), 1),
    scale: withDefault(positive('Multiplier of the inputs; large values make badly scaled data that explodes easily.'), 1),
    validationSplit,
    augment,
  }),
  variant(
    'csv',
    'A CSV file with a header row: one label column, the other columns numeric features.',
    {
      path: { type: 'string', minLength: 1, description: 'Path of the CSV file, relative to the job file.' },
      label: { type: 'string', minLength: 1, description: 'Name of the label column.' },
      task: withDefault({ enum: ['classification', 'regression'], description: 'Classification labels may be numbers or strings.' }, 'classification'),
      standardize: withDefault({ type: 'boolean', description: 'Scale each feature to zero mean and unit variance (statistics from the training part).' }, true),
      validationSplit,
      augment,
    },
    ['path', 'label'],
  ),
  variant('module', 'A user JavaScript module exporting loadData(tf) → {x, y, xVal?, yVal?, task?}.', { path: modulePath, validationSplit, augment }, ['path']),
]);

const initializer = { enum: ['glorotUniform', 'glorotNormal', 'heUniform', 'heNormal', 'leCunNormal', 'zeros', 'ones'], description: 'Weight initializer.' };
const activation = { enum: ['linear', 'relu', 'relu6', 'elu', 'selu', 'sigmoid', 'tanh', 'softmax', 'softplus', 'swish', 'gelu'], description: 'Activation function.' };
const inputShape = { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 1, description: "Shape of one input sample (first layer only). Default: the data's own shape." };
const layer = union('A layer.', [
  variant(
    'dense',
    'Fully connected layer.',
    {
      units: count('Output units.'),
      activation: withDefault(activation, 'linear'),
      useBias: withDefault({ type: 'boolean', description: 'Add a bias.' }, true),
      kernelInitializer: withDefault(initializer, 'glorotUniform'),
      inputShape,
    },
    ['units'],
  ),
  variant(
    'conv2d',
    '2-D convolution (channels last). The wasm backend cannot train it (no Conv2DBackpropFilter kernel): Gradscope then uses cpu.',
    {
      filters: count('Output channels.'),
      kernelSize: { type: 'integer', minimum: 1, description: 'Kernel height and width.' },
      strides: withDefault(count('Stride.'), 1),
      padding: withDefault({ enum: ['valid', 'same'], description: 'Padding.' }, 'valid'),
      activation: withDefault(activation, 'linear'),
      kernelInitializer: withDefault(initializer, 'glorotUniform'),
      inputShape,
    },
    ['filters', 'kernelSize'],
  ),
  variant('maxPooling2d', 'Max pooling.', { poolSize: withDefault(count('Window size.'), 2), strides: count('Stride. Default: poolSize.'), inputShape }),
  variant('flatten', 'Flattens each sample to a vector.', { inputShape }),
  variant('dropout', 'Dropout (training only).', { rate: { type: 'number', minimum: 0, exclusiveMaximum: 1, description: 'Fraction of inputs dropped.' }, inputShape }, ['rate']),
  variant('batchNormalization', 'Batch normalization.', { momentum: withDefault(fraction('Moving-average momentum.'), 0.99), epsilon: withDefault(positive('Variance epsilon.'), 1e-3), inputShape }),
  variant('layerNormalization', 'Layer normalization over the last axis.', { epsilon: withDefault(positive('Variance epsilon.'), 1e-3), inputShape }),
  variant('activation', 'A separate activation layer.', { activation, inputShape }, ['activation']),
]);
const model = {
  description: 'Model: a list of layers (the last one gives the outputs), or a user module exporting createModel(tf).',
  // if/then/else rather than oneOf: ajv fills in defaults only outside oneOf.
  if: { type: 'array' },
  then: { type: 'array', minItems: 1, items: layer },
  else: variant('module', 'A user JavaScript module exporting createModel(tf) → a tf.LayersModel.', { path: modulePath }, ['path']),
};

const lrField = withDefault(positive('Learning rate before the schedule takes over (the schedule sets it every step).'), 0.01);
const optimizer = union('Optimizer. Its learning rate is set from the schedule before every update.', [
  variant('sgd', 'Plain stochastic gradient descent.', { lr: lrField }),
  variant('momentum', 'SGD with momentum.', { lr: lrField, momentum: withDefault(fraction('Momentum.'), 0.9), nesterov: withDefault({ type: 'boolean', description: 'Nesterov momentum.' }, false) }),
  variant('adam', 'Adam.', {
    lr: lrField,
    beta1: withDefault(fraction('First-moment decay.'), 0.9),
    beta2: withDefault(fraction('Second-moment decay.'), 0.999),
    epsilon: withDefault(positive('Denominator epsilon.'), 1e-7),
  }),
  variant('adamw', 'Adam with decoupled weight decay (w ← w·(1 − lr·weightDecay) before each Adam update).', {
    lr: lrField,
    beta1: withDefault(fraction('First-moment decay.'), 0.9),
    beta2: withDefault(fraction('Second-moment decay.'), 0.999),
    epsilon: withDefault(positive('Denominator epsilon.'), 1e-7),
    weightDecay: withDefault(nonNegative('Decoupled weight decay.'), 0.01),
  }),
  variant('rmsprop', 'RMSProp.', {
    lr: lrField,
    decay: withDefault(fraction('Decay of the squared-gradient average.'), 0.9),
    momentum: withDefault(fraction('Momentum.'), 0),
    epsilon: withDefault(positive('Denominator epsilon.'), 1e-7),
  }),
  variant('adagrad', 'Adagrad.', { lr: lrField, initialAccumulatorValue: withDefault(positive('Starting accumulator.'), 0.1) }),
  variant('lbfgs', 'Full-batch L-BFGS with a backtracking (Armijo) line search; one iteration per step. The schedule gives the initial step length.', {
    lr: withDefault(positive('Initial step length of the line search.'), 1),
    historySize: withDefault(count('Curvature pairs kept.'), 10),
    maxLineSearch: withDefault(count('Most function evaluations per line search.'), 20),
    c1: withDefault({ type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, description: 'Armijo sufficient-decrease constant.' }, 1e-4),
  }),
]);

const clip = union('Gradient clipping, applied after the detectors saw the raw gradient. Default: none.', [
  variant('none', 'No clipping.', {}),
  variant('globalNorm', 'Scale the whole gradient down when its global L2 norm exceeds maxNorm (PyTorch clip_grad_norm_).', { maxNorm: positive('Largest global norm allowed.') }, ['maxNorm']),
  variant('value', 'Clamp every gradient element to [−clipValue, clipValue].', { clipValue: positive('Largest absolute element.') }, ['clipValue']),
  variant('agc', "Adaptive gradient clipping: each unit's gradient norm is kept below factor × its weight norm.", {
    factor: withDefault(positive('Largest gradient-to-weight norm ratio per unit.'), 0.01),
    eps: withDefault(positive('Floor of the weight norm.'), 1e-3),
  }),
  variant('adaptive', 'ZClip-style: clip the global norm to mean + zThreshold·std of its EMA statistics.', {
    zThreshold: withDefault(positive('Z-score above which the norm is clipped.'), 2.5),
    alpha: withDefault(fraction('EMA decay of the mean and variance.'), 0.97),
    warmupSteps: withDefault(count('Steps that only collect statistics.'), 25),
  }),
]);

const guard = {
  type: 'object',
  additionalProperties: false,
  description: 'What the trainer does when a detector fires. Every action is an event in the run log.',
  properties: {
    nonFinite: withDefault({ enum: ['skip', 'stop'], description: 'On NaN/Inf: skip the update (weights stay finite) or stop the run.' }, 'skip'),
    explosion: withDefault(
      {
        enum: ['warn', 'skip', 'backoff', 'rollback', 'stop'],
        description: 'On a gradient explosion: only report it, skip the update, cut the LR and ramp it back, restore the last good weights and back off, or stop.',
      },
      'warn',
    ),
    backoffFactor: withDefault({ type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, description: 'LR multiplier applied by backoff and rollback.' }, 0.1),
    recoverySteps: withDefault(count('Steps over which the LR multiplier ramps back to 1 (geometrically).'), 100),
    snapshotEvery: withDefault(count('Rollback: steps between in-memory snapshots of weights and optimizer state (taken only at healthy steps).'), 50),
  },
};

const plateauCheck = {
  type: 'object',
  additionalProperties: false,
  description: 'For a plateau schedule: which metric it reads and how often.',
  properties: {
    metric: withDefault(
      { enum: ['validationLoss', 'trainLoss'], description: 'Validation loss, or the training loss averaged since the last check (used when there is no validation data).' },
      'validationLoss',
    ),
    every: count('Steps between checks. Default: one epoch.'),
  },
};

const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://gradscope.invalid/schema/job.schema.json',
  title: 'Gradscope training job',
  description: 'A training job for Gradscope (*.gradscope.json).',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'data', 'model', 'optimizer', 'schedule'],
  properties: {
    $schema: { type: 'string', description: 'Path or URL of this schema (for editors).' },
    name: { type: 'string', minLength: 1, pattern: '^[^/\\\\]+$', description: 'Name of the job, used in run folder names.' },
    seed: withDefault({ type: 'integer', minimum: 0, description: 'Seed for weights, shuffling and augmentation.' }, 0),
    backend: withDefault({ enum: ['auto', 'tensorflow', 'wasm', 'cpu'], description: 'TensorFlow.js backend: auto tries tensorflow (tfjs-node), then wasm, then cpu.' }, 'auto'),
    data,
    model,
    optimizer,
    schedule: { $ref: '#/definitions/schedule' },
    plateauCheck,
    clip,
    guard,
    detect: detectorOptions,
    epochs: withDefault(count('Passes over the training data.'), 1),
    batchSize: withDefault(count('Samples per update.'), 32),
  },
  definitions,
};

// job.schema.json validates (Gradscope reports its problems); job.docs.schema.json documents (VS Code's JSON service shows it).
for (const [file, content] of [
  ['job.schema.json', schema],
  ['job.docs.schema.json', docsSchema(schema)],
]) {
  const target = new URL(`../schema/${file}`, import.meta.url);
  const text = `${JSON.stringify(content, null, 2)}\n`;
  if (process.argv.includes('--check')) {
    if (!existsSync(target) || readFileSync(target, 'utf8') !== text) {
      console.error(`schema/${file} is out of date: run node scripts/schema-src.mjs`);
      process.exit(1);
    }
  } else {
    writeFileSync(target, text);
  }
}
