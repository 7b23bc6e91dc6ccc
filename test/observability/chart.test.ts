// The chart's monitoring values (monitoring.*, metrics.serviceMonitor): nothing monitoring-related
// renders by default; enabled, the dashboards become ConfigMaps Grafana's sidecar loads (its label
// configurable), the PrometheusRule holds exactly helm/uspa/rules/uspa.rules.yaml (minus disabled
// alerts, plus alertLabels), and the PodMonitor selects the pods the operator really renders and
// labels every USPA target job="uspa", as the alerts and dashboards expect. The PodMonitor,
// ServiceMonitor and PrometheusRule are checked, unknown fields refused, against the Prometheus
// Operator's own CRD schemas (its Go module's example/prometheus-operator-crd, from the Go proxy).
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Ajv } from 'ajv';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { GO_TOOLS, goTool } from '../../stack/go-tool.ts';
import { deployment } from '../../operator/manifests/workload.ts';
import { DASHBOARDS, ROOT, RULES, runTool as helm } from './metrics.ts';

const CHART = join(ROOT, 'helm/uspa');
const ENGINES = ['--set', 'kafka.brokers={kafka-0:9092}', '--set', 'clickhouse.url=http://clickhouse:8123', '--set', 'temporal.address=temporal:7233'];
const ALL_ON = ['--set', 'monitoring.dashboards.enabled=true', '--set', 'monitoring.rules.enabled=true', '--set', 'monitoring.podMonitor.enabled=true', '--set', 'metrics.serviceMonitor.enabled=true'];
const DASHBOARD_NAMES = ['api', 'campaigns', 'ingestion', 'operator', 'pipeline', 'segments'];
/** The Prometheus Operator release whose CRDs the monitoring objects are checked against. */
const PROMETHEUS_OPERATOR = 'github.com/prometheus-operator/prometheus-operator@v0.85.0';

/** The module's folder in Go's module cache (downloaded once from the Go module proxy). */
function goModule(mod: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('go', ['mod', 'download', '-json', mod], { cwd: tmpdir(), timeout: 600_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`go mod download ${mod}: ${stderr || stdout || err.message}`));
      else resolve((JSON.parse(stdout) as { Dir: string }).Dir);
    });
  });
}

type Schema = { type?: string; properties?: Record<string, Schema>; items?: Schema; additionalProperties?: unknown; 'x-kubernetes-preserve-unknown-fields'?: boolean; [k: string]: unknown };

/** A CRD's schema made strict as `kubectl --validate=strict` is: a field the schema does not name is an error. */
function strict(schema: Schema): Schema {
  const out: Schema = { ...schema };
  // Go's inline flags ((?i)) are no JavaScript: such a pattern is left to the API server.
  if (typeof schema.pattern === 'string' && schema.pattern.includes('(?i)')) delete out.pattern;
  if (schema.properties) {
    out.properties = Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, strict(v)]));
    if (schema.additionalProperties === undefined && !schema['x-kubernetes-preserve-unknown-fields']) out.additionalProperties = false;
  }
  if (schema.items) out.items = strict(schema.items);
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const) if (Array.isArray(schema[key])) out[key] = (schema[key] as Schema[]).map(strict);
  return out;
}

interface K8sObject {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  data?: Record<string, string>;
  spec?: Record<string, unknown>;
}

interface Dashboard {
  uid: string;
  tags: string[];
  templating: { list: { name: string; type: string; query: unknown }[] };
  panels: { id: number; type: string; title: string; datasource?: unknown; gridPos: { x: number; y: number; w: number; h: number } }[];
}

describe('chart: dashboards, alerts and scraping', { timeout: 1_800_000 }, () => {
  let bin: string;
  const render = async (...extra: string[]): Promise<K8sObject[]> => {
    const r = await helm(bin, ['template', 'uspa', CHART, '--namespace', 'uspa-system', '--kube-version', '1.34.0', ...ENGINES, ...extra]);
    assert.equal(r.code, 0, r.err);
    return parseAllDocuments(r.out).map((d) => d.toJS() as K8sObject).filter(Boolean);
  };
  const monitoringObjects = (objects: K8sObject[]) => objects.filter((o) => ['PodMonitor', 'ServiceMonitor', 'PrometheusRule'].includes(o.kind) || o.metadata.labels?.grafana_dashboard !== undefined);
  before(async () => {
    bin = await goTool(GO_TOOLS.helm);
  });

  test('off by default', async () => {
    assert.deepEqual(monitoringObjects(await render()), []);
  });

  test('helm lint --strict with everything on', async () => {
    const r = await helm(bin, ['lint', '--strict', CHART, '--kube-version', '1.34.0', ...ENGINES, ...ALL_ON]);
    assert.equal(r.code, 0, r.out + r.err);
  });

  test('each dashboard is a ConfigMap with the sidecar label, holding the file as it is', async () => {
    const maps = (await render(...ALL_ON)).filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1');
    assert.deepEqual(maps.map((m) => m.metadata.name).sort(), DASHBOARD_NAMES.map((n) => `uspa-dashboard-${n}`));
    for (const m of maps) {
      const name = m.metadata.name.replace('uspa-dashboard-', '');
      assert.equal(m.metadata.namespace, 'uspa-system');
      assert.deepEqual(Object.keys(m.data ?? {}), [`${name}.json`]);
      assert.deepEqual(JSON.parse(m.data![`${name}.json`]!), JSON.parse(readFileSync(join(DASHBOARDS, `${name}.json`), 'utf8')));
    }
    const uids = maps.map((m) => (JSON.parse(Object.values(m.data!)[0]!) as { uid: string }).uid);
    assert.equal(new Set(uids).size, uids.length, `dashboard uids must differ: ${uids.join(', ')}`);

    const custom = (await render(...ALL_ON, '--set', 'monitoring.dashboards.label=dashboards', '--set', 'monitoring.dashboards.labelValue=uspa', '--set', 'monitoring.dashboards.namespace=grafana', '--set', 'monitoring.dashboards.annotations.grafana_folder=USPA')).filter((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('uspa-dashboard-'));
    assert.equal(custom.length, DASHBOARD_NAMES.length);
    for (const m of custom) {
      assert.equal(m.metadata.labels?.dashboards, 'uspa');
      assert.equal(m.metadata.labels?.grafana_dashboard, undefined);
      assert.equal(m.metadata.namespace, 'grafana');
      assert.equal(m.metadata.annotations?.grafana_folder, 'USPA');
    }
  });

  test('the dashboards are well-formed: own uid, the uspa tag, a data source variable every panel uses, a grid without overlaps', () => {
    const uids = new Set<string>();
    for (const name of DASHBOARD_NAMES) {
      const d = JSON.parse(readFileSync(join(DASHBOARDS, `${name}.json`), 'utf8')) as Dashboard;
      assert.equal(d.uid, `uspa-${name}`);
      assert.ok(!uids.has(d.uid));
      uids.add(d.uid);
      assert.ok(d.tags.includes('uspa'), name);
      assert.ok(d.templating.list.some((v) => v.name === 'datasource' && v.type === 'datasource' && v.query === 'prometheus'), `${name}: no Prometheus data source variable`);
      const cells = new Set<string>();
      const ids = new Set<number>();
      for (const p of d.panels) {
        assert.ok(!ids.has(p.id), `${name}: panel id ${p.id} twice`);
        ids.add(p.id);
        if (p.type !== 'row') assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${datasource}' }, `${name}: panel "${p.title}"`);
        const { x, y, w, h } = p.gridPos;
        assert.ok(x >= 0 && w > 0 && x + w <= 24, `${name}: panel "${p.title}" is outside the 24 columns`);
        for (let i = x; i < x + w; i++) {
          for (let j = y; j < y + h; j++) {
            assert.ok(!cells.has(`${i},${j}`), `${name}: panel "${p.title}" overlaps another at ${i},${j}`);
            cells.add(`${i},${j}`);
          }
        }
      }
    }
  });

  test('the PrometheusRule is the rule file, minus disabled alerts, plus alertLabels', async () => {
    const file = parse(readFileSync(RULES, 'utf8')) as { groups: { name: string; rules: { alert: string; labels: Record<string, string> }[] }[] };
    const [rule] = (await render(...ALL_ON, '--set', 'monitoring.rules.labels.release=kube-prometheus-stack')).filter((o) => o.kind === 'PrometheusRule');
    assert.ok(rule);
    assert.equal(rule.metadata.labels?.release, 'kube-prometheus-stack');
    assert.deepEqual(rule.spec, { groups: file.groups });

    const [tuned] = (await render(...ALL_ON, '--set', 'monitoring.rules.disabled={UspaIngestionStopped}', '--set', 'monitoring.rules.alertLabels.team=data', '--set', 'monitoring.rules.alertLabels.severity=info')).filter((o) => o.kind === 'PrometheusRule');
    const alerts = (tuned!.spec as typeof file).groups.flatMap((g) => g.rules);
    const expected = file.groups.flatMap((g) => g.rules).filter((r) => r.alert !== 'UspaIngestionStopped');
    assert.deepEqual(alerts.map((a) => a.alert), expected.map((a) => a.alert));
    for (const a of alerts) assert.deepEqual(a.labels, { team: 'data', severity: expected.find((e) => e.alert === a.alert)!.labels.severity }, a.alert);

    const refused = await helm(bin, ['template', 'uspa', CHART, '--kube-version', '1.34.0', ...ENGINES, '--set', 'monitoring.rules.enabled=true', '--set', 'monitoring.rules.disabled={NotAnAlert}']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.err, /monitoring\.rules\.disabled: NotAnAlert is not one of the chart's alerts \(UspaIngestionStopped, /);
  });

  test('the PodMonitor, ServiceMonitor and PrometheusRule are valid against the Prometheus Operator CRDs', async () => {
    const dir = join(await goModule(PROMETHEUS_OPERATOR), 'example/prometheus-operator-crd');
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    const validator = (plural: string) => {
      const crd = parse(readFileSync(join(dir, `monitoring.coreos.com_${plural}.yaml`), 'utf8')) as { spec: { versions: { name: string; schema: { openAPIV3Schema: Schema } }[] } };
      return ajv.compile(strict(crd.spec.versions.find((v) => v.name === 'v1')!.schema.openAPIV3Schema));
    };
    const validators: Record<string, ReturnType<Ajv['compile']>> = { PodMonitor: validator('podmonitors'), ServiceMonitor: validator('servicemonitors'), PrometheusRule: validator('prometheusrules') };
    const objects = (await render(...ALL_ON)).filter((o) => o.kind in validators);
    assert.deepEqual(objects.map((o) => o.kind).sort(), ['PodMonitor', 'PrometheusRule', 'ServiceMonitor']);
    for (const o of objects) {
      const validate = validators[o.kind]!;
      assert.ok(validate(o), `${o.kind}: ${ajv.errorsText(validate.errors)}`);
    }
    // Strict: a misspelt field is refused.
    const typo = structuredClone(objects.find((o) => o.kind === 'PodMonitor')!) as K8sObject & { spec: { podMetricsEndpoints: Record<string, unknown>[] } };
    typo.spec.podMetricsEndpoints[0]!.honorLabel = true;
    assert.equal(validators.PodMonitor!(typo), false);
  });

  test('the PodMonitor selects the pods the operator renders, and every USPA target gets job="uspa"', async () => {
    const objects = await render(...ALL_ON);
    const pm = objects.find((o) => o.kind === 'PodMonitor')!;
    const spec = pm.spec as { namespaceSelector: unknown; selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: { port: string; path: string; honorLabels: boolean; relabelings: { targetLabel: string; replacement?: string; sourceLabels?: string[] }[] }[] };
    assert.deepEqual(spec.namespaceSelector, { any: true });
    for (const component of ['collector', 'pipeline', 'worker-segments', 'worker-activations']) {
      const d = deployment({ name: `uspa-${component}`, namespace: 'shop', component, owners: [], replicas: 1, image: 'uspa', args: [], port: 9464, env: [], configHash: 'h' });
      const podLabels = d.spec!.template.metadata!.labels!;
      for (const [k, v] of Object.entries(spec.selector.matchLabels)) assert.equal(podLabels[k], v, `${component} pods lack ${k}=${v}`);
      assert.ok(d.spec!.template.spec!.containers[0]!.ports!.some((p) => p.name === spec.podMetricsEndpoints[0]!.port), `${component}: no port ${spec.podMetricsEndpoints[0]!.port}`);
    }
    // The operator's own pods are the ServiceMonitor's, not scraped twice.
    const operator = objects.find((o) => o.kind === 'Deployment')! as unknown as { spec: { template: { metadata: { labels: Record<string, string> } } } };
    assert.ok(Object.entries(spec.selector.matchLabels).some(([k, v]) => operator.spec.template.metadata.labels[k] !== v));

    const sm = objects.find((o) => o.kind === 'ServiceMonitor')!;
    const endpoints = [spec.podMetricsEndpoints[0]!, (sm.spec as { endpoints: typeof spec.podMetricsEndpoints }).endpoints[0]!];
    for (const e of endpoints) {
      assert.equal(e.path, '/metrics');
      assert.equal(e.honorLabels, true, 'the operator labels its per-Pipeline metrics with the Pipeline namespace');
      assert.ok(e.relabelings.some((r) => r.targetLabel === 'job' && r.replacement === 'uspa'), JSON.stringify(e.relabelings));
      assert.ok(e.relabelings.some((r) => r.targetLabel === 'component'), JSON.stringify(e.relabelings));
    }
  });
});
