// What the operator refuses when an Activation is applied, on the real API server: Kafka topics
// outside the namespace's output prefix (another namespace's events, the control topic), webhooks
// to private addresses (the installation's default policy, deny), Secret references that do not
// resolve, and template variables the render context does not have. Each is a condition naming
// the field; no Secret value reaches status or Events.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CoreV1Api } from '@kubernetes/client-node';
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import type { Activation } from '../../api/v1alpha1/activation.ts';
import { topicNames, topicPrefix } from '../../api/names.ts';
import { destinationErrors, templateErrors } from '../../operator/controllers/activation.ts';
import { eventually } from '../support/env.ts';
import { kubectl, operatorHarness, type OperatorHarness } from '../support/operator.ts';

const TOKEN = 'Bearer tok-validation-0123456789';

describe('Activation validation at apply time', { timeout: 180_000 }, () => {
  let h: OperatorHarness;
  let topics: ReturnType<typeof topicNames>;
  const activation = (name: string, destination: string, extra = '') => `
apiVersion: uspa.tech/v1alpha1
kind: Activation
metadata: { name: ${name} }
spec:
  trigger: { type: event, event: { name: Order Completed } }
  destination: ${destination}
${extra}`;

  before(async () => {
    h = await operatorHarness('actval');
    h.settings.webhookAddresses = 'deny';
    topics = topicNames(topicPrefix(h.settings.topicPrefix, h.namespace));
    await h.startOperator();
  });
  after(async () => h?.close());

  test('Kafka: a topic USPA reads (events, control, another namespace) is refused naming the field; an output topic is not', async () => {
    const other = topicNames(topicPrefix(h.settings.topicPrefix, 'other-tenant'));
    const refused = { 'to-control': topics.control('main'), 'to-events': topics.source('web'), 'to-changes': topics.segmentChanges, 'to-other': `${other.activationOutputs}crm` };
    await h.apply(Object.entries(refused).map(([name, topic]) => activation(name, `{ type: kafka, kafka: { topic: ${topic} } }`)).join('---') + '---' + activation('to-output', `{ type: kafka, kafka: { topic: ${topics.activationOutputs}crm } }`));
    for (const [name, topic] of Object.entries(refused)) {
      const c = await h.ready('activations', name, 'DestinationNotAllowed');
      assert.equal(c.status, 'False');
      assert.equal(c.message, `spec.destination.kafka.topic: "${topic}" is not an output topic of this namespace: an Activation writes only to topics named ${topics.activationOutputs}<name>, e.g. "${topics.activationOutputs}${topic.split('.').at(-1)}"`);
    }
    const ok = (await h.get('activations', 'to-output')).status?.conditions?.find((c) => c.type === 'Ready');
    assert.notEqual(ok?.reason, 'DestinationNotAllowed');
  });

  test('webhooks: cloud metadata, private and loopback addresses and localhost are refused under the default policy', async () => {
    const urls = { metadata: 'http://169.254.169.254/latest/meta-data/', private: 'http://10.0.0.7:8080/hook', loopback: 'http://[::1]:9000/', local: 'http://localhost:9000/hook' };
    await h.apply(Object.entries(urls).map(([name, url]) => activation(`hook-${name}`, `{ type: webhook, webhook: { url: "${url}" } }`)).join('---'));
    for (const name of Object.keys(urls)) {
      const c = await h.ready('activations', `hook-${name}`, 'DestinationNotAllowed');
      assert.match(c.message, /^spec\.destination\.webhook\.url: .* (loopback|private, link-local or reserved) address|this machine/);
      assert.match(c.message, /activations\.webhookPrivateAddresses/);
    }
  });

  test('secretHeaders: SecretNotFound, then SecretKeyMissing, naming the field; the value never shows', async () => {
    await h.apply(activation('crm-auth', '{ type: webhook, webhook: { url: "https://hooks.example.com/crm", secretHeaders: [{ name: Authorization, valueFrom: { secretKeyRef: { name: crm-token, key: authorization } } }] } }'));
    const missing = await h.ready('activations', 'crm-auth', 'SecretNotFound');
    assert.equal(missing.message, `spec.destination.webhook.secretHeaders[0].valueFrom.secretKeyRef: Secret "crm-token" not found in namespace ${h.namespace}`);
    const core = h.kc.makeApiClient(CoreV1Api);
    await core.createNamespacedSecret({ namespace: h.namespace, body: { metadata: { name: 'crm-token' }, stringData: { token: TOKEN } } });
    const noKey = await h.ready('activations', 'crm-auth', 'SecretKeyMissing');
    assert.equal(noKey.message, 'spec.destination.webhook.secretHeaders[0].valueFrom.secretKeyRef: Secret "crm-token" has no key "authorization"');
    await core.patchNamespacedSecret({ namespace: h.namespace, name: 'crm-token', body: [{ op: 'add', path: '/data/authorization', value: Buffer.from(TOKEN).toString('base64') }] });
    await h.ready('activations', 'crm-auth', 'Active', 30_000).catch(() => undefined);
    const after = await h.get('activations', 'crm-auth');
    assert.ok(!['SecretNotFound', 'SecretKeyMissing'].includes(after.status?.conditions?.find((c) => c.type === 'Ready')?.reason ?? ''), 'the Secret resolves');
    const seen = JSON.stringify(after) + (await kubectl(['get', 'events', '-n', h.namespace, '-o', 'json'])) + h.logs.join('');
    assert.doesNotMatch(seen, /tok-validation-0123456789/, 'no Secret value in the resource, its Events or the operator logs');
  });

  test('templates: the quickstart\'s old {{ profile.userId }} is TemplateInvalid naming the variable and the known ones', async () => {
    await h.apply(activation('welcome', '{ type: webhook, webhook: { url: "https://hooks.example.com/welcome" } }', `  template: { body: '{"userId": "{{ profile.userId }}", "email": "{{ traits.email }}"}' }`));
    const c = await h.ready('activations', 'welcome', 'TemplateInvalid');
    assert.equal(c.message, 'spec.template.body: unknown variable profile.userId (profile has id, firstSeen, lastSeen, lifetimeRevenue, orderCount, eventCount)');
    await kubectl(['patch', 'activation', 'welcome', '-n', h.namespace, '--type=merge', '-p', JSON.stringify({ spec: { template: { body: '{"profileId": {{ profile.id | json }}, "segment": "{{ segment.name }}"}' } } })]);
    const segment = await eventually('the new template judged', async () => {
      const c = (await h.get('activations', 'welcome')).status?.conditions?.find((x) => x.type === 'Ready');
      return c?.message.includes('segment.name') ? c : undefined;
    }, 30_000);
    assert.equal(segment.reason, 'TemplateInvalid');
    assert.match(segment.message, /^spec\.template\.body: unknown variable segment\.name \(known: traits, profile, event, events, recommendations, activation\)$/, 'an event trigger has no segment');
  });
});

test('the examples\' Activations pass the same checks (templates; destinations for namespace shop with the default prefix)', async () => {
  const outputs = topicNames(topicPrefix('uspa', 'shop')).activationOutputs;
  let checked = 0;
  for (const file of ['quickstart.yaml', 'activations.yaml']) {
    const docs = parseAllDocuments(await readFile(new URL(`../../examples/${file}`, import.meta.url), 'utf8')).map((d) => d.toJS() as Activation);
    for (const a of docs.filter((d) => d?.kind === 'Activation')) {
      assert.deepEqual(templateErrors(a.spec), [], `${file}: ${a.metadata.name}`);
      assert.deepEqual(destinationErrors(a.spec, outputs, 'deny'), [], `${file}: ${a.metadata.name}`);
      checked++;
    }
  }
  assert.equal(checked, 4);
});
