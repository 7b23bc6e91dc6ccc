import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CanonicalEvent } from '../../api/event.ts';
import { DEFAULT_IDENTITY_KEYS } from '../../api/v1alpha1/pipeline.ts';
import {
  IdentityGraph,
  extractIdentities,
  profileIdFor,
  type Assignment,
  type Edge,
  type IdentifiedEvent,
  type Identity,
  type Observation,
  type UnlinkResult,
} from './identity.ts';

const at = (second: number): string => new Date(Date.UTC(2024, 0, 1, 0, 0, second)).toISOString();
const ev = (messageId: string, second: number, ...identities: Identity[]): IdentifiedEvent => ({ messageId, timestamp: at(second), identities });
const graph = (maxProfilesPerMerge = 50): IdentityGraph => new IdentityGraph({ keys: DEFAULT_IDENTITY_KEYS, maxProfilesPerMerge });

const canonical = (overrides: Partial<CanonicalEvent>): CanonicalEvent => ({
  type: 'track',
  messageId: 'm',
  timestamp: at(0),
  receivedAt: at(0),
  properties: {},
  traits: {},
  context: {},
  integrations: {},
  source: 'web',
  ...overrides,
});

/** What the pipeline worker does with results: upsert assignments, append edges. */
class Store {
  readonly assignments = new Map<Identity, Assignment>();
  readonly edges: Edge[] = [];
  apply(result: Observation | UnlinkResult): void {
    for (const a of result.assignments) this.assignments.set(a.identity, a);
    this.edges.push(...result.edges);
  }
}

/** Every identity's profile, as a set of components, so two graphs can be compared by shape and ids. */
function components(g: IdentityGraph, identities: Identity[]): string[][] {
  const byProfile = new Map<string, Identity[]>();
  for (const i of identities) {
    const p = g.profileOf(i);
    assert.ok(p, `${i} has a profile`);
    byProfile.set(p, [...(byProfile.get(p) ?? []), i]);
  }
  return [...byProfile.entries()].map(([p, ids]) => [p, ...ids.sort()]).sort();
}

test('profileIdFor: deterministic, UUID-shaped, distinct per identity', () => {
  const id = profileIdFor('userId:u-1');
  assert.equal(id, profileIdFor('userId:u-1'));
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(id, profileIdFor('userId:u-2'));
  assert.notEqual(id, profileIdFor('anonymousId:u-1'));
});

test('extractIdentities: priority order, normalized e-mail and phone, context.traits, duplicates dropped', () => {
  const event = canonical({
    type: 'identify',
    userId: ' u-1 ',
    anonymousId: 'a-1',
    traits: { email: '  Ada@Example.COM ', phone: '+1 (555) 010-0000' },
    context: { traits: { email: 'ada@example.com', phone: 5550100001 }, device: { id: 'd-1' } },
  });
  assert.deepEqual(extractIdentities(event, DEFAULT_IDENTITY_KEYS), [
    'userId:u-1',
    'email:ada@example.com',
    'phone:+15550100000',
    'phone:5550100001',
    'deviceId:d-1',
    'anonymousId:a-1',
  ]);
});

test('extractIdentities: missing, empty and non-scalar values yield nothing', () => {
  const event = canonical({ anonymousId: 'a-1', userId: '   ', traits: { email: { nested: 'x' } }, context: { device: 'not-an-object' } });
  assert.deepEqual(extractIdentities(event, DEFAULT_IDENTITY_KEYS), ['anonymousId:a-1']);
});

test('extractIdentities: an alias previousId is read as a userId, unless it is the anonymousId', () => {
  const alias = canonical({ type: 'alias', userId: 'u-new', previousId: 'u-old', anonymousId: 'a-1' });
  assert.deepEqual(extractIdentities(alias, DEFAULT_IDENTITY_KEYS), ['userId:u-new', 'userId:u-old', 'anonymousId:a-1']);

  const fromAnonymous = canonical({ type: 'alias', userId: 'u-new', previousId: 'a-1', anonymousId: 'a-1' });
  assert.deepEqual(extractIdentities(fromAnonymous, DEFAULT_IDENTITY_KEYS), ['userId:u-new', 'anonymousId:a-1']);

  const noUserKey = DEFAULT_IDENTITY_KEYS.filter((k) => k.name !== 'userId');
  assert.deepEqual(extractIdentities(alias, noUserKey), ['anonymousId:a-1', 'anonymousId:u-old']);

  // previousId means nothing outside an alias call.
  assert.deepEqual(extractIdentities(canonical({ type: 'track', previousId: 'u-old', anonymousId: 'a-1' }), DEFAULT_IDENTITY_KEYS), ['anonymousId:a-1']);
});

test('observe: new identities found a profile named after the highest-priority one, linked pairwise to it', () => {
  const g = graph();
  const obs = g.observe(ev('m1', 1, 'userId:u-1', 'email:ada@example.com', 'anonymousId:a-1'), 'identify');
  const p = profileIdFor('userId:u-1');
  assert.equal(obs.profileId, p);
  assert.deepEqual(obs.merges, []);
  assert.deepEqual(
    obs.assignments.map((a) => [a.identity, a.profileId, a.firstSeen]),
    [
      ['userId:u-1', p, at(1)],
      ['email:ada@example.com', p, at(1)],
      ['anonymousId:a-1', p, at(1)],
    ],
  );
  assert.deepEqual(
    obs.edges.map((e) => [e.action, e.a, e.b, e.rule, e.messageId, e.eventTime]),
    [
      ['link', 'userId:u-1', 'email:ada@example.com', 'identify', 'm1', at(1)],
      ['link', 'userId:u-1', 'anonymousId:a-1', 'identify', 'm1', at(1)],
    ],
  );
  assert.deepEqual(g.identitiesOf(p), ['userId:u-1', 'email:ada@example.com', 'anonymousId:a-1']);
});

test('observe: anonymous browsing then login puts both ids on the anonymous profile', () => {
  const g = graph();
  const pa = g.observe(ev('m1', 1, 'anonymousId:a-1'), 'page').profileId;
  assert.equal(pa, profileIdFor('anonymousId:a-1'));
  assert.equal(g.observe(ev('m2', 2, 'anonymousId:a-1'), 'page').profileId, pa);

  const login = g.observe(ev('m3', 3, 'userId:u-1', 'anonymousId:a-1'), 'identify');
  assert.equal(login.profileId, pa);
  assert.deepEqual(login.assignments.map((a) => [a.identity, a.profileId]), [['userId:u-1', pa]]);
  assert.deepEqual(login.edges.map((e) => [e.action, e.a, e.b]), [['link', 'anonymousId:a-1', 'userId:u-1']]);
  assert.deepEqual(g.identitiesOf(pa), ['userId:u-1', 'anonymousId:a-1']);

  const later = g.observe(ev('m4', 4, 'userId:u-1'), 'track');
  assert.equal(later.profileId, pa);
  assert.deepEqual(later.assignments, []);
  assert.deepEqual(later.edges, []);
});

test('observe: no edge for identities already in the same profile', () => {
  const g = graph();
  g.observe(ev('m1', 1, 'userId:u-1', 'anonymousId:a-1'), 'identify');
  const again = g.observe(ev('m2', 2, 'anonymousId:a-1', 'userId:u-1'), 'track');
  assert.deepEqual(again.edges, []);
  assert.deepEqual(again.assignments, []);
  assert.equal(g.edgesOf(again.profileId).length, 1);
});

test('observe: the same messageId again changes nothing; edge ids are deterministic across graphs', () => {
  const g1 = graph();
  const first = g1.observe(ev('m1', 1, 'userId:u-1', 'anonymousId:a-1'), 'identify');
  const replay = g1.observe(ev('m1', 1, 'userId:u-1', 'anonymousId:a-1'), 'identify');
  assert.deepEqual(replay, { profileId: first.profileId, assignments: [], edges: [], merges: [] });
  assert.equal(g1.edgesOf(first.profileId).length, 1);

  const g2 = graph();
  assert.deepEqual(g2.observe(ev('m1', 1, 'userId:u-1', 'anonymousId:a-1'), 'identify'), first);
});

test('observe: an event spanning two profiles merges them into the older one, whatever the priority', () => {
  const g = graph();
  const older = g.observe(ev('m1', 1, 'anonymousId:a-1'), 'page').profileId;
  const newer = g.observe(ev('m2', 2, 'userId:u-1', 'email:ada@example.com'), 'identify').profileId;
  const merge = g.observe(ev('m3', 3, 'userId:u-1', 'anonymousId:a-1'), 'identify');

  assert.equal(merge.profileId, older);
  assert.deepEqual(merge.merges, [{ from: newer, into: older }]);
  assert.deepEqual(merge.assignments.map((a) => [a.identity, a.profileId]), [
    ['userId:u-1', older],
    ['email:ada@example.com', older],
  ]);
  assert.deepEqual(merge.edges.map((e) => [e.action, e.a, e.b, e.merge]), [
    ['link', 'userId:u-1', 'anonymousId:a-1', { from: newer, into: older }],
  ]);
  assert.equal(g.profileOf('email:ada@example.com'), older);
  assert.deepEqual(g.identitiesOf(newer), []);
});

test('observe: profiles created at the same eventTime merge into the lexicographically smaller id', () => {
  const g = graph();
  const p1 = g.observe(ev('m1', 5, 'anonymousId:a-1'), 'page').profileId;
  const p2 = g.observe(ev('m2', 5, 'anonymousId:a-2'), 'page').profileId;
  const [smaller, larger] = p1 < p2 ? [p1, p2] : [p2, p1];
  const merge = g.observe(ev('m3', 6, 'anonymousId:a-1', 'anonymousId:a-2'), 'track');
  assert.equal(merge.profileId, smaller);
  assert.deepEqual(merge.merges, [{ from: larger, into: smaller }]);
});

test('observe: a shared device does not merge two users (userId limit 1)', () => {
  const g = graph();
  const p1 = g.observe(ev('m1', 1, 'userId:u-1', 'anonymousId:shared'), 'identify').profileId;
  const second = g.observe(ev('m2', 2, 'userId:u-2', 'email:bo@example.com', 'anonymousId:shared'), 'identify');

  const p2 = profileIdFor('userId:u-2');
  assert.equal(second.profileId, p2, 'the event belongs to the user who sent it');
  assert.deepEqual(second.merges, []);
  const refused = second.edges.filter((e) => e.action === 'refused');
  assert.equal(refused.length, 1);
  assert.equal(refused[0]?.a, 'anonymousId:shared');
  assert.equal(refused[0]?.b, 'userId:u-2');
  assert.equal(refused[0]?.reason, `would give profile ${p1} 2 values of userId (limit 1)`);
  // The new e-mail follows the user it came with, not the device's first user.
  assert.deepEqual(g.identitiesOf(p2), ['userId:u-2', 'email:bo@example.com']);
  assert.deepEqual(g.identitiesOf(p1), ['userId:u-1', 'anonymousId:shared']);

  assert.equal(g.observe(ev('m3', 3, 'userId:u-2'), 'track').profileId, p2);
  assert.equal(g.observe(ev('m4', 4, 'userId:u-1'), 'track').profileId, p1);
  // The refusal is audited where it is persisted (identity_edges); the graph keeps no refused edge, so memory does not grow with refused events.
  assert.equal(g.edgesOf(p1).some((e) => e.action === 'refused'), false);
  for (let i = 0; i < 100; i++) g.observe(ev(`again-${i}`, 10 + i, 'userId:u-2', 'anonymousId:shared'), 'identify');
  assert.equal(g.edgesOf(p1).length, g.edgesOf(p1).filter((e) => e.action === 'link').length);
});

test('observe: a refused merge of two known profiles keeps the event on its highest-priority known identity', () => {
  const g = graph();
  const p1 = g.observe(ev('m1', 1, 'userId:u-1', 'anonymousId:shared'), 'identify').profileId;
  const p2 = g.observe(ev('m2', 2, 'userId:u-2'), 'identify').profileId;
  const obs = g.observe(ev('m3', 3, 'userId:u-2', 'email:bo@example.com', 'anonymousId:shared', 'anonymousId:other'), 'track');

  assert.equal(obs.profileId, p2);
  assert.deepEqual(obs.merges, []);
  assert.deepEqual(obs.edges.map((e) => [e.action, e.a, e.b]), [
    ['refused', 'userId:u-2', 'anonymousId:shared'],
    ['link', 'userId:u-2', 'email:bo@example.com'],
    ['link', 'userId:u-2', 'anonymousId:other'],
  ]);
  assert.match(obs.edges[0]?.reason ?? '', /2 values of userId \(limit 1\)/);
  assert.deepEqual(g.identitiesOf(p2), ['userId:u-2', 'email:bo@example.com', 'anonymousId:other']);
  assert.deepEqual(g.identitiesOf(p1), ['userId:u-1', 'anonymousId:shared']);
});

test('observe: a new identity that would break a limit founds its own profile', () => {
  const g = graph();
  const emails = [1, 2, 3, 4, 5].map((n) => `email:e${n}@example.com`);
  const p = g.observe(ev('m1', 1, 'userId:u-1', ...emails), 'identify').profileId;
  const obs = g.observe(ev('m2', 2, 'userId:u-1', 'email:e6@example.com'), 'identify');
  assert.equal(obs.profileId, p);
  assert.deepEqual(obs.edges.map((e) => [e.action, e.reason]), [['refused', `would give profile ${p} 6 values of email (limit 5)`]]);
  assert.equal(g.profileOf('email:e6@example.com'), profileIdFor('email:e6@example.com'));
  assert.equal(g.identitiesOf(p).length, 6);
});

test('observe: a profile absorbs at most maxProfilesPerMerge others over its life', () => {
  const g = graph(2);
  const hub = g.observe(ev('m0', 0, 'anonymousId:hub'), 'page').profileId;
  for (const n of [1, 2, 3]) g.observe(ev(`s${n}`, n, `anonymousId:x${n}`), 'page');

  assert.equal(g.observe(ev('j1', 10, 'anonymousId:hub', 'anonymousId:x1'), 'track').merges.length, 1);
  assert.equal(g.observe(ev('j2', 11, 'anonymousId:hub', 'anonymousId:x2'), 'track').merges.length, 1);
  const third = g.observe(ev('j3', 12, 'anonymousId:hub', 'anonymousId:x3'), 'track');
  assert.deepEqual(third.merges, []);
  assert.equal(third.profileId, hub);
  assert.equal(third.edges[0]?.action, 'refused');
  assert.match(third.edges[0]?.reason ?? '', new RegExp(`^profile ${hub} has already absorbed 2 profiles .*\\(maxProfilesPerMerge 2\\)$`));
  assert.equal(g.profileOf('anonymousId:x3'), profileIdFor('anonymousId:x3'));

  // New identities are not profiles: joining the hub is still fine.
  assert.equal(g.observe(ev('j4', 13, 'anonymousId:hub', 'anonymousId:fresh'), 'track').edges[0]?.action, 'link');
});

test('observe: absorbed counts carry over when a profile that absorbed others is itself absorbed', () => {
  const g = graph(2);
  const hub = g.observe(ev('m0', 0, 'anonymousId:hub'), 'page').profileId;
  g.observe(ev('m1', 1, 'anonymousId:x1'), 'page');
  g.observe(ev('m2', 2, 'anonymousId:x2'), 'page');
  g.observe(ev('m3', 3, 'anonymousId:x3'), 'page');
  g.observe(ev('j1', 10, 'anonymousId:x1', 'anonymousId:x2'), 'track');
  g.observe(ev('j2', 11, 'anonymousId:hub', 'anonymousId:x1'), 'track');
  assert.deepEqual(g.identitiesOf(hub), ['anonymousId:hub', 'anonymousId:x1', 'anonymousId:x2']);
  assert.equal(g.observe(ev('j3', 12, 'anonymousId:hub', 'anonymousId:x3'), 'track').edges[0]?.action, 'refused');
});

test('observe: an event without identities is an error', () => {
  assert.throws(() => graph().observe(ev('m1', 1), 'track'), /has no identities/);
});

test('unlink: undoing the merge gives B its own id back, A keeps its id, edges are append-only', () => {
  const g = graph();
  const store = new Store();
  const a = g.observe(ev('m1', 1, 'userId:u-1', 'anonymousId:a-1'), 'identify');
  store.apply(a);
  store.apply(g.observe(ev('m2', 2, 'email:bo@example.com', 'anonymousId:b-1'), 'identify'));
  store.apply(g.observe(ev('m3', 3, 'anonymousId:b-1', 'anonymousId:b-2'), 'page'));
  const merge = g.observe(ev('m4', 4, 'userId:u-1', 'anonymousId:b-2'), 'identify');
  store.apply(merge);
  const pa = a.profileId;
  const pb = profileIdFor('email:bo@example.com');
  assert.deepEqual(merge.merges, [{ from: pb, into: pa }]);
  store.apply(g.observe(ev('m5', 5, 'anonymousId:b-1', 'deviceId:d-1'), 'track'));
  store.apply(g.observe(ev('m6', 6, 'userId:u-1', 'phone:+15550100000'), 'identify'));

  const mergeEdge = merge.edges[0];
  assert.ok(mergeEdge);
  const before = g.edgesOf(pa).length;
  const undo = g.unlink(mergeEdge.id, at(100), 'shared kiosk');
  store.apply(undo);

  assert.deepEqual(undo.profiles, [pa, pb]);
  assert.deepEqual(undo.edges.map((e) => [e.action, e.a, e.b, e.undoes, e.reason, e.eventTime]), [
    ['unlink', mergeEdge.a, mergeEdge.b, mergeEdge.id, 'shared kiosk', at(100)],
  ]);
  assert.deepEqual(undo.assignments.map((x) => [x.identity, x.profileId]), [
    ['email:bo@example.com', pb],
    ['deviceId:d-1', pb],
    ['anonymousId:b-1', pb],
    ['anonymousId:b-2', pb],
  ]);
  assert.deepEqual(g.identitiesOf(pa), ['userId:u-1', 'phone:+15550100000', 'anonymousId:a-1']);
  assert.deepEqual(g.identitiesOf(pb), ['email:bo@example.com', 'deviceId:d-1', 'anonymousId:b-1', 'anonymousId:b-2']);
  // Nothing removed: the link stays, next to the unlink that undoes it, visible from both sides.
  for (const side of [pa, pb]) {
    assert.ok(g.edgesOf(side).some((e) => e.id === mergeEdge.id && e.action === 'link'), 'the undone link is still there');
    assert.ok(g.edgesOf(side).some((e) => e.undoes === mergeEdge.id), 'next to the unlink');
  }
  const after = new Set([...g.edgesOf(pa), ...g.edgesOf(pb)].map((e) => e.id));
  assert.equal(after.size, before + 1, 'one edge added, none removed');

  // The same components, ids included, as a graph that never saw the merging event.
  const never = graph();
  for (const e of [ev('m1', 1, 'userId:u-1', 'anonymousId:a-1'), ev('m2', 2, 'email:bo@example.com', 'anonymousId:b-1'),
    ev('m3', 3, 'anonymousId:b-1', 'anonymousId:b-2'), ev('m5', 5, 'anonymousId:b-1', 'deviceId:d-1'),
    ev('m6', 6, 'userId:u-1', 'phone:+15550100000')]) never.observe(e, 'x');
  const all = [...store.assignments.keys()];
  assert.deepEqual(components(g, all), components(never, all));
});

test('unlink: an identity cut off from every founder gets a profile of its own', () => {
  const g = graph();
  const p = g.observe(ev('m1', 1, 'userId:u-1'), 'identify').profileId;
  const join = g.observe(ev('m2', 2, 'userId:u-1', 'anonymousId:a-1'), 'identify');
  g.observe(ev('m3', 3, 'anonymousId:a-1', 'deviceId:d-1'), 'track');
  const link = join.edges[0];
  assert.ok(link);
  const undo = g.unlink(link.id, at(10), 'wrong login');
  // a-1 was seen before d-1, so it is the split-off profile's earliest identity and names it.
  const orphan = profileIdFor('anonymousId:a-1');
  assert.deepEqual(undo.profiles, [p, orphan]);
  assert.deepEqual(g.identitiesOf(orphan), ['deviceId:d-1', 'anonymousId:a-1']);
  assert.deepEqual(g.identitiesOf(p), ['userId:u-1']);
  // It is a profile like any other from now on.
  assert.equal(g.observe(ev('m4', 11, 'deviceId:d-1'), 'track').profileId, orphan);
});

test('unlink: twice is a no-op; unknown or non-link edges are errors', () => {
  const g = graph();
  const p1 = g.observe(ev('m1', 1, 'userId:u-1', 'anonymousId:shared'), 'identify').profileId;
  const refused = g.observe(ev('m2', 2, 'userId:u-2', 'anonymousId:shared'), 'identify').edges[0];
  const link = g.edgesOf(p1).find((e) => e.action === 'link');
  assert.ok(link && refused);
  assert.equal(g.unlink(link.id, at(10), 'x').edges.length, 1);
  assert.deepEqual(g.unlink(link.id, at(11), 'x'), { edges: [], assignments: [], profiles: [] });
  assert.throws(() => g.unlink('nope', at(12), 'x'), /unknown edge/);
  // Refused edges are not kept in memory: undoing one is refused like any id that is no link.
  assert.throws(() => g.unlink(refused.id, at(12), 'x'), /unknown edge .*only link edges can be undone/);
});

test('unlink: the split-off profile keeps its absorbed count for maxProfilesPerMerge', () => {
  const g = graph(1);
  g.observe(ev('m1', 1, 'anonymousId:a'), 'page');
  g.observe(ev('m2', 2, 'anonymousId:b'), 'page');
  g.observe(ev('m3', 3, 'anonymousId:c'), 'page');
  g.observe(ev('m4', 4, 'anonymousId:b', 'anonymousId:c'), 'track'); // b absorbs c: b is at its limit
  const toA = g.observe(ev('m5', 5, 'anonymousId:a', 'deviceId:d'), 'track').edges[0];
  assert.ok(toA);
  g.unlink(toA.id, at(6), 'test');
  const pb = profileIdFor('anonymousId:b');
  assert.deepEqual(g.identitiesOf(pb), ['anonymousId:b', 'anonymousId:c']);
  g.observe(ev('m6', 7, 'anonymousId:d'), 'page');
  assert.equal(g.observe(ev('m7', 8, 'anonymousId:b', 'anonymousId:d'), 'track').edges[0]?.action, 'refused');
});

test('load: a rebuilt graph continues exactly like the graph that observed everything', () => {
  const history = [
    ev('h1', 1, 'anonymousId:a-1'),
    ev('h2', 2, 'userId:u-1', 'anonymousId:a-1'),
    ev('h3', 3, 'userId:u-2', 'email:bo@example.com', 'anonymousId:a-1'), // refused: shared device
    ev('h4', 4, 'anonymousId:x1'),
    ev('h5', 5, 'anonymousId:x2'),
    ev('h6', 6, 'anonymousId:x1', 'anonymousId:x2'),
    ev('h7', 7, 'userId:u-1', 'anonymousId:x1'), // u-1's profile absorbs x1 (which absorbed x2)
    ev('h8', 8, 'anonymousId:lonely'), // no edge at all: only its assignment records it
    ev('h9', 8, 'anonymousId:tied'),
    ev('h10', 9, 'userId:u-3', 'anonymousId:k1'),
    ev('h11', 10, 'anonymousId:k1', 'deviceId:k2'),
  ];
  const g1 = graph(4);
  const store = new Store();
  for (const e of history) store.apply(g1.observe(e, 'rule'));
  const u3link = g1.edgesOf(profileIdFor('userId:u-3')).find((e) => e.b === 'anonymousId:k1');
  assert.ok(u3link);
  store.apply(g1.unlink(u3link.id, at(11), 'bad join'));

  const g2 = graph(4);
  // Persisted rows come back in whatever order the database returns them.
  g2.load([...store.assignments.values()].reverse(), [...store.edges].reverse());

  const all = [...store.assignments.keys()];
  assert.deepEqual(components(g2, all), components(g1, all));
  for (const i of all) assert.deepEqual(g2.edgesOf(g2.profileOf(i) ?? ''), g1.edgesOf(g1.profileOf(i) ?? ''));

  const future = [
    ev('f1', 20, 'anonymousId:lonely', 'anonymousId:tied'), // same eventTime: smaller id wins in both
    ev('f2', 21, 'userId:u-1', 'anonymousId:lonely'), // absorbs a profile that absorbed one: 4 absorbed
    ev('f3', 22, 'userId:u-1', 'anonymousId:y'),
    ev('f4', 23, 'anonymousId:y2'),
    ev('f5', 24, 'userId:u-1', 'anonymousId:y2'), // a 5th: over maxProfilesPerMerge 4, refused in both
    ev('f6', 25, 'userId:u-2', 'anonymousId:a-1', 'phone:+15550100000'),
    ev('f7', 26, 'deviceId:k2', 'userId:u-3'), // re-joins the orphan split off by the unlink
    ev('h2', 2, 'userId:u-1', 'anonymousId:a-1'), // redelivered: no-op in both
  ];
  const outcomes: string[] = [];
  for (const e of future) {
    const expected = g1.observe(e, 'rule');
    assert.deepEqual(g2.observe(e, 'rule'), expected, `event ${e.messageId}`);
    outcomes.push(`${e.messageId}:${expected.merges.length}:${expected.edges.map((x) => x.action).join(',')}`);
  }
  // The continuation really exercised ties, nested absorption, both kinds of refusal and the unlink's orphan.
  assert.deepEqual(outcomes, ['f1:1:link', 'f2:1:link', 'f3:0:link', 'f4:0:', 'f5:0:refused', 'f6:0:refused,link', 'f7:1:link', 'h2:0:']);
});

test('load: merged edges from a replayed topic and redeliveries are idempotent', () => {
  const g1 = graph();
  const store = new Store();
  store.apply(g1.observe(ev('m1', 1, 'userId:u-1', 'anonymousId:a-1'), 'identify'));
  const g2 = graph();
  g2.load([...store.assignments.values()], store.edges);
  const p = profileIdFor('userId:u-1');
  assert.deepEqual(g2.observe(ev('m1', 1, 'userId:u-1', 'anonymousId:a-1'), 'identify'), {
    profileId: p,
    assignments: [],
    edges: [],
    merges: [],
  });
  // load replaces state rather than adding to it.
  g2.load([], []);
  assert.equal(g2.profileOf('userId:u-1'), undefined);
});

test('load: rows without firstSeen or merge info (older persistence) still keep established ids', () => {
  const g1 = graph();
  const store = new Store();
  store.apply(g1.observe(ev('m1', 1, 'userId:u-1', 'anonymousId:a-1'), 'identify'));
  store.apply(g1.observe(ev('m2', 2, 'anonymousId:lonely'), 'page'));
  const bare = [...store.assignments.values()].map(({ identity, profileId }) => ({ identity, profileId }));
  const g2 = graph();
  g2.load(bare, store.edges.map(({ merge: _merge, ...e }) => e));
  // The singleton has no edge to date it, so it counts as newest and cannot rename the older profile.
  const obs = g2.observe(ev('m3', 3, 'anonymousId:lonely', 'userId:u-1'), 'track');
  assert.deepEqual(obs.merges, [{ from: profileIdFor('anonymousId:lonely'), into: profileIdFor('userId:u-1') }]);
});

test('observe: the same messageId from two Sources is two observations', () => {
  const g = graph();
  g.observe({ ...ev('m1', 1, 'userId:u-1'), source: 'web' }, 'track');
  const other = g.observe({ ...ev('m1', 2, 'userId:u-1', 'anonymousId:a-2'), source: 'ios' }, 'identify');
  assert.deepEqual(other.edges.map((e) => [e.action, e.b]), [['link', 'anonymousId:a-2']]);
  assert.equal(g.profileOf('anonymousId:a-2'), g.profileOf('userId:u-1'));
});

test('observe: an old event seen again (forgotten by the recent set) does not redo a link an unmerge undid', () => {
  const g = graph();
  const store = new Store();
  store.apply(g.observe(ev('m1', 1, 'userId:u-1'), 'track'));
  store.apply(g.observe(ev('m2', 2, 'anonymousId:b-1'), 'track'));
  store.apply(g.observe(ev('m3', 3, 'userId:u-1', 'anonymousId:shared'), 'identify'));
  const joined = g.observe(ev('m4', 4, 'anonymousId:shared', 'anonymousId:b-1'), 'identify');
  store.apply(joined);
  assert.equal(joined.merges.length, 1);
  store.apply(g.unlink(joined.edges[0]!.id, at(10), 'wrong merge'));
  assert.notEqual(g.profileOf('userId:u-1'), g.profileOf('anonymousId:b-1'));
  // A restarted worker remembers no recent messages, and m4 comes back from Kafka.
  const fresh = graph();
  fresh.load([...store.assignments.values()], store.edges);
  const again = fresh.observe(ev('m4', 4, 'anonymousId:shared', 'anonymousId:b-1'), 'identify');
  assert.deepEqual(again.merges, []);
  assert.notEqual(fresh.profileOf('userId:u-1'), fresh.profileOf('anonymousId:b-1'));
});
