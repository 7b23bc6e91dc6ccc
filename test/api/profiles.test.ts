// Profiles, timelines and decisions through the API on the real engines: events go through the
// collector and the pipeline; the Segment, persona and recommendation rows a profile shows are
// inserted into ClickHouse directly (as the segments and models workers would write them).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { API_ROLES } from '../../api/v1alpha1/index.ts';
import { eventually } from '../support/env.ts';
import { startApi, type ApiHarness } from '../support/gateway.ts';

const ch = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
const iso = (ms: number) => new Date(ms).toISOString();
const path = (identity: string, rest = '') => `/v1/profiles/${encodeURIComponent(identity)}${rest}`;
/** The fields of a timeline event these tests read. */
type TimelineEvent = { messageId: string; type: string; ip: string; redacted: string[]; traits: Record<string, unknown>; properties: Record<string, unknown> };

const SQL = ["x' OR '1'='1", "'; DROP TABLE {db}.events; --", "userId:x' UNION ALL SELECT name FROM system.tables --", 'userId:1) OR (1=1', 'email:a@b.c\'; DELETE FROM {db}.profiles WHERE 1 --'];

describe('profiles API', { timeout: 600_000 }, () => {
  let h: ApiHarness;
  const keys: Record<string, string> = {};
  const run = randomUUID().slice(0, 8);
  const user = `u-${run}`;
  const anon = `a-${run}`;
  const email = `Ada.${run}@Example.com`;
  const base = Date.now() - 3_600_000;
  const ids: string[] = [];
  let profileId = '';
  let source = '';

  before(async () => {
    h = await startApi();
    source = h.product.sources.web!.name;
    for (const role of API_ROLES) keys[role] = await h.key(role, {}, `role-${role}`);
    // 20 anonymous track events, then 4 pages, then the identify that links the three identities.
    const batch: Record<string, unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      const messageId = `m-${run}-t${String(i).padStart(2, '0')}`;
      // Events 10 and 11 share a timestamp: the message id orders them.
      batch.push({ type: 'track', event: i % 3 === 0 ? 'Order Completed' : 'Product Viewed', messageId, anonymousId: anon, timestamp: iso(base + (i === 11 ? 10 : i) * 1000), properties: { product_id: `sku-${i % 4}`, revenue: i % 3 === 0 ? 10 : undefined, email: 'in-a-property@example.com' }, context: { ip: '203.0.113.7' } });
      ids.push(messageId);
    }
    for (let i = 0; i < 4; i++) {
      const messageId = `m-${run}-p${i}`;
      batch.push({ type: 'page', name: `Home ${i}`, messageId, anonymousId: anon, timestamp: iso(base + (30 + i) * 1000), properties: { path: `/p/${i}` } });
      ids.push(messageId);
    }
    batch.push({ type: 'identify', messageId: `m-${run}-id`, userId: user, anonymousId: anon, timestamp: iso(base + 40_000), traits: { email, plan: 'pro', consent: { marketing: true, analytics: 'denied' }, billing: { city: 'London', street: '1 Main St' } } });
    ids.push(`m-${run}-id`);
    // Someone else, who must never show up in the first person's answers.
    batch.push({ type: 'identify', messageId: `m-${run}-other`, userId: `other-${run}`, timestamp: iso(base + 50_000), traits: { plan: 'free' } });
    ids.push(`m-${run}-other`);
    const res = await h.product.post('/v1/batch', { batch });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await h.product.waitForEvents(ids);
    // The rebuilt profile with all three identities (read from ClickHouse, so the API's cache starts empty).
    await eventually('the profile links userId, email and anonymousId', async () => {
      const [row] = await h.product.rows<{ profile_id: string; identities: string[] }>(
        'SELECT profile_id, identities FROM {db}.profiles FINAL WHERE has(identities, {u:String}) AND deleted = 0',
        { u: `userId:${user}` },
      );
      if (!row || row.identities.length !== 3) return false;
      profileId = row.profile_id;
      return true;
    }, 30_000);
    const ns = h.namespace;
    const now = Date.now();
    // Batch Segment vip: a member of versions 1–3 (since version 1); lapsed: left in version 2; realtime live-now: entered at `now`.
    await h.product.warehouse.insert('segment_versions', [1, 2, 3].map((v) => ({ segment: `${ns}/vip`, version: v, size: 1, computed_at: ch(now - (4 - v) * 3_600_000), query: '' })));
    await h.product.warehouse.insert('segment_versions', [1, 2].map((v) => ({ segment: `${ns}/lapsed`, version: v, size: 1, computed_at: ch(now - (3 - v) * 3_600_000), query: '' })));
    await h.product.warehouse.insert('segment_members', [
      ...[1, 2, 3].map((v) => ({ segment: `${ns}/vip`, version: v, profile_id: profileId })),
      { segment: `${ns}/lapsed`, version: 1, profile_id: profileId },
      // An unfinished version 4 (no segment_versions row): not a membership yet.
      { segment: `${ns}/vip-next`, version: 1, profile_id: profileId },
    ]);
    // A definition the pipeline can evaluate (and that keeps the profile in), as the operator would write one.
    await h.product.warehouse.insert('segment_definitions', [{ segment: `${ns}/live-now`, sql: 'SELECT profile_id FROM {db}.profiles WHERE profile_id = {live_p:String}', params: JSON.stringify({ live_p: profileId }), mode: 'realtime', revision: 'r', deleted: 0 }]);
    await h.product.warehouse.insert('segment_live', [{ segment: `${ns}/live-now`, profile_id: profileId, member: 1, changed_at: ch(now - 60_000), origin: 'realtime' }]);
    // Personas: version 2 is the newest complete one; version 3 has rows but no model_versions row (a run in progress).
    await h.product.warehouse.insert('model_versions', [1, 2].map((v) => ({ model: 'personas', version: v, run: `r${v}`, revision: '', trained_at: ch(now - (3 - v) * 60_000), params: '{}', quality: '{}', artifact: '{}' })));
    await h.product.warehouse.insert('profile_personas', [
      { model_version: 1, profile_id: profileId, persona: 'p0-old', cluster: 0, distance: 1 },
      { model_version: 2, profile_id: profileId, persona: 'p1-high-value-frequent', cluster: 1, distance: 0.5 },
      { model_version: 3, profile_id: profileId, persona: 'p9-unfinished', cluster: 9, distance: 0 },
    ]);
    await h.product.warehouse.insert('model_versions', [{ model: 'recommendations', version: 1, run: 'r1', revision: '', trained_at: ch(now - 30_000), params: '{}', quality: '{}', artifact: '{}' }]);
    await h.product.warehouse.insert('profile_recommendations', Array.from({ length: 12 }, (_, i) => ({ version: 1, profile_id: profileId, rank: i + 1, item: `sku-r${i + 1}`, score: 1 - i / 20 })));
  });
  after(async () => {
    await h?.close();
  });

  test('one profile by userId, email (any case) and anonymousId once an identify linked them', async () => {
    const seen = new Set<string>();
    for (const identity of [`userId:${user}`, `email:${email}`, `email:${email.toLowerCase()}`, `anonymousId:${anon}`]) {
      const res = await h.call(keys.marketer, 'get', path(identity));
      assert.equal(res.status, 200, `${identity}: ${res.text}`);
      seen.add(res.body.profileId);
    }
    assert.deepEqual([...seen], [profileId]);
  });

  test('the profile: traits with time and Source, identities by priority, computed traits, persona, Segments with since, consent', async () => {
    // Through the typed client (api/client), whose responses the harness validates like h.call's.
    const { data, response } = await h.client(keys.marketer!).GET('/v1/profiles/{identity}', { params: { path: { identity: `userId:${user}` } } });
    assert.equal(response.status, 200);
    const p = data!;
    assert.deepEqual(p.identities, [`userId:${user}`, `email:${email.toLowerCase()}`, `anonymousId:${anon}`]);
    assert.deepEqual(p.traits.plan, { value: 'pro', setAt: iso(base + 40_000), source, messageId: `m-${run}-id` });
    assert.equal(p.traits.email?.value, email);
    assert.deepEqual(p.consent, { analytics: false, marketing: true });
    assert.equal(p.computed.eventCount, 25);
    assert.equal(p.computed.orderCount, 7);
    assert.equal(p.computed.eventCounts['Product Viewed'], 13);
    assert.equal(p.computed.firstSeen, iso(base));
    assert.deepEqual(p.persona, { label: 'p1-high-value-frequent', cluster: 1, modelVersion: 2 });
    const segments = Object.fromEntries(p.segments.map((s) => [s.segment, s.since]));
    assert.deepEqual(Object.keys(segments).sort(), ['live-now', 'vip'], 'lapsed (not in its latest version) and vip-next (no complete version) are not memberships');
    const [v1] = await h.product.rows<{ at: string }>("SELECT toString(computed_at) AS at FROM {db}.segment_versions WHERE segment = {s:String} AND version = 1", { s: `${h.namespace}/vip` });
    assert.equal(segments.vip, `${v1!.at.replace(' ', 'T')}Z`, 'a member of versions 1–3 since version 1');
    assert.deepEqual(p.redacted, []);
  });

  test('roles without identifiers see "[redacted]" for direct identifiers, and the list of what was redacted', async () => {
    for (const role of ['analyst', 'reader'] as const) {
      const res = await h.call(keys[role], 'get', path(`userId:${user}`));
      assert.equal(res.status, 200, role);
      const p = res.body;
      assert.equal(p.traits.email.value, '[redacted]', role);
      assert.equal(p.traits.plan.value, 'pro', role);
      assert.deepEqual(p.traits.billing.value, { city: 'London', street: '[redacted]' }, role);
      assert.ok(p.identities.includes('email:[redacted]') && p.identities.includes(`userId:${user}`), role);
      assert.deepEqual(p.redacted.sort(), ['identities[1]', 'traits.billing.value.street', 'traits.email.value'], role);
      assert.ok(!res.text.toLowerCase().includes(email.toLowerCase()), `${role} never gets the email`);
    }
    for (const role of ['admin', 'privacy'] as const) assert.equal((await h.call(keys[role], 'get', path(`userId:${user}`))).body.traits.email.value, email, role);
  });

  test('roles without profiles:read or events:read get 403', async () => {
    for (const [role, rest] of [['decisions', ''], ['decisions', '/events'], ['reader', '/events']] as const) {
      const res = await h.call(keys[role], 'get', path(`userId:${user}`, rest), role === 'decisions' ? { headers: { Origin: 'https://shop.example.com' } } : {});
      assert.equal(res.status, 403, `${role} ${rest}`);
      assert.equal(res.body.error.code, 'forbidden');
    }
    for (const role of ['admin', 'marketer', 'analyst', 'privacy'] as const) assert.equal((await h.call(keys[role], 'get', path(`userId:${user}`, '/events'), { query: { limit: 1 } })).status, 200, role);
  });

  test('malformed identities and unknown types are 400 path.identity naming the known types; unknown profiles 404', async () => {
    for (const bad of ['crm:1', 'no-colon', 'userId:', `userId:${'x'.repeat(1025)}`, 'userId:a\u0001b']) {
      for (const rest of ['', '/events', '/decisions']) {
        const res = await h.call(keys.admin, 'get', path(bad, rest));
        assert.equal(res.status, 400, `${JSON.stringify(bad)}${rest}: ${res.text}`);
        assert.equal(res.body.error.field, 'path.identity');
      }
    }
    assert.match((await h.call(keys.admin, 'get', path('crm:1'))).body.error.message, /userId, email, phone, deviceId, anonymousId/);
    for (const rest of ['', '/events', '/decisions']) {
      const res = await h.call(keys.admin, 'get', path(`userId:nobody-${run}`, rest));
      assert.equal(res.status, 404, rest);
      assert.equal(res.body.error.field, 'path.identity');
    }
  });

  test('the timeline covers every identity of the profile, newest first, ties by message id', async () => {
    const res = await h.call(keys.admin, 'get', path(`email:${email}`, '/events'), { query: { limit: 1000 } });
    assert.equal(res.status, 200);
    const events = res.body.events as Array<{ messageId: string; timestamp: string; type: string; source: string }>;
    assert.equal(events.length, 25, 'anonymous events before the identify are the profile\'s too; the other person\'s are not');
    assert.equal(res.body.next_cursor, null);
    for (let i = 1; i < events.length; i++) {
      const [a, b] = [events[i - 1]!, events[i]!];
      assert.ok(a.timestamp > b.timestamp || (a.timestamp === b.timestamp && a.messageId > b.messageId), `${a.messageId} before ${b.messageId}`);
    }
    assert.equal(events[0]!.type, 'identify');
    assert.equal(events[0]!.source, source);
    const tied = events.filter((e) => e.timestamp === iso(base + 10_000)).map((e) => e.messageId);
    assert.deepEqual(tied, [`m-${run}-t11`, `m-${run}-t10`]);
    const order = events.find((e) => e.messageId === `m-${run}-t03`) as unknown as { event: string; properties: Record<string, unknown>; revenue: number };
    assert.equal(order.event, 'Order Completed');
    assert.equal(order.properties.product_id, 'sku-3');
    assert.equal(order.revenue, 10);
  });

  test('timeline filters: event name, type, since/until', async () => {
    const get = async (query: Record<string, string | number>) => {
      const res = await h.call(keys.analyst, 'get', path(`userId:${user}`, '/events'), { query: { limit: 1000, ...query } });
      assert.equal(res.status, 200, res.text);
      return res.body.events as Array<{ messageId: string; event: string; type: string; timestamp: string }>;
    };
    assert.equal((await get({ event: 'Order Completed' })).length, 7);
    assert.ok((await get({ event: 'Order Completed' })).every((e) => e.event === 'Order Completed'));
    assert.equal((await get({ type: 'page' })).length, 4);
    assert.equal((await get({ type: 'identify' })).length, 1);
    assert.equal((await get({ event: 'Nothing Like It' })).length, 0);
    const window = await get({ since: iso(base + 5_000), until: iso(base + 15_000) });
    assert.deepEqual(window.map((e) => e.messageId).sort(), [5, 6, 7, 8, 9, 10, 11, 12, 13, 14].map((i) => `m-${run}-t${String(i).padStart(2, '0')}`).sort());
    // An offset time is the same instant.
    assert.equal((await get({ since: new Date(base + 5_000).toISOString().replace('Z', '+00:00'), until: iso(base + 15_000) })).length, 10);
    assert.equal((await get({ type: 'track', since: iso(base + 5_000), until: iso(base + 15_000), event: 'Order Completed' })).length, 3);
  });

  test('cursor pages cover every event exactly once, with the filters kept', async () => {
    for (const query of [{ limit: 7 }, { limit: 1 }, { limit: 4, type: 'track' }]) {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const res = await h.call(keys.admin, 'get', path(`anonymousId:${anon}`, '/events'), { query: { ...query, cursor } });
        assert.equal(res.status, 200, res.text);
        assert.ok(res.body.events.length <= query.limit);
        seen.push(...res.body.events.map((e: { messageId: string }) => e.messageId));
        cursor = res.body.next_cursor ?? undefined;
        pages++;
      } while (cursor && pages < 100);
      const expected = query.type ? 20 : 25;
      assert.equal(seen.length, expected, JSON.stringify(query));
      assert.equal(new Set(seen).size, expected, `no event twice (${JSON.stringify(query)})`);
      assert.equal(pages, Math.ceil(expected / query.limit));
    }
  });

  test('events are redacted by role: identifiers in traits, properties, context and the IP', async () => {
    const analyst = (await h.call(keys.analyst, 'get', path(`userId:${user}`, '/events'), { query: { limit: 1000 } })).body.events as TimelineEvent[];
    const identify = analyst.find((e) => e.type === 'identify')!;
    assert.equal(identify.traits.email, '[redacted]');
    assert.equal(identify.traits.plan, 'pro');
    assert.ok(identify.redacted.includes('traits.email'));
    const track = analyst.find((e) => e.messageId === `m-${run}-t00`)!;
    assert.equal(track.properties.email, '[redacted]');
    assert.equal(track.properties.product_id, 'sku-0');
    assert.equal(track.ip, '[redacted]');
    assert.ok(!JSON.stringify(analyst).toLowerCase().includes(email.toLowerCase()));
    assert.ok(!JSON.stringify(analyst).includes('203.0.113.7'));
    const marketer = (await h.call(keys.marketer, 'get', path(`userId:${user}`, '/events'), { query: { limit: 1000 } })).body.events as TimelineEvent[];
    assert.equal(marketer.find((e) => e.type === 'identify')!.traits.email, email);
    assert.equal(marketer.find((e) => e.messageId === `m-${run}-t00`)!.ip, '203.0.113.7');
  });

  test('hostile cursors, huge pages and bad times are 400 naming the parameter', async () => {
    const forged = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const cases: Array<[Record<string, string | number>, string]> = [
      [{ limit: 100000 }, 'query.limit'],
      [{ limit: 0 }, 'query.limit'],
      [{ limit: 'ten' }, 'query.limit'],
      [{ cursor: 'not a cursor' }, 'query.cursor'],
      [{ cursor: 'AAAA' }, 'query.cursor'],
      [{ cursor: forged({ t: "2026-01-01 00:00:00' OR 1=1 --", m: '' }) }, 'query.cursor'],
      [{ cursor: forged({ t: '2026-01-01 00:00:00.000', m: 'x', extra: 1 }) }, 'query.cursor'],
      [{ cursor: forged([1, 2]) }, 'query.cursor'],
      [{ since: 'yesterday' }, 'query.since'],
      [{ until: '2026-13-45T99:00:00Z' }, 'query.until'],
      [{ type: 'delete' }, 'query.type'],
      [{ event: 'x'.repeat(300) }, 'query.event'],
      [{ color: 'red' }, 'query.color'],
    ];
    for (const [query, field] of cases) {
      const res = await h.call(keys.admin, 'get', path(`userId:${user}`, '/events'), { query });
      assert.equal(res.status, 400, `${JSON.stringify(query)}: ${res.text}`);
      assert.equal(res.body.error.field, field, JSON.stringify(query));
    }
    // A well-formed cursor of another position is just another page.
    const res = await h.call(keys.admin, 'get', path(`userId:${user}`, '/events'), { query: { cursor: forged({ t: ch(base + 2_000), m: '' }) } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.events.map((e: { messageId: string }) => e.messageId), [`m-${run}-t01`, `m-${run}-t00`]);
  });

  test('decisions for a server: Segment names, persona label and at most 10 recommendations — nothing that names a person; a browser key reads none', async () => {
    const res = await h.call(keys.reader, 'get', path(`anonymousId:${anon}`, '/decisions'));
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.segments, ['live-now', 'vip']);
    assert.equal(res.body.persona, 'p1-high-value-frequent');
    assert.equal(res.body.recommendations.length, 10);
    assert.deepEqual(res.body.recommendations[0], { item: 'sku-r1', score: 1 });
    assert.deepEqual(Object.keys(res.body).sort(), ['persona', 'personalized', 'recommendations', 'segments']);
    assert.equal(res.body.personalized, true, 'no personalization purpose declared: decisions are made');
    for (const secret of [email.toLowerCase(), user, anon, profileId, 'pro']) assert.ok(!res.text.toLowerCase().includes(secret.toLowerCase()), `decisions carry no ${secret}`);
    assert.equal((await h.call(keys.reader, 'get', path(`anonymousId:${anon}`, '/decisions'), { query: { limit: 3 } })).body.recommendations.length, 3);
    assert.equal((await h.call(keys.reader, 'get', path(`anonymousId:${anon}`, '/decisions'), { query: { limit: 11 } })).body.error.field, 'query.limit');
    const other = await h.call(keys.reader, 'get', path(`userId:other-${run}`, '/decisions'));
    assert.deepEqual(other.body, { personalized: true, segments: [], persona: null, recommendations: [] });
    // The browser's key is public in a page: it decides placements (POST /v1/decisions) and reads no profile.
    const browser = await h.call(keys.decisions, 'get', path(`anonymousId:${anon}`, '/decisions'), { headers: { Origin: 'https://shop.example.com' } });
    assert.equal(browser.status, 403);
    assert.equal(browser.body.error.code, 'forbidden');
    for (const role of ['admin', 'marketer', 'analyst', 'reader'] as const) assert.equal((await h.call(keys[role], 'get', path(`anonymousId:${anon}`, '/decisions'))).status, 200, role);
    assert.equal((await h.call(keys.privacy, 'get', path(`anonymousId:${anon}`, '/decisions'))).status, 403);
  });

  test('an identify shows in the next reads (the cache follows the pipeline)', async () => {
    assert.equal((await h.call(keys.admin, 'get', path(`userId:${user}`))).body.traits.plan.value, 'pro');
    const messageId = `m-${run}-upgrade`;
    assert.equal((await h.product.post('/v1/identify', { userId: user, messageId, traits: { plan: 'enterprise' } })).status, 200);
    await eventually('the new plan is served', async () => (await h.call(keys.admin, 'get', path(`userId:${user}`))).body.traits.plan?.value === 'enterprise', 15_000);
    const p = (await h.call(keys.admin, 'get', path(`email:${email}`))).body;
    assert.equal(p.traits.plan.messageId, messageId);
    assert.equal(p.computed.eventCount, 26);
  });

  test('reads are audited with the profile id as target, never an identity', async () => {
    await eventually('audit rows', async () => {
      const rows = await h.product.rows<{ operation: string; target: string }>(
        "SELECT operation, target FROM {db}.api_audit WHERE kind = 'read' AND status = 200 AND operation IN ('getProfile', 'listProfileEvents', 'getProfileDecisions')",
      );
      return ['getProfile', 'listProfileEvents', 'getProfileDecisions'].every((op) => rows.some((r) => r.operation === op && r.target === profileId));
    }, 15_000);
    const [leak] = await h.product.rows<{ n: string }>('SELECT count() AS n FROM {db}.api_audit WHERE positionCaseInsensitive(concat(target, route), {e:String}) > 0 OR position(concat(target, route), {a:String}) > 0', { e: email, a: anon });
    assert.equal(Number(leak!.n), 0);
  });

  test('SQL in every parameter is a 4xx and changes nothing', async () => {
    const count = async () => (await h.product.rows<{ e: string; p: string; t: string }>(
      "SELECT (SELECT count() FROM {db}.events) AS e, (SELECT uniqExact(profile_id) FROM {db}.profiles) AS p, (SELECT count() FROM system.tables WHERE database = '{db}') AS t",
    ))[0];
    const before_ = await count();
    for (const s of SQL) {
      for (const rest of ['', '/events', '/decisions']) {
        const res = await h.call(keys.admin, 'get', path(s, rest));
        assert.ok(res.status === 400 || res.status === 404, `${s}${rest}: ${res.status} ${res.text}`);
      }
      for (const name of ['event', 'type', 'since', 'until', 'cursor', 'limit']) {
        const res = await h.call(keys.admin, 'get', path(`userId:${user}`, '/events'), { query: { [name]: s } });
        if (name === 'event') assert.deepEqual([res.status, res.body.events], [200, []], 'an event name is a value, never SQL');
        else assert.equal(res.status, 400, `${name}=${s}`);
      }
    }
    assert.deepEqual(await count(), before_);
  });
});
