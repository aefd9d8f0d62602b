// @ts-check
import eslint from '@eslint/js';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const PURE_CORE = 'src/core is pure: file and process I/O belongs in src/node (or the trainer, extension, CLI).';

/**
 * Core files that do file I/O today. They are to move out of src/core (to src/node) when the layout is
 * regrouped; until then they are the only exceptions, and the list must only shrink.
 */
const CORE_FILES_DOING_IO = [
  'src/core/follow.ts', // follows a growing file (node:fs, Buffer)
  'src/core/tensorboardLog.ts', // walks and reads TensorBoard event files (node:fs, node:path, Buffer)
  'src/core/runlog/index.ts', // opens a run folder (node:fs, node:path)
  'src/core/runlog/reader.ts', // streams a run's JSON-lines files (node:fs)
  'src/core/runlog/writer.ts', // writes a run folder (node:fs, node:path)
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.e2e/**', '**/*.js', '**/*.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'smart'],
    },
  },
  {
    // The core is shared by the trainer, the host, the CLI and the webview: it is pure (parsing,
    // schedules, detectors, protocol types). No file or process I/O, no vscode, no tfjs.
    files: ['src/core/**/*.ts'],
    ignores: CORE_FILES_DOING_IO,
    rules: {
      'no-restricted-imports': ['error', {
        paths: builtinModules.map((name) => ({ name, message: PURE_CORE })),
        patterns: [{ group: ['node:*', 'vscode', '@tensorflow/*'], message: PURE_CORE }],
      }],
      'no-restricted-globals': ['error', ...['Buffer', 'process', 'require', '__dirname', '__filename'].map((name) => ({ name, message: PURE_CORE }))],
    },
  },
  {
    // The allow-listed files may do I/O, but they too stay free of vscode and tfjs.
    files: CORE_FILES_DOING_IO,
    rules: {
      'no-restricted-imports': ['error', { patterns: ['vscode', '@tensorflow/*'] }],
    },
  },
);
