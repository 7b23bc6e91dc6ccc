import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import type { Pipeline, Source } from '../../api/v1alpha1/index.ts';
import { checkWorkloadConfig, resolveIdentityKeys } from '../../api/workload.ts';
import { collectorManifests } from './collector.ts';
import { pipelineManifests } from './pipeline.ts';
import { database, deadLetterTopic, sourceTopic, writeKeyEnv } from '../../api/names.ts';

const source = (name: string, spec: Partial<Source['spec']> = {}): Source => ({
  apiVersion: 'uspa.tech/v1alpha1',
  kind: 'Source',
  metadata: { name, namespace: 'shop', uid: `uid-${name}`, generation: 1 },
  spec: { type: 'web', topic: { partitions: 3 }, ...spec },
});
const pipeline = (spec: Partial<Pipeline['spec']> = {}): Pipeline => ({
  apiVersion: 'uspa.tech/v1alpha1',
  kind: 'Pipeline',
  metadata: { name: 'main', namespace: 'shop', uid: 'uid-main', generation: 1 },
  spec: { sources: ['web'], ...spec },
});
const settings = { image: 'img:1', topicPrefix: 'uspa', databasePrefix: 'uspa', kafkaBrokers: ['k:9092'], clickhouse: { url: 'http://ch:8123', username: 'u', password: 's3cret-password' } };

test('names: topics and databases are scoped by namespace', () => {
  assert.equal(sourceTopic('uspa', 'shop', 'web'), 'uspa.shop.events.web');
  assert.equal(deadLetterTopic('uspa', 'shop', 'web'), 'uspa.shop.dead-letters.web');
  assert.equal(database('uspa', 'my-shop'), 'uspa_my_shop');
  assert.equal(writeKeyEnv('ios-app'), 'USPA_WRITE_KEY_IOS_APP');
});

test('collector: every Source owns it, keys come from Secrets, and the rendered config is one the collector accepts', () => {
  const m = collectorManifests('shop', [source('web'), source('backend', { type: 'server', writeKeySecretRef: { name: 'creds', key: 'k' } })], settings);
  assert.deepEqual(m.deployment.metadata!.ownerReferences!.map((o) => [o.name, o.controller]), [['backend', false], ['web', false]]);
  const env = m.deployment.spec!.template.spec!.containers[0]!.env!;
  assert.deepEqual(env.find((e) => e.name === 'USPA_WRITE_KEY_BACKEND')!.valueFrom!.secretKeyRef, { name: 'creds', key: 'k' });
  assert.deepEqual(env.find((e) => e.name === 'USPA_WRITE_KEY_WEB')!.valueFrom!.secretKeyRef, { name: 'web-write-key', key: 'writeKey' });
  assert.equal(env.find((e) => e.name === 'USPA_TOPIC_PREFIX')!.value, 'uspa.shop');
  const config = parse(m.configMap.data!['config.yaml']!);
  const keys = { USPA_WRITE_KEY_WEB: 'x'.repeat(20), USPA_WRITE_KEY_BACKEND: 'y'.repeat(20) };
  assert.doesNotThrow(() => checkWorkloadConfig(config, 'rendered', keys));
});

test('collector: a spec change rolls the pods (new config hash); the same input renders the same hash', () => {
  const hash = (s: Source[]) => collectorManifests('shop', s, settings).deployment.spec!.template.metadata!.annotations!['uspa.tech/config-hash'];
  assert.equal(hash([source('web')]), hash([source('web')]));
  assert.notEqual(hash([source('web')]), hash([source('web', { rateLimit: { eventsPerSecond: 10 } })]));
  assert.equal(collectorManifests('shop', [], settings).deployment.spec!.replicas, 0, 'no Sources served: no pods');
});

test('pipeline: workers get the database, the pipeline and credentials by Secret ref; suspend scales to zero', () => {
  const hook = source('stripe', { type: 'webhook', webhook: { type: 'track', event: { value: 'Charge' } } });
  const withHook = parse(pipelineManifests('shop', pipeline({ sources: ['web', 'stripe'] }), [source('web'), hook], settings).configMap.data!['config.yaml']!);
  assert.doesNotThrow(() => checkWorkloadConfig(withHook, 'rendered', {}, { forCollector: false }), 'a webhook Source is fine for the pipeline without its mapping');
  const m = pipelineManifests('shop', pipeline({ identity: { keys: [{ name: 'email', limit: 3 }, { name: 'userId' }, { name: 'crm', path: 'traits.crmId' }] } }), [source('web')], settings);
  const env = m.deployment.spec!.template.spec!.containers[0]!.env!;
  assert.equal(env.find((e) => e.name === 'USPA_DATABASE')!.value, 'uspa_shop');
  assert.equal(env.find((e) => e.name === 'USPA_PIPELINE')!.value, 'main');
  assert.ok(!JSON.stringify(m.deployment).includes('s3cret-password'), 'the password is only in the Secret');
  assert.equal(m.secret.stringData!.CLICKHOUSE_PASSWORD, 's3cret-password');
  const config = parse(m.configMap.data!['config.yaml']!);
  // The spec goes as written; the workers resolve built-in keys to their paths and limits.
  assert.deepEqual(config.pipelines[0].identity.keys, [{ name: 'email', limit: 3 }, { name: 'userId' }, { name: 'crm', path: 'traits.crmId' }]);
  assert.deepEqual(resolveIdentityKeys(checkWorkloadConfig(config, 'rendered', {}, { forCollector: false }).pipelines[0]!.identity!.keys), [
    { name: 'email', path: 'traits.email', limit: 3 },
    { name: 'userId', path: 'userId', limit: 1 },
    { name: 'crm', path: 'traits.crmId' },
  ]);
  assert.equal(config.sources[0].writeKeyEnv, undefined);
  assert.doesNotThrow(() => checkWorkloadConfig(config, 'rendered', {}, { forCollector: false }));
  assert.equal(pipelineManifests('shop', pipeline({ suspend: true }), [source('web')], settings).deployment.spec!.replicas, 0);
  assert.equal(m.deployment.metadata!.ownerReferences![0]!.controller, true);
});
