// One request builder for every run (Train, Find Learning Rate, Compare; extension and CLI), and the
// extension's settings read in one place.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { parseJobText } from '../../src/core/job/parse';
import { defaultLrFindOptions } from '../../src/core/tools/lrFind';
import { readConfig, runSettings } from '../../src/extension/config';
import { buildTrainRequest, noSettings } from '../../src/node/trainRequest';

const root = join(__dirname, '../..');
const job = (fields: Record<string, unknown> = {}) =>
  parseJobText(
    JSON.stringify({
      name: 'j',
      data: { type: 'synthetic' },
      model: [{ type: 'dense', units: 3, activation: 'softmax' }],
      optimizer: { type: 'sgd', lr: 0.1 },
      schedule: { type: 'constant', lr: 0.1 },
      ...fields,
    }),
  );
const place = { jobFile: '/w/a/jobs/x.gradscope.json', runsDir: '/w/a/.gradscope/runs', searchRoots: ['/w/a', '/w/b'] };

describe('buildTrainRequest', () => {
  test('the job folder, then every search root, once each, for tfjs-node', () => {
    const request = buildTrainRequest(job(), { ...place, searchRoots: ['/w/a', '/w/b', '/w/a/jobs'] });
    assert.equal(request.jobDir, '/w/a/jobs');
    assert.equal(request.jobFile, '/w/a/jobs/x.gradscope.json');
    assert.deepEqual(request.searchPaths, ['/w/a/jobs', '/w/a', '/w/b']);
    assert.equal(request.runsDir, '/w/a/.gradscope/runs');
  });

  test('relative paths resolve against the working directory (the CLI)', () => {
    const request = buildTrainRequest(job(), { jobFile: 'x.gradscope.json', runsDir: 'runs', searchRoots: [process.cwd()] });
    assert.equal(request.jobDir, process.cwd());
    assert.equal(request.runsDir, resolve('runs'));
    assert.deepEqual(request.searchPaths, [process.cwd()]);
  });

  test('the backend setting applies to jobs that leave theirs at auto', () => {
    const settings = { ...noSettings, backend: 'wasm' as const };
    assert.equal(buildTrainRequest(job(), place, settings).backend, 'wasm');
    assert.equal(buildTrainRequest(job({ backend: 'cpu' }), place, settings).backend, undefined);
    assert.equal(buildTrainRequest(job(), place, noSettings).backend, undefined);
  });

  test('detector settings fill in only what the job leaves unset, without changing the job', () => {
    const settings = { backend: 'auto' as const, detect: { explosionRatio: 7, explosionZ: 6, vanishingFloor: 1e-9 } };
    assert.deepEqual(buildTrainRequest(job(), place, settings).job.detect, { explosion: { ratio: 7, zScore: 6 }, vanishing: { floor: 1e-9 } });
    // A job's detect section gets the schema's defaults when parsed: those are the job's own values.
    const own = job({ detect: { explosion: { ratio: 3 } } });
    const before = structuredClone(own.detect);
    const detect = buildTrainRequest(own, place, settings).job.detect!;
    assert.deepEqual(detect.explosion, own.detect!.explosion);
    assert.equal(detect.explosion!.ratio, 3);
    assert.deepEqual(own.detect, before);
    assert.equal(buildTrainRequest(job(), place, noSettings).job.detect, undefined);
    // An unset setting must not replace a detector default with undefined.
    assert.deepEqual(buildTrainRequest(job(), place, { backend: 'auto', detect: { explosionZ: 4 } }).job.detect, { explosion: { zScore: 4 } });
  });

  test('options: a finite step cap, a range test', () => {
    assert.equal(buildTrainRequest(job(), place, noSettings, { maxSteps: Infinity }).maxSteps, undefined);
    assert.equal('maxSteps' in buildTrainRequest(job(), place), false);
    const request = buildTrainRequest(job(), place, noSettings, { maxSteps: 5, lrFind: defaultLrFindOptions });
    assert.equal(request.maxSteps, 5);
    assert.deepEqual(request.lrFind, defaultLrFindOptions);
  });
});

describe('readConfig', () => {
  const contributed = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).contributes.configuration.properties as Record<string, { default: unknown }>;

  test('reads every gradscope.* setting, with package.json defaults when unset', () => {
    const asked: string[] = [];
    const config = readConfig({ get: <T>(key: string): T | undefined => (asked.push(key), undefined) });
    assert.deepEqual(asked.map((key) => `gradscope.${key}`).sort(), Object.keys(contributed).sort());
    const values: Record<string, unknown> = {
      backend: config.backend,
      runsDirectory: config.runsDirectory,
      'detect.explosionRatio': config.detect.explosionRatio,
      'detect.explosionZ': config.detect.explosionZ,
      'detect.vanishingFloor': config.detect.vanishingFloor,
      'statusBar.enabled': config.statusBar.enabled,
      'statusBar.alertOn': config.statusBar.alertOn,
      'compare.parallel': config.compareParallel,
      'metrics.columns': config.metricsColumns,
    };
    for (const [key, { default: fallback }] of Object.entries(contributed)) assert.deepEqual(values[key.slice('gradscope.'.length)], fallback, key);
  });

  test('set values win, and reach every run through runSettings', () => {
    const set: Record<string, unknown> = { backend: 'cpu', 'detect.explosionZ': 9, 'compare.parallel': 3 };
    const config = readConfig({ get: <T>(key: string) => set[key] as T | undefined });
    assert.equal(config.compareParallel, 3);
    assert.deepEqual(runSettings(config), { backend: 'cpu', detect: { explosionRatio: 5, explosionZ: 9, vanishingFloor: 1e-7 } });
    assert.equal(buildTrainRequest(job(), place, runSettings(config)).backend, 'cpu');
  });
});
