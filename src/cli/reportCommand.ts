import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { reportRun } from '../core/logs/reportData';
import { nonFiniteAsText } from '../core/runlog/jsonLine';
import { loadTrainingLogs } from '../node/logs/read';
import { asUsage, count, formatOption, mapOption, problemReporter } from './logOptions';
import { UsageError } from './usageError';

export interface ReportOptions {
  output?: string;
  map?: string;
  format?: string;
}

/** `gradscope report <run|file|dir> -o report.html`: one self-contained HTML file, no network. */
export async function reportCommand(target: string, options: ReportOptions): Promise<number> {
  const problems = problemReporter();
  const mapping = mapOption(options.map);
  const format = formatOption(options.format);
  const logs = await asUsage(() => loadTrainingLogs(target, { format, mapping, onProblem: problems.report, onNote: (note) => process.stderr.write(`gradscope: ${note}\n`) }));
  problems.finish();
  const all = logs.map((log) => reportRun(log.title, log.rows, log.report.format));
  const runs = all.filter((run) => run.charts.length > 0);
  for (const run of all) if (run.charts.length === 0) process.stderr.write(`gradscope: ${run.title}: nothing to chart (no loss, learning rate or gradient norm); left out of the report\n`);
  if (runs.length === 0) throw new UsageError(`${target}: no run has a series to chart; see \`gradscope inspect ${target}\` for the columns it has, then name them with --map`);
  const output = writeReport(resolve(options.output ?? 'report.html'), reportHtml(runs, readFileSync(join(__dirname, 'report.js'), 'utf8')));
  const events = runs.reduce((n, r) => n + r.events.length, 0);
  process.stderr.write(
    `wrote ${output}: ${count(runs.length, 'run')}, ${count(
      runs.reduce((n, r) => n + r.rows, 0),
      'step',
    )}, ${count(events, 'event')}\n`,
  );
  return 0;
}

/** Writes the report to `output`, or to report.html inside it when it is a folder; returns the file written. */
function writeReport(output: string, html: string): string {
  const file = existsSync(output) && statSync(output).isDirectory() ? join(output, 'report.html') : output;
  try {
    writeFileSync(file, html);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? `the folder ${dirname(file)} does not exist`
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'it is a folder'
            : (code ?? (error as Error).message);
    throw new UsageError(`cannot write the report to ${file}: ${reason}`);
  }
  return file;
}

/** Inline script and data; `</` is escaped so that neither can close the <script> element. */
export function reportHtml(runs: ReturnType<typeof reportRun>[], script: string): string {
  const safe = (text: string) => text.replace(/<\//g, '<\\/');
  const title = runs
    .map((r) => r.title)
    .join(', ')
    .replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  // JSON has no NaN or Infinity: an event's non-finite values travel as the strings "NaN", "Infinity"
  // and "-Infinity" (the script turns them back into numbers), so the table says which it was. The
  // charts' values go as null, a gap in the line.
  const data = JSON.stringify(runs.map((run) => ({ ...run, events: run.events.map(eventAsStrictJson) })));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'">
<title>Gradscope report: ${title}</title>
<style>
:root { --fg: #1f2328; --bg: #ffffff; --grid: #d0d7de; --blue: #0969da; --green: #1a7f37; --orange: #bc4c00; --purple: #8250df; --yellow: #9a6700; --red: #cf222e; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --grid: #30363d; --blue: #58a6ff; --green: #3fb950; --orange: #f0883e; --purple: #bc8cff; --yellow: #d29922; --red: #f85149; } }
body { font: 14px system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 24px; }
.chart .canvas { position: relative; height: 200px; }
h3 { font-size: 13px; margin: 16px 0 4px; }
table { border-collapse: collapse; margin-top: 16px; }
td, th { border-bottom: 1px solid var(--grid); padding: 4px 10px; text-align: left; }
</style>
</head>
<body>
<h1>Gradscope report</h1>
<div id="report"></div>
<script>window.GRADSCOPE_REPORT = ${safe(data)};</script>
<script>${safe(script)}</script>
</body>
</html>
`;
}

/** An event with its non-finite values as the text strict JSON carries them. */
function eventAsStrictJson<T extends object>(event: T): T {
  return Object.fromEntries(Object.entries(event).map(([key, value]) => [key, nonFiniteAsText(value)])) as T;
}
