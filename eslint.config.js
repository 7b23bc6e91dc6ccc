// @ts-check
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'helm/**', 'test/bench/results/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's test()/describe() return promises the runner itself awaits.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      // Rest siblings are how a field is left out of a copy: `const { secret, ...rest } = spec`.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // Workflow code is replayed and must be deterministic: no Node built-ins (fs, net, crypto, timers…).
    // Activities and workers do the I/O; see workflows/README.md.
    files: ['workflows/**/*.ts', 'test/**/workflows.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'Workflows must be deterministic: Node built-ins belong in activities.' },
            { group: ['fs', 'fs/*', 'path', 'os', 'net', 'http', 'https', 'crypto', 'child_process', 'timers', 'timers/*', 'worker_threads', 'dns', 'stream', 'process', 'util', 'events'], message: 'Workflows must be deterministic: Node built-ins belong in activities.' },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: 'Workflows must not read the process environment.' }, { name: 'setImmediate', message: 'Use workflow timers (sleep) instead.' }],
    },
  },
);
