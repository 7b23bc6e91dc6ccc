import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CanonicalEvent } from '../../api/event.ts';
import { DEFAULT_IDENTITY_KEYS } from '../../api/v1alpha1/pipeline.ts';
import {
  IdentityGraph,
  extractIdentities,
  isPending,
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

// ---------------------------------------------------------------------------------------------
// alias with a previousId the graph has not seen yet

/** What the pipeline does with an alias call: extract, read the previousId as the graph knows it, observe. */
function aliasEvent(g: IdentityGraph, messageId: string, second: number, fields: Partial<CanonicalEvent>): IdentifiedEvent {
  const event = canonical({ type: 'alias', messageId, timestamp: at(second), ...fields });
  return { messageId, timestamp: at(second), identities: g.readAlias(event, extractIdentities(event, DEFAULT_IDENTITY_KEYS)) };
}

test('alias: a previousId not seen yet becomes a pending identity of the alias profile, linked by the alias', () => {
  const g = graph();
  const p = g.observe(ev('m1', 1, 'userId:u-1', 'anonymousId:a-1'), 'identify').profileId;
  const event = aliasEvent(g, 'al', 2, { userId: 'u-1', previousId: 'x-1', anonymousId: 'a-1' });
  // Last: it has no priority, so it never anchors the event nor names a profile.
  assert.deepEqual(event.identities, ['userId:u-1', 'anonymousId:a-1', 'previousId:x-1']);
  const obs = g.observe(event, 'alias');
  assert.equal(obs.profileId, p);
  assert.deepEqual(obs.assignments.map((a) => [a.identity, a.profileId, a.firstSeen]), [['previousId:x-1', p, at(2)]]);
  assert.deepEqual(obs.edges.map((e) => [e.action, e.a, e.b, e.rule]), [['link', 'userId:u-1', 'previousId:x-1', 'alias']]);
  assert.deepEqual(g.identitiesOf(p), ['userId:u-1', 'anonymousId:a-1', 'previousId:x-1']);
});

test('alias before the anonymous events: they join the alias profile, with a link edge for the join', () => {
  const g = graph();
  const p = g.observe(ev('m1', 1, 'userId:u-1'), 'identify').profileId;
  g.observe(aliasEvent(g, 'al', 2, { userId: 'u-1', previousId: 'x-1' }), 'alias');

  const first = g.observe(ev('m3', 3, 'anonymousId:x-1'), 'page');
  assert.equal(first.profileId, p);
  assert.deepEqual(first.merges, []);
  assert.deepEqual(first.assignments.map((a) => [a.identity, a.profileId, a.firstSeen]), [['anonymousId:x-1', p, at(3)]]);
  assert.deepEqual(first.edges.map((e) => [e.action, e.a, e.b, e.rule, e.messageId]), [['link', 'previousId:x-1', 'anonymousId:x-1', 'page', 'm3']]);
  // From then on it is an ordinary known identity.
  assert.deepEqual(g.observe(ev('m4', 4, 'anonymousId:x-1'), 'page'), { profileId: p, assignments: [], edges: [], merges: [] });
  assert.deepEqual(g.identitiesOf(p), ['userId:u-1', 'anonymousId:x-1', 'previousId:x-1']);
});

test('alias before the previousId arrives with another user: it stays where the alias put it, as a known one would', () => {
  const g = graph();
  const p1 = g.observe(ev('m1', 1, 'userId:u-1'), 'identify').profileId;
  g.observe(aliasEvent(g, 'al', 2, { userId: 'u-1', previousId: 'x-1' }), 'alias');
  const p2 = g.observe(ev('m3', 3, 'userId:u-2'), 'identify').profileId;
  const obs = g.observe(ev('m4', 4, 'userId:u-2', 'anonymousId:x-1'), 'identify');
  assert.equal(obs.profileId, p2);
  assert.deepEqual(obs.edges.map((e) => [e.action, e.a, e.b]), [
    ['link', 'previousId:x-1', 'anonymousId:x-1'],
    ['refused', 'userId:u-2', 'anonymousId:x-1'],
  ]);
  assert.equal(g.profileOf('anonymousId:x-1'), p1);

  // The same as when the anonymous id was seen before the alias.
  const h = graph();
  h.observe(ev('m1', 1, 'userId:u-1'), 'identify');
  h.observe(ev('m0', 1, 'anonymousId:x-1'), 'page');
  h.observe(aliasEvent(h, 'al', 2, { userId: 'u-1', previousId: 'x-1' }), 'alias');
  h.observe(ev('m3', 3, 'userId:u-2'), 'identify');
  h.observe(ev('m4', 4, 'userId:u-2', 'anonymousId:x-1'), 'identify');
  assert.equal(h.profileOf('anonymousId:x-1'), h.profileOf('userId:u-1'));
  assert.notEqual(h.profileOf('userId:u-2'), h.profileOf('userId:u-1'));
});

test('alias before a later userId X under userId limit 1: refused and recorded, X gets its own profile', () => {
  const g = graph();
  const p = g.observe(ev('m1', 1, 'userId:u-1'), 'identify').profileId;
  g.observe(aliasEvent(g, 'al', 2, { userId: 'u-1', previousId: 'x-1' }), 'alias');
  const obs = g.observe(ev('m3', 3, 'userId:x-1', 'email:x@example.com'), 'identify');
  const px = profileIdFor('userId:x-1');
  assert.equal(obs.profileId, px);
  assert.deepEqual(obs.edges.map((e) => [e.action, e.a, e.b, e.reason]), [
    ['refused', 'previousId:x-1', 'userId:x-1', `would give profile ${p} 2 values of userId (limit 1)`],
    ['link', 'userId:x-1', 'email:x@example.com', undefined],
  ]);
  assert.deepEqual(g.identitiesOf(p), ['userId:u-1', 'previousId:x-1']);
  assert.deepEqual(g.identitiesOf(px), ['userId:x-1', 'email:x@example.com']);
  // Refused once: X is known now and is not offered to the alias profile again.
  assert.deepEqual(g.observe(ev('m4', 4, 'userId:x-1'), 'track').edges, []);
  // Without the limit, the alias holds.
  const open = new IdentityGraph({ keys: DEFAULT_IDENTITY_KEYS.map((k) => ({ ...k, limit: undefined })), maxProfilesPerMerge: 50 });
  open.observe(ev('m1', 1, 'userId:u-1'), 'identify');
  open.observe(aliasEvent(open, 'al', 2, { userId: 'u-1', previousId: 'x-1' }), 'alias');
  assert.equal(open.observe(ev('m3', 3, 'userId:x-1'), 'identify').profileId, p);
});

test('alias: the pending identity counts against no limit; joins and merges through it keep theirs', () => {
  const g = graph(1);
  const emails = [1, 2, 3, 4, 5].map((n) => `email:e${n}@example.com`);
  const p = g.observe(ev('m1', 1, 'userId:u-1', ...emails), 'identify').profileId;
  // Two pending identities on a profile full of e-mails and at its one userId: nothing is refused.
  for (const [n, prev] of [[2, 'x-1'], [3, 'x-2']] as const) {
    const obs = g.observe(aliasEvent(g, `al-${prev}`, n, { userId: 'u-1', previousId: prev }), 'alias');
    assert.deepEqual(obs.edges.map((e) => e.action), ['link']);
  }
  assert.deepEqual(g.observe(ev('m4', 4, 'anonymousId:x-1'), 'page').edges.map((e) => e.action), ['link']);
  // The previousId's event may bring other profiles with it: maxProfilesPerMerge (1) still counts them.
  g.observe(ev('s1', 5, 'anonymousId:s-1'), 'page');
  g.observe(ev('s2', 6, 'anonymousId:s-2'), 'page');
  assert.equal(g.observe(ev('m7', 7, 'anonymousId:x-2', 'anonymousId:s-1'), 'page').merges.length, 1);
  const third = g.observe(ev('m8', 8, 'anonymousId:x-1', 'anonymousId:s-2'), 'page');
  assert.deepEqual(third.edges.map((e) => e.action), ['refused']);
  assert.match(third.edges[0]?.reason ?? '', /maxProfilesPerMerge 1/);
  assert.equal(g.profileOf('anonymousId:s-1'), p);
});

test('alias: the same alias message again is a no-op, before and after a restart', () => {
  const g = graph();
  const store = new Store();
  store.apply(g.observe(ev('m1', 1, 'userId:u-1'), 'identify'));
  const first = g.observe(aliasEvent(g, 'al', 2, { userId: 'u-1', previousId: 'x-1' }), 'alias');
  store.apply(first);
  assert.deepEqual(g.observe(aliasEvent(g, 'al', 2, { userId: 'u-1', previousId: 'x-1' }), 'alias'), { profileId: first.profileId, assignments: [], edges: [], merges: [] });

  // A restarted graph forgot the message; the alias now reads its own pending identity and finds it placed.
  const fresh = graph();
  fresh.load([...store.assignments.values()], store.edges);
  const again = aliasEvent(fresh, 'al', 2, { userId: 'u-1', previousId: 'x-1' });
  assert.deepEqual(again.identities, ['userId:u-1', 'previousId:x-1']);
  assert.deepEqual(fresh.observe(again, 'alias'), { profileId: first.profileId, assignments: [], edges: [], merges: [] });
  // Also after the previousId arrived.
  store.apply(g.observe(ev('m3', 3, 'anonymousId:x-1'), 'page'));
  fresh.load([...store.assignments.values()], store.edges);
  assert.deepEqual(fresh.observe(aliasEvent(fresh, 'al', 2, { userId: 'u-1', previousId: 'x-1' }), 'alias').edges, []);
});

test('alias: a second alias of the same unseen previousId to another user is refused like a known one', () => {
  const g = graph();
  g.observe(ev('m1', 1, 'userId:u-1'), 'identify');
  g.observe(aliasEvent(g, 'al1', 2, { userId: 'u-1', previousId: 'x-1' }), 'alias');
  const obs = g.observe(aliasEvent(g, 'al2', 3, { userId: 'u-2', previousId: 'x-1' }), 'alias');
  assert.deepEqual(obs.edges.map((e) => [e.action, e.a, e.b]), [['refused', 'previousId:x-1', 'userId:u-2']]);
  assert.equal(obs.profileId, profileIdFor('userId:u-2'));
});

test('load: a graph rebuilt after an alias of an unseen previousId decides like the graph that observed it', () => {
  const history = [
    ev('h1', 1, 'userId:u-1', 'anonymousId:a-1'),
    ev('h2', 2, 'userId:u-2'),
    ev('h3', 3, 'userId:u-3'),
  ];
  const g1 = graph(4);
  const store = new Store();
  for (const e of history) store.apply(g1.observe(e, 'rule'));
  store.apply(g1.observe(aliasEvent(g1, 'al1', 4, { userId: 'u-1', previousId: 'x-1', anonymousId: 'a-1' }), 'alias'));
  store.apply(g1.observe(aliasEvent(g1, 'al2', 5, { userId: 'u-2', previousId: 'y-1' }), 'alias'));
  store.apply(g1.observe(aliasEvent(g1, 'al3', 6, { userId: 'u-3', previousId: 'z-1' }), 'alias'));
  store.apply(g1.observe(ev('h7', 7, 'anonymousId:z-1'), 'page')); // resolved before the restart

  const g2 = graph(4);
  g2.load([...store.assignments.values()].reverse(), [...store.edges].reverse());
  const all = [...store.assignments.keys()];
  assert.deepEqual(components(g2, all), components(g1, all));

  const future = [
    ev('f1', 10, 'anonymousId:x-1'), // joins u-1 through the pending identity
    ev('f2', 11, 'userId:y-1'), // refused: u-2's profile has its userId
    ev('f3', 12, 'anonymousId:y-1', 'deviceId:d-1'), // joins u-2
    ev('f4', 13, 'userId:z-1'), // refused: u-3's profile has its userId
    ev('f5', 14, 'anonymousId:z-1'), // known already: nothing
    ev('f6', 15, 'userId:u-2', 'anonymousId:x-1'), // two profiles: refused by the userId limit
  ];
  const outcomes: string[] = [];
  for (const e of future) {
    const expected = g1.observe(e, 'rule');
    assert.deepEqual(g2.observe(e, 'rule'), expected, `event ${e.messageId}`);
    outcomes.push(`${e.messageId}:${expected.edges.map((x) => `${x.action} ${x.a} ${x.b}`).join(',')}`);
  }
  assert.deepEqual(outcomes, [
    'f1:link previousId:x-1 anonymousId:x-1',
    'f2:refused previousId:y-1 userId:y-1',
    'f3:link previousId:y-1 anonymousId:y-1,link anonymousId:y-1 deviceId:d-1',
    'f4:refused previousId:z-1 userId:z-1',
    'f5:',
    'f6:refused userId:u-2 anonymousId:x-1',
  ]);
  assert.equal(g2.profileOf('anonymousId:x-1'), profileIdFor('userId:u-1'));
  assert.equal(g2.profileOf('deviceId:d-1'), profileIdFor('userId:u-2'));
});

test('unlink: undoing the alias edge splits the previousId and its events off again, named after its own identity', () => {
  const g = graph();
  const store = new Store();
  const start = g.observe(ev('m1', 1, 'userId:u-1', 'anonymousId:a-1'), 'identify');
  store.apply(start);
  const p = start.profileId;
  const alias = g.observe(aliasEvent(g, 'al', 2, { userId: 'u-1', previousId: 'x-1' }), 'alias');
  store.apply(alias);
  store.apply(g.observe(ev('m3', 3, 'anonymousId:x-1'), 'page'));
  store.apply(g.observe(ev('m4', 4, 'anonymousId:x-1', 'deviceId:d-1'), 'page'));
  const link = alias.edges[0];
  assert.ok(link);

  const undo = g.unlink(link.id, at(10), 'wrong alias');
  store.apply(undo);
  const px = profileIdFor('anonymousId:x-1');
  assert.deepEqual(undo.profiles, [p, px]);
  assert.deepEqual(g.identitiesOf(p), ['userId:u-1', 'anonymousId:a-1']);
  assert.deepEqual(g.identitiesOf(px), ['deviceId:d-1', 'anonymousId:x-1', 'previousId:x-1']);
  assert.equal(g.observe(ev('m5', 11, 'anonymousId:x-1'), 'page').profileId, px);

  // The alias redelivered to a restarted worker does not redo the link the unlink undid.
  const fresh = graph();
  fresh.load([...store.assignments.values()], store.edges);
  const again = fresh.observe(aliasEvent(fresh, 'al', 2, { userId: 'u-1', previousId: 'x-1' }), 'alias');
  assert.deepEqual(again.merges, []);
  assert.notEqual(fresh.profileOf('anonymousId:x-1'), fresh.profileOf('userId:u-1'));
});

test('unlink: undoing the alias before the previousId arrived leaves the pending identity alone, apart', () => {
  const g = graph();
  const p = g.observe(ev('m1', 1, 'userId:u-1'), 'identify').profileId;
  const link = g.observe(aliasEvent(g, 'al', 2, { userId: 'u-1', previousId: 'x-1' }), 'alias').edges[0];
  assert.ok(link);
  const undo = g.unlink(link.id, at(10), 'wrong alias');
  const pending = profileIdFor('previousId:x-1');
  assert.deepEqual(undo.profiles, [p, pending]);
  assert.deepEqual(g.identitiesOf(pending), ['previousId:x-1']);
  // The previousId's events are no longer the user's.
  assert.notEqual(g.observe(ev('m3', 11, 'anonymousId:x-1'), 'page').profileId, p);
});

test('alias: a previousId already known, equal to the own userId or anonymousId, or only readable one way, reads as before', () => {
  const g = graph();
  g.observe(ev('m1', 1, 'userId:u-old'), 'identify');
  g.observe(ev('m2', 1, 'anonymousId:a-old'), 'page');
  const read = (fields: Partial<CanonicalEvent>, keys = DEFAULT_IDENTITY_KEYS, on = g): Identity[] => {
    const event = canonical({ type: 'alias', ...fields });
    return on.readAlias(event, extractIdentities(event, keys));
  };
  // Known as a userId, or only as an anonymousId: that identity.
  assert.deepEqual(read({ userId: 'u-new', previousId: 'u-old' }), ['userId:u-new', 'userId:u-old']);
  assert.deepEqual(read({ userId: 'u-new', previousId: 'a-old' }), ['userId:u-new', 'anonymousId:a-old']);
  // The event's own anonymousId: itself, seen or not.
  assert.deepEqual(read({ userId: 'u-new', previousId: 'a-new', anonymousId: 'a-new' }), ['userId:u-new', 'anonymousId:a-new']);
  // Aliasing a user to itself: the userId once, nothing pending.
  assert.deepEqual(read({ userId: 'u-new', previousId: ' u-new ' }), ['userId:u-new']);
  // Nothing else to link it to: left as it was, even when a pending identity exists (it must anchor no event).
  assert.deepEqual(read({ previousId: 'x-1' }), ['userId:x-1']);
  g.observe({ messageId: 'al0', timestamp: at(2), identities: read({ userId: 'u-old', previousId: 'x-1' }) }, 'alias');
  assert.equal(g.profileOf('previousId:x-1'), g.profileOf('userId:u-old'));
  assert.deepEqual(read({ previousId: 'x-1' }), ['userId:x-1']);
  // Without a userId or an anonymousId key the reading is the only identity the previousId can come back as.
  const noUserKey = DEFAULT_IDENTITY_KEYS.filter((k) => k.name !== 'userId');
  const noUser = new IdentityGraph({ keys: noUserKey, maxProfilesPerMerge: 50 });
  assert.deepEqual(read({ anonymousId: 'a-1', previousId: 'x-1' }, noUserKey, noUser), ['anonymousId:a-1', 'anonymousId:x-1']);
  assert.deepEqual(read({ type: 'track', userId: 'u-new', previousId: 'x-1' }), ['userId:u-new']);

  // The known-previousId links themselves are unchanged.
  const obs = g.observe({ messageId: 'al', timestamp: at(3), identities: read({ userId: 'u-new', previousId: 'a-old' }) }, 'alias');
  assert.deepEqual(obs.edges.map((e) => [e.action, e.a, e.b]), [['link', 'anonymousId:a-old', 'userId:u-new']]);
  const refused = g.observe({ messageId: 'al2', timestamp: at(4), identities: read({ userId: 'u-new', previousId: 'u-old' }) }, 'alias');
  assert.deepEqual(refused.edges.map((e) => [e.action, e.a, e.b]), [['refused', 'userId:u-new', 'userId:u-old']]);
});

test('alias: the pending key is reserved; aliasForms names what a suppression of either side covers', () => {
  assert.throws(() => new IdentityGraph({ keys: [...DEFAULT_IDENTITY_KEYS, { name: 'previousId', path: 'previousId' }], maxProfilesPerMerge: 1 }), /reserved/);
  const g = graph();
  assert.deepEqual(g.aliasForms(['previousId:x-1', 'userId:u-1', 'email:e@example.com', 'anonymousId:a-1']), [
    'userId:x-1',
    'anonymousId:x-1',
    'previousId:u-1',
    'previousId:a-1',
  ]);
  assert.equal(isPending('previousId:x-1'), true);
  assert.equal(isPending('userId:previousId:x'), false);
});
