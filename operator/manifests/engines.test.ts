import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Source } from '../../api/v1alpha1/index.ts';
import { collectorManifests } from './collector.ts';
import { workerManifests } from './workers.ts';
import { engineAccess, type EngineSecurity } from './engines.ts';

const CA = Buffer.from('-----BEGIN CERTIFICATE-----kafka-ca');
const KEY = Buffer.from('-----BEGIN PRIVATE KEY-----client');
const SASL = 'sasl-pw-never-literal-91';
const security: EngineSecurity = {
  kafka: { ssl: { ca: CA }, sasl: { mechanism: 'scram-sha-512', username: 'uspa', password: SASL } },
  clickhouse: { tls: { ca: Buffer.from('ch-ca') } },
  temporal: { tls: { files: { ca: Buffer.from('t-ca'), cert: Buffer.from('t-cert'), key: KEY }, serverName: 'ns.tmprl.cloud' } },
};
const source = { apiVersion: 'uspa.tech/v1alpha1', kind: 'Source', metadata: { name: 'web', namespace: 'shop', uid: 'u' }, spec: {} } as Source;
const worker = { image: 'uspa', topicPrefix: 'uspa', databasePrefix: 'uspa', kafkaBrokers: ['k:9093'], clickhouse: { url: 'https://ch:8443', username: 'u', password: 'p' }, temporal: { address: 't:7233', namespace: 'default' } };

test('without engine security no Secret, volume or env is added', () => {
  const access = engineAccess('w', 'shop', {}, [], ['kafka', 'clickhouse', 'temporal'], undefined);
  assert.deepEqual([access.secret, access.env, access.volumes, access.mounts], [undefined, [], [], []]);
  assert.equal(collectorManifests('shop', [source], { image: 'uspa', topicPrefix: 'uspa', kafkaBrokers: ['k:9092'] }).engineSecret, undefined);
});

test('a workload gets the material of the engines it uses in a Secret of its own; env and Deployment only name files and keys', () => {
  const m = collectorManifests('shop', [source], { image: 'uspa', topicPrefix: 'uspa', kafkaBrokers: ['k:9093'], engines: security });
  assert.equal(m.engineSecret?.metadata?.name, 'uspa-collector-engines');
  assert.deepEqual(Object.keys(m.engineSecret!.data!).sort(), ['kafka-ca.crt', 'kafka-sasl-password'], 'the collector uses Kafka only');
  assert.deepEqual(m.engineSecret?.metadata?.ownerReferences, m.deployment.metadata?.ownerReferences);
  const pod = m.deployment.spec!.template.spec!;
  const env = new Map(pod.containers[0]!.env!.map((e) => [e.name, e]));
  assert.equal(env.get('KAFKA_TLS')?.value, 'true');
  assert.equal(env.get('KAFKA_TLS_DIR')?.value, '/etc/uspa-engines/kafka');
  assert.equal(env.get('KAFKA_SASL_MECHANISM')?.value, 'scram-sha-512');
  assert.deepEqual(env.get('KAFKA_SASL_PASSWORD')?.valueFrom, { secretKeyRef: { name: 'uspa-collector-engines', key: 'kafka-sasl-password' } });
  assert.equal(env.get('TEMPORAL_TLS'), undefined);
  assert.deepEqual(pod.volumes?.find((v) => v.name === 'engines')?.secret?.items, [{ key: 'kafka-ca.crt', path: 'kafka/ca.crt' }]);
  assert.ok(pod.containers[0]!.volumeMounts?.some((v) => v.name === 'engines' && v.mountPath === '/etc/uspa-engines' && v.readOnly));
  const deployment = JSON.stringify(m.deployment);
  for (const secret of [SASL, CA.toString('base64'), CA.toString()]) assert.ok(!deployment.includes(secret), 'engine material in the Deployment');

  const w = workerManifests('shop', 'activations', [], { ...worker, engines: security });
  assert.deepEqual(Object.keys(w.engineSecret!.data!).sort(), ['clickhouse-ca.crt', 'kafka-ca.crt', 'kafka-sasl-password', 'temporal-ca.crt', 'temporal-tls.crt', 'temporal-tls.key']);
  assert.equal(Buffer.from(w.engineSecret!.data!['temporal-tls.key']!, 'base64').toString(), KEY.toString());
  const wenv = new Map(w.deployment.spec!.template.spec!.containers[0]!.env!.map((e) => [e.name, e.value]));
  assert.deepEqual([wenv.get('TEMPORAL_TLS'), wenv.get('TEMPORAL_TLS_DIR'), wenv.get('TEMPORAL_TLS_SERVER_NAME'), wenv.get('CLICKHOUSE_TLS_DIR')], ['true', '/etc/uspa-engines/temporal', 'ns.tmprl.cloud', '/etc/uspa-engines/clickhouse']);
  assert.ok(!JSON.stringify(w.deployment).includes(KEY.toString('base64')));
});

test('a rotated certificate rolls the pods (their config hash changes)', () => {
  const hash = (ca: string) => workerManifests('shop', 'segments', [], { ...worker, engines: { ...security, kafka: { ssl: { ca: Buffer.from(ca) } } } }).deployment.spec!.template.metadata!.annotations!['uspa.tech/config-hash'];
  assert.notEqual(hash('ca-1'), hash('ca-2'));
  assert.equal(hash('ca-1'), hash('ca-1'));
});
