// The dependency rule of ARCHITECTURE.md as the lint enforces it: probe imports across each line
// are refused with the rule's message, and imports along the allowed directions pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Linter } from 'eslint';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const root = join(import.meta.dirname, '..');
const configs = (await import(join(root, 'eslint.config.js'))).default as Array<{ rules?: Record<string, unknown> }>;
const ruleOptions = configs.find((c) => c.rules?.['import-x/no-restricted-paths'])!.rules!['import-x/no-restricted-paths'];
const workflowRule = configs.find((c) => c.rules?.['@typescript-eslint/no-restricted-imports'])!.rules!['@typescript-eslint/no-restricted-imports'];

function problems(file: string, code: string): string[] {
  const linter = new Linter({ configType: 'flat', cwd: root });
  const messages = linter.verify(
    code,
    [
      {
        files: ['**/*.ts'],
        languageOptions: { parser: tseslint.parser as Linter.Parser },
        plugins: { 'import-x': importX as never, '@typescript-eslint': tseslint.plugin as never },
        rules: { 'import-x/no-restricted-paths': ruleOptions as Linter.RuleEntry, ...(file.startsWith('workflows/') ? { '@typescript-eslint/no-restricted-imports': workflowRule as Linter.RuleEntry } : {}) },
      },
    ],
    { filename: join(root, file) },
  );
  return messages.map((m) => m.message);
}

test('layers: what a folder must not import is refused, saying which rule', () => {
  const refused: Array<[string, string, RegExp]> = [
    ['api/probe.ts', "import { topicNames } from '../lib/kafka.ts';", /api\/ may import nothing of ours/],
    ['lib/probe.ts', "import { COLLECTOR_PORT } from '../operator/manifests/collector.ts';", /lib\/ may import api\//],
    ['collector/probe.ts', "import { COLLECTOR_PORT } from '../operator/manifests/collector.ts';", /components never import each other/],
    ['operator/probe.ts', "import { startPipelines } from '../workers/pipeline/main.ts';", /operator\/ may import api\/, lib\/, workflows\//],
    ['stack/probe.ts', "import { serveCollector } from '../collector/main.ts';", /stack\/ may import api\/, lib\//],
    ['gateway/probe.ts', "import { profileByIdentity } from '../workers/pipeline/profiles.ts';", /gateway\/ may import api\/, lib\/.*components never import each other/],
    ['collector/probe.ts', "import { startGateway } from '../gateway/main.ts';", /components never import each other/],
    ['workers/pipeline/probe.ts', "import { createActivities } from '../segments/activities.ts';", /workers\/pipeline must not import another worker/],
    ['workflows/probe.ts', "import { createActivities } from '../workers/segments/activities.ts';", /Workflows import activities as types only/],
    ['workflows/probe.ts', "import { migrate } from '../lib/schema.ts';", /workflows\/ may import api\//],
  ];
  for (const [file, code, expected] of refused) {
    const found = problems(file, `${code}\nexport {};\n`);
    assert.equal(found.length, 1, `${file}: ${code} → ${JSON.stringify(found)}`);
    assert.match(found[0]!, expected);
  }
});

test('layers: the allowed directions pass', () => {
  const allowed: Array<[string, string]> = [
    ['lib/probe.ts', "import { topicNames } from '../api/names.ts';"],
    ['operator/probe.ts', "import { migrate } from '../lib/schema.ts';"],
    ['gateway/probe.ts', "import { Warehouse } from '../lib/clickhouse.ts';\nimport { API_ROLES } from '../api/v1alpha1/index.ts';"],
    ['workers/segments/probe.ts', "import { taskQueue } from '../../api/names.ts';"],
    ['workflows/probe.ts', "import type { SegmentsActivities } from '../workers/segments/activities.ts';"],
    ['cli/probe.ts', "import { serveCollector } from '../collector/main.ts';\nimport { serveOperator } from '../operator/main.ts';"],
  ];
  for (const [file, code] of allowed) assert.deepEqual(problems(file, `${code}\nexport {};\n`), [], `${file}: ${code}`);
});
