// Two tenants side by side on the same engines, each with its namespace, collector, pipeline, API,
// database and topics: one tenant's API key and write key are refused by the other's API and
// collector, the same identity in both names two different people, and an erasure in one leaves
// the other's person whole.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eraseStore, resolvePerson, storesOf } from '../../lib/privacy/erase.ts';
import { eventually, unique } from '../support/env.ts';
import { startApi, type ApiHarness } from '../support/gateway.ts';

describe('tenants side by side', { concurrency: false, timeout: 300_000 }, () => {
  let a: ApiHarness;
  let b: ApiHarness;
  let keyA: string;
  let keyB: string;
  const user = unique('u-shared');

  const identify = async (h: ApiHarness, plan: string) => {
    const messageId = unique('m');
    const res = await h.product.post('/v1/identify', { messageId, userId: user, traits: { plan } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await h.product.waitForEvents([messageId]);
  };
  const planOf = async (h: ApiHarness, key: string) =>
    eventually(`the profile in ${h.namespace}`, async () => {
      const r = await h.call(key, 'GET', `/v1/profiles/userId:${user}`);
      return r.status === 200 && r.body.traits.plan?.value;
    }, 90_000);

  before(async () => {
    a = await startApi();
    b = await startApi();
    keyA = await a.key('admin');
    keyB = await b.key('admin');
    await identify(a, 'tenant-a');
    await identify(b, 'tenant-b');
  });
  after(async () => {
    await a?.close();
    await b?.close();
  });

  test("one tenant's API key is refused by the other's API; each reads only its own person of the same identity", async () => {
    assert.equal(await planOf(a, keyA), 'tenant-a');
    assert.equal(await planOf(b, keyB), 'tenant-b');
    const crossed = await b.call(keyA, 'GET', `/v1/profiles/userId:${user}`);
    assert.equal(crossed.status, 401, crossed.text);
    assert.equal((await a.call(keyB, 'GET', '/v1/whoami')).status, 401);
  });

  test("one tenant's write key is refused by the other's collector, and nothing is stored there", async () => {
    const before = Number((await b.product.rows<{ n: string }>('SELECT count() AS n FROM {db}.events'))[0]!.n);
    const res = await fetch(`${b.product.url}/v1/track`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${a.product.sources.web!.writeKey}:`).toString('base64')}` },
      body: JSON.stringify({ userId: user, event: 'Crossed' }),
    });
    assert.equal(res.status, 401);
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(Number((await b.product.rows<{ n: string }>('SELECT count() AS n FROM {db}.events'))[0]!.n), before);
  });

  test("erasing the person in one tenant leaves the other tenant's person of the same identity whole", async () => {
    const person = await resolvePerson(a.product.warehouse, `userId:${user}`);
    for (const t of await storesOf(a.product.warehouse)) await eraseStore(a.product.warehouse, t, person, 'delete');
    assert.equal((await a.product.rows('SELECT 1 FROM {db}.events WHERE user_id = {u:String}', { u: user })).length, 0);
    assert.equal((await b.product.rows('SELECT 1 FROM {db}.events WHERE user_id = {u:String}', { u: user })).length, 1, "the other tenant's event stays");
    assert.equal(await planOf(b, keyB), 'tenant-b');
  });
});
