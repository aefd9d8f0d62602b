import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Inspector } from '../core/inspect';
import { readMetricsRow, FIELD_ALIASES, type FieldName } from '../core/metricsFormat';
import { readJsonl, RUN_FILES, stringifyJsonLine } from '../core/runlog';
import { describeEvent } from './trainReporters';
import { UsageError } from './usageError';

export interface InspectOptions {
  json?: boolean;
  map?: string;
}

/** `gradscope inspect <file|dir>`: the detectors over a metrics log. 0 clean, 1 events found, 2 unreadable. */
export async function inspectCommand(target: string, options: InspectOptions): Promise<number> {
  const file = metricsFile(target);
  const mapping = parseMapping(options.map);
  const inspector = new Inspector();
  let index = 0;
  let skipped = 0;
  for await (const record of readJsonl(file, {
    onBadLine: (error) => {
      skipped++;
      process.stderr.write(`gradscope: skipped ${error.message}\n`);
    },
    onTruncatedTail: (line) => process.stderr.write(`gradscope: ${file}:${line}: the last line is cut off (a write in progress?); skipped\n`),
  })) {
    if (typeof record.value !== 'object' || record.value === null || Array.isArray(record.value)) {
      skipped++;
      continue;
    }
    for (const event of inspector.add(readMetricsRow(record.value as Record<string, unknown>, index++, mapping))) {
      process.stdout.write(options.json ? `${stringifyJsonLine(event)}\n` : `${describeEvent(event)}\n`);
    }
  }
  const result = inspector.result();
  if (result.rows === 0) throw new UsageError(`${file}: no metric rows${skipped ? ` (${skipped} lines could not be read)` : ''}`);
  if (!result.fields.gradNorm && !result.fields.loss) {
    throw new UsageError(`${file}: no loss or gradient-norm column found (looked for ${[...FIELD_ALIASES.loss, ...FIELD_ALIASES.gradNorm].join(', ')}); name yours with --map gradNorm=<column>`);
  }
  if (!options.json) {
    const missing = [!result.fields.gradNorm && 'gradient norm', !result.fields.loss && 'loss'].filter(Boolean);
    process.stderr.write(`${result.rows} rows, ${result.events.length} events${result.fields.layers.length ? `, ${result.fields.layers.length} layers` : ''}${missing.length ? `; no ${missing.join(' or ')} column, so those checks were skipped` : ''}\n`);
  }
  return result.events.length > 0 ? 1 : 0;
}

/** A JSONL file, or a run folder's metrics.jsonl. */
function metricsFile(target: string): string {
  if (!existsSync(target)) throw new UsageError(`${target}: no such file or folder`);
  if (!statSync(target).isDirectory()) return target;
  if (existsSync(join(target, RUN_FILES.metrics))) return join(target, RUN_FILES.metrics);
  if (readdirSync(target).some((name) => name.startsWith('events.out.tfevents'))) {
    throw new UsageError(`${target}: TensorBoard event files are not read by this version yet; export the scalars as JSON lines, or inspect a run folder`);
  }
  throw new UsageError(`${target}: neither a metrics file nor a run folder (no ${RUN_FILES.metrics})`);
}

/** `--map gradNorm=total_norm,loss=train_loss` */
function parseMapping(text: string | undefined): Partial<Record<FieldName, string>> {
  if (!text) return {};
  const mapping: Partial<Record<FieldName, string>> = {};
  for (const pair of text.split(',')) {
    const [field, column] = pair.split('=').map((s) => s.trim());
    if (!(field in FIELD_ALIASES) || !column) throw new UsageError(`--map takes field=column pairs with fields ${Object.keys(FIELD_ALIASES).join(', ')} (got ${JSON.stringify(pair)})`);
    mapping[field as FieldName] = column;
  }
  return mapping;
}
