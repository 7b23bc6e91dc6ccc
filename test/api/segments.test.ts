// Segments through the API on the real engines: the list with sizes and Ready, history paged back,
// members as paged JSON, NDJSON and CSV, roles and hostile input. No operator runs here: the
// Segment resources are created in the harness namespace, and what a computation would write
// (segment_versions, segment_members, segment_live) is inserted into ClickHouse by the test.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { parse } from 'csv-parse/sync';
import { eventually } from '../support/env.ts';
import { kubeConfig } from '../support/operator.ts';
import { startApi, type ApiHarness } from '../support/gateway.ts';

const chTime = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');

describe('Segments API', () => {
  let h: ApiHarness;
  let marketer: string;
  let analyst: string;
  let reader: string;
  let key: (name: string) => string;
  /** Profile ids of the identified people: u-1 (email ada@…), u-2 (email bob@…). */
  let ada: string;
  let bob: string;
  const synthetic = ['p-syn-1', 'p-syn-2', 'p-syn-3', 'p-syn-4', 'p-syn-5'];

  before(async () => {
    h = await startApi();
    key = (name) => `${h.namespace}/${name}`;
    const custom = kubeConfig().makeApiClient(CustomObjectsApi);
    const create = async (name: string, spec: Record<string, unknown>, conditions?: unknown[]) => {
      await custom.createNamespacedCustomObject({ group: 'uspa.tech', version: 'v1alpha1', namespace: h.namespace, plural: 'segments', body: { apiVersion: 'uspa.tech/v1alpha1', kind: 'Segment', metadata: { name }, spec } });
      if (conditions) {
        await custom.patchNamespacedCustomObjectStatus({ group: 'uspa.tech', version: 'v1alpha1', namespace: h.namespace, plural: 'segments', name, body: [{ op: 'add', path: '/status', value: { conditions } }] }, { headers: { 'Content-Type': 'application/json-patch+json' } } as never);
      }
    };
    const ready = [{ type: 'Ready', status: 'True', reason: 'Scheduled', message: 'recomputed every 1h', lastTransitionTime: '2026-01-02T03:04:05Z' }];
    await create('vip', { description: 'Big spenders', rule: { trait: 'plan', op: 'eq', value: 'pro' } }, ready);
    await create('never', { rule: { trait: 'plan', op: 'eq', value: 'free' } });
    await create('live', { mode: 'realtime', rule: { event: 'Order Completed', atLeast: 1, within: '30d' } });
    [marketer, analyst, reader] = await Promise.all([h.key('marketer'), h.key('analyst'), h.key('reader')]);

    // Two identified people, through the real collector and pipeline, for identities in exports.
    const ids = [randomUUID(), randomUUID()];
    await h.product.post('/v1/batch', {
      batch: [
        { type: 'identify', messageId: ids[0], userId: 'u-1', traits: { email: 'ada@example.com', plan: 'pro' } },
        { type: 'identify', messageId: ids[1], userId: 'u-2', traits: { email: 'bob@example.com', plan: 'pro' } },
      ],
    });
    await h.product.waitForEvents(ids);
    const people = await eventually('both profiles built', async () => {
      const rows = await h.product.rows<{ profile_id: string; identities: string[] }>("SELECT profile_id, identities FROM {db}.profiles FINAL WHERE deleted = 0 AND hasAny(identities, ['userId:u-1', 'userId:u-2'])");
      return rows.length === 2 && rows.every((r) => r.identities.some((i) => i.startsWith('email:'))) ? rows : undefined;
    });
    ada = people.find((p) => p.identities.includes('userId:u-1'))!.profile_id;
    bob = people.find((p) => p.identities.includes('userId:u-2'))!.profile_id;

    // vip: 25 computed versions (history); the members of the newest, and of an older one that must not show.
    const t0 = Date.UTC(2026, 0, 1);
    const newest = [ada, bob, ...synthetic];
    await h.product.warehouse.insert('segment_versions', Array.from({ length: 25 }, (_, i) => ({ segment: key('vip'), version: i + 1, size: i === 24 ? newest.length : 100 + i, computed_at: chTime(new Date(t0 + i * 3_600_000)), query: 'SELECT 1' })));
    await h.product.warehouse.insert('segment_members', newest.map((p) => ({ segment: key('vip'), version: 25, profile_id: p })));
    // A second part with a row again (a retried insert): not merged yet, so the read must fold it.
    await h.product.warehouse.insert('segment_members', [{ segment: key('vip'), version: 25, profile_id: synthetic[0] }]);
    await h.product.warehouse.insert('segment_members', [{ segment: key('vip'), version: 24, profile_id: 'p-only-in-24' }]);
    // live (realtime): p-a entered then exited, p-b and ada entered.
    const at = (s: number) => chTime(new Date(Date.now() - 60_000 + s * 1000));
    await h.product.warehouse.insert('segment_live', [
      { segment: key('live'), profile_id: 'p-a', member: 1, changed_at: at(0), origin: 'realtime' },
      { segment: key('live'), profile_id: 'p-a', member: 0, changed_at: at(1), origin: 'realtime' },
      { segment: key('live'), profile_id: 'p-b', member: 1, changed_at: at(2), origin: 'realtime' },
      { segment: key('live'), profile_id: ada, member: 1, changed_at: at(3), origin: 'batch' },
    ]);
  });

  after(async () => {
    await h?.close();
  });

  test('the list has each Segment with mode, rule, Ready, size and last computation; pages follow the cursor', async () => {
    const all = await h.client(reader).GET('/v1/segments');
    assert.equal(all.response.status, 200);
    const byName = Object.fromEntries(all.data!.segments.map((s) => [s.name, s]));
    assert.deepEqual(Object.keys(byName).sort(), ['live', 'never', 'vip']);
    const [vip, never, live] = [byName.vip!, byName.never!, byName.live!];
    assert.deepEqual(vip, {
      name: 'vip',
      description: 'Big spenders',
      mode: 'batch',
      rule: { trait: 'plan', op: 'eq', value: 'pro' },
      suspended: false,
      ready: { status: 'True', reason: 'Scheduled', message: 'recomputed every 1h', lastTransitionTime: '2026-01-02T03:04:05.000Z' },
      computed: true,
      size: 7,
      version: 25,
      lastComputedAt: '2026-01-02T00:00:00.000Z',
      createdAt: vip.createdAt,
    });
    assert.deepEqual([never.computed, never.size, never.version, never.lastComputedAt, never.ready], [false, null, null, null, null]);
    // Realtime: the live members (p-a exited), not a version's size.
    assert.deepEqual([live.mode, live.computed, live.size, live.version], ['realtime', true, 2, null]);

    const first = await h.call(reader, 'GET', '/v1/segments', { query: { limit: 2 } });
    assert.equal(first.body.segments.length, 2);
    assert.ok(first.body.next_cursor);
    const second = await h.call(reader, 'GET', '/v1/segments', { query: { limit: 2, cursor: first.body.next_cursor } });
    assert.equal(second.body.next_cursor, null);
    assert.deepEqual([...first.body.segments, ...second.body.segments].map((s: { name: string }) => s.name), ['live', 'never', 'vip']);
  });

  test('one Segment with its history, newest first, paged back to version 1', async () => {
    const page1 = await h.call(analyst, 'GET', '/v1/segments/vip');
    assert.equal(page1.status, 200);
    assert.equal(page1.body.size, 7);
    assert.equal(page1.body.history.length, 20);
    assert.deepEqual(page1.body.history[0], { version: 25, size: 7, computedAt: '2026-01-02T00:00:00.000Z' });
    assert.deepEqual(page1.body.history[1], { version: 24, size: 123, computedAt: '2026-01-01T23:00:00.000Z' });
    const page2 = await h.call(analyst, 'GET', '/v1/segments/vip', { query: { cursor: page1.body.next_cursor } });
    assert.deepEqual(page2.body.history.map((v: { version: number }) => v.version), [5, 4, 3, 2, 1]);
    assert.equal(page2.body.next_cursor, null);
    const small = await h.call(analyst, 'GET', '/v1/segments/vip', { query: { history_limit: 3 } });
    assert.deepEqual(small.body.history.map((v: { version: number }) => v.version), [25, 24, 23]);
    const never = await h.call(analyst, 'GET', '/v1/segments/never');
    assert.deepEqual([never.body.computed, never.body.history, never.body.next_cursor], [false, [], null]);
  });

  test('members as JSON pages: each member of the newest version once, in profile id order', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await h.call(marketer, 'GET', '/v1/segments/vip/members', { query: { limit: 3, cursor } });
      assert.equal(page.status, 200);
      assert.equal(page.body.version, 25);
      assert.ok(page.body.members.length <= 3);
      seen.push(...page.body.members.map((m: { profileId: string }) => m.profileId));
      cursor = page.body.next_cursor ?? undefined;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual(seen, [ada, bob, ...synthetic].sort(), 'every member once (the duplicate row folded), sorted, nothing of version 24');
  });

  test('marketers see identities, analysts see them with emails redacted', async () => {
    const full = await h.call(marketer, 'GET', '/v1/segments/vip/members', { query: { limit: 1000 } });
    const adaFull = full.body.members.find((m: { profileId: string }) => m.profileId === ada);
    assert.ok(adaFull.identities.includes('email:ada@example.com'), JSON.stringify(adaFull));
    assert.ok(adaFull.identities.includes('userId:u-1'));
    assert.deepEqual(full.body.members.find((m: { profileId: string }) => m.profileId === 'p-syn-1').identities, [], 'no profile: no identities');

    for (const format of ['json', 'ndjson', 'csv'] as const) {
      const res = await h.call(analyst, 'GET', '/v1/segments/vip/members', { query: { format, ...(format === 'json' ? { limit: 1000 } : {}) } });
      assert.equal(res.status, 200, res.text);
      assert.ok(!res.text.includes('ada@example.com') && !res.text.includes('bob@example.com'), `${format}: ${res.text}`);
      assert.ok(res.text.includes('email:[redacted]'), format);
      assert.ok(res.text.includes('userId:u-1'), `${format}: pseudonymous ids stay`);
    }
    const noIds = await h.call(marketer, 'GET', '/v1/segments/vip/members', { query: { identities: false, limit: 10 } });
    assert.ok(noIds.body.members.every((m: object) => Object.keys(m).join() === 'profileId'));
  });

  test('NDJSON and CSV exports stream every member once with the right content types', async () => {
    const nd = await h.call(marketer, 'GET', '/v1/segments/vip/members', { query: { format: 'ndjson' } });
    assert.equal(nd.headers.get('content-type'), 'application/x-ndjson');
    assert.equal(nd.headers.get('x-segment-version'), '25');
    assert.deepEqual(nd.body.map((m: { profileId: string }) => m.profileId).sort(), [ada, bob, ...synthetic].sort());

    const csv = await h.call(marketer, 'GET', '/v1/segments/vip/members', { query: { format: 'csv' } });
    assert.match(csv.headers.get('content-type')!, /^text\/csv/);
    assert.match(csv.headers.get('content-disposition')!, /filename="vip-members\.csv"/);
    const rows = parse(csv.text, { columns: true }) as Array<{ profile_id: string; identities: string }>;
    assert.deepEqual(rows.map((r) => r.profile_id).sort(), [ada, bob, ...synthetic].sort());
    assert.ok(rows.find((r) => r.profile_id === bob)!.identities.split(' ').includes('email:bob@example.com'));

    const live = await h.call(marketer, 'GET', '/v1/segments/live/members', { query: { format: 'ndjson', identities: false } });
    assert.deepEqual(live.body.map((m: { profileId: string }) => m.profileId).sort(), [ada, 'p-b'].sort(), 'realtime: live members; p-a exited');
    const livePage = await h.call(marketer, 'GET', '/v1/segments/live/members');
    assert.equal(livePage.body.version, null);
    assert.equal(livePage.body.members.length, 2);
  });

  test('a Segment never computed answers 409, an unknown one 404, both naming path.name', async () => {
    for (const format of ['json', 'ndjson', 'csv']) {
      const never = await h.call(marketer, 'GET', '/v1/segments/never/members', { query: { format } });
      assert.equal(never.status, 409);
      assert.equal(never.body.error.code, 'conflict');
      assert.equal(never.body.error.field, 'path.name');
      assert.match(never.body.error.message, /not been computed yet/);
    }
    for (const path of ['/v1/segments/nope', '/v1/segments/nope/members']) {
      const missing = await h.call(marketer, 'GET', path);
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.field, 'path.name');
    }
  });

  test('roles: reader, decisions and privacy cannot export; decisions cannot list', async () => {
    const [decisions, privacy] = await Promise.all([h.key('decisions'), h.key('privacy')]);
    for (const k of [reader, decisions, privacy]) {
      for (const format of ['json', 'ndjson', 'csv']) {
        const res = await h.call(k, 'GET', '/v1/segments/vip/members', { query: { format } });
        assert.equal(res.status, 403, res.text);
        assert.equal(res.body.error.code, 'forbidden');
      }
    }
    assert.equal((await h.call(privacy, 'GET', '/v1/segments')).status, 200);
    assert.equal((await h.call(decisions, 'GET', '/v1/segments')).status, 403);
    assert.equal((await h.call(decisions, 'GET', '/v1/segments/vip')).status, 403);
    assert.equal((await h.call(undefined, 'GET', '/v1/segments/vip/members')).status, 401);
  });

  test('every member export is in the audit log as an export of the Segment, without the members', async () => {
    const admin = await h.key('admin');
    await h.call(analyst, 'GET', '/v1/segments/vip/members', { query: { format: 'csv' }, headers: { 'X-Request-Id': 'export-audit-check' } });
    const audit = await eventually('the export in the audit log', async () => {
      const res = await h.call(admin, 'GET', '/v1/audit', { query: { operation: 'exportSegmentMembers', target: 'vip' } });
      return res.body.items.some((i: { requestId: string }) => i.requestId === 'export-audit-check') ? res : undefined;
    });
    const entry = audit.body.items.find((i: { requestId: string }) => i.requestId === 'export-audit-check');
    assert.deepEqual([entry.kind, entry.route, entry.target, entry.status, entry.role], ['export', '/v1/segments/{name}/members', 'vip', 200, 'analyst']);
    assert.ok(!audit.text.includes('ada@example.com') && !audit.text.includes(ada), 'no member data in the log');
    assert.ok(audit.body.items.length >= 5, 'the exports of the earlier tests too');
  });

  test('hostile input gets a 4xx naming the field and changes nothing', async () => {
    const count = async () => (await h.product.rows<{ n: string }>('SELECT (SELECT count() FROM {db}.segment_versions) + (SELECT count() FROM {db}.segment_members) + (SELECT count() FROM {db}.segment_live) AS n'))[0]!.n;
    const before = await count();
    const forged = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const cases: Array<[string, Record<string, string | number | boolean>, string]> = [
      ['/v1/segments/vip/members', { format: 'xml' }, 'query.format'],
      ['/v1/segments/vip/members', { cursor: 'not a cursor' }, 'query.cursor'],
      ['/v1/segments/vip/members', { cursor: forged({ a: 'x', v: 999 }) }, 'query.cursor'],
      ['/v1/segments/vip/members', { cursor: forged({ a: "' OR 1=1 --", v: 'x' }) }, 'query.cursor'],
      ['/v1/segments/vip/members', { limit: 1_000_000 }, 'query.limit'],
      ['/v1/segments/vip/members', { limit: 0 }, 'query.limit'],
      ['/v1/segments/vip/members', { format: 'ndjson', limit: 10 }, 'query.limit'],
      ['/v1/segments/vip/members', { format: 'csv', cursor: forged({ a: 'x' }) }, 'query.cursor'],
      ['/v1/segments/vip/members', { identities: "1'; DROP TABLE segment_members; --" }, 'query.identities'],
      ['/v1/segments/vip/members', { format: "csv' OR '1'='1" }, 'query.format'],
      ['/v1/segments/vip', { history_limit: 5000 }, 'query.history_limit'],
      ['/v1/segments/vip', { cursor: forged({ b: 'DROP' }) }, 'query.cursor'],
      ['/v1/segments', { limit: 100000 }, 'query.limit'],
      ['/v1/segments', { cursor: forged({ k: 'garbage-continue-token' }) }, 'query.cursor'],
      ['/v1/segments', { cursor: 'x'.repeat(5000) }, 'query.cursor'],
      [`/v1/segments/${encodeURIComponent("vip'; DROP TABLE segment_versions; --")}/members`, {}, 'path.name'],
      [`/v1/segments/${encodeURIComponent("vip' OR '1'='1")}`, {}, 'path.name'],
      [`/v1/segments/${'a'.repeat(64)}`, {}, 'path.name'],
      ['/v1/segments/VIP/members', {}, 'path.name'],
    ];
    for (const [path, query, field] of cases) {
      const res = await h.call(marketer, 'GET', path, { query });
      assert.equal(res.status, 400, `${path} ${JSON.stringify(query)}: ${res.text}`);
      assert.equal(res.body.error.field, field, `${path} ${JSON.stringify(query)}: ${res.text}`);
    }
    // A forged cursor of the right shape is at worst another position in the same Segment.
    const elsewhere = await h.call(marketer, 'GET', '/v1/segments/vip/members', { query: { cursor: forged({ a: "zzz' OR 1=1 --" }) } });
    assert.deepEqual([elsewhere.status, elsewhere.body.members], [200, []]);
    assert.equal(await count(), before);
  });
});
