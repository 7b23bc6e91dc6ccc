// The names behind the dashboards and alerts: every metric name a dashboard panel, a dashboard
// variable or an alert reads is one USPA's code exports (its prom-client registrations, histograms
// as _bucket/_sum/_count, the default process and Node.js metrics, Prometheus's `up`), each
// dashboard query is valid PromQL (promtool), the metrics follow one naming scheme, and every USPA
// metric is on some dashboard. The list of registrations is read from the code and checked against
// the registries the components really build.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Registry } from 'prom-client';
import type { Producer } from 'kafkajs';
import type { Warehouse } from '../../lib/clickhouse.ts';
import { createLogger } from '../../lib/log.ts';
import { measuredActivities } from '../../lib/temporal-worker.ts';
import { createCollector } from '../../collector/app.ts';
import { SourceRegistry } from '../../collector/sources.ts';
import { pipelineMetrics } from '../../workers/pipeline/metrics.ts';
import { createActivities as segmentsActivities } from '../../workers/segments/activities.ts';
import { createActivities as modelsActivities } from '../../workers/models/activities.ts';
import { controllerMetrics } from '../../operator/machinery/controller.ts';
import { GO_TOOLS, goTool } from '../../stack/go-tool.ts';
import { DASHBOARDS, RULES, TARGET_LABELS, asPromQL, dashboardQueries, exportedSeries, labelUses, metricNamesIn, runTool, registrations } from './metrics.ts';

const dashboards = readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json')).map((f) => ({ file: f, json: JSON.parse(readFileSync(join(DASHBOARDS, f), 'utf8')) as Parameters<typeof dashboardQueries>[0] }));
const ruleQueries = (parse(readFileSync(RULES, 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] }).groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })));

/** The queries (of one dashboard or of the rules) that read a name nothing exports, with the name. */
function unknownNames(queries: { where: string; expr: string }[], exported: Set<string>): string[] {
  return queries.flatMap((q) => metricNamesIn(q.expr).filter((n) => !exported.has(n)).map((n) => `${q.where}: ${n}`));
}

describe('metric names of the dashboards and alerts', { timeout: 1_800_000 }, () => {
  let exported: Set<string>;
  before(async () => {
    exported = await exportedSeries();
  });

  test('the PromQL name extraction', () => {
    assert.deepEqual(metricNamesIn('histogram_quantile(0.99, sum by (le, route) (rate(uspa_collector_request_seconds_bucket{component="collector", namespace=~"$namespace"}[$__rate_interval])))'), ['uspa_collector_request_seconds_bucket']);
    assert.deepEqual(metricNamesIn('sum by (namespace) (increase(a_total[30m] offset 1h)) == 0 and on (namespace) b > 1e3 or count(up{job="uspa"} == 0) or vector(0) unless time() - c_seconds'), ['a_total', 'b', 'up', 'c_seconds']);
    assert.deepEqual(metricNamesIn('label_values(up{job="uspa"}, namespace)'), ['up']);
    assert.deepEqual(metricNamesIn('max without (pod) (x:rate5m) / ignoring (reason) group_left (source) y'), ['x:rate5m', 'y']);
  });

  test('the registrations read from the code are the ones the components build', async () => {
    const scanned = new Set(registrations().map((r) => r.name));
    const registry = new Registry();
    const log = createLogger('test');
    const noWarehouse = (() => ({})) as unknown as (database: string) => Warehouse;
    createCollector({ sources: new SourceRegistry({ sources: [], pipelines: [] } as unknown as ConstructorParameters<typeof SourceRegistry>[0]), sink: { isConnected: true } as unknown as Parameters<typeof createCollector>[0]['sink'], log, registry });
    pipelineMetrics(registry, 'p');
    controllerMetrics(registry);
    measuredActivities({ a: () => Promise.resolve() }, registry);
    segmentsActivities({ warehouse: noWarehouse, producer: {} as Producer, changesTopic: () => 't', registry });
    modelsActivities({ warehouse: noWarehouse, log, registry });
    const built = (await registry.getMetricsAsJSON()).map((m) => m.name);
    assert.ok(built.length >= 25, `only ${built.length} metrics built`);
    for (const name of built) assert.ok(scanned.has(name), `${name} is registered but the scan of the code does not find it`);
  });

  test('USPA metrics follow one scheme: uspa_<component>_…, _total counters, units in names, shared label names', () => {
    const labels = new Set(['namespace', 'pipeline', 'source', 'segment', 'activation', 'model', 'kind', 'route', 'status', 'type', 'reason', 'action', 'consumer', 'outcome', 'figure', 'change', 'activity', 'result', 'task_queue', 'operation', 'cache', 'topic', 'format', 'purpose', 'granted']);
    /** The component a file's metrics are named after. */
    const component = (file: string) => /^(collector|operator)\//.exec(file)?.[1] ?? (file.startsWith('gateway/') ? 'api' : undefined) ?? /^workers\/(\w+)\//.exec(file)?.[1] ?? (file === 'lib/temporal-worker.ts' ? 'worker' : undefined);
    const regs = registrations();
    assert.equal(new Set(regs.map((r) => r.name)).size, regs.length, 'a metric name is registered twice');
    for (const r of regs) {
      const prefix = `uspa_${component(r.file)}_`;
      assert.ok(component(r.file), `${r.name} in ${r.file}: no component known for this file`);
      assert.ok(r.name.startsWith(prefix), `${r.name} (${r.file}) must start with ${prefix}`);
      assert.match(r.name, /^[a-z][a-z0-9_]*$/, r.name);
      if (r.type === 'counter') assert.match(r.name, /_total$/, `counter ${r.name} must end in _total`);
      else assert.doesNotMatch(r.name, /_total$/, `${r.type} ${r.name} must not end in _total`);
      if (r.type === 'histogram' || r.type === 'summary') assert.match(r.name, /_(seconds|bytes)$/, `${r.type} ${r.name} must name its unit`);
      for (const l of r.labels) assert.ok(labels.has(l), `${r.name}: label ${l} is new; name the same thing as the other metrics do (${[...labels].join(', ')}) or add it here`);
    }
  });

  test('every name the alerts read is exported', () => {
    assert.ok(ruleQueries.length >= 10);
    assert.deepEqual(unknownNames(ruleQueries, exported), []);
  });

  for (const { file, json } of dashboards) {
    test(`every name dashboard ${file} reads is exported`, () => {
      const queries = dashboardQueries(json);
      assert.ok(queries.length >= 5, `${file}: only ${queries.length} queries`);
      assert.deepEqual(unknownNames(queries, exported), []);
    });
  }

  test('every label a dashboard or alert filters or groups USPA metrics by is one they carry', () => {
    /** Series name → its labels, for USPA's own metrics (the default Node.js ones are not checked). */
    const labels = new Map<string, Set<string>>();
    for (const r of registrations()) {
      for (const series of [r.name, `${r.name}_bucket`, `${r.name}_sum`, `${r.name}_count`]) labels.set(series, new Set([...r.labels, ...TARGET_LABELS, ...(series.endsWith('_bucket') ? ['le'] : [])]));
    }
    labels.set('up', new Set(TARGET_LABELS));
    const problems = (queries: { where: string; expr: string }[]) =>
      queries.flatMap((q) => {
        const uses = labelUses(q.expr);
        const known = metricNamesIn(q.expr).filter((n) => labels.has(n));
        const wrongMatchers = uses.matchers.filter((m) => labels.has(m.metric) && !labels.get(m.metric)!.has(m.label)).map((m) => `${q.where}: ${m.metric} has no label ${m.label}`);
        const wrongGrouping = known.length ? uses.grouping.filter((l) => !known.some((n) => labels.get(n)!.has(l))).map((l) => `${q.where}: none of ${known.join(', ')} has label ${l}`) : [];
        return [...wrongMatchers, ...wrongGrouping];
      });
    assert.deepEqual(problems(ruleQueries), []);
    for (const { file, json } of dashboards) assert.deepEqual(problems(dashboardQueries(json)), [], file);
    // And it bites: a Pipeline's lag grouped by source, the collector filtered by pipeline.
    assert.deepEqual(problems([{ where: 'x', expr: 'sum by (source) (uspa_operator_pipeline_lag_events)' }, { where: 'y', expr: 'rate(uspa_collector_requests_total{pipeline="main"}[5m])' }]), [
      'x: none of uspa_operator_pipeline_lag_events has label source',
      'y: uspa_collector_requests_total has no label pipeline',
    ]);
  });

  test('a dashboard naming a metric nothing exports is caught', () => {
    const json = structuredClone(dashboards[0]!.json) as { panels: { title: string; targets?: { expr: string }[] }[] };
    const panel = json.panels.find((p) => p.targets?.length)!;
    panel.targets![0]!.expr = 'sum(rate(uspa_collector_events_acepted_total{namespace=~"$namespace"}[$__rate_interval]))';
    const unknown = unknownNames(dashboardQueries(json), exported);
    assert.equal(unknown.length, 1, unknown.join('\n'));
    assert.match(unknown[0]!, new RegExp(`^panel "${panel.title}" A: uspa_collector_events_acepted_total$`));
  });

  test('every USPA metric is on a dashboard', () => {
    const shown = new Set(dashboards.flatMap(({ json }) => dashboardQueries(json).flatMap((q) => metricNamesIn(q.expr))));
    const missing = registrations().filter((r) => !['', '_bucket', '_sum', '_count'].some((s) => shown.has(r.name + s)));
    assert.deepEqual(missing.map((r) => `${r.name} (${r.file})`), []);
  });

  test('every dashboard query is valid PromQL', async () => {
    const bin = await goTool(GO_TOOLS.promtool);
    for (const { file, json } of dashboards) {
      for (const q of dashboardQueries(json)) {
        const r = await runTool(bin, ['--experimental', 'promql', 'format', asPromQL(q.expr)]);
        assert.equal(r.code, 0, `${file} ${q.where}: ${asPromQL(q.expr)}\n${r.text}`);
      }
    }
  });
});
