// The host's file reads: streamed, asynchronous, and over every workspace folder's runs.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { countCsvRows, listRunFolders } from '../../src/node/localFiles';

const temp = () => mkdtempSync(join(tmpdir(), 'gradscope-local-'));

test('countCsvRows streams the file: data rows after the header, blank lines and CRLF ignored', async () => {
  const dir = temp();
  const write = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name));
  const pending = countCsvRows(write('a.csv', 'x,y\n1,2\n\n3,4\n'));
  assert.ok(pending instanceof Promise, 'an asynchronous read');
  assert.equal(await pending, 2);
  assert.equal(await countCsvRows(write('b.csv', 'x,y\r\n1,2\r\n  \r\n3,4')), 2);
  assert.equal(await countCsvRows(write('c.csv', 'x,y\n')), 0);
  assert.equal(await countCsvRows(write('d.csv', '')), 0);
  // Larger than one stream chunk (64 KiB), so lines straddle chunk boundaries.
  assert.equal(await countCsvRows(write('e.csv', `a,b\n${'0.123456,7.891011\n'.repeat(20000)}`)), 20000);
  assert.equal(await countCsvRows(join(dir, 'missing.csv')), undefined);
});

test('listRunFolders finds runs in every runs directory, newest first, skipping missing ones and files', async () => {
  const a = join(temp(), '.gradscope/runs');
  const b = join(temp(), 'runs');
  for (const dir of [join(a, '20260101-000000-x'), join(a, '20260301-000000-y'), join(b, '20260201-000000-z')]) mkdirSync(dir, { recursive: true });
  writeFileSync(join(a, 'compare-x.csv'), '');
  const runs = await listRunFolders([a, b, join(temp(), 'none'), a]);
  assert.deepEqual(
    runs.map((r) => [r.name, r.runsDir]),
    [
      ['20260301-000000-y', a],
      ['20260201-000000-z', b],
      ['20260101-000000-x', a],
    ],
  );
  assert.equal(runs[1].dir, join(b, '20260201-000000-z'));
});
