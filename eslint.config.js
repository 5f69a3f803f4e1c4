import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Layering (docs/design.md §2): the numeric core — src/kernel, src/spectrum, src/analysis, src/policy — is pure.
 * It imports no Node builtin (`node:*` or a bare `fs`, `worker_threads`, …), no gRPC, no prom-client, no database
 * driver, and nothing from the I/O edge (server, worker, metrics, store, cli, cohort). Time and randomness come in
 * as arguments. test/layering.test.ts checks the same rule on the whole import graph (dynamic imports and
 * transitive paths included) and that src/ has no import cycles.
 */
const CORE = ['src/kernel/**/*.ts', 'src/spectrum/**/*.ts', 'src/analysis/**/*.ts', 'src/policy/**/*.ts'];
const EDGE_FOLDERS = ['server', 'worker', 'metrics', 'store', 'cli', 'cohort'];
const bareBuiltins = builtinModules.filter((m) => !m.startsWith('_') && !m.startsWith('node:'));

const coreRestrictions = {
  paths: bareBuiltins.map((name) => ({ name, message: 'The numeric core is pure: no Node builtins (docs/design.md §2).' })),
  patterns: [
    { group: ['node:*'], message: 'The numeric core is pure: no Node builtins (docs/design.md §2).' },
    { group: ['@grpc/*', 'grpc-health-check'], message: 'gRPC lives in src/server only (docs/design.md §2).' },
    { group: ['prom-client'], message: 'Metrics live in src/metrics only (docs/design.md §2).' },
    { group: ['pg', 'pg/*'], message: 'Storage lives in src/store only (docs/design.md §2).' },
    {
      regex: `^(\\.\\./)+(${EDGE_FOLDERS.join('|')})(/|$)`,
      message: 'The numeric core does not import the I/O edge (server, worker, metrics, store, cli, cohort; docs/design.md §2).',
    },
  ],
};

export default tseslint.config(
  { ignores: ['dist/', 'src/gen/', 'clients/', 'node_modules/', '.bench-out/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: CORE,
    rules: { 'no-restricted-imports': ['error', coreRestrictions] },
  },
  {
    // Typed lint on the product code: a promise is awaited, returned or explicitly voided, and never handed to a
    // place that expects a plain callback (an async gRPC handler, an event listener).
    files: ['src/**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
);
