// The Helm chart helm/uspa: its CRDs match the generated ones, it lints, its values are validated
// by values.schema.json, it renders what the operator needs, and it installs on the real API server
// with least-privilege RBAC (checked with `kubectl auth can-i`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { eventually, required, unique } from '../support/env.ts';
import { KINDS } from '../../api/v1alpha1/index.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHART = `${ROOT}helm/uspa`;
const HELM = process.env.USPA_HELM || 'helm';
const KUBECTL = process.env.USPA_KUBECTL || 'kubectl';
const CRD_NAMES = KINDS.map((k) => `${k.plural}.uspa.tech`);

/** The engine addresses the chart requires, as --set flags. */
const ENGINES = ['--set', 'kafka.brokers={kafka-0:9092,kafka-1:9092}', '--set', 'clickhouse.url=http://clickhouse:8123', '--set', 'temporal.address=temporal:7233'];
/** A password that must never appear in the rendered Deployment. */
const PASSWORD = 'pw-never-literal-7f3a';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: ROOT, maxBuffer: 32 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code === 'string') {
        reject(new Error(`${cmd} could not be run (${err.code}): put helm and kubectl on PATH with \`eval "$(npm run -s uspa -- stack env)"\``));
        return;
      }
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function ok(cmd: string, args: string[]): Promise<string> {
  const result = await run(cmd, args);
  assert.equal(result.code, 0, `${cmd} ${args.join(' ')} failed:\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

// A loose view of the rendered Kubernetes objects: enough to walk them in assertions.
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  env: EnvVar[];
  ports: Array<{ name: string; containerPort: number }>;
  readinessProbe: { httpGet: { path: string; port: string } };
  livenessProbe: { httpGet: { path: string; port: string } };
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  securityContext: { runAsNonRoot?: boolean; readOnlyRootFilesystem?: boolean; capabilities?: { drop?: string[] } };
}
interface Deployment extends K8sObject {
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: { serviceAccountName: string; terminationGracePeriodSeconds: number; securityContext?: { runAsNonRoot?: boolean }; containers: Container[] } };
  };
}
interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

async function template(release: string, namespace: string, extra: string[] = []): Promise<{ text: string; objects: K8sObject[] }> {
  const text = await ok(HELM, ['template', release, CHART, '--namespace', namespace, '--kube-version', '1.34.0', ...ENGINES, ...extra]);
  const objects = parseAllDocuments(text)
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
  return { text, objects };
}

function only<T extends K8sObject = K8sObject>(objects: K8sObject[], kind: string): T {
  const found = objects.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `expected one ${kind}, rendered ${found.length}`);
  return found[0] as T;
}

/** Whether the rules grant verb on apiGroup/resource (wildcards count, so a `*` can't sneak in unnoticed). */
function grants(rules: Rule[], apiGroup: string, resource: string, verb: string): boolean {
  return rules.some((r) => (r.apiGroups.includes(apiGroup) || r.apiGroups.includes('*')) && (r.resources.includes(resource) || r.resources.includes('*')) && (r.verbs.includes(verb) || r.verbs.includes('*')));
}

test('helm chart: helm/uspa/crds are the generated crds/*.yaml', async () => {
  const yamlFiles = async (dir: string) => (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort();
  const generated = await yamlFiles(`${ROOT}crds`);
  assert.ok(generated.length >= 4, 'crds/*.yaml: expected the generated CRDs (npm run gen:crds)');
  assert.deepEqual(await yamlFiles(`${CHART}/crds`), generated, 'helm/uspa/crds has other files than crds/*.yaml: run npm run gen:crds');
  for (const file of generated) {
    const [want, have] = await Promise.all([readFile(`${ROOT}crds/${file}`, 'utf8'), readFile(`${CHART}/crds/${file}`, 'utf8')]);
    assert.equal(have, want, `helm/uspa/crds/${file} differs from crds/${file}: run npm run gen:crds`);
  }
});

test('helm chart: lints, and values.schema.json refuses bad values naming them', { timeout: 60_000 }, async () => {
  const good = await run(HELM, ['lint', CHART, '--strict', ...ENGINES]);
  assert.equal(good.code, 0, `helm lint failed:\n${good.stdout}${good.stderr}`);

  const cases: Array<{ what: string; args: string[]; names: RegExp }> = [
    { what: 'replicas=-1', args: [...ENGINES, '--set', 'replicas=-1'], names: /\/replicas'?: minimum/ },
    { what: 'no temporal.address', args: ['--set', 'kafka.brokers=kafka:9092', '--set', 'clickhouse.url=http://clickhouse:8123'], names: /\/temporal\/address/ },
    { what: 'no kafka.brokers', args: ['--set', 'clickhouse.url=http://clickhouse:8123', '--set', 'temporal.address=temporal:7233'], names: /\/kafka\/brokers/ },
    { what: 'clickhouse.url not a URL', args: [...ENGINES, '--set', 'clickhouse.url=clickhouse:8123'], names: /\/clickhouse\/url/ },
    { what: 'logLevel outside its enum', args: [...ENGINES, '--set', 'logLevel=loud'], names: /\/logLevel'?: value must be one of/ },
    { what: 'image.pullPolicy outside its enum', args: [...ENGINES, '--set', 'image.pullPolicy=Sometimes'], names: /\/image\/pullPolicy/ },
    { what: 'a misspelt value', args: [...ENGINES, '--set', 'replica=3'], names: /'replica' not allowed/ },
    { what: 'a misspelt workloads value', args: [...ENGINES, '--set', 'workloads.collector.autoscale.enabled=true'], names: /'autoscale' not allowed/ },
    { what: 'a security context field that does not exist', args: [...ENGINES, '--set', 'workloads.securityContext.readOnlyRootFs=true'], names: /'readOnlyRootFs' not allowed/ },
    { what: 'an Ingress without hosts', args: [...ENGINES, '--set', 'workloads.collector.ingress.enabled=true'], names: /\/workloads\/collector\/ingress\/hosts'?: minItems/ },
    { what: 'both minAvailable and maxUnavailable', args: [...ENGINES, '--set', 'workloads.worker.podDisruptionBudget.minAvailable=1'], names: /\/workloads\/worker\/podDisruptionBudget/ },
    { what: 'crds.apply not a boolean', args: [...ENGINES, '--set-string', 'crds.apply=yes'], names: /\/crds\/apply/ },
  ];
  for (const c of cases) {
    const bad = await run(HELM, ['lint', CHART, ...c.args]);
    const output = bad.stdout + bad.stderr;
    assert.notEqual(bad.code, 0, `helm lint accepted ${c.what}:\n${output}`);
    assert.match(output, c.names, `helm lint refused ${c.what} without naming the value:\n${output}`);
  }

  // The chart's kubeVersion constraint.
  const old = await run(HELM, ['template', 'x', CHART, '--kube-version', '1.28.0', ...ENGINES]);
  assert.notEqual(old.code, 0);
  assert.match(old.stderr, /kubeVersion: >=1\.29\.0-0/);
  // A removed values key fails naming what replaced it, also where the schema would only say "not allowed".
  const removed = await run(HELM, ['template', 'x', CHART, '--kube-version', '1.34.0', ...ENGINES, '--set', 'workloadImage=registry.example/uspa:1']);
  assert.notEqual(removed.code, 0, 'workloadImage was accepted');
  assert.match(removed.stderr, /values: workloadImage was removed; use workloads\.image \(chart 0\.2\.0\) instead/);
  // (helm lint runs templates in lint mode, where `fail` is only an INFO line; install and upgrade fail: upgrade.test.ts.)
  // Several replicas without leader election would all reconcile.
  const noElection = await run(HELM, ['template', 'x', CHART, '--kube-version', '1.34.0', ...ENGINES, '--set', 'leaderElection=false']);
  assert.notEqual(noElection.code, 0);
  assert.match(noElection.stderr, /needs leaderElection: true/);
});

test('helm chart: renders the operator Deployment, least-privilege RBAC, Service and PDB', { timeout: 60_000 }, async () => {
  const { objects } = await template('rel', 'uspa-system', ['--set', `clickhouse.password=${PASSWORD}`, '--set', 'clickhouse.user=uspa']);

  const deployment = only<Deployment>(objects, 'Deployment');
  assert.equal(deployment.metadata.name, 'uspa-operator');
  assert.equal(deployment.metadata.namespace, 'uspa-system');
  assert.equal(deployment.spec.replicas, 2);
  const podLabels = deployment.spec.template.metadata.labels;
  assert.equal(podLabels['app.kubernetes.io/part-of'], 'uspa', 'the local runtime only runs pods labelled part-of=uspa');
  assert.equal(podLabels['app.kubernetes.io/name'], 'uspa-operator');
  assert.equal(podLabels['app.kubernetes.io/instance'], 'rel');
  assert.equal(podLabels['app.kubernetes.io/managed-by'], 'Helm');
  assert.equal(podLabels['helm.sh/chart'], 'uspa-0.2.0');
  for (const [k, v] of Object.entries(deployment.spec.selector.matchLabels)) assert.equal(podLabels[k], v, `selector label ${k}`);

  const pod = deployment.spec.template.spec;
  assert.equal(pod.serviceAccountName, 'uspa-operator');
  assert.equal(pod.terminationGracePeriodSeconds, 30);
  assert.equal(pod.containers.length, 1);
  const c = pod.containers[0]!;
  assert.equal(c.image, 'ghcr.io/uspa-tech/uspa:0.1.0');
  assert.deepEqual(c.args, ['operator']);
  assert.deepEqual(c.ports.map((p) => [p.name, p.containerPort]), [['http', 8081]]);
  assert.deepEqual([c.readinessProbe.httpGet.path, c.readinessProbe.httpGet.port], ['/readyz', 'http']);
  assert.deepEqual([c.livenessProbe.httpGet.path, c.livenessProbe.httpGet.port], ['/healthz', 'http']);
  assert.deepEqual(c.resources, { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '512Mi' } });
  assert.equal(c.securityContext.runAsNonRoot, true);
  assert.equal(c.securityContext.readOnlyRootFilesystem, true);
  assert.deepEqual(c.securityContext.capabilities?.drop, ['ALL']);

  const env = new Map(c.env.map((e) => [e.name, e]));
  const value = (name: string) => {
    const e = env.get(name);
    assert.ok(e, `env ${name} is missing`);
    return e.value;
  };
  assert.equal(value('KAFKA_BROKERS'), 'kafka-0:9092,kafka-1:9092');
  assert.equal(value('CLICKHOUSE_URL'), 'http://clickhouse:8123');
  assert.equal(value('CLICKHOUSE_USER'), 'uspa');
  assert.equal(value('TEMPORAL_ADDRESS'), 'temporal:7233');
  assert.equal(value('TEMPORAL_NAMESPACE'), 'default');
  assert.equal(value('USPA_TOPIC_PREFIX'), 'uspa');
  assert.equal(value('USPA_DATABASE_PREFIX'), 'uspa');
  assert.equal(value('USPA_IMAGE'), 'ghcr.io/uspa-tech/uspa:0.1.0');
  assert.equal(value('USPA_LEADER_ELECTION'), 'true');
  assert.equal(value('USPA_RESYNC_SECONDS'), '600');
  assert.equal(value('USPA_CLICKHOUSE_NAMESPACE_USERS'), 'true', 'each namespace gets its own ClickHouse user unless the installation says otherwise');
  assert.equal(value('PORT'), '8081');
  assert.deepEqual(env.get('POD_NAME')?.valueFrom, { fieldRef: { fieldPath: 'metadata.name' } });
  assert.deepEqual(env.get('POD_NAMESPACE')?.valueFrom, { fieldRef: { fieldPath: 'metadata.namespace' } });

  // The password reaches the operator only through the Secret.
  const password = env.get('CLICKHOUSE_PASSWORD');
  assert.equal(password?.value, undefined, 'CLICKHOUSE_PASSWORD must not be a literal value');
  assert.deepEqual(password?.valueFrom, { secretKeyRef: { name: 'uspa-operator-clickhouse', key: 'password' } });
  assert.ok(!JSON.stringify(deployment).includes(PASSWORD), 'the ClickHouse password appears in the rendered Deployment');
  const secret = only(objects, 'Secret') as K8sObject & { data: Record<string, string> };
  assert.equal(secret.metadata.name, 'uspa-operator-clickhouse');
  assert.equal(Buffer.from(secret.data.password!, 'base64').toString(), PASSWORD);

  // RBAC: cluster-scoped names carry namespace and release; leases only in the namespaced Role.
  const clusterRole = only(objects, 'ClusterRole') as K8sObject & { rules: Rule[] };
  const clusterBinding = only(objects, 'ClusterRoleBinding') as K8sObject & { roleRef: { name: string }; subjects: Array<{ name: string; namespace: string }> };
  assert.equal(clusterRole.metadata.name, 'uspa-operator-uspa-system-rel');
  assert.equal(clusterBinding.roleRef.name, clusterRole.metadata.name);
  assert.deepEqual(clusterBinding.subjects.map((s) => [s.name, s.namespace]), [['uspa-operator', 'uspa-system']]);
  const rules = clusterRole.rules;
  for (const kind of KINDS.map((k) => k.plural)) {
    for (const verb of ['get', 'list', 'watch', 'patch']) assert.ok(grants(rules, 'uspa.tech', kind, verb), `${kind} ${verb}`);
    // Segments and Activations: held only to be granted to the API gateway's Role.
    const delegated = kind === 'segments' || kind === 'activations' || kind === 'privacyrequests';
    for (const verb of ['create', 'delete']) assert.equal(grants(rules, 'uspa.tech', kind, verb), delegated, `${kind} ${verb}`);
    assert.equal(grants(rules, 'uspa.tech', kind, 'update'), kind === 'segments' || kind === 'activations', `${kind} update`);
    for (const verb of ['get', 'patch']) assert.ok(grants(rules, 'uspa.tech', `${kind}/status`, verb), `${kind}/status ${verb}`);
    assert.ok(grants(rules, 'uspa.tech', `${kind}/finalizers`, 'update'), `${kind}/finalizers update`);
  }
  // Server-side apply (create, patch) of what it manages; garbage collection deletes; only Deployments are watched.
  for (const [group, resource] of [['apps', 'deployments'], ['', 'configmaps'], ['', 'services'], ['', 'secrets'], ['', 'serviceaccounts'], ['rbac.authorization.k8s.io', 'roles']] as const) {
    for (const verb of ['get', 'create', 'patch']) assert.ok(grants(rules, group, resource, verb), `${group}/${resource} ${verb}`);
    assert.ok(!grants(rules, group, resource, 'delete'), `${group}/${resource} delete`);
  }
  for (const verb of ['list', 'watch']) {
    assert.ok(grants(rules, 'apps', 'deployments', verb), `deployments ${verb}`);
    assert.ok(!grants(rules, '', 'secrets', verb), `secrets ${verb}: the operator reads Secrets by name only`);
  }
  for (const verb of ['create', 'patch']) assert.ok(grants(rules, '', 'events', verb), `events ${verb}`);
  assert.ok(!grants(rules, '', 'events', 'delete'));
  assert.ok(!grants(rules, 'coordination.k8s.io', 'leases', 'get'), 'leases must not be granted cluster-wide');
  assert.ok(!rules.some((r) => [...r.apiGroups, ...r.resources, ...r.verbs].includes('*')), 'no wildcards in the ClusterRole');

  const role = only(objects, 'Role') as K8sObject & { rules: Rule[] };
  assert.equal(role.metadata.namespace, 'uspa-system');
  for (const verb of ['get', 'create', 'update']) assert.ok(grants(role.rules, 'coordination.k8s.io', 'leases', verb), `leases ${verb}`);
  assert.deepEqual(role.rules.flatMap((r) => r.resources), ['leases', 'leases'], 'the Role grants leases only');
  assert.deepEqual(role.rules.map((r) => (r as Rule & { resourceNames?: string[] }).resourceNames), [undefined, ['uspa-operator']], 'reading and renewing: the operator\'s Lease only');
  only(objects, 'RoleBinding');
  only(objects, 'ServiceAccount');

  const service = only(objects, 'Service') as K8sObject & { spec: { ports: Array<{ port: number; targetPort: string }>; selector: Record<string, string> } };
  assert.equal(service.metadata.name, 'uspa-operator-metrics');
  assert.deepEqual(service.spec.ports.map((p) => [p.port, p.targetPort]), [[8081, 'http']]);
  assert.deepEqual(service.spec.selector, deployment.spec.selector.matchLabels);
  const pdb = only(objects, 'PodDisruptionBudget') as K8sObject & { spec: { minAvailable: number } };
  assert.equal(pdb.spec.minAvailable, 1);
  assert.equal(objects.filter((o) => o.kind === 'ServiceMonitor').length, 0, 'the ServiceMonitor is off by default');
  // The CRDs: the operator's leader applies them (USPA_APPLY_CRDS), by name, never deleting one.
  assert.equal(value('USPA_APPLY_CRDS'), 'true');
  for (const verb of ['get', 'patch', 'create']) assert.ok(grants(rules, 'apiextensions.k8s.io', 'customresourcedefinitions', verb), `customresourcedefinitions ${verb}`);
  assert.ok(!grants(rules, 'apiextensions.k8s.io', 'customresourcedefinitions', 'delete'));
  const named = rules.find((r) => r.resources.includes('customresourcedefinitions') && r.verbs.includes('patch')) as Rule & { resourceNames?: string[] };
  assert.deepEqual(named.resourceNames, CRD_NAMES, 'patch only our own CRDs');
  const noCrds = await template('rel', 'uspa-system', ['--set', 'crds.apply=false']);
  assert.equal(only<Deployment>(noCrds.objects, 'Deployment').spec.template.spec.containers[0]!.env.find((e) => e.name === 'USPA_APPLY_CRDS')?.value, 'false');
  assert.ok(!grants((only(noCrds.objects, 'ClusterRole') as K8sObject & { rules: Rule[] }).rules, 'apiextensions.k8s.io', 'customresourcedefinitions', 'patch'), 'crds.apply=false takes the CRD rule away');
  // What the operator runs: their PDBs, HPA and Ingress are applied, and deleted when turned off.
  for (const [group, resource] of [['policy', 'poddisruptionbudgets'], ['autoscaling', 'horizontalpodautoscalers'], ['networking.k8s.io', 'ingresses']] as const) {
    for (const verb of ['get', 'create', 'patch', 'delete']) assert.ok(grants(rules, group, resource, verb), `${group}/${resource} ${verb}`);
  }
  // helm test: one Pod hook that runs uspa check roundtrip as the operator's account, not selected by its Service.
  const testPod = only(objects, 'Pod') as K8sObject & { metadata: { annotations: Record<string, string> }; spec: { serviceAccountName: string; containers: Container[] } };
  assert.equal(testPod.metadata.annotations['helm.sh/hook'], 'test');
  assert.deepEqual(testPod.spec.containers[0]!.args, ['check', 'roundtrip', '--namespace', 'uspa-demo', '--source', 'web', '--timeout', '120']);
  assert.equal(testPod.spec.serviceAccountName, 'uspa-operator');
  assert.deepEqual(testPod.spec.containers[0]!.env.find((e) => e.name === 'CLICKHOUSE_PASSWORD')?.valueFrom, { secretKeyRef: { name: 'uspa-operator-clickhouse', key: 'password' } });
  assert.ok(Object.entries(service.spec.selector).some(([k, v]) => testPod.metadata.labels?.[k] !== v), 'the metrics Service selects the test Pod');
  assert.ok(!JSON.stringify(testPod).includes(PASSWORD));
  const tolerating = await template('rel', 'uspa-system', ['--set', 'tolerations[0].key=uspa.tech/node', '--set', 'tolerations[0].operator=Exists']);
  assert.deepEqual((only(tolerating.objects, 'Pod') as K8sObject & { spec: { tolerations?: unknown } }).spec.tolerations, [{ key: 'uspa.tech/node', operator: 'Exists' }], 'the test Pod runs where the operator may');
  for (const o of objects) assert.equal(o.metadata.labels?.['app.kubernetes.io/part-of'], 'uspa', `${o.kind} ${o.metadata.name} labels`);

  // Variants: one replica has no PDB; an existing Secret replaces the chart's; the ServiceMonitor.
  const single = await template('rel', 'uspa-system', ['--set', 'replicas=1', '--set', 'clickhouse.existingSecret=ch-creds', '--set', 'clickhouse.passwordKey=pw', '--set', 'metrics.serviceMonitor.enabled=true', '--set', 'kafka.brokers=kafka:9092']);
  assert.equal(single.objects.filter((o) => o.kind === 'PodDisruptionBudget').length, 0);
  assert.equal(single.objects.filter((o) => o.kind === 'Secret').length, 0);
  const singleEnv = only<Deployment>(single.objects, 'Deployment').spec.template.spec.containers[0]!.env;
  assert.deepEqual(singleEnv.find((e) => e.name === 'CLICKHOUSE_PASSWORD')?.valueFrom, { secretKeyRef: { name: 'ch-creds', key: 'pw' } });
  assert.equal(singleEnv.find((e) => e.name === 'KAFKA_BROKERS')?.value, 'kafka:9092');
  const shared = await template('rel', 'uspa-system', ['--set', 'clickhouse.namespaceUsers=false']);
  assert.equal(only<Deployment>(shared.objects, 'Deployment').spec.template.spec.containers[0]!.env.find((e) => e.name === 'USPA_CLICKHOUSE_NAMESPACE_USERS')?.value, 'false');
  assert.equal(only(single.objects, 'ServiceMonitor').apiVersion, 'monitoring.coreos.com/v1');
});

test('helm chart: engine TLS and SASL reach the operator as mounted Secrets and secretKeyRefs, never as values', { timeout: 60_000 }, async () => {
  const { objects, text } = await template('rel', 'uspa-system', [
    '--set', 'kafka.tls.enabled=true', '--set', 'kafka.tls.secretName=kafka-ca',
    '--set', 'kafka.sasl.mechanism=scram-sha-256', '--set', 'kafka.sasl.existingSecret=kafka-user',
    '--set', 'clickhouse.url=https://clickhouse:8443', '--set', 'clickhouse.tls.secretName=clickhouse-ca',
    '--set', 'temporal.tls.enabled=true', '--set', 'temporal.tls.secretName=temporal-mtls', '--set', 'temporal.tls.serverName=ns.tmprl.cloud',
  ]);
  const deployment = only<Deployment>(objects, 'Deployment');
  const pod = deployment.spec.template.spec as Deployment['spec']['template']['spec'] & { volumes: Array<{ name: string; secret?: { secretName: string } }> };
  const c = pod.containers[0]! as Container & { volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }> };
  const env = new Map(c.env.map((e) => [e.name, e]));
  assert.equal(env.get('KAFKA_TLS')?.value, 'true');
  assert.equal(env.get('KAFKA_TLS_DIR')?.value, '/etc/uspa/tls/kafka');
  assert.equal(env.get('KAFKA_SASL_MECHANISM')?.value, 'scram-sha-256');
  assert.deepEqual(env.get('KAFKA_SASL_USERNAME')?.valueFrom, { secretKeyRef: { name: 'kafka-user', key: 'username' } });
  assert.deepEqual(env.get('KAFKA_SASL_PASSWORD')?.valueFrom, { secretKeyRef: { name: 'kafka-user', key: 'password' } });
  assert.equal(env.get('CLICKHOUSE_TLS_DIR')?.value, '/etc/uspa/tls/clickhouse');
  assert.deepEqual(['TEMPORAL_TLS', 'TEMPORAL_TLS_DIR', 'TEMPORAL_TLS_SERVER_NAME'].map((n) => env.get(n)?.value), ['true', '/etc/uspa/tls/temporal', 'ns.tmprl.cloud']);
  for (const [engine, secret] of [['kafka', 'kafka-ca'], ['clickhouse', 'clickhouse-ca'], ['temporal', 'temporal-mtls']] as const) {
    assert.equal(pod.volumes.find((v) => v.name === `${engine}-tls`)?.secret?.secretName, secret);
    assert.ok(c.volumeMounts.some((m) => m.name === `${engine}-tls` && m.mountPath === `/etc/uspa/tls/${engine}` && m.readOnly));
  }
  assert.equal(objects.filter((o) => o.kind === 'Secret').length, 1, 'the chart copies no engine material into Secrets of its own');
  // The test Pod reaches an https ClickHouse the same way.
  assert.match(text, /CLICKHOUSE_TLS_DIR[\s\S]*secretName: clickhouse-ca/);

  const noSecret = await run(HELM, ['lint', CHART, ...ENGINES, '--set', 'kafka.sasl.mechanism=plain']);
  assert.notEqual(noSecret.code, 0, 'SASL without its Secret was accepted');
  assert.match(noSecret.stdout + noSecret.stderr, /\/kafka\/sasl\/existingSecret/);
});

test('helm chart: installs on the API server; the operator may patch sources/status, not delete nodes', { timeout: 240_000 }, async (t) => {
  required('KUBECONFIG');
  const namespace = unique('helm');
  const release = unique('uspa');
  const sa = `system:serviceaccount:${namespace}:uspa-operator`;

  // Clean up also when an assertion fails: the release, its cluster-scoped RBAC, the namespace.
  t.after(async () => {
    await run(HELM, ['uninstall', release, '--namespace', namespace, '--wait=false']);
    await run(KUBECTL, ['delete', 'clusterrole,clusterrolebinding', '-l', `app.kubernetes.io/instance=${release}`, '--ignore-not-found', '--wait=false']);
    await run(KUBECTL, ['delete', 'namespace', namespace, '--ignore-not-found', '--wait=false']);
  });

  // Install the CRDs only when absent (another test or the operator's may have installed them).
  const crds = await run(KUBECTL, ['get', 'crd', ...CRD_NAMES, '-o', 'name']);
  const haveCrds = crds.code === 0 && CRD_NAMES.every((n) => crds.stdout.includes(n));
  // Unreachable engines on purpose: should anything ever run this pod, it reconciles nothing.
  const installed = await ok(HELM, [
    'install', release, CHART, '--namespace', namespace, '--create-namespace', '--wait=false',
    ...(haveCrds ? ['--skip-crds'] : []),
    '--set', 'kafka.brokers=kafka.invalid:9092', '--set', 'clickhouse.url=http://clickhouse.invalid:8123', '--set', 'temporal.address=temporal.invalid:7233',
    '--set', `clickhouse.password=${PASSWORD}`,
  ]);
  assert.match(installed, /STATUS: deployed/);
  assert.match(installed, /kubectl get pods -n \S+ -l app\.kubernetes\.io\/name=uspa-operator/, 'NOTES.txt tells how to check the operator');
  assert.match(installed, /kubectl get uspa -A/);
  assert.match(installed, /examples\/quickstart\.yaml/);
  for (const n of CRD_NAMES) await ok(KUBECTL, ['get', 'crd', n]);

  const clusterName = `uspa-operator-${namespace}-${release}`;
  const get = async (kind: string, name: string, ns = true) => JSON.parse(await ok(KUBECTL, ['get', kind, name, '-o', 'json', ...(ns ? ['-n', namespace] : [])])) as K8sObject;
  const deployment = (await get('deployment', 'uspa-operator')) as Deployment;
  assert.equal(deployment.spec.replicas, 2);
  assert.equal(deployment.spec.template.metadata.labels['app.kubernetes.io/part-of'], 'uspa');
  assert.equal(deployment.metadata.labels?.['app.kubernetes.io/instance'], release);
  await get('serviceaccount', 'uspa-operator');
  await get('role', 'uspa-operator-leader-election');
  await get('rolebinding', 'uspa-operator-leader-election');
  await get('service', 'uspa-operator-metrics');
  await get('poddisruptionbudget', 'uspa-operator');
  const secret = (await get('secret', 'uspa-operator-clickhouse')) as K8sObject & { data: { password: string } };
  assert.equal(Buffer.from(secret.data.password, 'base64').toString(), PASSWORD);
  assert.equal((await get('clusterrole', clusterName, false)).metadata.labels?.['app.kubernetes.io/instance'], release);
  await get('clusterrolebinding', clusterName, false);
  assert.ok(!JSON.stringify(deployment).includes(PASSWORD), 'the ClickHouse password appears in the Deployment');

  // What the ServiceAccount may do, asked of the API server's authorizer.
  const canI = async (...args: string[]) => {
    const r = await run(KUBECTL, ['auth', 'can-i', ...args, `--as=${sa}`]);
    return r.stdout.trim();
  };
  // The RBAC authorizer sees new bindings through its informers: allow it a moment.
  await eventually('the ClusterRoleBinding to take effect', async () => (await canI('patch', 'sources.uspa.tech', '--subresource=status', '-n', 'default')) === 'yes', 30_000);
  const expectations: Array<[string[], 'yes' | 'no']> = [
    [['patch', 'sources.uspa.tech', '--subresource=status', '--all-namespaces'], 'yes'],
    [['update', 'pipelines.uspa.tech', '--subresource=finalizers', '-n', 'default'], 'yes'],
    [['watch', 'activations.uspa.tech', '--all-namespaces'], 'yes'],
    [['create', 'deployments.apps', '-n', 'default'], 'yes'],
    [['create', 'events', '-n', 'default'], 'yes'],
    [['get', 'leases.coordination.k8s.io/uspa-operator', '-n', namespace], 'yes'],
    [['delete', 'nodes'], 'no'],
    [['create', 'sources.uspa.tech', '-n', 'default'], 'no'],
    // Held only to be granted to the API gateway's Role; Pipelines and ApiKeys stay the users'.
    [['delete', 'segments.uspa.tech', '-n', 'default'], 'yes'],
    [['delete', 'pipelines.uspa.tech', '-n', 'default'], 'no'],
    [['create', 'apikeys.uspa.tech', '-n', 'default'], 'no'],
    [['get', 'leases.coordination.k8s.io', '-n', 'kube-system'], 'no'],
    [['create', 'pods', '-n', 'default'], 'no'],
    [['create', 'clusterroles.rbac.authorization.k8s.io'], 'no'],
    [['delete', 'customresourcedefinitions.apiextensions.k8s.io'], 'no'],
  ];
  for (const [args, want] of expectations) assert.equal(await canI(...args), want, `kubectl auth can-i ${args.join(' ')} --as=${sa}`);

  // helm uninstall removes the release (cluster-scoped RBAC included) and keeps the CRDs.
  await ok(HELM, ['uninstall', release, '--namespace', namespace, '--wait=false']);
  const gone = await run(KUBECTL, ['get', 'clusterrole', clusterName]);
  assert.notEqual(gone.code, 0, 'the ClusterRole outlived helm uninstall');
  for (const n of CRD_NAMES) await ok(KUBECTL, ['get', 'crd', n]);
});
