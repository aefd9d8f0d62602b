// Builds the four bundles: extension host, trainer child, CLI (node, cjs) and the webview (browser, iife).
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
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
const contexts = await Promise.all(bundles.map((options) => esbuild.context({ ...options, outdir: 'dist' })));
if (watch) {
  await Promise.all(contexts.map((context) => context.watch()));
  console.log('esbuild: watching');
} else {
  await Promise.all(contexts.map((context) => context.rebuild()));
  await Promise.all(contexts.map((context) => context.dispose()));
}
