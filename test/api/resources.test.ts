// Segments and Activations written through the API land in the Kubernetes API server as the
// custom resources themselves (read back here with CustomObjectsApi, as kubectl would), with the
// CRD's validation, the API server's CEL refusals, optimistic concurrency and the roles that may
// write. No operator runs in the harness: the resources simply exist.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { eventually } from '../support/env.ts';
import { kubeConfig } from '../support/operator.ts';
import { startApi, type ApiHarness } from '../support/gateway.ts';

const GROUP = { group: 'uspa.tech', version: 'v1alpha1' };

describe('Segments and Activations through the Kubernetes API', { timeout: 300_000 }, () => {
  let h: ApiHarness;
  let custom: CustomObjectsApi;
  const keys: Record<string, string> = {};
  const read = (plural: string, name: string) => custom.getNamespacedCustomObject({ ...GROUP, namespace: h.namespace, plural, name }) as Promise<{ metadata: { resourceVersion: string; generation: number; managedFields?: Array<{ manager: string }> }; spec: Record<string, unknown> }>;
  const gone = async (plural: string, name: string) => read(plural, name).then(() => false, (err: { code?: number }) => err.code === 404);

  let out: string;

  before(async () => {
    h = await startApi();
    out = `${h.product.env.USPA_TOPIC_PREFIX}.out.crm`;
    custom = kubeConfig().makeApiClient(CustomObjectsApi);
    for (const role of ['admin', 'marketer', 'analyst', 'privacy', 'reader', 'decisions'] as const) keys[role] = await h.key(role);
  });
  after(async () => {
    await h?.close();
  });

  test('a Segment created, replaced, patched and deleted through the API is the object kubectl sees', async () => {
    // Through the typed client (api/client); its responses are validated like h.call's.
    const made = await h.client(keys.marketer!).POST('/v1/segments', { body: { name: 'pro-users', spec: { description: 'paying', rule: { trait: 'plan', op: 'eq', value: 'pro' } } } });
    assert.equal(made.response.status, 201, JSON.stringify(made.error));
    const created = { body: made.data! };
    assert.equal(created.body.name, 'pro-users');
    assert.equal(created.body.generation, 1);
    assert.equal((created.body.spec as { mode?: string }).mode, 'batch', 'the API server filled in its default');
    assert.deepEqual(created.body.status, {});
    let stored = await read('segments', 'pro-users');
    assert.deepEqual(stored.spec.rule, { trait: 'plan', op: 'eq', value: 'pro' });
    assert.equal(stored.metadata.resourceVersion, created.body.resourceVersion);
    assert.ok(stored.metadata.managedFields?.some((f) => f.manager === 'uspa-api'), 'written under the field manager uspa-api');

    const replaced = await h.call(keys.marketer, 'PUT', '/v1/segments/pro-users', { body: { spec: { rule: { all: [{ trait: 'plan', op: 'eq', value: 'pro' }, { event: 'Order Completed', atLeast: 1, within: '30d' }] }, mode: 'realtime' }, resourceVersion: created.body.resourceVersion } });
    assert.equal(replaced.status, 200, replaced.text);
    assert.equal(replaced.body.generation, 2);
    stored = await read('segments', 'pro-users');
    assert.equal(stored.spec.mode, 'realtime');
    assert.equal(stored.spec.description, undefined, 'PUT replaces the whole spec');

    const stale = await h.call(keys.marketer, 'PUT', '/v1/segments/pro-users', { body: { spec: { rule: { trait: 'plan', op: 'exists' } }, resourceVersion: created.body.resourceVersion } });
    assert.equal(stale.status, 409, stale.text);
    assert.equal(stale.body.error.code, 'conflict');
    assert.equal(stale.body.error.field, 'body.resourceVersion');
    assert.match(stale.body.error.message, new RegExp(`is at resourceVersion ${replaced.body.resourceVersion}`), 'names the current resourceVersion');
    assert.equal((await read('segments', 'pro-users')).spec.mode, 'realtime', 'a refused write changes nothing');

    const patched = await h.call(keys.marketer, 'PATCH', '/v1/segments/pro-users', { body: { spec: { mode: 'batch', refresh: { interval: '15m' } } }, headers: { 'Content-Type': 'application/merge-patch+json' } });
    assert.equal(patched.status, 200, patched.text);
    stored = await read('segments', 'pro-users');
    assert.deepEqual([stored.spec.mode, stored.spec.refresh], ['batch', { interval: '15m' }]);
    assert.deepEqual(stored.spec.rule, replaced.body.spec.rule, 'a merge patch keeps what it does not name');
    const unset = await h.call(keys.marketer, 'PATCH', '/v1/segments/pro-users', { body: { spec: { refresh: null }, resourceVersion: patched.body.resourceVersion } });
    assert.equal(unset.status, 200, unset.text);
    assert.equal((await read('segments', 'pro-users')).spec.refresh, undefined, 'null removes a field');
    const stalePatch = await h.call(keys.marketer, 'PATCH', '/v1/segments/pro-users', { body: { spec: { mode: 'realtime' }, resourceVersion: patched.body.resourceVersion } });
    assert.equal(stalePatch.status, 409);

    const again = await h.call(keys.marketer, 'POST', '/v1/segments', { body: { name: 'pro-users', spec: { rule: { trait: 'plan', op: 'exists' } } } });
    assert.deepEqual([again.status, again.body.error.code, again.body.error.field], [409, 'conflict', 'body.name']);

    const deleted = await h.call(keys.marketer, 'DELETE', '/v1/segments/pro-users');
    assert.equal(deleted.status, 204);
    assert.ok(await gone('segments', 'pro-users'));
    const missing = await h.call(keys.marketer, 'DELETE', '/v1/segments/pro-users');
    assert.deepEqual([missing.status, missing.body.error.code], [404, 'not_found']);
    const patchMissing = await h.call(keys.marketer, 'PATCH', '/v1/segments/never', { body: { spec: { mode: 'batch' } } });
    assert.equal(patchMissing.status, 404);

    // Every write is in the audit log with the Segment's name as target, never the spec itself.
    const audit = await eventually('the writes in the audit log', async () => {
      const rows = await h.product.rows<{ operation: string; kind: string; target: string; status: number; api_key: string }>("SELECT operation, kind, target, status, api_key FROM {db}.api_audit WHERE target = 'Segment/pro-users' ORDER BY at");
      return rows.length >= 9 ? rows : undefined;
    });
    assert.deepEqual(audit.map((r) => [r.operation, r.status]), [['createSegment', 201], ['replaceSegment', 200], ['replaceSegment', 409], ['patchSegment', 200], ['patchSegment', 200], ['patchSegment', 409], ['createSegment', 409], ['deleteSegment', 204], ['deleteSegment', 404]]);
    assert.ok(audit.every((r) => r.kind === 'write' && r.api_key.endsWith('-marketer')));
    const logged = JSON.stringify(await h.product.rows('SELECT * FROM {db}.api_audit'));
    assert.ok(!logged.includes('Order Completed') && !logged.includes('paying'), 'no spec in the audit log');
  });

  test('an invalid rule is refused before the API server with the rule path under body.spec.rule', async () => {
    const bad = await h.call(keys.marketer, 'POST', '/v1/segments', { body: { name: 'bad-rule', spec: { rule: { all: [{ trait: 'plan', op: 'eq', value: 'pro' }, { trait: 'age', op: 'older', value: 3 }] } } } });
    assert.equal(bad.status, 400, bad.text);
    assert.equal(bad.body.error.code, 'invalid_request');
    assert.equal(bad.body.error.field, 'body.spec.rule.all[1].op');
    assert.ok(await gone('segments', 'bad-rule'));
    const schema = await h.call(keys.marketer, 'POST', '/v1/segments', { body: { name: 'bad-mode', spec: { rule: { trait: 'plan', op: 'exists' }, mode: 'sometimes', colour: 'red' } } });
    assert.equal(schema.status, 400);
    assert.deepEqual(schema.body.error.problems.map((p: { field: string }) => p.field).sort(), ['body.spec.colour', 'body.spec.mode']);
    const noRule = await h.call(keys.marketer, 'POST', '/v1/segments', { body: { name: 'no-rule', spec: {} } });
    assert.equal(noRule.body.error.field, 'body.spec.rule');
    const badName = await h.call(keys.marketer, 'POST', '/v1/segments', { body: { name: 'Bad_Name', spec: { rule: { trait: 'plan', op: 'exists' } } } });
    assert.equal(badName.body.error.field, 'body.name');

    await h.call(keys.marketer, 'POST', '/v1/segments', { body: { name: 'patched-bad', spec: { rule: { trait: 'plan', op: 'exists' } } } });
    const patch = await h.call(keys.marketer, 'PATCH', '/v1/segments/patched-bad', { body: { spec: { rule: { trait: 'plan', op: 'between', value: 'x' } } } });
    assert.equal(patch.status, 400, patch.text);
    assert.match(patch.body.error.field, /^body\.spec\.rule/);
    assert.deepEqual((await read('segments', 'patched-bad')).spec.rule, { trait: 'plan', op: 'exists' }, 'the refused patch changed nothing');
  });

  test("the API server's CEL refusal comes back as 400 with its field under body.", async () => {
    const both = await h.call(keys.marketer, 'POST', '/v1/segments', { body: { name: 'cel', spec: { rule: { trait: 'plan', op: 'exists' }, refresh: { interval: '1h', cron: '@daily' } } } });
    assert.equal(both.status, 400, both.text);
    assert.deepEqual(both.body.error.problems, [{ field: 'body.spec.refresh', message: 'set either refresh.interval or refresh.cron, not both' }]);
    assert.ok(await gone('segments', 'cel'));
    const activation = await h.call(keys.marketer, 'POST', '/v1/activations', { body: { name: 'cel-act', spec: { trigger: { type: 'event' }, destination: { type: 'kafka', kafka: { topic: out } } } } });
    assert.equal(activation.status, 400, activation.text);
    assert.deepEqual(activation.body.error.problems, [{ field: 'body.spec.trigger.event', message: 'spec.trigger.event is required when trigger.type is event' }]);
    const topic = await h.call(keys.marketer, 'POST', '/v1/activations', { body: { name: 'elsewhere', spec: { trigger: { type: 'event', event: { name: 'E' } }, destination: { type: 'kafka', kafka: { topic: 'payments' } } } } });
    assert.equal(topic.status, 400, topic.text);
    assert.equal(topic.body.error.field, 'body.spec.destination.kafka.topic');
    assert.match(topic.body.error.problems[0].message, /is not an output topic of this namespace/);
    assert.ok(await gone('activations', 'elsewhere'));
  });

  test('an Activation: create, list with pages, get, replace, patch, delete; readers read it', async () => {
    const spec = (name: string) => ({ trigger: { type: 'event', event: { name } }, destination: { type: 'webhook', webhook: { url: 'https://hooks.example.com/x' } }, template: { body: 'hi {{ traits.plan }}' } });
    for (const n of ['a1', 'a2', 'a3']) {
      const r = await h.call(keys.admin, 'POST', '/v1/activations', { body: { name: n, spec: spec('Cart Viewed') } });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.body.spec.destination.webhook.timeoutSeconds, 10, 'defaults from the API server');
    }
    const names: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await h.call(keys.reader, 'GET', '/v1/activations', { query: { limit: 2, cursor } });
      assert.equal(page.status, 200, page.text);
      names.push(...page.body.items.map((a: { name: string }) => a.name));
      cursor = page.body.next_cursor ?? undefined;
      pages++;
    } while (cursor);
    assert.deepEqual(names, ['a1', 'a2', 'a3']);
    assert.equal(pages, 2);

    const one = await h.call(keys.analyst, 'GET', '/v1/activations/a2');
    assert.deepEqual([one.status, one.body.spec.trigger.event.name], [200, 'Cart Viewed']);
    const put = await h.call(keys.marketer, 'PUT', '/v1/activations/a2', { body: { spec: { ...spec('Order Completed'), holdoutPercent: 10 } } });
    assert.equal(put.status, 200, put.text);
    const patched = await h.call(keys.marketer, 'PATCH', '/v1/activations/a2', { body: { spec: { frequencyCap: { max: 1, per: '7d' }, template: null } } });
    assert.equal(patched.status, 200, patched.text);
    const stored = await read('activations', 'a2');
    assert.deepEqual(stored.spec.trigger, { type: 'event', event: { name: 'Order Completed' }, sync: 'diff' });
    assert.deepEqual([stored.spec.holdoutPercent, stored.spec.frequencyCap, stored.spec.template], [10, { max: 1, per: '7d' }, undefined]);
    assert.equal((await h.call(keys.marketer, 'DELETE', '/v1/activations/a2')).status, 204);
    assert.ok(await gone('activations', 'a2'));
    assert.equal((await h.call(keys.reader, 'GET', '/v1/activations/a2')).status, 404);
  });

  test('reader, analyst, privacy and decisions may not write; privacy and decisions may not read Activations', async () => {
    await h.call(keys.admin, 'POST', '/v1/segments', { body: { name: 'kept', spec: { rule: { trait: 'plan', op: 'exists' } } } });
    await h.call(keys.admin, 'POST', '/v1/activations', { body: { name: 'kept', spec: { trigger: { type: 'segmentEntered' }, segment: 'kept', destination: { type: 'kafka', kafka: { topic: out } } } } });
    for (const role of ['reader', 'analyst', 'privacy', 'decisions']) {
      const calls: Array<[string, string, unknown?]> = [
        ['POST', '/v1/segments', { name: `by-${role}`, spec: { rule: { trait: 'plan', op: 'exists' } } }],
        ['PUT', '/v1/segments/kept', { spec: { rule: { trait: 'x', op: 'exists' } } }],
        ['PATCH', '/v1/segments/kept', { spec: { mode: 'realtime' } }],
        ['DELETE', '/v1/segments/kept'],
        ['POST', '/v1/activations', { name: `by-${role}`, spec: { trigger: { type: 'segmentEntered' }, segment: 'kept', destination: { type: 'kafka', kafka: { topic: out } } } }],
        ['PUT', '/v1/activations/kept', { spec: { trigger: { type: 'segmentExited' }, segment: 'kept', destination: { type: 'kafka', kafka: { topic: out } } } }],
        ['PATCH', '/v1/activations/kept', { spec: { holdoutPercent: 5 } }],
        ['DELETE', '/v1/activations/kept'],
      ];
      for (const [method, path, body] of calls) {
        const r = await h.call(keys[role], method, path, body === undefined ? {} : { body });
        assert.equal(r.status, 403, `${role} ${method} ${path}: ${r.text}`);
        assert.equal(r.body.error.code, 'forbidden');
      }
    }
    for (const role of ['privacy', 'decisions']) {
      assert.equal((await h.call(keys[role], 'GET', '/v1/activations')).status, 403, role);
      assert.equal((await h.call(keys[role], 'GET', '/v1/activations/kept')).status, 403, role);
    }
    assert.ok(!(await gone('segments', 'kept')) && !(await gone('activations', 'kept')), 'nothing was deleted');
    assert.equal((await read('segments', 'kept')).metadata.generation, 1, 'nothing was changed');
    assert.ok(await gone('segments', 'by-reader'));
  });

  test('garbage and SQL in every parameter are 4xx and change nothing', async () => {
    const hostile = ["x'; DROP TABLE events; --", '../../etc/passwd', 'A'.repeat(300), '%00', 'kept;drop'];
    for (const name of hostile) {
      for (const [method, path] of [['PUT', '/v1/segments'], ['PATCH', '/v1/segments'], ['DELETE', '/v1/segments'], ['GET', '/v1/activations'], ['DELETE', '/v1/activations']] as const) {
        const r = await h.call(keys.admin, method, `${path}/${encodeURIComponent(name)}`, method === 'DELETE' || method === 'GET' ? {} : { body: { spec: { rule: { trait: 'plan', op: 'exists' } } } });
        assert.ok(r.status >= 400 && r.status < 500, `${method} ${path}/${name}: ${r.status}`);
        if (r.status === 400) assert.equal(r.body.error.field, 'path.name');
      }
      const body = await h.call(keys.admin, 'POST', '/v1/segments', { body: { name, spec: { rule: { trait: name, op: 'eq', value: name } } } });
      assert.equal(body.status, 400, name);
    }
    for (const cursor of ['!!!', Buffer.from('{"c":"garbage"}').toString('base64url'), Buffer.from('{"x":1}').toString('base64url')]) {
      const r = await h.call(keys.admin, 'GET', '/v1/activations', { query: { cursor } });
      assert.deepEqual([r.status, r.body.error.field], [400, 'query.cursor'], cursor);
    }
    for (const limit of ['0', '100000', 'x', "1' OR 1=1"]) assert.equal((await h.call(keys.admin, 'GET', '/v1/activations', { query: { limit } })).body.error?.field, 'query.limit', limit);
    const rv = await h.call(keys.admin, 'PUT', '/v1/segments/kept', { body: { spec: { rule: { trait: 'plan', op: 'exists' } }, resourceVersion: "1' OR '1'='1" } });
    assert.deepEqual([rv.status, rv.body.error.field], [400, 'body.resourceVersion']);
    const notJson = await h.call(keys.admin, 'PATCH', '/v1/segments/kept', { raw: '{"spec":', headers: { 'Content-Type': 'application/merge-patch+json' } });
    assert.equal(notJson.status, 400);
    assert.equal((await read('segments', 'kept')).metadata.generation, 1, 'nothing was changed');
  });
});
