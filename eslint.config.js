// One lint setup for the workspace; the type gate is `tsc` (see package.json "lint").
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'packages/tracker/prebuilt/**', '**/.scratch/**', '**/.spike/**', '.sluice/**', 'schemas/json/**', 'test-results/**'] },
  js.configs.recommended,
  { languageOptions: { globals: { ...globals.node } } },
  // the dashboard's pages run in the browser (its assets.ts and vite.config.ts run in Node)
  { files: ['services/dashboard/src/**/*.ts'], languageOptions: { globals: { ...globals.browser } } },
  // the tracker's script runs in visitors' browsers
  { files: ['packages/tracker/browser/**/*.ts'], languageOptions: { globals: { ...globals.browser } } },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    // domain, planner and revenue are pure: no clock, no randomness, no I/O; so is each query's reference, the oracle its SQL is tested against
    files: ['packages/domain/src/**/*.ts', 'packages/planner/src/**/*.ts', 'packages/revenue/src/**/*.ts', 'packages/analytics/src/queries/*/reference.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-globals': ['error', 'process', 'fetch', 'setTimeout', 'setInterval'],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'time comes from events or an explicit as-of' },
        { object: 'Math', property: 'random', message: 'pass a seeded generator in' },
      ],
      'no-restricted-imports': ['error', { patterns: ['node:*', 'fs', 'net', 'http', 'child_process', 'better-sqlite3', 'pg', 'kafkajs', 'chdb', '@clickhouse/*'] }],
    },
  },
);
