// PrivacyRequests through the API: the privacy role makes, reads and withdraws them as the custom
// resources themselves (no operator runs in this harness, so none is carried out); other roles are
// refused, a malformed identity is refused at the field, and a request cannot be edited. An access
// export (written here as the privacy worker writes it, its status as the operator does) is
// downloaded once: a second download, an erasure, an unfinished or expired request are refused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { PassThrough } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { DOWNLOADED_ANNOTATION } from '../../api/v1alpha1/privacyrequest.ts';
import { resolvePerson, storesOf } from '../../lib/privacy/erase.ts';
import { exportStore, finishExport, NOT_EXPORTED } from '../../lib/privacy/export.ts';
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
    assert.equal(made.body.spec.action, 'erase');
    assert.equal(made.body.spec.mode, undefined, 'the operator applies suppress_with_delete; an access request has no mode');
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

  /** An access export of Ada written as the privacy worker writes it, and the Completed status the operator would write. */
  const completeAccess = async (name: string, expiresAt: string) => {
    const made = await h.call(keys.privacy, 'POST', '/v1/privacy-requests', { body: { name, spec: { identity: 'userId:ada', action: 'access' } } });
    assert.equal(made.status, 201, made.text);
    const w = h.product.warehouse;
    const person = await resolvePerson(w, 'userId:ada');
    const files = [];
    for (const t of (await storesOf(w)).filter((t) => !NOT_EXPORTED.includes(t.table))) files.push(await exportStore(w, t, person, made.body.uid, expiresAt));
    const exported = await finishExport(w, { version: 1, id: made.body.uid, namespace: h.namespace, database: h.product.database, requested: 'userId:ada', identities: person.identities, profileIds: person.profiles, createdAt: new Date().toISOString(), expiresAt }, files);
    await custom.patchNamespacedCustomObjectStatus({ ...GROUP, namespace: h.namespace, plural: 'privacyrequests', name, body: [{ op: 'add', path: '/status', value: { phase: 'Completed', step: 'done', export: exported } }] });
  };
  const download = (key: string | undefined, name: string) => fetch(`${h.url}/v1/privacy-requests/${name}/export`, { headers: { Authorization: `Bearer ${key}` } });

  test('an access export is downloaded once as tar.gz with every store; a second download is gone', async () => {
    const messageId = `m-ada-${Date.now()}`;
    assert.equal((await h.product.post('/v1/track', { messageId, userId: 'ada', event: 'Signed Up' })).status, 200);
    await h.product.waitForEvents([messageId]);
    await completeAccess('ada-access', new Date(Date.now() + 3_600_000).toISOString());
    assert.equal((await download(keys.marketer, 'ada-access')).status, 403, 'only the privacy and admin roles');
    const res = await download(keys.privacy, 'ada-access');
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(res.headers.get('content-type'), 'application/gzip');
    assert.match(res.headers.get('content-disposition') ?? '', /attachment; filename="export-ada-access\.tar\.gz"/);
    const files = new Map<string, string>();
    const extract = tar.extract();
    const source = new PassThrough();
    source.end(Buffer.from(await res.arrayBuffer()));
    source.pipe(createGunzip()).pipe(extract);
    for await (const entry of extract) {
      let text = '';
      for await (const c of entry) text += String(c);
      files.set(entry.header.name, text);
    }
    assert.ok(files.has('export-ada-access/README.md') && files.has('export-ada-access/manifest.json') && files.has('export-ada-access/person.json'));
    assert.ok(files.get('export-ada-access/stores/events.ndjson')!.includes(messageId), "Ada's event is in the archive");
    const stored = (await custom.getNamespacedCustomObject({ ...GROUP, namespace: h.namespace, plural: 'privacyrequests', name: 'ada-access' })) as { metadata: { annotations?: Record<string, string> } };
    assert.ok(stored.metadata.annotations?.[DOWNLOADED_ANNOTATION], 'the request says when it was downloaded');
    const again = await download(keys.privacy, 'ada-access');
    assert.equal(again.status, 410);
    assert.match(((await again.json()) as { error: { message: string } }).error.message, /was downloaded at .*; it is downloaded once — make a new access request/);
    const uid = (await h.call(keys.privacy, 'GET', '/v1/privacy-requests/ada-access')).body.uid;
    const left = await h.product.rows<{ n: string }>('SELECT count() AS n FROM {db}.privacy_exports WHERE request_id = {r:String}', { r: uid });
    assert.equal(Number(left[0]!.n), 0, 'the files are dropped once downloaded');
  });

  test('an expired export, an unfinished request and an erasure have nothing to download, and say why', async () => {
    await completeAccess('ada-expired', new Date(Date.now() - 1_000).toISOString());
    const expired = await download(keys.privacy, 'ada-expired');
    assert.equal(expired.status, 410);
    assert.match(((await expired.json()) as { error: { message: string } }).error.message, /expired at .* and was dropped; make a new access request/);
    assert.equal((await h.call(keys.privacy, 'POST', '/v1/privacy-requests', { body: { name: 'ada-waiting', spec: { identity: 'userId:ada', action: 'access' } } })).status, 201);
    const waiting = await download(keys.privacy, 'ada-waiting');
    assert.equal(waiting.status, 409);
    assert.match(((await waiting.json()) as { error: { message: string } }).error.message, /not ready yet \(Pending\)/);
    assert.equal((await h.call(keys.privacy, 'POST', '/v1/privacy-requests', { body: { name: 'ada-erase', spec: { identity: 'userId:ada' } } })).status, 201);
    assert.equal((await download(keys.privacy, 'ada-erase')).status, 409);
    assert.equal((await download(keys.privacy, 'nobody')).status, 404);
    const withMode = await h.call(keys.privacy, 'POST', '/v1/privacy-requests', { body: { name: 'odd', spec: { identity: 'userId:ada', action: 'access', mode: 'delete' } } });
    assert.equal(withMode.status, 400, withMode.text);
    assert.equal(withMode.body.error.field, 'body.spec');
    assert.match(withMode.text, /mode is for erasures; an access request has none/);
  });
});
