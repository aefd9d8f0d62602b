import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Inspector } from '../core/inspect';
import { FIELD_ALIASES, MetricsReader, type FieldName } from '../core/metricsFormat';
import { readJsonl, RUN_FILES, stringifyJsonLine } from '../core/runlog';
import { isTensorBoardDir, loadLogs, type LoadedLog } from './logSource';
import { describeEvent } from './trainReporters';
import { UsageError } from './usageError';

export interface InspectOptions {
  json?: boolean;
  map?: string;
}

/** `gradscope inspect <file|dir>`: the detectors over a metrics log. 0 clean, 1 events found, 2 unreadable. */
export async function inspectCommand(target: string, options: InspectOptions): Promise<number> {
  const mapping = parseMapping(options.map);
  // A TensorBoard log is read whole (its scalars are grouped into rows); a JSONL file is streamed below.
  if (isTensorBoardDir(target)) return inspectTensorBoard(await loadLogs(target, mapping), options);
  const file = metricsFile(target);
  const inspector = new Inspector();
  const reader = new MetricsReader(mapping);
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
    for (const event of inspector.add(reader.read(record.value as Record<string, unknown>))) {
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

/** Each TensorBoard run in turn; events are prefixed with the run's name when there are several. */
function inspectTensorBoard(logs: LoadedLog[], options: InspectOptions): number {
  let events = 0;
  let checked = 0;
  for (const log of logs) {
    const name = log.run ?? log.title;
    const inspector = new Inspector();
    for (const row of log.rows) {
      for (const event of inspector.add(row)) {
        events++;
        process.stdout.write(options.json ? `${stringifyJsonLine({ ...(logs.length > 1 ? { run: name } : {}), ...event })}\n` : `${logs.length > 1 ? `${name}: ` : ''}${describeEvent(event)}\n`);
      }
    }
    const result = inspector.result();
    if (result.fields.gradNorm || result.fields.loss) checked++;
    if (!options.json) process.stderr.write(`${name}: ${result.rows} steps, ${result.events.length} events\n`);
  }
  if (checked === 0) throw new UsageError(`no run has a loss or gradient-norm scalar (looked for ${[...FIELD_ALIASES.loss, ...FIELD_ALIASES.gradNorm].join(', ')}); name yours with --map`);
  return events > 0 ? 1 : 0;
}

/** A JSONL file, or a run folder's metrics.jsonl. */
function metricsFile(target: string): string {
  if (!existsSync(target)) throw new UsageError(`${target}: no such file or folder`);
  if (!statSync(target).isDirectory()) return target;
  if (existsSync(join(target, RUN_FILES.metrics))) return join(target, RUN_FILES.metrics);
  throw new UsageError(`${target}: neither a metrics file, a run folder (no ${RUN_FILES.metrics}) nor a TensorBoard log (no events.out.tfevents.* files)`);
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
