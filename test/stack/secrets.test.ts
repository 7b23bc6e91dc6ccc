// Secrets never leak (PRODUCT.md), on the local stack: the operator and the local runtime run here,
// every Pod they start runs as a process with its log captured. Recognisable secrets are planted —
// a write key, the ClickHouse password the operator hands to workloads, a webhook's signing secret
// and its Authorization header (both from a Secret) — and the paths that handle them are driven: collector authentication
// failing and succeeding, a Pipeline starting, an Activation sending (its first attempt refused).
// Then no log line, custom resource status, Event, ConfigMap, workload spec, stored row or campaign
// history may hold any secret, in clear or base64.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { GROUP, VERSION } from '../../api/v1alpha1/index.ts';
import { campaignWorkflowId } from '../../api/workflows/activations.ts';
import { eventually } from '../support/env.ts';
import { operatorHarness, type OperatorHarness } from '../support/operator.ts';
import { webhookReceiver, type WebhookReceiver } from '../activations/support.ts';

const canary = (what: string) => `leak-canary-${what}-${randomBytes(12).toString('hex')}`;

/** Where a secret was found: which place, and a few characters around it. */
function findings(places: Array<{ where: string; text: string }>, secrets: Map<string, string>): string[] {
  const found: string[] = [];
  for (const [name, value] of secrets) {
    for (const form of [value, Buffer.from(value).toString('base64'), Buffer.from(value).toString('base64url')]) {
      for (const { where, text } of places) {
        const at = text.indexOf(form);
        if (at >= 0) found.push(`${name} in ${where}: …${text.slice(Math.max(0, at - 80), at + form.length + 20)}…`);
      }
    }
  }
  return found;
}

/** Every payload in a Temporal history, decoded (payload data is bytes of JSON). */
function decodedHistory(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v));
}

describe('secrets never leak on the local stack', { timeout: 240_000 }, () => {
  let h: OperatorHarness;
  let hook: WebhookReceiver;
  const writeKey = canary('write-key');
  const signingSecret = canary('signing');
  const authorization = `Bearer ${canary('webhook-token')}`;
  const wrongKey = canary('wrong-key');
  const secrets = new Map<string, string>([
    ['the write key', writeKey],
    ['the webhook signing secret', signingSecret],
    ['the webhook Authorization header', authorization.slice('Bearer '.length)],
    ['a refused write key', wrongKey],
  ]);
  const users: string[] = [];

  before(async () => {
    // Pods log at debug, so the most talkative paths are checked too.
    process.env.LOG_LEVEL = 'debug';
    h = await operatorHarness('sec');
    if (h.settings.clickhouse.password) secrets.set('the ClickHouse password', h.settings.clickhouse.password);
    hook = await webhookReceiver((_req, n) => (n === 1 ? 401 : 200));
    await h.core.createNamespacedSecret({ namespace: h.namespace, body: { metadata: { name: 'web-credentials' }, stringData: { key: writeKey } } });
    await h.core.createNamespacedSecret({ namespace: h.namespace, body: { metadata: { name: 'hook-credentials' }, stringData: { signingSecret, authorization } } });
    await h.startOperator();
    await h.startRuntime();
  });
  after(async () => {
    await hook?.close();
    await h?.close();
  });

  test('collector auth failure and success, pipeline start and an activation send leave no secret in logs, status, Events, ConfigMaps, specs, rows or histories', async () => {
    await h.apply(`apiVersion: uspa.tech/v1alpha1
kind: Source
metadata: { name: web }
spec:
  type: web
  writeKeySecretRef: { name: web-credentials, key: key }
---
apiVersion: uspa.tech/v1alpha1
kind: Pipeline
metadata: { name: main }
spec:
  sources: [web]
  batch: { maxWaitMs: 100, profileIntervalMs: 200 }
---
apiVersion: uspa.tech/v1alpha1
kind: Activation
metadata: { name: welcome }
spec:
  trigger: { type: event, event: { name: Signed Up } }
  destination:
    type: webhook
    webhook:
      url: "${hook.url}"
      signingSecretRef: { name: hook-credentials, key: signingSecret }
      secretHeaders: [{ name: Authorization, valueFrom: { secretKeyRef: { name: hook-credentials, key: authorization } } }]
  template: { body: '{"plan": "{{ event.properties.plan }}"}' }
`);
    await h.ready('sources', 'web', undefined, 120_000);
    await h.ready('pipelines', 'main', undefined, 120_000);
    await h.ready('activations', 'welcome', undefined, 120_000);
    const url = h.runtime!.serviceUrl(h.namespace, 'uspa-collector')!;
    const post = (path: string, body: object, key?: string) =>
      fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` } : {}) }, body: JSON.stringify(body) });

    // Refused keys: as Basic user, in the body (beacons), in the query string (RudderStack's beacons).
    assert.equal((await post('/v1/track', { userId: 'u', event: 'Signed Up' }, wrongKey)).status, 401);
    assert.equal((await post('/v1/track', { userId: 'u', event: 'Signed Up', writeKey: wrongKey })).status, 401);
    assert.equal((await post(`/v1/track?writeKey=${wrongKey}`, { userId: 'u', event: 'Signed Up' })).status, 401);
    // Accepted, until the activations worker consumes and the webhook is called (refused once, then accepted).
    await eventually('the webhook accepted a send', async () => {
      const user = `u-sec-${users.length}`;
      users.push(user);
      const res = await post('/v1/track', { userId: user, event: 'Signed Up', properties: { plan: 'pro' } }, writeKey);
      assert.equal(res.status, 200, await res.text());
      await new Promise((r) => setTimeout(r, 1_000));
      return hook.delivered.size > 0;
    }, 120_000);
    assert.equal(hook.requests[0]!.status, 401, 'the first attempt was refused, so the failure path ran');
    assert.equal(hook.requests[0]!.headers.authorization, authorization, 'the header reached the receiver');

    // What the components wrote: the operator's and the runtime's log, and every Pod's log file.
    const logFiles = new Set<string>();
    for (const line of h.logs) {
      const entry = JSON.parse(line) as { msg?: string; pod?: string; log?: string };
      if (entry.msg === 'pod started' && entry.pod?.startsWith(`${h.namespace}/`) && entry.log) logFiles.add(entry.log);
    }
    assert.ok(logFiles.size >= 4, `collector, pipeline and workers logged to files: ${[...logFiles].join(', ')}`);
    const places: Array<{ where: string; text: string }> = [{ where: 'the operator and runtime log', text: h.logs.join('') }];
    for (const file of logFiles) if (existsSync(file)) places.push({ where: `pod log ${file.split('/').slice(-2).join('/')}`, text: readFileSync(file, 'utf8') });
    assert.ok(places.some((p) => p.where.startsWith('pod log') && p.text.includes('request refused')), 'the collector logged the refused requests');

    for (const plural of ['sources', 'pipelines', 'activations', 'segments']) {
      const list = (await h.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: h.namespace, plural })) as { items: Array<{ metadata: { name: string }; status?: unknown }> };
      for (const item of list.items) places.push({ where: `${plural}/${item.metadata.name} status`, text: JSON.stringify(item.status ?? {}) });
    }
    places.push({ where: 'Events', text: JSON.stringify((await h.core.listNamespacedEvent({ namespace: h.namespace })).items) });
    places.push({ where: 'ConfigMaps', text: JSON.stringify((await h.core.listNamespacedConfigMap({ namespace: h.namespace })).items) });
    places.push({ where: 'Deployments', text: JSON.stringify((await h.apps.listNamespacedDeployment({ namespace: h.namespace })).items) });
    places.push({ where: 'Pods', text: JSON.stringify((await h.core.listNamespacedPod({ namespace: h.namespace })).items) });
    for (const { name } of await h.warehouse.query<{ name: string }>('SELECT name FROM system.tables WHERE database = {db:String}', { db: h.warehouse.database })) {
      const rows = await h.warehouse.query(`SELECT * FROM {db}.\`${name}\``);
      places.push({ where: `table ${name}`, text: JSON.stringify(rows) });
    }
    for (const user of users) {
      const history = await h.temporal.workflow.getHandle(campaignWorkflowId(h.namespace, 'welcome', `userId:${user}`)).fetchHistory().catch(() => undefined);
      if (history) places.push({ where: `campaign ${user} history`, text: decodedHistory(history) });
    }
    assert.ok(places.some((p) => p.where.startsWith('campaign')), 'a campaign history was read');

    // Credentials the operator made itself (e.g. a namespace's own ClickHouse user) are secrets too.
    for (const secret of (await h.core.listNamespacedSecret({ namespace: h.namespace })).items) {
      for (const [key, value] of Object.entries(secret.data ?? {})) {
        const text = Buffer.from(value, 'base64').toString('utf8');
        if (/password|key|token|secret|authorization/i.test(key) && text.length >= 12) secrets.set(`Secret ${secret.metadata!.name} key ${key}`, text);
      }
    }
    assert.ok(secrets.size >= 5, `secrets to look for: ${[...secrets.keys()].join(', ')}`);
    assert.deepEqual(findings(places, secrets), [], 'no secret anywhere');
  });
});
