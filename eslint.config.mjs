// @ts-check
import eslint from '@eslint/js';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const PURE_CORE = 'src/core is pure: file and process I/O belongs in src/node (or the trainer, extension, CLI).';

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
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: builtinModules.map((name) => ({ name, message: PURE_CORE })),
          patterns: [{ group: ['node:*', 'vscode', '@tensorflow/*'], message: PURE_CORE }],
        },
      ],
      'no-restricted-globals': ['error', ...['Buffer', 'process', 'require', '__dirname', '__filename'].map((name) => ({ name, message: PURE_CORE }))],
    },
  },
);
