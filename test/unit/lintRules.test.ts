// The lint rule that keeps src/core pure (no I/O, vscode or tfjs), checked on code it must refuse.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';

const root = join(__dirname, '../..');

test('src/core may not import node built-ins, vscode or tfjs, nor use Node globals', async () => {
  const eslint = new ESLint({ cwd: root });
  const code = [
    "import { readFileSync } from 'node:fs';",
    "import { join } from 'path';",
    "import * as vscode from 'vscode';",
    "import * as tf from '@tensorflow/tfjs';",
    "import { parseJobText } from './job';",
    'export const all = [readFileSync, join, vscode, tf, parseJobText, Buffer.alloc(1), process.cwd()];',
  ].join('\n');
  const [result] = await eslint.lintText(code, { filePath: join(root, 'src/core/purity-check.ts') });
  const flagged = result.messages.map((m) => `${m.line}:${m.ruleId}`);
  assert.deepEqual(flagged, ['1:no-restricted-imports', '2:no-restricted-imports', '3:no-restricted-imports', '4:no-restricted-imports', '6:no-restricted-globals', '6:no-restricted-globals']);
  // Outside the core the same code is fine.
  const [host] = await eslint.lintText(code, { filePath: join(root, 'src/node/purity-check.ts') });
  assert.deepEqual(
    host.messages.filter((m) => m.ruleId?.startsWith('no-restricted')),
    [],
  );
});
