import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(__dirname, '../..');
const read = (file: string) => JSON.parse(readFileSync(join(root, file), 'utf8'));

test('VS Code gets a documentation-only schema: job-file problems are reported once, by Gradscope', () => {
  const manifest = read('package.json');
  assert.deepEqual(manifest.contributes.jsonValidation, [{ fileMatch: '*.gradscope.json', url: './schema/job.docs.schema.json' }]);
  const docs = read('schema/job.docs.schema.json');
  const validating = new Set([
    'required',
    'additionalProperties',
    'enum',
    'const',
    'type',
    'minimum',
    'maximum',
    'exclusiveMinimum',
    'exclusiveMaximum',
    'minItems',
    'minLength',
    'pattern',
    'oneOf',
    'anyOf',
    'allOf',
    'if',
    'then',
    'else',
    'not',
  ]);
  const found: string[] = [];
  const walk = (node: Record<string, unknown>, path: string) => {
    for (const [key, value] of Object.entries(node)) {
      if (validating.has(key)) found.push(`${path}.${key}`);
      const isMap = key === 'properties' || key === 'definitions';
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        if (isMap) for (const [name, child] of Object.entries(value)) walk(child as Record<string, unknown>, `${path}.${name}`);
        else if (key === 'items') walk(value as Record<string, unknown>, `${path}[]`);
      }
    }
  };
  walk(docs, '');
  assert.deepEqual(found, []);
  // Still documents: hover text, defaults and completions of the schedule's fields.
  const schedule = docs.definitions.schedule.properties;
  assert.ok(schedule.type.examples.includes('warmupCosine'));
  assert.match(schedule.pctStart.description, /Default: 0\.3/);
  assert.equal(docs.properties.optimizer.properties.lr.default, 0.01);
});
