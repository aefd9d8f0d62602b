// Detectors on real PyTorch traces (../shared/reference/traces): healthy, exploding, injected spikes.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Detectors, type DetectorEvent } from '../../src/core/detect';
import { parseJsonLine } from '../../src/core/runlog/jsonLine';
import { sharedReference } from './shared';

interface Label {
  kind: 'healthy' | 'real-explosion' | 'injected';
  first_jump?: number;
  jumps?: number[];
  spikes?: [number, number][];
}

const dir = sharedReference('traces');
const labels: Record<string, Label> = dir ? JSON.parse(readFileSync(join(dir, 'labels.json'), 'utf8')) : {};

function detect(name: string): DetectorEvent[] {
  const rows = readFileSync(join(dir!, `${name}.jsonl`), 'utf8')
    .trim()
    .split('\n')
    .map((line) => parseJsonLine(line) as Record<string, number>);
  const layers = Object.keys(rows[0]).filter((key) => key.startsWith('grad_norm/'));
  const detectors = new Detectors(layers.map((key) => key.slice('grad_norm/'.length)));
  return rows.flatMap((row) => [...detectors.observe({ step: row.step, loss: row.loss, gradNorm: row.grad_norm, layerGradNorms: layers.map((key) => row[key]) })]);
}

const alarm = (e: DetectorEvent) => e.kind === 'explosion' || e.kind === 'nonFinite';

describe('detectors on the reference traces', { skip: dir ? false : 'shared/reference not found' }, () => {
  const table: string[] = [];
  test('the labels cover every trace file', () => {
    assert.deepEqual(
      readdirSync(dir!)
        .filter((f) => f.endsWith('.jsonl'))
        .map((f) => f.slice(0, -6))
        .sort(),
      Object.keys(labels).sort(),
    );
  });

  for (const [name, label] of Object.entries(labels)) {
    test(`${name} (${label.kind})`, () => {
      const events = detect(name);
      const flagged = events.filter(alarm).map((e) => e.step);
      if (label.kind === 'healthy') {
        assert.deepEqual(events, [], 'a healthy run raises no event');
        table.push(`${name}: healthy, 0 events`);
      } else if (label.kind === 'real-explosion') {
        const first = flagged[0];
        assert.ok(first !== undefined && first <= label.first_jump! + 1, `first alarm ${first} later than first jump ${label.first_jump} + 1`);
        assert.ok(first >= label.first_jump! - 2, `alarm ${first} long before the first jump ${label.first_jump}`);
        const caught = label.jumps!.filter((j) => flagged.includes(j) || flagged.includes(j + 1));
        table.push(`${name}: onset ${label.first_jump} flagged at ${first}; jumps caught ${caught.length}/${label.jumps!.length}`);
      } else {
        const big = label.spikes!.filter(([, f]) => f >= 10).map(([s]) => s);
        const ambiguous = new Set(label.spikes!.filter(([, f]) => f < 10).map(([s]) => s));
        const hits = big.filter((s) => flagged.includes(s));
        const falseAlarms = flagged.filter((s) => !big.includes(s) && !ambiguous.has(s));
        table.push(`${name}: ≥10× spikes flagged at their step ${hits.length}/${big.length}, false alarms ${falseAlarms.length}`);
        assert.deepEqual(falseAlarms, []);
        assert.ok(hits.length / big.length >= 0.9, `recall ${hits.length}/${big.length}`);
      }
    });
  }

  test('summary', () => console.log(table.join('\n')));
});
