// The audit log on the real engines: a profile read, a write and an export each leave one api_audit
// row with who (ApiKey, key id, role), what (operation, route template, target id), when, from
// where and the status — and never the email of the URL nor the key; admin and privacy read it
// through GET /v1/audit with filters and pages, every other role gets 403; a call refused before
// its handler (403) is not recorded.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeCursor } from '../../gateway/http/operation.ts';
import { eventually, unique } from '../support/env.ts';
import { startApi, type ApiHarness } from '../support/gateway.ts';

type AuditPage = { items: { at: string; requestId: string; apiKey: string; keyId: string; role: string; operation: string; kind: string; method: string; route: string; target: string; status: number; ip: string; userAgent: string }[]; next_cursor: string | null };

describe('API audit log', { timeout: 600_000 }, () => {
  let h: ApiHarness;
  const keys: Record<string, string> = {};
  const run = unique('au');
  const user = `u-${run}`;
  const email = `ada-${run}@example.com`;
  let profileId = '';

  /** Every audit record of one ApiKey (paging through), as admin sees them. */
  async function recordsOf(apiKey: string, expected: number, extra: Record<string, string> = {}) {
    const api = h.client(keys.admin!);
    let page: AuditPage['items'] = [];
    await eventually(`${expected} audit records of ${apiKey}`, async () => {
      const { data, error } = await api.GET('/v1/audit', { params: { query: { apiKey, limit: 1000, ...extra } } });
      assert.ok(data, JSON.stringify(error));
      page = data.items;
      return page.length >= expected;
    }, 15_000);
    return page;
  }

  before(async () => {
    h = await startApi();
    for (const role of ['admin', 'privacy', 'analyst', 'marketer', 'reader', 'decisions'] as const) keys[role] = await h.key(role, {}, `${role}-key`);
    const res = await h.product.post('/v1/batch', { batch: [{ type: 'identify', messageId: `m-${run}`, userId: user, timestamp: new Date().toISOString(), traits: { email, plan: 'pro' } }] });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await h.product.waitForEvents([`m-${run}`]);
    await eventually('the profile is readable by its email', async () => {
      const r = await h.call(keys.admin, 'GET', `/v1/profiles/${encodeURIComponent(`userId:${user}`)}`);
      if (r.status !== 200) return false;
      profileId = r.body.profileId;
      return true;
    }, 30_000);
  });
  after(async () => {
    await h?.close();
  });

  test('a profile read by email writes one row: ApiKey, keyId, role, operation, route template, target = profile id, status, ip, user agent — not the email, not the key', async () => {
    const key = keys.marketer!;
    const { data: me } = await h.client(key).GET('/v1/whoami');
    const res = await h.call(key, 'GET', `/v1/profiles/${encodeURIComponent(`email:${email}`)}`, { headers: { 'User-Agent': 'audit-test/1', 'X-Request-Id': `req-${run}-1` } });
    assert.equal(res.status, 200);
    const [row, ...more] = await recordsOf('marketer-key', 1);
    assert.equal(more.length, 0, 'one call, one record');
    assert.deepEqual({ ...row, at: undefined }, {
      at: undefined,
      requestId: `req-${run}-1`,
      apiKey: 'marketer-key',
      keyId: me!.keyId,
      role: 'marketer',
      operation: 'getProfile',
      kind: 'read',
      method: 'GET',
      route: '/v1/profiles/{identity}',
      target: profileId,
      status: 200,
      ip: row!.ip,
      userAgent: 'audit-test/1',
    });
    assert.match(row!.ip, /^(::ffff:)?127\.0\.0\.1$|^::1$/);
    assert.ok(Math.abs(Date.parse(row!.at) - Date.now()) < 60_000, `at ${row!.at} is now`);
    // The table itself, every column of every row: neither the email of the URL nor any key.
    const raw = JSON.stringify(await h.product.rows('SELECT * FROM {db}.api_audit'));
    assert.ok(!raw.includes(email) && !raw.includes(encodeURIComponent(email)), 'the email used in the path is not in the audit log');
    for (const k of Object.values(keys)) assert.ok(!raw.includes(k), 'no key in the audit log');
  });

  test('a not-found read is recorded with its status; writes and exports are recorded with their kind and target', async () => {
    const key = keys.admin!;
    const started = new Date().toISOString();
    assert.equal((await h.call(key, 'GET', `/v1/profiles/${encodeURIComponent('email:nobody@example.com')}`)).status, 404);
    const name = `seg-${run}`;
    const created = await h.call(key, 'POST', '/v1/segments', { body: { name, spec: { rule: { trait: 'plan', op: 'eq', value: 'pro' } } } });
    assert.equal(created.status, 201, created.text);
    const exported = await h.call(key, 'GET', `/v1/segments/${name}/members`, { query: { format: 'ndjson' } });
    assert.ok([200, 409].includes(exported.status), exported.text);
    const rows = await recordsOf('admin-key', 3, { since: started });
    const by = (operation: string) => rows.filter((r) => r.operation === operation);
    assert.deepEqual(by('getProfile').map((r) => [r.kind, r.status, r.target]), [['read', 404, '']], 'a read that found nobody: recorded, with no target');
    assert.deepEqual(by('createSegment').map((r) => [r.kind, r.method, r.route, r.status, r.target]), [['write', 'POST', '/v1/segments', 201, `Segment/${name}`]]);
    assert.deepEqual(by('exportSegmentMembers').map((r) => [r.kind, r.route, r.status, r.target]), [['export', '/v1/segments/{name}/members', exported.status, name]]);
    assert.ok(!JSON.stringify(rows).includes('nobody@example.com'));
  });

  test('admin and privacy page through the log newest first, with filters by key, operation, kind, target and time', async () => {
    const key = keys.reader!;
    const started = new Date().toISOString();
    for (let i = 0; i < 5; i++) assert.equal((await h.call(key, 'GET', `/v1/profiles/${encodeURIComponent(`userId:${user}`)}`, { headers: { 'X-Request-Id': `req-${run}-page-${i}` } })).status, 200);
    await recordsOf('reader-key', 5);
    for (const role of ['admin', 'privacy'] as const) {
      const api = h.client(keys[role]!);
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const { data, error } = await api.GET('/v1/audit', { params: { query: { apiKey: 'reader-key', operation: 'getProfile', kind: 'read', target: profileId, since: started, limit: 2, ...(cursor ? { cursor } : {}) } } });
        assert.ok(data, JSON.stringify(error));
        assert.ok(data.items.length <= 2);
        seen.push(...data.items.map((r) => r.requestId));
        cursor = data.next_cursor ?? undefined;
        pages++;
      } while (cursor && pages < 10);
      assert.deepEqual(seen, [4, 3, 2, 1, 0].map((i) => `req-${run}-page-${i}`), `${role}: all five, newest first, each once, in ${pages} pages`);
      assert.equal(pages, 3);
    }
    const api = h.client(keys.privacy!);
    const none = async (query: Record<string, string>) => (await api.GET('/v1/audit', { params: { query: { apiKey: 'reader-key', ...query } } })).data!.items.length;
    assert.equal(await none({ until: started }), 0, 'until: before the calls');
    assert.equal(await none({ kind: 'write' }), 0, 'kind: the reader wrote nothing');
    assert.equal(await none({ target: 'p-someone-else' }), 0);
    assert.equal(await none({ operation: 'listProfileEvents' }), 0);
    assert.equal(await none({ since: started }), 5);
  });

  test('analyst, marketer, reader and decisions get 403 from /v1/audit; a refused read (403) is not recorded, an allowed one of the same key is', async () => {
    for (const role of ['analyst', 'marketer', 'reader', 'decisions'] as const) {
      const { response, error } = await h.client(keys[role]!).GET('/v1/audit');
      assert.equal(response.status, 403, role);
      assert.equal(error?.error.code, 'forbidden');
    }
    const identity = encodeURIComponent(`userId:${user}`);
    // A browser's key reads no profile at all; refused, it is not recorded.
    assert.equal((await h.call(keys.decisions!, 'GET', `/v1/profiles/${identity}`)).status, 403, 'decisions may not read traits');
    assert.equal((await h.call(keys.decisions!, 'GET', `/v1/profiles/${identity}/decisions`)).status, 403, 'decisions reads no profile');
    const key = await h.key('reader', {}, 'reader-audit-key');
    assert.equal((await h.call(key, 'GET', `/v1/profiles/${identity}/events`)).status, 403, 'reader may not read timelines');
    assert.equal((await h.call(key, 'GET', `/v1/profiles/${identity}/decisions`)).status, 200);
    const rows = await recordsOf('reader-audit-key', 1);
    await new Promise((r) => setTimeout(r, 1_500)); // past a flush: a recorded 403 would be there now
    assert.equal((await h.client(keys.admin!).GET('/v1/audit', { params: { query: { apiKey: 'decisions-key' } } })).data!.items.length, 0, 'the refused reads of the decisions key');
    const all = (await h.client(keys.admin!).GET('/v1/audit', { params: { query: { apiKey: 'reader-audit-key' } } })).data!.items;
    assert.deepEqual(all.map((r) => [r.operation, r.status, r.target]), [['getProfileDecisions', 200, profileId]], `only the allowed call: ${JSON.stringify(rows)}`);
  });

  test('bad input to /v1/audit: a clear 400 naming the field, and nothing changes', async () => {
    const key = keys.admin!;
    const before = await h.product.rows<{ n: string }>('SELECT count() AS n FROM {db}.api_audit');
    const cases: [Record<string, string>, string][] = [
      [{ limit: '5000' }, 'query.limit'],
      [{ limit: '0' }, 'query.limit'],
      [{ kind: 'delete' }, 'query.kind'],
      [{ since: 'yesterday' }, 'query.since'],
      [{ until: '0001-01-01T00:00:00Z' }, 'query.until'],
      [{ apiKey: "x' OR '1'='1" }, 'query.apiKey'],
      [{ operation: 'getProfile; DROP TABLE {db}.api_audit' }, 'query.operation'],
      [{ cursor: 'not a cursor!' }, 'query.cursor'],
      [{ cursor: encodeCursor({ at: "2026-01-01 00:00:00') OR 1=1 --", id: 'x' }) }, 'query.cursor'],
      [{ cursor: encodeCursor({ at: '2026-01-01 00:00:00', id: 'x', extra: 1 }) }, 'query.cursor'],
      [{ cursor: encodeCursor({ at: '9999-12-31 00:00:00', id: 'x' }) }, 'query.cursor'],
      [{ unknown: '1' }, 'query.unknown'],
    ];
    for (const [query, field] of cases) {
      const res = await h.call(key, 'GET', '/v1/audit', { query });
      assert.equal(res.status, 400, `${JSON.stringify(query)}: ${res.text}`);
      assert.equal(res.body.error.field, field, JSON.stringify(query));
    }
    // SQL in a free-text filter is a value like any other: no rows, no harm.
    const sql = await h.call(key, 'GET', '/v1/audit', { query: { target: "x' OR 1=1 --" } });
    assert.equal(sql.status, 200);
    assert.deepEqual(sql.body.items, []);
    const afterCount = await h.product.rows<{ n: string }>('SELECT count() AS n FROM {db}.api_audit');
    assert.equal(afterCount[0]!.n, before[0]!.n, 'reading the log writes nothing to it');
  });
});
