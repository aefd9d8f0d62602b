import type { DetectorEvent } from '../core/detect';
import { Inspector, type InspectResult } from '../core/logs/inspect';
import { ColumnResolver, VALUE_FIELDS, type ColumnMapping } from '../core/logs/columns';
import { LogFormatError } from '../core/logs/documents';
import { likelyMeant } from '../core/logs/spelling';
import { describeColumns, type MetricsRow, type RowsReport } from '../core/logs/rows';
import { stringifyStrictJsonLine } from '../node/runlog';
import { followLogSource, type LogFollower } from '../node/logs/follow';
import { readLogSource, type ReadReport } from '../node/logs/read';
import { findLogSources, type LogSource } from '../node/logs/sources';
import { asUsage, count, formatOption, mapOption, problemReporter } from './logOptions';
import { describeEvent } from './trainReporters';
import { UsageError } from './usageError';

export interface InspectOptions {
  json?: boolean;
  map?: string;
  format?: string;
  follow?: boolean;
}

/** Problems shown one by one before they are only counted: a broken file must not flood the terminal. */

/**
 * `gradscope inspect <file|dir>`: the detectors over training logs of any known format.
 * Exit 0: no warning (info events, transient spikes the run absorbed, may be printed); 1: warnings; 2: nothing could be read.
 */
export async function inspectCommand(target: string, options: InspectOptions): Promise<number> {
  const mapping = mapOption(options.map);
  const format = formatOption(options.format);
  const find = () => findLogSources(target, format, (note) => process.stderr.write(`gradscope: ${note}\n`));
  const sources = await asUsage(options.follow ? () => waitForLog(target, find) : find);
  const several = sources.length > 1;
  const out = (text: string) => process.stdout.write(`${text}\n`);
  const err = (text: string) => process.stderr.write(`${text}\n`);
  const problems = problemReporter();
  const onProblem = problems.report;

  if (options.follow) {
    const code = await followAll(sources, mapping, several, options, out, onProblem);
    problems.finish();
    return code;
  }

  let warnings = 0;
  let usable = 0;
  const unusable: string[] = [];
  // A --map pair no log has is a typo, not a column some runs lack: said once at the end, exit 2.
  const unmatched = new Map<string, string[]>();
  for (const source of sources) {
    const inspector = new Inspector();
    const report = await asUsage(() => readLogSource(source, { mapping, onRow: (row) => inspector.add(row), onProblem }));
    const result = inspector.result();
    // The whole log is read: print each event as finally graded (a spike the run absorbed is info).
    for (const event of result.events) out(formatEvent(event, source, several, options));
    for (const [pair, message] of unmatchedMapping(mapping, report, source)) unmatched.set(pair, [...(unmatched.get(pair) ?? []), message]);
    warnings += result.events.filter((e) => e.severity === 'warning').length;
    // A log whose training lines carry no loss (modded-nanogpt's 2025 records) still has its validation loss checked.
    const validationOnly = report.trainingRows === 0 && report.validationRows > 0;
    if ((result.rows > 0 && (result.fields.loss || result.fields.gradNorm)) || validationOnly) {
      usable++;
      printSummary(source, report, result, options, mapping, out, err);
    } else {
      unusable.push(nothingUsable(source, report, result, mapping));
    }
  }
  problems.finish();
  const verdict = mappingVerdict(unmatched, sources.length);
  for (const message of verdict.somewhere) err(`gradscope: ${message}`);
  if (usable === 0) throw new UsageError([...verdict.nowhere, ...unusable].join('\n'));
  for (const message of unusable) err(`gradscope: ${message}`);
  if (verdict.nowhere.length) throw new UsageError(verdict.nowhere.join('\n'));
  // Info events (transient spikes the run absorbed) are reported, but a run with only those passes.
  return warnings > 0 ? 1 : 0;
}

function formatEvent(event: DetectorEvent, source: LogSource, several: boolean, options: InspectOptions): string {
  if (options.json) return stringifyStrictJsonLine({ type: 'event', ...(several ? { run: source.title } : {}), ...event });
  return `${several ? `${source.title}: ` : ''}${event.severity === 'info' ? 'info ' : ''}${describeEvent(event)}`;
}

/** While following: each event as it is raised, and again when a spike the run did not absorb becomes a warning. */
function eventPrinter(inspector: Inspector, source: LogSource, several: boolean, options: InspectOptions, out: (text: string) => void) {
  return (row: MetricsRow) => {
    for (const event of inspector.add(row)) out(formatEvent(event, source, several, options));
  };
}

function printSummary(source: LogSource, report: ReadReport, result: InspectResult, options: InspectOptions, mapping: ColumnMapping, out: (text: string) => void, err: (text: string) => void): void {
  const columns = Object.fromEntries(VALUE_FIELDS.filter((f) => report.columns[f]?.length).map((f) => [f, report.columns[f]!.join(' | ')]));
  const eventCounts: Record<string, number> = {};
  for (const event of result.events) eventCounts[event.kind] = (eventCounts[event.kind] ?? 0) + 1;
  const warnings = result.events.filter((e) => e.severity === 'warning').length;
  if (options.json) {
    out(
      stringifyStrictJsonLine({
        type: 'summary',
        run: source.title,
        format: report.format,
        rows: report.trainingRows,
        firstStep: report.firstStep ?? null,
        lastStep: report.lastStep ?? null,
        validationRows: report.validationRows,
        warnings,
        segments: report.segments,
        columns,
        layers: result.fields.layers,
        unusedColumns: report.unused,
        events: eventCounts,
        notes: result.notes,
        skippedLines: report.skippedLines,
        badLines: report.badLines,
      }),
    );
    return;
  }
  // A log whose training lines carry no loss is its validation series: its steps are those.
  const validationOnly = report.trainingRows === 0;
  const validationRange = validationOnly ? ` (${report.firstValidationStep}–${report.lastValidationStep})` : '';
  const lines = [
    `${source.title}: ${report.format}, ${validationOnly ? 'no training steps' : `${count(report.trainingRows, 'step')} (${report.firstStep}–${report.lastStep})`}${report.segments > 1 ? ` in ${report.segments} segments (the step counter went back: appended or resumed runs)` : ''}${report.validationRows ? `, ${count(report.validationRows, 'validation-only row')}${validationRange}` : ''}`,
    `  columns: ${describeColumns(report.columns)}${result.fields.layers.length ? `, ${result.fields.layers.length} layer norms (${result.fields.layers.slice(0, 3).join(', ')}${result.fields.layers.length > 3 ? ', …' : ''})` : ''}${report.columns.step ? `, step ← ${report.columns.step.join(' | ')}` : ', step ← row number'}`,
  ];
  const missing = [!result.fields.gradNorm && 'gradient-norm', !result.fields.loss && 'loss', !result.fields.lr && 'learning-rate'].filter(Boolean) as string[];
  if (validationOnly) {
    // What a mistyped --map loss= most likely meant, else what Gradscope would read as the loss without it.
    const meant = mapping.loss !== undefined && !report.unused.includes(mapping.loss) ? likelyMeant(mapping.loss, report.unused)[0] : undefined;
    const resolved = new ColumnResolver().layoutOf(Object.fromEntries(report.unused.map((column) => [column, 0]))).fields.find(([field]) => field === 'loss')?.[1];
    const lossLike = meant ?? resolved ?? report.unused.find((c) => /loss/i.test(c) && !/^(val|valid|validation|eval|test)/i.test(c));
    lines.push(`  no training loss or gradient norm: only the validation loss is checked${lossLike ? `; to read ${lossLike} as the loss: --map loss=${quote(lossLike)}` : ''}`);
  } else if (missing.length)
    lines.push(
      `  no ${missing.length > 1 ? `${missing.slice(0, -1).join(', ')} or ${missing.at(-1)}` : missing[0]} column${!result.fields.gradNorm ? ': explosions can only be seen in the loss' : ''}`,
    );
  if (report.unused.length)
    lines.push(`  not used: ${report.unused.slice(0, 15).join(', ')}${report.unused.length > 15 ? `, … (${report.unused.length} in all)` : ''} (name one with --map field=column)`);
  // Statistics of per-parameter norms (grad_norm_max, grad_norm_mean) are not the global norm, so they
  // are never taken for it; but they spike with it, and a user may want one watched.
  // Not when --map named the norm (mistyped: said apart), which leaves the usual column unused.
  const normLike = result.fields.gradNorm || /(^|,)\s*gradNorm=/.test(options.map ?? '') ? undefined : report.unused.find((column) => /grad(ient)?_?norm|gnorm/i.test(column));
  if (normLike) lines.push(`  ${normLike} is not read as the global gradient norm; to watch it for explosions: --map gradNorm=${normLike}`);
  if (report.skippedLines) lines.push(`  ${count(report.skippedLines, 'line')} that ${report.skippedLines === 1 ? 'is' : 'are'} not metrics ${report.skippedLines === 1 ? 'was' : 'were'} skipped`);
  for (const note of result.notes) lines.push(`  ${note}`);
  const counts = Object.entries(eventCounts)
    .map(([kind, n]) => `${n} ${kind}`)
    .join(', ');
  lines.push(`  ${count(result.events.length, 'event')}${counts ? ` (${counts})` : ''}: ${count(warnings, 'warning')}, ${result.events.length - warnings} info`);
  err(lines.join('\n'));
}

/**
 * Names what the log does have, likeliest first (what a mistyped --map most likely meant, then what
 * Gradscope would choose without the --map), and the exact --map to try.
 */
function nothingUsable(source: LogSource, report: ReadReport, result: InspectResult, mapping: ColumnMapping = {}): string {
  const all = [...new Set([...report.unused, ...VALUE_FIELDS.flatMap((f) => report.columns[f] ?? [])])];
  const strings = report.numericStrings.length ? `; numbers written as strings (not read): ${report.numericStrings.slice(0, 10).join(', ')}` : '';
  if (report.records === 0)
    return `${source.title}: no metric records (${report.format}${report.skippedLines ? `; ${count(report.skippedLines, 'line')} without metrics` : ''}${report.badLines ? `; ${count(report.badLines, source.kind === 'lines' || source.kind === 'trainerState' ? 'unreadable line' : 'problem')}, above` : ''})`;
  const meant = Object.entries(mapping).map(([field, column]) => [field, all.includes(column!) ? [] : likelyMeant(column!, all)] as const);
  const unmapped = new ColumnResolver().layoutOf(Object.fromEntries(all.map((column) => [column, 0]))).fields;
  const found = [...new Set([...meant.flatMap(([, near]) => near), ...unmapped.map(([, column]) => column), ...all])];
  // The column a field most likely has: what its mistyped --map meant, else what the resolver would choose.
  const likely = (field: string) => meant.find(([f, near]) => f === field && near.length)?.[1][0] ?? unmapped.find(([f]) => f === field)?.[1];
  const lossLike = found.find((c) => /loss/i.test(c) && !/^(val|valid|validation|eval|test)/i.test(c));
  const normLike = found.find((c) => /norm/i.test(c));
  const guesses: [string, string | undefined][] = [
    ['loss', likely('loss')],
    ['gradNorm', likely('gradNorm')],
    ['loss', lossLike],
    ['gradNorm', normLike],
    ['loss', found[0]],
  ];
  const guess = guesses.find(([, column]) => column !== undefined);
  const tried = guess ? `; try: gradscope inspect ${quote(sourcePath(source))} --map ${guess[0]}=${quote(guess[1]!)}` : '';
  return `${source.title}: no loss or gradient-norm column in ${result.rows ? `${result.rows} steps` : `${report.records} records`} (${report.format}); numeric columns found: ${found.length ? found.slice(0, 20).join(', ') : 'none'}${strings}${tried}`;
}

/** The path a user can pass back to the CLI for this source. */
function sourcePath(source: LogSource): string {
  return source.kind === 'lines' || source.kind === 'trainerState' ? source.file : source.dir;
}

/**
 * The --map pairs some runs lack (said, not fatal) and those no run has (a typo: exit 2), from each
 * pair's messages, one per run that lacks it.
 */
function mappingVerdict(unmatched: Map<string, string[]>, runs: number): { somewhere: string[]; nowhere: string[] } {
  const lacking = [...unmatched.values()];
  return {
    somewhere: lacking.filter((messages) => messages.length < runs).flat(),
    nowhere: lacking.filter((messages) => messages.length === runs).map((messages) => (runs > 1 ? `${messages[0].replace(/^[^:]*: /, '')} in any of the ${runs} runs` : messages[0])),
  };
}

/** Each --map pair (`field=column`) whose column no record has, with a message: the columns of that name in another case. */
function unmatchedMapping(mapping: ColumnMapping, report: Pick<RowsReport, 'columns' | 'unused'>, source: LogSource, scope = ''): [string, string][] {
  const all = [...report.unused, ...Object.values(report.columns).flat()];
  return Object.entries(mapping).flatMap(([field, column]): [string, string][] => {
    if (report.columns[field as keyof typeof report.columns]?.includes(column!)) return [];
    const near = likelyMeant(column!, all);
    return [
      [
        `${field}=${column}`,
        `${source.title}: --map ${field}=${column}: no numeric column ${JSON.stringify(column)}${scope}${near.length ? ` (did you mean ${near.map((c) => JSON.stringify(c)).join(' or ')}?)` : ''}`,
      ],
    ];
  });
}

function quote(text: string): string {
  return /^[\w./:@-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
}

/** Reads every source and keeps reading as it grows, printing events as they come; Ctrl-C ends it. */
async function followAll(sources: LogSource[], mapping: ColumnMapping, several: boolean, options: InspectOptions, out: (text: string) => void, onProblem: (message: string) => void): Promise<number> {
  const inspectors = sources.map(() => new Inspector());
  // A --map column missing from a run's first rows is most likely a typo: said once, as soon as rows
  // are read (a column that only comes later, as eval_loss does, is then found by the end).
  const mappingChecked = sources.map(() => Object.keys(mapping).length === 0);
  const followers: LogFollower[] = sources.map((source, i) =>
    followLogSource(source, {
      mapping,
      onProblem,
      onRestart: (reason) => process.stderr.write(`gradscope: ${reason}; reading it again\n`),
      onRow: eventPrinter(inspectors[i], source, several, options, out),
      onBatchEnd: () => checkMapping(i),
    }),
  );
  function checkMapping(i: number): void {
    if (mappingChecked[i] || !started || inspectors[i].result().rows === 0) return;
    mappingChecked[i] = true;
    const scope = ` in its first ${count(inspectors[i].result().rows, 'step')}`;
    for (const [, message] of unmatchedMapping(mapping, followers[i].columns(), sources[i], scope)) process.stderr.write(`gradscope: ${message}; still following\n`);
  }
  // Checked once what is there has been read whole (a look's last step is held until the next look).
  let started = false;
  await Promise.all(followers.map((f) => f.start()));
  started = true;
  sources.forEach((_, i) => checkMapping(i));
  sources.forEach((source, i) => process.stderr.write(`${source.title}: ${count(inspectors[i].result().rows, 'step')} so far; following (Ctrl-C to stop)\n`));
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  followers.forEach((f) => f.stop());
  // As for a one-shot inspect: a pair no run had by the end is a typo (exit 2), one some runs lack is said.
  const unmatched = new Map<string, string[]>();
  sources.forEach((source, i) => {
    for (const [pair, message] of unmatchedMapping(mapping, followers[i].columns(), source)) unmatched.set(pair, [...(unmatched.get(pair) ?? []), message]);
  });
  const verdict = mappingVerdict(unmatched, sources.length);
  const warnings = inspectors.reduce((n, inspector) => n + inspector.result().events.filter((e) => e.severity === 'warning').length, 0);
  sources.forEach((source, i) => {
    const { rows, events } = inspectors[i].result();
    process.stderr.write(`${source.title}: ${count(rows, 'step')}, ${count(events.length, 'event')}\n`);
  });
  for (const message of verdict.somewhere) process.stderr.write(`gradscope: ${message}\n`);
  if (verdict.nowhere.length) throw new UsageError(verdict.nowhere.join('\n'));
  return warnings > 0 ? 1 : 0;
}

/** --follow on a log that is not written yet (or still empty) waits for its first lines. */
async function waitForLog(target: string, find: () => Promise<LogSource[]>): Promise<LogSource[]> {
  let told = false;
  for (;;) {
    try {
      return await find();
    } catch (error) {
      if (!(error instanceof LogFormatError) || (error.problem !== 'empty' && error.problem !== 'missing')) throw error;
      if (!told) process.stderr.write(`gradscope: ${error.message}; waiting for it to be written (Ctrl-C to stop)\n`);
      told = true;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}
