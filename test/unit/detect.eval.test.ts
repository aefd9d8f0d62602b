// The numbers `npm run eval:detect` prints, asserted: every reference trace and real log, scored
// against its labels (../shared/reference/traces/labels.json, test/fixtures/real-log-labels.json).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { evaluateDetectors, formatEvaluation, sharedRoot } from '../../scripts/eval-detect';

const root = sharedRoot();
const present = existsSync(join(root, 'reference/traces/labels.json')) && existsSync(join(root, 'reference/logs'));

describe('detectors on every reference trace and real log', { skip: present ? false : `${root}/reference not found (set GRADSCOPE_SHARED)` }, () => {
  test('meet the targets of issue 10', async () => {
    const e = await evaluateDetectors(root);
    console.log(formatEvaluation(e));
    assert.equal(e.healthyWarnings, 0, 'warning-level events on healthy runs');
    assert.ok(e.healthyRuns >= 20, `${e.healthyRuns} healthy runs`);
    assert.ok(e.injected.flagged / e.injected.spikes >= 0.95, `injected ≥10× spikes ${e.injected.flagged}/${e.injected.spikes}`);
    assert.equal(e.explosions.warnedInTime, e.explosions.runs, 'real explosions warned about no later than one row after the first jump');
    assert.equal(e.listed.flagged, e.listed.spikes, "the real logs' listed ≥10× spikes");
    assert.equal(e.listed.nonFiniteFlagged, e.listed.nonFinite);
    assert.equal(e.listed.scalerHinted, e.listed.scalerSkips);
    assert.equal(e.warningPrecision, 1);
    assert.ok(e.precision >= 0.98, `precision ${e.precision}`);
    for (const name of ['Rusheel86', 'ijinyu1113']) {
      const run = e.runs.find((r) => r.name.includes(name))!;
      assert.ok(
        run.notes.some((n) => n.startsWith('loss checks off')),
        `${name}: the signed loss is said to switch the loss checks off`,
      );
    }
  });
});
