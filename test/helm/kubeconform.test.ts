// `helm template | kubeconform -strict`: what the chart renders, what the operator renders from the
// chart's values (USPA_WORKLOADS → collector, pipeline and worker manifests) and our examples are
// valid Kubernetes objects. Schemas: test/helm/schemas.ts (the Kubernetes module's OpenAPI v3 and
// our CRD source), no download.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import { GO_TOOLS, goTool } from '../../stack/go-tool.ts';
import type { Pipeline, Source } from '../../api/v1alpha1/index.ts';
import { collectorManifests } from '../../operator/manifests/collector.ts';
import { pipelineManifests } from '../../operator/manifests/pipeline.ts';
import { apiManifests } from '../../operator/manifests/api.ts';
import { activationsWorkerRbac, pipelineWorkerRbac, workerManifests } from '../../operator/manifests/workers.ts';
import { WORKLOADS_ENV, workloadPolicyFromEnv } from '../../operator/manifests/policy.ts';
import { schemaLocation, writeSchemas } from './schemas.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHART = `${ROOT}helm/uspa`;
const HELM = process.env.USPA_HELM || 'helm';
const ENGINES = ['--set', 'kafka.brokers=kafka:9092', '--set', 'clickhouse.url=http://clickhouse:8123', '--set', 'temporal.address=temporal:7233'];
/** Every optional part of the chart and of what the operator renders from it, turned on (a values file: `{namespace}` is no --set value). */
const EVERYTHING = {
  kafka: { tls: { enabled: true, secretName: 'kafka-ca' }, sasl: { mechanism: 'scram-sha-512', existingSecret: 'kafka-user' } },
  clickhouse: { tls: { secretName: 'clickhouse-ca' } },
  temporal: { tls: { enabled: true, secretName: 'temporal-mtls', serverName: 'ns.tmprl.cloud' } },
  replicas: 3,
  imagePullSecrets: [{ name: 'regcred' }],
  crds: { apply: false },
  workloads: {
    image: 'registry.example/uspa@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    imagePullPolicy: 'Always',
    podSecurityContext: { runAsNonRoot: true, runAsUser: 4242, runAsGroup: 65532, fsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
    podAnnotations: { team: 'data' },
    nodeSelector: { pool: 'uspa' },
    collector: {
      autoscaling: { enabled: true, maxReplicas: 12, targetMemoryUtilizationPercentage: 70 },
      podDisruptionBudget: { enabled: true, maxUnavailable: null, minAvailable: '50%' },
      readinessProbe: { periodSeconds: 3 },
      livenessProbe: { timeoutSeconds: 4 },
      ingress: {
        enabled: true,
        className: 'nginx',
        annotations: { 'nginx.ingress.kubernetes.io/proxy-body-size': '1m' },
        hosts: ['{namespace}.collect.example.com'],
        tls: [{ secretName: '{namespace}-collect-tls', hosts: ['{namespace}.collect.example.com'] }],
      },
    },
    worker: { resources: { limits: { memory: '3Gi' } } },
    pipeline: { podDisruptionBudget: { enabled: false } },
  },
};

function run(cmd: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code === 'string') reject(new Error(`${cmd} could not be run (${err.code}): eval "$(npm run -s uspa -- stack env)"`));
      else resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

async function template(extra: string[] = [], values?: object): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'uspa-values-'));
  try {
    const file = join(dir, 'values.yaml');
    await writeFile(file, stringify(values ?? {}));
    const r = await run(HELM, ['template', 'rel', CHART, '--namespace', 'uspa-system', '--kube-version', '1.34.0', ...ENGINES, '-f', file, ...extra]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const objectsOf = (text: string) => parseAllDocuments(text).map((d) => d.toJS() as KubernetesObject | null).filter((o): o is KubernetesObject => o !== null);

/** What the operator renders for one namespace, from the env the chart gives the operator Deployment. */
function operatorRendered(chartText: string): KubernetesObject[] {
  const operator = objectsOf(chartText).find((o) => o.kind === 'Deployment') as V1Deployment;
  const env = new Map(operator.spec!.template.spec!.containers[0]!.env!.map((e) => [e.name, e.value]));
  const workloads = workloadPolicyFromEnv(env.get(WORKLOADS_ENV));
  const settings = { image: env.get('USPA_IMAGE')!, topicPrefix: 'uspa', databasePrefix: 'uspa', kafkaBrokers: ['kafka:9092'], clickhouse: { url: 'http://clickhouse:8123', username: 'u', password: 'p' }, temporal: { address: 'temporal:7233', namespace: 'default' }, workloads };
  const source = { apiVersion: 'uspa.tech/v1alpha1', kind: 'Source', metadata: { name: 'web', namespace: 'shop', uid: 'u1' }, spec: {} } as Source;
  const pipeline = { apiVersion: 'uspa.tech/v1alpha1', kind: 'Pipeline', metadata: { name: 'main', namespace: 'shop', uid: 'u2', generation: 1 }, spec: { sources: ['web'] } } as unknown as Pipeline;
  const owners = [{ apiVersion: 'uspa.tech/v1alpha1', kind: 'Segment', name: 's', uid: 'u3' }];
  const objects = [
    ...Object.values(collectorManifests('shop', [source], settings)),
    ...Object.values(pipelineManifests('shop', pipeline, [source], settings)),
    ...Object.values(pipelineWorkerRbac('shop', 'main', owners)),
    ...(['segments', 'activations', 'models', 'enrichment'] as const).flatMap((k) => Object.values(workerManifests('shop', k, owners, settings))),
    ...Object.values(activationsWorkerRbac('shop', owners)),
    ...Object.values(apiManifests('shop', [pipeline], [source], settings)),
  ];
  return objects.filter((o): o is KubernetesObject => o !== undefined);
}

test('kubeconform -strict: the chart, what the operator renders from its values, and the examples', { timeout: 600_000 }, async (t) => {
  const kubeconform = await goTool(GO_TOOLS.kubeconform);
  const dir = await mkdtemp(join(tmpdir(), 'uspa-schemas-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const made = await writeSchemas(dir);
  assert.ok(made.kubernetes > 100, `schemas from ${made.source}: ${made.kubernetes}`);
  const validate = async (what: string, yaml: string) => {
    const r = await run(kubeconform, ['-strict', '-summary', '-output', 'json', '-kubernetes-version', '1.34.4', '-schema-location', schemaLocation(dir)], yaml);
    const report = JSON.parse(r.stdout) as { resources?: Array<{ kind: string; name: string; status: string; msg: string }>; summary: { valid: number; invalid: number; errors: number; skipped: number } };
    const bad = (report.resources ?? []).filter((x) => x.status !== 'statusValid').map((x) => `${x.kind} ${x.name}: ${x.status} ${x.msg}`);
    assert.deepEqual(bad, [], `${what}: kubeconform -strict`);
    assert.equal(r.code, 0, r.stderr);
    return report.summary;
  };

  const defaults = await template();
  const everything = await template([], EVERYTHING);
  assert.equal((await validate('helm template (defaults)', defaults)).valid, objectsOf(defaults).length);
  assert.equal((await validate('helm template (everything on)', everything)).valid, objectsOf(everything).length);

  for (const [what, text] of [['defaults', defaults], ['everything on', everything]] as const) {
    const rendered = operatorRendered(text);
    const summary = await validate(`operator manifests (${what})`, rendered.map((o) => stringify(o)).join('---\n'));
    assert.equal(summary.valid, rendered.length);
  }
  const kinds = operatorRendered(everything).map((o) => o.kind);
  for (const kind of ['Deployment', 'Service', 'ConfigMap', 'Secret', 'PodDisruptionBudget', 'HorizontalPodAutoscaler', 'Ingress', 'Role']) assert.ok(kinds.includes(kind), `operator renders a ${kind}`);

  const examples = ['quickstart', 'sources', 'pipelines', 'segments', 'activations'].map((f) => `examples/${f}.yaml`);
  const r = await run(kubeconform, ['-strict', '-summary', '-schema-location', schemaLocation(dir), ...examples]);
  assert.equal(r.code, 0, `examples: ${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /Invalid: 0, Errors: 0, Skipped: 0/);

  // The schemas are strict: a misspelt field of a Kubernetes kind and of ours is refused.
  const typo = await run(kubeconform, ['-strict', '-schema-location', schemaLocation(dir)], await template(['--set', 'extraEnv[0].name=X', '--set', 'extraEnv[0].valu=1']));
  assert.notEqual(typo.code, 0);
  assert.match(typo.stdout, /additional properties 'valu' not allowed/);
  const crTypo = await run(kubeconform, ['-strict', '-schema-location', schemaLocation(dir)], 'apiVersion: uspa.tech/v1alpha1\nkind: Pipeline\nmetadata: {name: p}\nspec: {sources: [web], replica: 2}\n');
  assert.notEqual(crTypo.code, 0);
  assert.match(crTypo.stdout, /additional properties 'replica' not allowed/);
});

test('helm template: the workloads values reach the pods the operator runs, as set', { timeout: 60_000 }, async () => {
  const rendered = operatorRendered(await template([], EVERYTHING));
  const lookup = (kind: string, name: string): KubernetesObject => {
    const o = rendered.find((x) => x.kind === kind && x.metadata?.name === name);
    assert.ok(o, `${kind} ${name} rendered`);
    return o;
  };
  const find = (kind: string, name: string) => lookup(kind, name) as KubernetesObject & { spec: Record<string, unknown> };
  const deployments = rendered.filter((o) => o.kind === 'Deployment') as V1Deployment[];
  assert.equal(deployments.length, 7, 'collector, pipeline, four Temporal workers and the API gateway');
  for (const d of deployments) {
    const pod = d.spec!.template.spec!;
    const c = pod.containers[0]!;
    const name = d.metadata!.name;
    assert.equal(c.image, 'registry.example/uspa@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', `${name} image`);
    assert.equal(c.imagePullPolicy, 'Always', `${name} pull policy`);
    assert.deepEqual(pod.imagePullSecrets, [{ name: 'regcred' }], `${name} pull secrets (the operator's)`);
    assert.deepEqual(pod.securityContext, { runAsNonRoot: true, runAsUser: 4242, runAsGroup: 65532, fsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } }, `${name} pod security context`);
    assert.deepEqual(c.securityContext, { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } }, `${name} container security context`);
    assert.equal(d.spec!.template.metadata!.annotations!.team, 'data');
    assert.deepEqual(pod.nodeSelector, { pool: 'uspa' });
  }
  const collector = lookup('Deployment', 'uspa-collector') as V1Deployment;
  const c = collector.spec!.template.spec!.containers[0]!;
  assert.equal(collector.spec!.replicas, undefined, 'the HPA owns the collector\'s replicas');
  assert.deepEqual([c.readinessProbe?.periodSeconds, c.livenessProbe?.timeoutSeconds], [3, 4]);
  assert.deepEqual(c.resources, { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } });
  assert.equal((lookup('Deployment', 'uspa-worker-segments') as V1Deployment).spec!.template.spec!.containers[0]!.resources!.limits!.memory, '3Gi');

  const pdb = find('PodDisruptionBudget', 'uspa-collector');
  assert.deepEqual(pdb.spec, { minAvailable: '50%', selector: { matchLabels: collector.spec!.selector.matchLabels } });
  assert.equal(find('PodDisruptionBudget', 'uspa-worker-models').spec.maxUnavailable, 1);
  assert.ok(!rendered.some((o) => o.kind === 'PodDisruptionBudget' && o.metadata?.name === 'uspa-pipeline-main'), 'workloads.pipeline.podDisruptionBudget.enabled=false');
  const hpa = find('HorizontalPodAutoscaler', 'uspa-collector');
  assert.deepEqual([hpa.spec.minReplicas, hpa.spec.maxReplicas], [2, 12]);
  assert.deepEqual((hpa.spec.metrics as Array<{ resource: { name: string; target: { averageUtilization: number } } }>).map((m) => [m.resource.name, m.resource.target.averageUtilization]), [['cpu', 80], ['memory', 70]]);
  const ingress = find('Ingress', 'uspa-collector');
  assert.equal(ingress.spec.ingressClassName, 'nginx');
  assert.deepEqual(ingress.spec.tls, [{ hosts: ['shop.collect.example.com'], secretName: 'shop-collect-tls' }]);
  assert.equal((ingress.spec.rules as Array<{ host: string }>)[0]!.host, 'shop.collect.example.com');
  assert.equal(ingress.metadata?.annotations?.['nginx.ingress.kubernetes.io/proxy-body-size'], '1m');

  // Defaults: a budget that still lets one replica be drained, no HPA, no Ingress, restricted pods.
  const plain = operatorRendered(await template());
  assert.equal(plain.filter((o) => o.kind === 'HorizontalPodAutoscaler' || o.kind === 'Ingress').length, 0);
  const plainPdb = plain.find((o) => o.kind === 'PodDisruptionBudget' && o.metadata?.name === 'uspa-collector') as KubernetesObject & { spec: { maxUnavailable?: number } };
  assert.equal(plainPdb.spec.maxUnavailable, 1);
  for (const d of plain.filter((o) => o.kind === 'Deployment') as V1Deployment[]) {
    const pod = d.spec!.template.spec!;
    assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault', `${d.metadata!.name} seccomp`);
    assert.equal(pod.containers[0]!.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(pod.containers[0]!.imagePullPolicy, 'IfNotPresent', 'the operator\'s pull policy by default');
    assert.equal(pod.imagePullSecrets, undefined);
  }
});
