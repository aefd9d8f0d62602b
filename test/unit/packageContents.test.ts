// What the .vsix holds: `vsce ls` lists the files `npm run package` would put in it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';

const root = join(__dirname, '../..');
const vsceLs = (cwd: string) =>
  execFileSync(process.execPath, [join(root, 'node_modules/@vscode/vsce/vsce'), 'ls', '--no-dependencies'], { cwd, encoding: 'utf8' })
    .trim()
    .split('\n');

test('the package ships the example jobs but never local run logs', () => {
  // A copy of the manifest and ignore file over a tree that has what a developer's checkout has after a run.
  const dir = mkdtempSync(join(tmpdir(), 'gradscope-vsix-'));
  for (const file of ['package.json', '.vscodeignore', 'README.md', 'LICENSE']) copyFileSync(join(root, file), join(dir, file));
  const files = [
    'dist/extension.js',
    'examples/mnist.gradscope.json',
    'examples/.gradscope/runs/20260101-mnist/metrics.jsonl',
    '.gradscope/runs/x/summary.json',
    'src/core/job.ts',
    'test/unit/a.test.ts',
  ];
  for (const file of files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), '{}\n');
  }
  const listed = vsceLs(dir);
  assert.ok(listed.includes('examples/mnist.gradscope.json'), listed.join(', '));
  assert.ok(listed.includes('dist/extension.js'), listed.join(', '));
  assert.deepEqual(
    listed.filter((file) => file.includes('.gradscope/') || file.startsWith('src/') || file.startsWith('test/')),
    [],
  );
});

test('the package as it would be built from this tree holds no run logs, sources or tests', () => {
  const listed = vsceLs(root);
  assert.deepEqual(
    listed.filter((file) => file.includes('.gradscope/') || /^(src|test|webview|bench|node_modules)\//.test(file)),
    [],
  );
});
