// Builds the four bundles: extension host, trainer child, CLI (node, cjs) and the webview (browser, iife).
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { packMnist } from './mnist.mjs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

/** @type {esbuild.BuildOptions} */
const common = {
  bundle: true,
  sourcemap: true,
  minify: production,
  logLevel: 'warning',
  target: 'es2022',
  // ESM builds first: some packages' UMD builds (jsonc-parser) require files esbuild cannot follow.
  mainFields: ['module', 'main'],
};

/** @type {esbuild.BuildOptions[]} */
const bundles = [
  {
    ...common,
    entryPoints: { extension: 'src/extension/extension.ts' },
    platform: 'node',
    format: 'cjs',
    external: ['vscode'],
  },
  {
    ...common,
    entryPoints: { trainer: 'src/trainer/main.ts' },
    platform: 'node',
    format: 'cjs',
    // tfjs and the wasm backend are bundled (the .wasm files are copied beside the bundle); tfjs-node
    // is a native addon loaded at run time, from the user's workspace or this package, when present.
    external: ['@tensorflow/tfjs-node'],
  },
  {
    ...common,
    entryPoints: { cli: 'src/cli/main.ts' },
    platform: 'node',
    format: 'cjs',
    external: ['@tensorflow/*'],
  },
  {
    ...common,
    entryPoints: { webview: 'webview/main.ts' },
    platform: 'browser',
    format: 'iife',
  },
  {
    // Inlined into the self-contained HTML reports of `gradscope report`.
    ...common,
    entryPoints: { report: 'webview/report.ts' },
    platform: 'browser',
    format: 'iife',
    minify: true,
    sourcemap: false,
  },
];

packMnist();
const require = createRequire(import.meta.url);
const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
mkdirSync('dist', { recursive: true });
for (const file of readdirSync(wasmDir).filter((name) => name.endsWith('.wasm'))) copyFileSync(join(wasmDir, file), join('dist', file));
writeThreadedWasmScripts();
const contexts = await Promise.all(bundles.map((options) => esbuild.context({ ...options, outdir: 'dist' })));
if (watch) {
  await Promise.all(contexts.map((context) => context.watch()));
  console.log('esbuild: watching');
} else {
  await Promise.all(contexts.map((context) => context.rebuild()));
  await Promise.all(contexts.map((context) => context.dispose()));
}

/**
 * The threaded SIMD wasm build needs two scripts as real files for Node's worker_threads (tfjs hands
 * its pthread workers `blob:` URLs, which Node cannot load; tensorflow/tfjs#3830, #8059):
 * - the pthread worker script, which tfjs ships only as a string (`wasmWorkerContents`);
 * - the Emscripten glue, which each worker evaluates with importScripts. Two values in it are made
 *   settable by the trainer (src/trainer/wasmThreads.ts): the logical core count (the C++ side
 *   caps its threads at half of it, assuming hyper-threading) and the number of workers started
 *   up front (8, whatever the machine).
 * When the glue no longer has the expected text, the file is written without the patch (and without
 * the marker the trainer checks), and the trainer runs single-threaded with the reason reported.
 */
function writeThreadedWasmScripts() {
  const outDir = join(wasmDir, '../wasm-out');
  const { wasmWorkerContents } = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js');
  // The string holds escaped newlines inside string literals (tfjs re-escapes them for its Blob too).
  writeFileSync(join('dist', 'tfjs-backend-wasm-threaded-simd.worker.js'), wasmWorkerContents.replace(/\n/g, '\\n'));
  const glue = readFileSync(join(outDir, 'tfjs-backend-wasm-threaded-simd.js'), 'utf8');
  const cores = 'if(ENVIRONMENT_IS_NODE)return require("os").cpus().length';
  const pool = 'var pthreadPoolSize=8;';
  const patched =
    glue.includes(cores) && glue.includes(pool)
      ? `// gradscope-threads-patch\n${glue.replace(cores, 'if(ENVIRONMENT_IS_NODE)return Module["logicalCores"]||require("os").cpus().length').replace(pool, 'var pthreadPoolSize=Module["pthreadPoolSize"]||8;')}`
      : glue;
  writeFileSync(join('dist', 'tfjs-backend-wasm-threaded-simd.js'), patched);
}
