// @ts-check
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

// The dependency rule (ARCHITECTURE.md): the contract at the bottom, engine clients and pure
// libraries above it, components side by side, the command line on top.
const LAYERS = ['api', 'lib', 'operator', 'collector', 'gateway', 'workers', 'workflows', 'stack', 'dashboard', 'cli', 'test', 'bin'];
const COMPONENTS = ['operator', 'collector', 'gateway', 'workers', 'stack', 'dashboard'];
const WORKERS = ['pipeline', 'segments', 'models', 'enrichment', 'activations'];
/** What each folder may import of ours, besides itself. */
const MAY_IMPORT = {
  api: [],
  lib: ['api'],
  // A caller starts a workflow by reference (a renamed input is then a compile error).
  operator: ['api', 'lib', 'workflows'],
  collector: ['api', 'lib'],
  gateway: ['api', 'lib'],
  workers: ['api', 'lib', 'workflows'],
  stack: ['api', 'lib'],
  // Browser code: the typed API client (api/client) and nothing of the server side.
  dashboard: ['api'],
  // Workflows import activities as types only (the workflows block below refuses value imports).
  workflows: ['api', 'workers'],
};
const zones = [
  ...Object.entries(MAY_IMPORT).map(([target, allowed]) => ({
    target: `./${target}`,
    from: LAYERS.filter((l) => l !== target && !allowed.includes(l)).map((l) => `./${l}`),
    message: `${target}/ may import ${allowed.length ? allowed.map((a) => `${a}/`).join(', ') : 'nothing of ours'} (ARCHITECTURE.md: the dependency rule)${COMPONENTS.includes(target) ? '; components never import each other, cli/ composes them' : ''}.`,
  })),
  // Each worker is its own component: what two of them share belongs in lib/ or api/.
  ...WORKERS.map((w) => ({
    target: `./workers/${w}`,
    from: WORKERS.filter((o) => o !== w).map((o) => `./workers/${o}`),
    message: `workers/${w} must not import another worker: move what they share to lib/ or api/.`,
  })),
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'dashboard/dist/**', 'helm/**', 'test/bench/results/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    plugins: { 'import-x': importX },
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's test()/describe() return promises the runner itself awaits.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      'import-x/no-restricted-paths': ['error', { basePath: import.meta.dirname, zones }],
      // Rest siblings are how a field is left out of a copy: `const { secret, ...rest } = spec`.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // Workflow code is replayed and must be deterministic: no Node built-ins (fs, net, crypto, timers…).
    // Activities and workers do the I/O; see workflows/README.md.
    files: ['workflows/**/*.ts', 'test/**/workflows.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/workers/**'], allowTypeImports: true, message: 'Workflows import activities as types only (`import type`): the worker runs them.' },
            { group: ['node:*'], message: 'Workflows must be deterministic: Node built-ins belong in activities.' },
            { group: ['fs', 'fs/*', 'path', 'os', 'net', 'http', 'https', 'crypto', 'child_process', 'timers', 'timers/*', 'worker_threads', 'dns', 'stream', 'process', 'util', 'events'], message: 'Workflows must be deterministic: Node built-ins belong in activities.' },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: 'Workflows must not read the process environment.' }, { name: 'setImmediate', message: 'Use workflow timers (sleep) instead.' }],
    },
  },
);
