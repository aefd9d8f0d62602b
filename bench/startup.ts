import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseJobText } from '../src/core/job/parse';
import { TrainerProcess } from '../src/node/trainerProcess';

const root = join(__dirname, '..');

/**
 * Run in a fresh node: a stand-in `vscode` module (every namespace the extension touches, with
 * functions that return further stand-ins), then require(dist/extension.js) and activate() on a stub
 * context. Prints the milliseconds of the require and of the whole activation.
 */
export const activationScript = `
const Module = require('module');
const stub = () => new Proxy(function () {}, {
  get: (target, key) => (key === 'prototype' ? target.prototype : key === Symbol.toPrimitive ? () => '' : key === 'then' ? undefined : stub()),
  set: () => true,
  apply: () => stub(),
  construct: () => stub(),
});
const names = ${JSON.stringify(['window', 'workspace', 'commands', 'languages', 'Uri', 'Disposable', 'Range', 'Position', 'DiagnosticSeverity', 'Diagnostic', 'ViewColumn', 'ProgressLocation', 'EventEmitter', 'CodeLens', 'CodeAction', 'WorkspaceEdit', 'MarkdownString', 'CodeActionKind', 'ThemeColor', 'TextEditorRevealType', 'StatusBarAlignment', 'RelativePattern', 'FileSystemWatcher', 'env', 'extensions', 'ConfigurationTarget', 'ThemeIcon'])};
const vscode = Object.fromEntries(names.map((name) => [name, stub()]));
const load = Module._load;
Module._load = function (request, ...rest) { return request === 'vscode' ? vscode : load.call(this, request, request === 'vscode' ? undefined : rest[0], rest[1]); };
const start = performance.now();
const extension = require(process.argv[process.argv.length - 1]);
const required = performance.now();
extension.activate({ subscriptions: [], extensionUri: stub(), extensionPath: ${JSON.stringify(root)}, globalState: stub(), workspaceState: stub(), asAbsolutePath: (p) => p });
const activated = performance.now();
process.stdout.write(JSON.stringify({ requireMs: required - start, activateMs: activated - start }));
`;

/** Extension activation in a fresh node, `runs` times: the median require and require+activate times. */
export function activationMs(runs: number): { requireMs: number; activateMs: number } | { error: string } {
  const samples: { requireMs: number; activateMs: number }[] = [];
  for (let i = 0; i < runs; i++) {
    const run = spawnSync(process.execPath, ['-e', activationScript, join(root, 'dist', 'extension.js')], { encoding: 'utf8' });
    if (run.status !== 0) return { error: run.stderr.split('\n').find((line) => /Error/.test(line)) ?? `exit ${run.status}` };
    samples.push(JSON.parse(run.stdout));
  }
  return { requireMs: median(samples.map((s) => s.requireMs)), activateMs: median(samples.map((s) => s.activateMs)) };
}

/**
 * From forking dist/trainer.js to its first `steps` message (the first step on the host's screen),
 * training the MNIST example, with `threads` wasm threads: the medians of `runs` runs.
 */
export async function firstStepMs(runs: number, threads: number): Promise<{ startedMs: number; firstStepMs: number } | { error: string }> {
  const samples: { startedMs: number; firstStepMs: number }[] = [];
  const job = parseJobText(readFileSync(join(root, 'examples', 'mnist-warmup-cosine.gradscope.json'), 'utf8'));
  const previous = process.env.GRADSCOPE_WASM_THREADS;
  process.env.GRADSCOPE_WASM_THREADS = String(threads);
  try {
    for (let i = 0; i < runs; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'gradscope-start-'));
      const start = performance.now();
      let startedMs = NaN;
      let failure: string | undefined;
      const firstStep = await new Promise<number>((resolve) => {
        const trainer = new TrainerProcess(
          join(root, 'dist', 'trainer.js'),
          { job, jobDir: join(root, 'examples'), runsDir: dir, searchPaths: [], maxSteps: 20 },
          {
            message(message) {
              if (message.type === 'started') startedMs = performance.now() - start;
              if (message.type === 'steps') {
                resolve(performance.now() - start);
                void trainer.stop();
              }
              if (message.type === 'failed') failure = message.message;
            },
          },
        );
        void trainer.stopped.then(() => resolve(NaN));
      });
      rmSync(dir, { recursive: true, force: true });
      if (!Number.isFinite(firstStep)) return { error: failure ?? 'the trainer sent no steps' };
      samples.push({ startedMs, firstStepMs: firstStep });
    }
  } finally {
    if (previous === undefined) delete process.env.GRADSCOPE_WASM_THREADS;
    else process.env.GRADSCOPE_WASM_THREADS = previous;
  }
  return { startedMs: median(samples.map((s) => s.startedMs)), firstStepMs: median(samples.map((s) => s.firstStepMs)) };
}

export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * q))];
