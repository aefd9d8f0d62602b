import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { defaultDetectorOptions } from '../../src/core/detect';
import { defaultGuard } from '../../src/core/detect/guard';
import { checkJobText, parseJobText } from '../../src/core/job/parse';
import { SpecError } from '../../src/core/job/specError';

const root = join(__dirname, '../..');
/** The fields every job needs besides the schedule, on one line so that positions in tests stay simple. */
const BASE = '"data": {"type": "synthetic"}, "model": [{"type": "dense", "units": 3}], "optimizer": {"type": "sgd"}';

/** Where a problem points, as `line:character` (1-based, as an editor shows it) and the path. */
function located(text: string): string[] {
  return checkJobText(text).problems.map((p) => `${p.range!.start.line + 1}:${p.range!.start.character + 1} ${p.path} ${p.message}`);
}

describe('job files', () => {
  test('a valid job gets its defaults from the schema', () => {
    const job = parseJobText(`{"name":"mlp",${BASE},"schedule":{"type":"cyclic","baseLr":0.01,"maxLr":0.1}}`);
    assert.equal(job.seed, 0);
    assert.equal(job.epochs, 1);
    assert.equal(job.batchSize, 32);
    assert.equal(job.backend, 'auto');
    assert.deepEqual(job.schedule, { type: 'cyclic', baseLr: 0.01, maxLr: 0.1, stepSizeUp: 2000, stepSizeDown: 2000, mode: 'triangular', gamma: 1 });
  });

  test('schema errors carry the JSON path and the line and column of the value', () => {
    const text = [
      '{',
      '  "name": "mlp",',
      '  "epochs": 0,',
      `  ${BASE},`,
      '  "schedule": {',
      '    "type": "oneCycle",',
      '    "maxLr": 0.1,',
      '    "totalSteps": 100,',
      '    "pctStart": 1.5,',
      '    "warmup": 3',
      '  }',
      '}',
    ].join('\n');
    assert.deepEqual(located(text), ['3:13 epochs must be >= 1 (got 0)', '9:17 schedule.pctStart must be < 1 (got 1.5)', '10:5 schedule.warmup is not a known field']);
  });

  test('a missing field points at the object that lacks it; an unknown type names the choices', () => {
    assert.deepEqual(located(`{\n  "name": "x", ${BASE},\n  "schedule": {"type": "step", "lr": 0.1}\n}`), ['3:3 schedule.stepSize is required']);
    const [unknownType] = located(`{"name": "x", ${BASE},\n"schedule": {"type": "cosinus", "lr": 1}}`);
    assert.match(unknownType, /^2:22 schedule\.type must be one of "constant", .* \(got "cosinus"\)$/);
  });

  test('rules beyond the schema are located too', () => {
    assert.deepEqual(
      located(
        `{"name": "x", ${BASE},\n "schedule": {"type": "sequential", "milestones": [10, 5],\n  "schedules": [{"type": "constant", "lr": 1}, {"type": "constant", "lr": 1}, {"type": "constant", "lr": 1}]}}`,
      ),
      ['2:56 schedule.milestones[1] must be greater than the previous milestone (got 5 after 10)'],
    );
  });

  test('JSON syntax errors are reported with their position, never thrown raw', () => {
    assert.deepEqual(located('{\n  "name": "x",\n  "schedule": {"type": "constant" "lr": 1}\n}'), ['3:35  is not valid JSON: comma expected']);
    assert.deepEqual(located(''), ['1:1  is not valid JSON: value expected']);
  });

  test('parseJobText throws one line naming the file, line and field', () => {
    assert.throws(
      () => parseJobText(`{"name": "x", ${BASE},\n"schedule": {"type": "constant", "lr": -1}}`, 'jobs/a.gradscope.json'),
      (error: unknown) => {
        assert.ok(error instanceof SpecError);
        assert.equal(error.message, 'jobs/a.gradscope.json:2:40: schedule.lr must be > 0 (got -1)');
        return true;
      },
    );
  });

  test('the committed schema is what scripts/schema-src.mjs generates', () => {
    execFileSync(process.execPath, [join(root, 'scripts/schema-src.mjs'), '--check'], { stdio: 'pipe' });
  });

  test('detector defaults in code equal those the schema documents', () => {
    const schema = JSON.parse(readFileSync(join(root, 'schema/job.schema.json'), 'utf8'));
    for (const [detector, options] of Object.entries(defaultDetectorOptions)) {
      const properties = schema.properties.detect.properties[detector].properties;
      assert.deepEqual(Object.keys(properties).sort(), Object.keys(options).sort(), detector);
      for (const [name, value] of Object.entries(options)) assert.equal(properties[name].default, value, `${detector}.${name}`);
    }
  });

  test('guard defaults in code equal those the schema documents', () => {
    const schema = JSON.parse(readFileSync(join(root, 'schema/job.schema.json'), 'utf8'));
    const properties = schema.properties.guard.properties;
    assert.deepEqual(Object.keys(properties).sort(), Object.keys(defaultGuard).sort());
    for (const [name, value] of Object.entries(defaultGuard)) assert.equal(properties[name].default, value, `guard.${name}`);
  });

  test('every example job file is valid', () => {
    for (const file of ['mnist-warmup-cosine', 'mnist-exploding', 'mnist-fixed']) {
      const path = join(root, 'examples', `${file}.gradscope.json`);
      parseJobText(readFileSync(path, 'utf8'), path);
    }
  });
});
