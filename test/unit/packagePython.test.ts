// The .vsix ships the Python package (python/gradscope) so that "pip install <extension>/python" works,
// without its byte-code caches or its tests.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';

const root = join(__dirname, '../..');

test('the package ships python/gradscope and its pyproject, not __pycache__ or the Python tests', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gradscope-vsix-python-'));
  for (const file of ['package.json', '.vscodeignore', 'README.md', 'LICENSE']) copyFileSync(join(root, file), join(dir, file));
  const files = [
    'python/pyproject.toml',
    'python/README.md',
    'python/gradscope/__init__.py',
    'python/gradscope/monitor.py',
    'python/gradscope/__pycache__/monitor.cpython-311.pyc',
    'python/build/lib/gradscope/monitor.py',
    'test/python/test_monitor.py',
  ];
  for (const file of files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), '\n');
  }
  const listed = execFileSync(process.execPath, [join(root, 'node_modules/@vscode/vsce/vsce'), 'ls', '--no-dependencies'], { cwd: dir, encoding: 'utf8' })
    .trim()
    .split('\n');
  assert.deepEqual(listed.filter((file) => file.startsWith('python/') || file.startsWith('test/')).sort(), [
    'python/README.md',
    'python/gradscope/__init__.py',
    'python/gradscope/monitor.py',
    'python/pyproject.toml',
  ]);
});
