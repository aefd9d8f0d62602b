import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

test('the committed SIMD module is what scripts/wasm/kernels.wat assembles to (run scripts/wasm/assemble.mjs after editing it)', async () => {
  const { generatedSource, target } = await import('../../scripts/wasm/assemble.mjs');
  assert.equal(readFileSync(target, 'utf8'), await generatedSource());
});
