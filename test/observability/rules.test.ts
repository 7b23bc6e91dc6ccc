// USPA's alerts (helm/uspa/rules/uspa.rules.yaml) with promtool, built from the Prometheus Go module
// into the shared cache on first use: the file passes `promtool check rules`, every alert's unit
// test passes (`promtool test rules` on uspa.rules.test.yaml), every alert carries what on-call
// needs, and breaking any one alert's expression fails its unit test.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { GO_TOOLS, goTool } from '../../stack/go-tool.ts';
import { ROOT, RULES, runTool } from './metrics.ts';

const RULE_TESTS = join(ROOT, 'test/observability/uspa.rules.test.yaml');
/** The alerts the issue asks for, each with the rule(s) that cover it. */
const REQUIRED = ['UspaIngestionStopped', 'UspaPipelineLagGrowing', 'UspaCollectorDeadLetters', 'UspaPipelineDeadLetters', 'UspaReconcileErrors', 'UspaComponentDown', 'UspaTemporalWorkerNotPolling', 'UspaCollectorErrors'];

interface Rule {
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

describe('alert rules', { timeout: 1_800_000 }, () => {
  let bin: string;
  let alerts: Rule[];
  before(async () => {
    bin = await goTool(GO_TOOLS.promtool);
    const file = parse(await readFile(RULES, 'utf8')) as { groups: { name: string; rules: Rule[] }[] };
    alerts = file.groups.flatMap((g) => g.rules);
  });

  test('promtool check rules accepts the rule file', async () => {
    const r = await runTool(bin, ['check', 'rules', RULES]);
    assert.equal(r.code, 0, r.text);
    assert.match(r.text, new RegExp(`SUCCESS: ${alerts.length} rules found`));
  });

  test('every alert the on-call needs exists, with severity, summary, description and runbook', () => {
    const names = alerts.map((a) => a.alert);
    for (const name of REQUIRED) assert.ok(names.includes(name), `${name} missing from ${RULES}`);
    for (const a of alerts) {
      assert.ok(a.alert?.startsWith('Uspa'), `recording rules or unprefixed alerts are not expected: ${a.alert ?? a.expr}`);
      assert.ok(['critical', 'warning'].includes(a.labels?.severity ?? ''), `${a.alert}: severity critical or warning`);
      for (const key of ['summary', 'description', 'runbook']) assert.ok(a.annotations?.[key]?.trim(), `${a.alert}: annotation ${key}`);
    }
  });

  test('promtool test rules: every alert fires when it should and only then', async () => {
    const r = await runTool(bin, ['test', 'rules', RULE_TESTS]);
    assert.equal(r.code, 0, r.text);
    assert.match(r.text, /SUCCESS/);
    const tested = new Set((parse(await readFile(RULE_TESTS, 'utf8')) as { tests: { alert_rule_test?: { alertname: string }[] }[] }).tests.flatMap((t) => (t.alert_rule_test ?? []).map((a) => a.alertname)));
    for (const a of alerts) assert.ok(tested.has(a.alert!), `${a.alert} has no promtool unit test`);
  });

  test('an alert that can no longer fire fails its unit test', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'uspa-rules-'));
    try {
      const original = parse(await readFile(RULES, 'utf8')) as { groups: { name: string; rules: Rule[] }[] };
      const tests = parse(await readFile(RULE_TESTS, 'utf8')) as { rule_files: string[] };
      for (const name of alerts.map((a) => a.alert!)) {
        const broken = structuredClone(original);
        for (const g of broken.groups) for (const rule of g.rules) if (rule.alert === name) rule.expr = `(${rule.expr}) and on() vector(0) == 1`;
        await writeFile(join(dir, 'rules.yaml'), stringify(broken));
        await writeFile(join(dir, 'tests.yaml'), stringify({ ...tests, rule_files: [join(dir, 'rules.yaml')] }));
        const r = await runTool(bin, ['test', 'rules', join(dir, 'tests.yaml')]);
        assert.notEqual(r.code, 0, `breaking ${name} left its unit tests passing`);
        assert.match(r.text, new RegExp(`alertname: ${name}`), `breaking ${name} failed another test:\n${r.text}`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
