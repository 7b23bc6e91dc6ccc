import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CONSENT_ENV } from '../../api/names.ts';
import { workerManifests } from './workers.ts';

const worker = { image: 'uspa', topicPrefix: 'uspa', databasePrefix: 'uspa', kafkaBrokers: ['k:9093'], clickhouse: { url: 'http://ch:8123', username: 'u', password: 'p' }, temporal: { address: 't:7233', namespace: 'default' } };
const envOf = (m: ReturnType<typeof workerManifests>) => m.deployment.spec!.template.spec!.containers[0]!.env ?? [];

test('the activations worker gets the default consent category when the namespace declares one; a change rolls it', () => {
  const plain = workerManifests('shop', 'activations', [], worker);
  const marketing = workerManifests('shop', 'activations', [], { ...worker, defaultConsentCategory: 'marketing' });
  assert.equal(envOf(plain).find((e) => e.name === DEFAULT_CONSENT_ENV), undefined);
  assert.deepEqual(envOf(marketing).find((e) => e.name === DEFAULT_CONSENT_ENV), { name: DEFAULT_CONSENT_ENV, value: 'marketing' });
  const hash = (m: ReturnType<typeof workerManifests>) => m.deployment.spec!.template.metadata!.annotations!['uspa.tech/config-hash'];
  assert.notEqual(hash(plain), hash(marketing), 'the pods roll when it changes');
  assert.equal(envOf(workerManifests('shop', 'segments', [], { ...worker, defaultConsentCategory: 'marketing' })).find((e) => e.name === DEFAULT_CONSENT_ENV), undefined, 'only the activations worker sends');
});
