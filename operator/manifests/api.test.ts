import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import type { Pipeline, Source } from '../../api/v1alpha1/index.ts';
import { checkWorkloadConfig } from '../../api/workload.ts';
import { apiManifests, apiUrl } from './api.ts';

const source = (name: string): Source => ({ apiVersion: 'uspa.tech/v1alpha1', kind: 'Source', metadata: { name, namespace: 'shop', uid: `uid-${name}` }, spec: { type: 'web' } });
const pipeline = (name: string, sources: string[]): Pipeline => ({ apiVersion: 'uspa.tech/v1alpha1', kind: 'Pipeline', metadata: { name, namespace: 'shop', uid: `uid-${name}`, generation: 1 }, spec: { sources } });
const settings = { image: 'img:1', topicPrefix: 'uspa', databasePrefix: 'uspa', kafkaBrokers: ['k:9092'], clickhouse: { url: 'http://ch:8123', username: 'u', password: 's3cret-password' } };

test('api: one gateway owned by every Pipeline, the first Pipeline by name in USPA_PIPELINE, engine env as the workers get it', () => {
  const m = apiManifests('shop', [pipeline('web-only', ['web']), pipeline('all', ['web', 'backend'])], [source('web'), source('backend')], settings);
  for (const o of [m.configMap, m.secret, m.account, m.role, m.binding, m.deployment, m.service]) {
    assert.equal(o.metadata!.name, o.kind === 'Secret' ? 'uspa-api-clickhouse' : 'uspa-api', o.kind);
    assert.deepEqual(o.metadata!.ownerReferences!.map((r) => [r.kind, r.name, r.controller]), [['Pipeline', 'all', false], ['Pipeline', 'web-only', false]], `${o.kind} owners`);
  }
  const pod = m.deployment.spec!.template.spec!;
  const c = pod.containers[0]!;
  assert.deepEqual(c.args, ['api']);
  assert.deepEqual(c.ports, [{ name: 'http', containerPort: 8081 }]);
  assert.equal(c.readinessProbe!.httpGet!.path, '/readyz');
  assert.equal(c.livenessProbe!.httpGet!.path, '/healthz');
  assert.equal(pod.serviceAccountName, 'uspa-api');
  const env = Object.fromEntries(c.env!.map((e) => [e.name, e.value ?? e.valueFrom]));
  assert.deepEqual(
    [env.PORT, env.USPA_CONFIG, env.KAFKA_BROKERS, env.USPA_TOPIC_PREFIX, env.USPA_DATABASE, env.USPA_DATABASE_PREFIX, env.USPA_NAMESPACE, env.USPA_PIPELINE],
    ['8081', '/etc/uspa/config.yaml', 'k:9092', 'uspa.shop', 'uspa_shop', 'uspa', 'shop', 'all'],
  );
  assert.deepEqual(env.CLICKHOUSE_PASSWORD, { secretKeyRef: { name: 'uspa-api-clickhouse', key: 'CLICKHOUSE_PASSWORD' } });
  assert.ok(!JSON.stringify(m.deployment).includes('s3cret-password'), 'the password is only in the Secret');
  assert.deepEqual(m.service.spec!.ports, [{ name: 'http', port: 8081, targetPort: 'http', protocol: 'TCP' }]);
  assert.deepEqual(m.service.spec!.selector, m.deployment.spec!.selector.matchLabels);
  assert.equal(apiUrl('shop'), 'http://uspa-api.shop.svc:8081');
});

test('api: the config is the pipeline workers\' view of the namespace (no write keys); a Pipeline missing a Source is left out', () => {
  const m = apiManifests('shop', [pipeline('main', ['web']), pipeline('broken', ['gone'])], [source('web'), source('unread')], settings);
  const config = parse(m.configMap.data!['config.yaml']!);
  assert.deepEqual(config.pipelines.map((p: { name: string }) => p.name), ['main']);
  assert.deepEqual(config.sources.map((s: { name: string }) => s.name), ['web']);
  assert.doesNotMatch(m.configMap.data!['config.yaml']!, /writeKey/);
  assert.doesNotThrow(() => checkWorkloadConfig(config, 'rendered', {}, { forCollector: false }));
  assert.equal(m.deployment.spec!.template.spec!.containers[0]!.env!.find((e) => e.name === 'USPA_PIPELINE')!.value, 'broken', 'the first owner by name, served or not');
});

test('api: the Role reads ApiKeys, Pipelines and Sources, manages Segments and Activations, makes PrivacyRequests; of Secrets it reads only its Sources\' write keys, by name', () => {
  const { role, binding } = apiManifests('shop', [pipeline('main', ['web'])], [source('web')], settings);
  const can = (resource: string, verb: string) => role.rules!.some((r) => r.apiGroups!.includes('uspa.tech') && r.resources!.includes(resource) && r.verbs.includes(verb));
  for (const resource of ['apikeys', 'pipelines', 'sources']) {
    for (const verb of ['get', 'list', 'watch']) assert.ok(can(resource, verb), `${resource} ${verb}`);
    for (const verb of ['create', 'update', 'patch', 'delete']) assert.ok(!can(resource, verb), `${resource} ${verb}`);
  }
  for (const resource of ['segments', 'activations']) for (const verb of ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']) assert.ok(can(resource, verb), `${resource} ${verb}`);
  // A PrivacyRequest is made, withdrawn and (an annotation) marked downloaded; never replaced. Its spec is immutable (CEL).
  for (const verb of ['get', 'list', 'watch', 'create', 'patch', 'delete']) assert.ok(can('privacyrequests', verb), `privacyrequests ${verb}`);
  assert.ok(!can('privacyrequests', 'update'), 'privacyrequests update');
  const core = role.rules!.filter((r) => r.apiGroups!.includes(''));
  assert.deepEqual(core, [
    { apiGroups: [''], resources: ['secrets'], resourceNames: ['web-write-key'], verbs: ['get'] },
    { apiGroups: [''], resources: ['services'], resourceNames: ['uspa-collector'], verbs: ['get'] },
  ]);
  assert.ok(!role.rules!.some((r) => r.verbs.includes('*') || r.resources!.includes('*')));
  assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'uspa-api', namespace: 'shop' }]);
  assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'uspa-api' });
});

test('api: the workloads policy of the api component applies; a config change rolls the pods', () => {
  const policy = { api: { resources: { limits: { memory: '2Gi' } }, podDisruptionBudget: { enabled: true } } };
  const m = apiManifests('shop', [pipeline('main', ['web'])], [source('web')], { ...settings, workloads: policy });
  assert.equal(m.deployment.spec!.template.spec!.containers[0]!.resources!.limits!.memory, '2Gi');
  assert.equal(m.disruptionBudget?.spec?.maxUnavailable, 1);
  const hash = (p: Pipeline[]) => apiManifests('shop', p, [source('web')], settings).deployment.spec!.template.metadata!.annotations!['uspa.tech/config-hash'];
  assert.equal(hash([pipeline('main', ['web'])]), hash([pipeline('main', ['web'])]));
  assert.notEqual(hash([pipeline('main', ['web'])]), hash([{ ...pipeline('main', ['web']), spec: { sources: ['web'], retention: '30d' } }]));
});
