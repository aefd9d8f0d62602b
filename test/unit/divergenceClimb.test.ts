// Found while checking the quick fixes (issue #11): a loss that falls to 0.7 and climbs back to 4
// is not flagged as divergence. The smoothed loss (half-life 20 steps) never gets down to 0.7 while
// it is still falling, so its best stays near 1.2-1.35, 4 is only ~3× that (factor 4), and the
// 'rising' rule needs 500 steps. Left as a todo for the owner of src/core/detect.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Detectors } from '../../src/core/detect';

test('a loss that falls from 2.3 to 0.7 and climbs back to 4 is flagged as divergence', () => {
  for (const climbSteps of [10, 50, 150]) {
    const detectors = new Detectors([]);
    const kinds: string[] = [];
    for (let step = 0; step < 400; step++) {
      const loss = step < 60 ? 2.3 - (1.6 * step) / 60 : step < 60 + climbSteps ? 0.7 + (3.3 * (step - 60)) / climbSteps : 4;
      for (const event of detectors.observe({ step, loss, gradNorm: 1 })) kinds.push(event.kind);
    }
    assert.ok(kinds.includes('divergence'), `climb over ${climbSteps} steps: ${kinds.join(', ') || 'no event'}`);
  }
});
