// Pipelines through the API: status and lag as the resource reports them (no operator runs here:
// the test writes the status through the status subresource, as the operator would), dead letters
// the real collector and pipeline made, with causes, payloads only for roles that see identifiers,
// and replay doing what `uspa dlq replay` does: the fixed event reaches the event log, once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { eventually } from '../support/env.ts';
import { kubeConfig } from '../support/operator.ts';
import { startApi, type ApiHarness } from '../support/gateway.ts';

const GROUP = { group: 'uspa.tech', version: 'v1alpha1' };
const ORDER_PLAN = { 'Order Completed': { type: 'object', required: ['revenue'], properties: { revenue: { type: 'number' } } } };

describe('Pipelines, lag and dead letters', { timeout: 300_000 }, () => {
  let h: ApiHarness;
  let custom: CustomObjectsApi;
  let source: string;
  const keys: Record<string, string> = {};
  const dead = `plan-dead-${randomUUID()}`;
  const bogus = `bogus-${randomUUID()}`;
  const lagUpdatedAt = '2026-12-02T10:00:00Z';

  before(async () => {
    h = await startApi({ sources: [{ name: 'web', type: 'server', trackingPlan: { mode: 'dlq', events: ORDER_PLAN } } as never] });
    source = h.product.sources.web!.name;
    custom = kubeConfig().makeApiClient(CustomObjectsApi);
    for (const role of ['admin', 'analyst', 'reader', 'marketer', 'privacy', 'decisions'] as const) keys[role] = await h.key(role);
    await custom.createNamespacedCustomObject({ ...GROUP, namespace: h.namespace, plural: 'pipelines', body: { apiVersion: 'uspa.tech/v1alpha1', kind: 'Pipeline', metadata: { name: 'main' }, spec: { sources: [source] } } });
    await custom.createNamespacedCustomObject({ ...GROUP, namespace: h.namespace, plural: 'pipelines', body: { apiVersion: 'uspa.tech/v1alpha1', kind: 'Pipeline', metadata: { name: 'other' }, spec: { sources: ['elsewhere'] } } });
    // What the operator would report.
    const status = {
      observedGeneration: 1,
      replicas: 2,
      readyReplicas: 1,
      consumerLag: 42,
      lagUpdatedAt,
      apiUrl: `http://uspa-api.${h.namespace}.svc:8081`,
      conditions: [{ type: 'Ready', status: 'False', reason: 'WorkersNotReady', message: '1 of 2 pipeline workers ready', lastTransitionTime: lagUpdatedAt, observedGeneration: 1 }],
    };
    await custom.patchNamespacedCustomObjectStatus({ ...GROUP, namespace: h.namespace, plural: 'pipelines', name: 'main', body: [{ op: 'add', path: '/status', value: status }] }, { headers: { 'Content-Type': 'application/json-patch+json' } } as never);

    const planned = await h.product.post('/v1/track', { messageId: dead, userId: 'u-dead', event: 'Order Completed', properties: { email: 'ada@example.com' } });
    assert.equal(planned.status, 200, 'dlq mode accepts the event');
    await h.product.post('/v1/batch', { batch: [{ type: 'bogus', messageId: bogus, anonymousId: 'x' }] });
    await eventually('both dead letters in ClickHouse', async () => (await h.product.rows('SELECT DISTINCT message_id FROM {db}.dead_letters WHERE message_id IN {ids:Array(String)}', { ids: [dead, bogus] })).length === 2, 60_000);
  });
  after(async () => {
    await h?.close();
  });

  test('list and get: Sources, status with conditions and lag, dead-letter counts', async () => {
    const list = await h.call(keys.reader, 'GET', '/v1/pipelines');
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.body.items.map((p: { name: string }) => p.name), ['main', 'other']);
    const main = await h.call(keys.analyst, 'GET', '/v1/pipelines/main');
    assert.equal(main.status, 200, main.text);
    assert.deepEqual(main.body.sources, [source]);
    assert.deepEqual(main.body.status, {
      conditions: [{ type: 'Ready', status: 'False', reason: 'WorkersNotReady', message: '1 of 2 pipeline workers ready', lastTransitionTime: '2026-12-02T10:00:00.000Z' }],
      observedGeneration: 1,
      consumerLag: 42,
      lagUpdatedAt,
      replicas: 2,
      readyReplicas: 1,
      apiUrl: `http://uspa-api.${h.namespace}.svc:8081`,
    });
    assert.deepEqual([main.body.deadLetters.total, main.body.deadLetters.pending], [2, 2]);
    assert.match(main.body.deadLetters.lastFailedAt, /^\d{4}-\d\d-\d\dT/);
    const other = list.body.items.find((p: { name: string }) => p.name === 'other');
    assert.deepEqual(other.deadLetters, { total: 0, pending: 0, lastFailedAt: null });
    assert.deepEqual(other.status, { conditions: [] });
    assert.equal((await h.call(keys.reader, 'GET', '/v1/pipelines/nope')).status, 404);
  });

  test('dead letters with their causes; payloads only for roles that see identifiers; filters and pages', async () => {
    const admin = await h.call(keys.admin, 'GET', '/v1/pipelines/main/dead-letters');
    assert.equal(admin.status, 200, admin.text);
    const plan = admin.body.items.find((d: { messageId: string }) => d.messageId === dead);
    assert.equal(plan.reason, 'tracking_plan_violation');
    assert.deepEqual(plan.errors, ['properties.revenue: is required']);
    assert.equal(plan.source, source);
    assert.equal(plan.replayed, false);
    assert.equal(plan.payload.properties.email, 'ada@example.com', 'admin sees what was received');
    assert.equal(admin.body.payloadNote, undefined);
    const invalid = admin.body.items.find((d: { messageId: string }) => d.messageId === bogus);
    assert.equal(invalid.reason, 'invalid_event');

    const analyst = await h.call(keys.analyst, 'GET', '/v1/pipelines/main/dead-letters');
    assert.equal(analyst.status, 200);
    assert.ok(analyst.body.items.length === 2 && analyst.body.items.every((d: object) => !('payload' in d)), 'no payload for analyst');
    assert.match(analyst.body.payloadNote, /personal data/);
    assert.ok(!analyst.text.includes('ada@example.com'));

    const byReason = await h.call(keys.admin, 'GET', '/v1/pipelines/main/dead-letters', { query: { reason: 'invalid_event' } });
    assert.deepEqual(byReason.body.items.map((d: { messageId: string }) => d.messageId), [bogus]);
    const future = await h.call(keys.admin, 'GET', '/v1/pipelines/main/dead-letters', { query: { since: '2299-01-01T00:00:00Z' } });
    assert.deepEqual(future.body.items, []);
    const past = await h.call(keys.admin, 'GET', '/v1/pipelines/main/dead-letters', { query: { until: '2000-01-01T00:00:00Z' } });
    assert.deepEqual(past.body.items, []);
    const first = await h.call(keys.admin, 'GET', '/v1/pipelines/main/dead-letters', { query: { limit: 1 } });
    assert.equal(first.body.items.length, 1);
    assert.ok(first.body.next_cursor);
    const second = await h.call(keys.admin, 'GET', '/v1/pipelines/main/dead-letters', { query: { limit: 1, cursor: first.body.next_cursor } });
    assert.equal(second.body.items.length, 1);
    assert.notEqual(second.body.items[0].messageId, first.body.items[0].messageId);
    assert.ok(second.body.items[0].failedAt <= first.body.items[0].failedAt, 'newest first');
    const third = await h.call(keys.admin, 'GET', '/v1/pipelines/main/dead-letters', { query: { limit: 1, cursor: second.body.next_cursor ?? undefined } });
    assert.ok(second.body.next_cursor === null || third.body.items.length === 0);
    const otherSource = await h.call(keys.admin, 'GET', '/v1/pipelines/other/dead-letters');
    assert.deepEqual(otherSource.body.items, [], "another Pipeline's Sources are not this one's");
  });

  test('replay: only admin; dry run sends nothing; replay delivers the event once and marks it', async () => {
    for (const role of ['analyst', 'reader', 'marketer', 'privacy', 'decisions']) {
      assert.equal((await h.call(keys[role], 'POST', '/v1/pipelines/main/dead-letters/replay', { body: {} })).status, 403, role);
    }
    for (const role of ['marketer', 'privacy', 'decisions']) assert.equal((await h.call(keys[role], 'GET', '/v1/pipelines')).status, 403, role);

    const dry = await h.call(keys.admin, 'POST', '/v1/pipelines/main/dead-letters/replay', { body: { dryRun: true } });
    assert.equal(dry.status, 200, dry.text);
    assert.equal(dry.body.dryRun, true);
    assert.deepEqual([dry.body.replayed, dry.body.skipped], [1, 1], JSON.stringify(dry.body));
    assert.deepEqual(dry.body.groups.replayed, [{ source, reason: 'tracking_plan_violation', count: 1, messageIds: [dead] }]);
    assert.deepEqual(dry.body.groups.skipped, [{ source, reason: 'invalid_event', why: 'the dead letter holds no event (unparseable input); fix and re-send it at the source', count: 1, messageIds: [bogus] }]);
    assert.deepEqual(await h.product.rows('SELECT message_id FROM {db}.dead_letter_replays'), [], 'a dry run marks nothing');

    const replay = await h.call(keys.admin, 'POST', '/v1/pipelines/main/dead-letters/replay', { body: { reason: 'tracking_plan_violation', source } });
    assert.equal(replay.status, 200, replay.text);
    assert.deepEqual([replay.body.dryRun, replay.body.replayed, replay.body.skipped], [false, 1, 0]);
    assert.deepEqual(replay.body.groups.replayed, [{ source, reason: 'tracking_plan_violation', count: 1, messageIds: [dead] }]);
    await h.product.waitForEvents([dead]);
    const again = await h.call(keys.admin, 'POST', '/v1/pipelines/main/dead-letters/replay', { body: { reason: 'tracking_plan_violation' } });
    assert.equal(again.body.replayed, 0, 'a dead letter is replayed once');
    const marked = await h.call(keys.admin, 'GET', '/v1/pipelines/main/dead-letters', { query: { replayed: true } });
    assert.deepEqual(marked.body.items.map((d: { messageId: string; replayed: boolean }) => [d.messageId, d.replayed]), [[dead, true]]);
    const pending = await h.call(keys.admin, 'GET', '/v1/pipelines/main/dead-letters', { query: { replayed: false } });
    assert.deepEqual(pending.body.items.map((d: { messageId: string }) => d.messageId), [bogus]);
    const counts = await h.call(keys.admin, 'GET', '/v1/pipelines/main');
    assert.deepEqual([counts.body.deadLetters.total, counts.body.deadLetters.pending], [2, 1]);
    const rows = await h.product.rows<{ n: string }>('SELECT count() AS n FROM {db}.events WHERE message_id = {id:String}', { id: dead });
    assert.equal(Number(rows[0]!.n), 1);
    const audit = await eventually('the replays in the audit log', async () => {
      const found = await h.product.rows<{ kind: string; status: number }>("SELECT kind, status FROM {db}.api_audit WHERE operation = 'replayDeadLetters' AND target = 'Pipeline/main' AND status = 200");
      return found.length >= 3 ? found : undefined;
    });
    assert.ok(audit.every((r) => r.kind === 'write'));
    const reads = await h.product.rows<{ kind: string }>("SELECT kind FROM {db}.api_audit WHERE operation = 'listDeadLetters' AND target = 'Pipeline/main'");
    assert.ok(reads.length > 0 && reads.every((r) => r.kind === 'read'), 'reading dead letters (personal data) is audited');
  });

  test('garbage and SQL in every parameter are 4xx and change nothing', async () => {
    const sql = "x' OR '1'='1";
    const cases: Array<[string, string, Record<string, string>, unknown, string]> = [
      ['GET', `/v1/pipelines/${encodeURIComponent(sql)}`, {}, undefined, 'path.name'],
      ['GET', `/v1/pipelines/${encodeURIComponent(sql)}/dead-letters`, {}, undefined, 'path.name'],
      ['GET', '/v1/pipelines/main/dead-letters', { source: sql }, undefined, 'query.source'],
      ['GET', '/v1/pipelines/main/dead-letters', { source: 'elsewhere' }, undefined, 'query.source'],
      ['GET', '/v1/pipelines/main/dead-letters', { reason: sql }, undefined, 'query.reason'],
      ['GET', '/v1/pipelines/main/dead-letters', { since: sql }, undefined, 'query.since'],
      ['GET', '/v1/pipelines/main/dead-letters', { until: '2026-13-45' }, undefined, 'query.until'],
      ['GET', '/v1/pipelines/main/dead-letters', { replayed: sql }, undefined, 'query.replayed'],
      ['GET', '/v1/pipelines/main/dead-letters', { limit: '1000000' }, undefined, 'query.limit'],
      ['GET', '/v1/pipelines/main/dead-letters', { cursor: sql }, undefined, 'query.cursor'],
      ['GET', '/v1/pipelines/main/dead-letters', { cursor: Buffer.from(JSON.stringify({ t: sql, tp: 'x', p: 0, o: '1' })).toString('base64url') }, undefined, 'query.cursor'],
      ['GET', '/v1/pipelines/main/dead-letters', { cursor: Buffer.from(JSON.stringify({ t: '2026-01-01 00:00:00', tp: 'x', p: 0, o: sql })).toString('base64url') }, undefined, 'query.cursor'],
      ['GET', '/v1/pipelines/main/dead-letters', { sql }, undefined, 'query.sql'],
      ['POST', '/v1/pipelines/main/dead-letters/replay', {}, { source: sql }, 'body.source'],
      ['POST', '/v1/pipelines/main/dead-letters/replay', {}, { source: 'elsewhere' }, 'body.source'],
      ['POST', '/v1/pipelines/main/dead-letters/replay', {}, { reason: sql }, 'body.reason'],
      ['POST', '/v1/pipelines/main/dead-letters/replay', {}, { since: sql }, 'body.since'],
      ['POST', '/v1/pipelines/main/dead-letters/replay', {}, { dryRun: 'yes' }, 'body.dryRun'],
      ['POST', '/v1/pipelines/main/dead-letters/replay', {}, { everything: true }, 'body.everything'],
    ];
    for (const [method, path, query, body, field] of cases) {
      const r = await h.call(keys.admin, method, path, { query, ...(body === undefined ? {} : { body }) });
      assert.equal(r.status, 400, `${method} ${path} ${JSON.stringify(query)} ${JSON.stringify(body)}: ${r.text}`);
      assert.equal(r.body.error.field, field, r.text);
    }
    const pending = await h.call(keys.admin, 'GET', '/v1/pipelines/main/dead-letters', { query: { replayed: false } });
    assert.deepEqual(pending.body.items.map((d: { messageId: string }) => d.messageId), [bogus], 'nothing was replayed');
  });
});
