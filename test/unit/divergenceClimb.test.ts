// Found while checking the quick fixes (issue #11): a loss that falls to 0.7 and climbs back to 4
// was not flagged as divergence. An exponential average (half-life 20 steps) never got down to 0.7
// while the loss was still falling, so its best stayed near 1.2-1.35 and 4 was only ~3× that. The
// divergence check now compares the loss's running median with the lowest it has been.
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
