// PrivacyRequests through the API: the privacy role makes, reads and withdraws them as the custom
// resources themselves (no operator runs in this harness, so none is carried out); other roles are
// refused, a malformed identity is refused at the field, and a request cannot be edited.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { kubeConfig } from '../support/operator.ts';
import { startApi, type ApiHarness } from '../support/gateway.ts';

const GROUP = { group: 'uspa.tech', version: 'v1alpha1' };

describe('PrivacyRequests through the API', { timeout: 300_000 }, () => {
  let h: ApiHarness;
  let custom: CustomObjectsApi;
  const keys: Record<string, string> = {};
  before(async () => {
    h = await startApi();
    custom = kubeConfig().makeApiClient(CustomObjectsApi);
    for (const role of ['privacy', 'marketer', 'admin'] as const) keys[role] = await h.key(role);
  });
  after(async () => h?.close());

  test('the privacy role makes a request; it is the PrivacyRequest kubectl sees, with the defaults filled in', async () => {
    const made = await h.call(keys.privacy, 'POST', '/v1/privacy-requests', { body: { name: 'ada', spec: { identity: 'email:ada@example.com', reference: 'TICKET-1' } } });
    assert.equal(made.status, 201, made.text);
    assert.equal(made.body.spec.mode, 'suppress_with_delete');
    assert.equal(made.body.spec.action, 'erase');
    const stored = (await custom.getNamespacedCustomObject({ ...GROUP, namespace: h.namespace, plural: 'privacyrequests', name: 'ada' })) as { spec: { identity: string } };
    assert.equal(stored.spec.identity, 'email:ada@example.com');
    const read = await h.call(keys.privacy, 'GET', '/v1/privacy-requests/ada');
    assert.equal(read.status, 200, read.text);
    assert.deepEqual(read.body.status, {});
    const list = await h.call(keys.admin, 'GET', '/v1/privacy-requests');
    assert.deepEqual(list.body.items.map((i: { name: string }) => i.name), ['ada']);
  });

  test('other roles are refused; a malformed identity is refused at its field; nothing edits a request', async () => {
    const marketer = await h.call(keys.marketer, 'POST', '/v1/privacy-requests', { body: { name: 'bob', spec: { identity: 'email:bob@example.com' } } });
    assert.equal(marketer.status, 403, marketer.text);
    assert.equal((await h.call(keys.marketer, 'GET', '/v1/privacy-requests/ada')).status, 403);
    const bad = await h.call(keys.privacy, 'POST', '/v1/privacy-requests', { body: { name: 'bad', spec: { identity: 'bob@example.com' } } });
    assert.equal(bad.status, 400, bad.text);
    assert.equal(bad.body.error.field, 'body.spec.identity');
    for (const method of ['PUT', 'PATCH'] as const) {
      const edit = await h.call(keys.privacy, method, '/v1/privacy-requests/ada', { body: { spec: { identity: 'email:eve@example.com' } } });
      assert.ok(edit.status === 404 || edit.status === 405, `${method}: ${edit.status} ${edit.text}`);
    }
  });

  test('a request is withdrawn with DELETE', async () => {
    const gone = await h.call(keys.privacy, 'DELETE', '/v1/privacy-requests/ada');
    assert.equal(gone.status, 204, gone.text);
    assert.equal((await h.call(keys.privacy, 'GET', '/v1/privacy-requests/ada')).status, 404);
  });
});
