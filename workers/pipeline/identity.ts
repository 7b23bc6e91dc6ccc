/**
 * Identity resolution: an identity graph whose connected components are profiles.
 *
 * Pure on purpose: the pipeline worker loads the relevant part of the graph from ClickHouse, feeds
 * it events and persists what comes back (assignments are upserted, edges appended). Keeping I/O
 * out makes every rule below testable, and makes re-processing a topic from an old offset produce
 * exactly the same ids and edges.
 *
 * Two fields go beyond the minimal persisted shape, because without them a graph rebuilt by load()
 * could not decide the same way as the graph that observed the events:
 *  - every assignment carries `firstSeen`, the eventTime its identity was first observed: a
 *    profile's age (which decides the canonical id on merge) is its founding identity's firstSeen,
 *    and single-identity profiles leave no edge to recover it from;
 *  - link edges that folded one profile into another carry `merge: { from, into }`: absorbed
 *    profiles leave no assignment behind, and maxProfilesPerMerge needs to know they existed.
 *
 * An alias whose previousId the graph has never seen cannot tell whether it is a userId or an
 * anonymousId: it joins the pending identity `previousId:<value>` to the alias's profile (an
 * assignment and a link edge, like any identity). Whichever of the two readings is observed first
 * joins the pending identity's profile (under the usual limits), so the alias is not lost, and a
 * graph rebuilt by load() finds the pending identity among the assignments like any other.
 */
import { createHash } from 'node:crypto';
import type { CanonicalEvent } from '../../api/event.ts';
import { DEFAULT_IDENTITY_KEYS, normalizeIdentityValue, type IdentityKey } from '../../api/v1alpha1/pipeline.ts';
import { RecentSet } from './recent-set.ts';

export interface IdentityConfig {
  keys: readonly IdentityKey[];
  /** a profile may absorb at most this many other profiles over its life */
  maxProfilesPerMerge: number;
}

/** How many recent messages the graph remembers (per generation of its RecentSet). */
const RECENT_MESSAGES = 50_000;

export const DEFAULT_CONFIG: IdentityConfig = { keys: DEFAULT_IDENTITY_KEYS, maxProfilesPerMerge: 50 };

/** "<keyName>:<value>", e.g. "userId:u-1", "email:ada@example.com". */
export type Identity = string;

/**
 * The key of a pending identity (see the top of this file). Not a configurable key name, so it has
 * no limit and the lowest priority: it never refuses a link, never names a profile that holds a
 * real identity, and never anchors an event.
 */
export const PENDING_KEY = 'previousId';

/** An alias's previousId that no event has carried yet: it holds no events and no traits. */
export function isPending(identity: Identity): boolean {
  return identity.startsWith(`${PENDING_KEY}:`);
}

export interface Edge {
  id: string;
  a: Identity;
  b: Identity;
  action: 'link' | 'refused' | 'unlink';
  rule: string;
  messageId: string;
  eventTime: string;
  reason?: string;
  /** for unlink: the id of the link edge it undoes */
  undoes?: string;
  /** for a link that folded one existing profile into another */
  merge?: { from: string; into: string };
}

export interface Assignment {
  identity: Identity;
  profileId: string;
  /** eventTime of the identity's first observation; never changes once set */
  firstSeen: string;
}

export interface Observation {
  /** the profile the event belongs to (after any merge) */
  profileId: string;
  /** identities whose profile changed or are new: upsert these */
  assignments: Assignment[];
  /** append these (links made, merges refused) */
  edges: Edge[];
  /** profiles folded into another by this event */
  merges: Array<{ from: string; into: string }>;
}

export interface IdentifiedEvent {
  messageId: string;
  /** The Source it came through: messageIds are unique per Source. */
  source?: string;
  timestamp: string;
  /** in priority order, as extractIdentities returns them */
  identities: Identity[];
}

export interface UnlinkResult {
  edges: Edge[];
  assignments: Assignment[];
  /** the profile that was split first, then the ones split off it */
  profiles: string[];
}

/**
 * A UUID-shaped (version 8, RFC 9562 variant) digest, so ids fit ClickHouse UUID columns and the
 * same input always gives the same id.
 */
function uuidFrom(input: string): string {
  const bytes = createHash('sha256').update(input).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export function profileIdFor(firstIdentity: Identity): string {
  // Prefixed so a profile id can never equal an edge id.
  return uuidFrom(`profile\n${firstIdentity}`);
}

function edgeIdFor(messageId: string, a: Identity, b: Identity): string {
  // The pair is sorted so the id does not depend on which side the processing happened to anchor.
  const [x, y] = a < b ? [a, b] : [b, a];
  return uuidFrom(`edge\n${messageId}\n${x}\n${y}`);
}

function keyOf(identity: Identity): string {
  const colon = identity.indexOf(':');
  return colon < 0 ? identity : identity.slice(0, colon);
}

function compareStrings(a: string, b: string): number {
  // Code-unit order, not localeCompare: ids must sort the same on every host.
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareTimes(a: string, b: string): number {
  // '' is an unknown time (rows persisted without firstSeen). It sorts newest, so a profile whose
  // age is unknown never takes the id of one whose age is known.
  if (a === '' || b === '') return a === b ? 0 : a === '' ? 1 : -1;
  const x = Date.parse(a);
  const y = Date.parse(b);
  if (!Number.isNaN(x) && !Number.isNaN(y)) return Math.sign(x - y);
  return compareStrings(a, b);
}

function compareEdges(a: Edge, b: Edge): number {
  return compareTimes(a.eventTime, b.eventTime) || compareStrings(a.id, b.id);
}

// ---------------------------------------------------------------------------------------------
// Extraction

function readPath(root: unknown, path: string): unknown {
  let current: unknown = root;
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

function normalize(key: IdentityKey, raw: unknown): string | undefined {
  if (typeof raw !== 'string' && !(typeof raw === 'number' && Number.isFinite(raw))) return undefined;
  const value = normalizeIdentityValue(key.name, String(raw).trim());
  return value === '' ? undefined : value;
}

/**
 * Which key an alias's previousId is read as. SDKs (analytics.js, RudderStack) send the current
 * userId when there is one and the anonymousId otherwise, so: if previousId equals the event's own
 * anonymousId it is that anonymousId; otherwise it is most likely an earlier userId, and goes under
 * the key that reads `userId` when the config has one, else under the key that reads `anonymousId`.
 * Under userId with limit 1 an alias between two known users is refused like any other merge
 * that would give a profile two userIds: aliasing does not bypass limits. IdentityGraph.readAlias
 * then reads it as the graph knows it.
 */
function previousIdKey(event: CanonicalEvent, keys: readonly IdentityKey[]): IdentityKey | undefined {
  if (event.type !== 'alias' || event.previousId === undefined) return undefined;
  const anonymousKey = keys.find((k) => k.path === 'anonymousId');
  if (event.previousId === event.anonymousId) return anonymousKey;
  return keys.find((k) => k.path === 'userId') ?? anonymousKey;
}

function identityOf(key: IdentityKey, raw: unknown): Identity | undefined {
  const value = normalize(key, raw);
  return value === undefined ? undefined : `${key.name}:${value}`;
}

export function extractIdentities(event: CanonicalEvent, keys: readonly IdentityKey[]): Identity[] {
  const aliasKey = previousIdKey(event, keys);
  const out: Identity[] = [];
  const seen = new Set<Identity>();
  for (const key of keys) {
    const candidates: unknown[] = [readPath(event, key.path)];
    // Segment SDKs put traits on identify calls at the top level and on every other call in
    // context.traits; both describe the same user.
    if (key.path.startsWith('traits.')) candidates.push(readPath(event, `context.${key.path}`));
    if (key === aliasKey) candidates.push(event.previousId);
    for (const raw of candidates) {
      const identity = identityOf(key, raw);
      if (identity === undefined || seen.has(identity)) continue;
      seen.add(identity);
      out.push(identity);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The graph

interface ProfileState {
  id: string;
  /** firstSeen of the founding identity: decides which id survives a merge */
  createdAt: string;
  members: Set<Identity>;
  keyCounts: Map<string, number>;
  /**
   * Identities in the profile that once founded a profile of their own. Each merge brings in at
   * least one, so founders - 1 is how many profiles this one has absorbed; counting it this way
   * (rather than keeping a counter) lets load() and unlink() recompute it from the members.
   */
  founders: number;
}

interface IdentityState {
  profileId: string;
  firstSeen: string;
}

/** A union-find unit while replaying links after an unlink. */
interface Unit {
  members: Identity[];
  keyCounts: Map<string, number>;
  founders: number;
}

export class IdentityGraph {
  private readonly limits = new Map<string, number>();
  private readonly priority = new Map<string, number>();
  private readonly maxProfilesPerMerge: number;
  private identities = new Map<Identity, IdentityState>();
  private profiles = new Map<string, ProfileState>();
  /** identities that ever founded a profile; see ProfileState.founders */
  private founders = new Set<Identity>();
  /**
   * Link and unlink edges: what merges, unmerges and load decide by. Refused edges are returned
   * (and persisted) but not kept: one arrives with every refused event, so keeping them would grow
   * memory with the events (a shared device, or anyone sending conflicting ids), not the people.
   */
  private edges = new Map<string, Edge>();
  /** link edge ids that an unlink edge undoes */
  private undone = new Set<string>();
  /**
   * Recently observed messages (per Source), so a redelivery from Kafka is a no-op without work.
   * Bounded: an older message observed again changes nothing either (its identities are placed
   * already, and a link an unlink undid is never made again), it only costs the lookups.
   */
  private seen = new RecentSet(RECENT_MESSAGES);
  /** The keys an alias's previousId may turn out to be: a pending identity needs both. */
  private readonly userKey: IdentityKey | undefined;
  private readonly anonymousKey: IdentityKey | undefined;

  constructor(config: IdentityConfig) {
    config.keys.forEach((key, index) => {
      if (key.name.includes(':')) throw new Error(`identity key name ${JSON.stringify(key.name)} must not contain ":"`);
      if (key.name === PENDING_KEY) throw new Error(`identity key name ${PENDING_KEY} is reserved for alias previousIds not seen yet`);
      if (this.priority.has(key.name)) throw new Error(`identity key ${key.name} is listed twice`);
      this.priority.set(key.name, index);
      if (key.limit !== undefined) this.limits.set(key.name, key.limit);
    });
    this.maxProfilesPerMerge = config.maxProfilesPerMerge;
    this.userKey = config.keys.find((k) => k.path === 'userId');
    this.anonymousKey = config.keys.find((k) => k.path === 'anonymousId');
  }

  /**
   * An alias event's identities (as extractIdentities gives them) with its previousId read as the
   * graph knows it. extractIdentities reads a previousId that is not the event's own anonymousId as
   * a userId; the graph knows better when it has seen it: as a pending identity of an earlier alias
   * (so a redelivered alias finds the very link it made), as a userId, or only as an anonymousId
   * (server-side SDKs alias an anonymous id without sending it as one). Seen as none of them, it is
   * a new pending identity, last: it has no priority and must not anchor the event.
   */
  readAlias(event: CanonicalEvent, identities: Identity[]): Identity[] {
    if (event.type !== 'alias' || this.userKey === undefined || this.anonymousKey === undefined) return identities;
    const asUser = identityOf(this.userKey, event.previousId);
    if (asUser === undefined || !identities.includes(asUser)) return identities;
    // An alias of a userId to itself links nothing (and that userId is no pending identity).
    if (asUser === identityOf(this.userKey, event.userId)) return identities;
    const pending = `${PENDING_KEY}:${asUser.slice(this.userKey.name.length + 1)}`;
    const others = identities.filter((i) => i !== asUser);
    // Alone, a pending identity would anchor the event (it must hold none) and link nothing.
    const withPending = others.length === 0 ? identities : [...others, pending];
    if (this.identities.has(pending)) return withPending;
    if (this.identities.has(asUser)) return identities;
    const asAnonymous = identityOf(this.anonymousKey, event.previousId);
    if (asAnonymous !== undefined && this.identities.has(asAnonymous)) return identities.map((i) => (i === asUser ? asAnonymous : i));
    return withPending;
  }

  /**
   * The other names an erased person may be suppressed under through an alias: a pending identity
   * stands for both its readings, and a userId or anonymousId may be an erased alias's pending one.
   */
  aliasForms(identities: readonly Identity[]): Identity[] {
    const out: Identity[] = [];
    for (const identity of identities) {
      const value = identity.slice(identity.indexOf(':') + 1);
      if (isPending(identity)) {
        for (const key of [this.userKey, this.anonymousKey]) if (key !== undefined) out.push(`${key.name}:${value}`);
      } else if (this.pendingFor(identity) !== undefined) {
        out.push(`${PENDING_KEY}:${value}`);
      }
    }
    return out;
  }

  /** Rebuilds state from persisted edges (all actions, any order: sort by eventTime then id) and identity→profile assignments. */
  load(assignments: Array<{ identity: Identity; profileId: string; firstSeen?: string }>, edges: Edge[]): void {
    this.identities = new Map();
    this.profiles = new Map();
    this.founders = new Set();
    this.edges = new Map();
    this.undone = new Set();
    this.seen = new RecentSet(RECENT_MESSAGES);

    const earliest = new Map<Identity, string>();
    for (const edge of [...edges].sort(compareEdges)) {
      if (edge.action !== 'refused') this.edges.set(edge.id, edge);
      if (edge.action === 'unlink' && edge.undoes !== undefined) this.undone.add(edge.undoes);
      for (const identity of [edge.a, edge.b]) if (!earliest.has(identity)) earliest.set(identity, edge.eventTime);
    }

    for (const { identity, profileId, firstSeen } of assignments) {
      // Rows persisted without firstSeen: the identity's first edge is the best evidence left
      // (for a multi-identity profile its founder always has one); otherwise unknown ('').
      this.identities.set(identity, { profileId, firstSeen: firstSeen ?? earliest.get(identity) ?? '' });
    }

    // A profile id is profileIdFor(its founder), so founders are found by hashing: those of live
    // profiles, and those of profiles that merge edges record as folded away.
    const everProfiles = new Set<string>();
    for (const state of this.identities.values()) everProfiles.add(state.profileId);
    for (const edge of this.edges.values()) {
      if (edge.merge === undefined) continue;
      everProfiles.add(edge.merge.from);
      everProfiles.add(edge.merge.into);
    }
    for (const identity of this.identities.keys()) {
      if (everProfiles.has(profileIdFor(identity))) this.founders.add(identity);
    }

    const byProfile = new Map<string, Identity[]>();
    for (const [identity, state] of this.identities) {
      const members = byProfile.get(state.profileId) ?? [];
      members.push(identity);
      byProfile.set(state.profileId, members);
    }
    for (const [profileId, members] of byProfile) {
      const founder = members.find((m) => profileIdFor(m) === profileId);
      const createdAt =
        founder !== undefined ? this.firstSeen(founder) : members.map((m) => this.firstSeen(m)).sort(compareTimes)[0] ?? '';
      this.profiles.set(profileId, this.buildProfile(profileId, createdAt, members));
    }
  }

  observe(event: IdentifiedEvent, rule: string): Observation {
    const ids = [...new Set(event.identities)];
    const top = ids[0];
    if (top === undefined) throw new Error(`event ${event.messageId} has no identities`);

    const seenKey = `${event.source ?? ''}\n${event.messageId}`;
    if (this.seen.has(seenKey)) {
      const known = ids.find((i) => this.identities.has(i));
      if (known !== undefined) {
        return { profileId: this.profileOf(top) ?? this.requireProfile(known).id, assignments: [], edges: [], merges: [] };
      }
      // Seen but none of its identities known: only after loading a partial graph; process it.
    }
    this.seen.add(seenKey);

    const changed = new Set<Identity>();
    const edges: Edge[] = [];
    const merges: Array<{ from: string; into: string }> = [];
    const record = (a: Identity, b: Identity, action: 'link' | 'refused', reason?: string, merge?: { from: string; into: string }): void => {
      const edge: Edge = { id: edgeIdFor(event.messageId, a, b), a, b, action, rule, messageId: event.messageId, eventTime: event.timestamp };
      if (reason !== undefined) edge.reason = reason;
      if (merge !== undefined) edge.merge = merge;
      if (action === 'link') this.edges.set(edge.id, edge);
      edges.push(edge);
    };

    // A new userId or anonymousId that an earlier alias named as its previousId is placed first, in
    // the profile its pending identity is in, as if the alias had come after it: from then on it is
    // a known identity and the rules below treat it as one.
    for (const identity of ids) {
      const pending = this.identities.has(identity) ? undefined : this.pendingFor(identity);
      if (pending === undefined || !this.identities.has(pending)) continue;
      if (this.undone.has(edgeIdFor(event.messageId, pending, identity))) continue;
      const target = this.requireProfile(pending);
      const reason = this.joinRefusal(target, identity);
      if (reason === undefined) {
        this.join(target, identity, event.timestamp);
        record(pending, identity, 'link');
        changed.add(identity);
      } else {
        record(pending, identity, 'refused', reason);
      }
    }

    const known = ids.filter((i) => this.identities.has(i));
    const unknown = ids.filter((i) => !this.identities.has(i));

    // Existing profiles fold into the one of the highest-priority known identity (whose id may
    // still give way to an older one). A profile refused once is not tried again through its other
    // identities: one refused edge per event says it all.
    const [anchor, ...others] = known;
    if (anchor !== undefined) {
      const refused = new Set<string>();
      for (const other of others) {
        const primary = this.requireProfile(anchor);
        const candidate = this.requireProfile(other);
        if (primary === candidate || refused.has(candidate.id)) continue;
        // This very evidence was undone by an unmerge: an old event seen again must not redo it.
        if (this.undone.has(edgeIdFor(event.messageId, anchor, other))) continue;
        const [survivor, loser] = this.compareAge(primary, candidate) <= 0 ? [primary, candidate] : [candidate, primary];
        const reason = this.mergeRefusal(survivor, loser);
        if (reason !== undefined) {
          refused.add(candidate.id);
          record(anchor, other, 'refused', reason);
          continue;
        }
        for (const member of loser.members) changed.add(member);
        this.fold(loser, survivor);
        const merge = { from: loser.id, into: survivor.id };
        merges.push(merge);
        record(anchor, other, 'link', undefined, merge);
      }
    }

    // Each new identity attaches to the highest-priority identity already placed: the known ones,
    // and new ones before it. So when a new identity is refused and founds its own profile, the
    // new identities after it follow it rather than the profile that refused it (a new user on a
    // shared device takes their new e-mail with them).
    const placed = new Set<Identity>(known);
    for (const identity of unknown) {
      const attachTo = ids.find((i) => placed.has(i));
      if (attachTo === undefined) {
        this.found(identity, event.timestamp);
      } else {
        const target = this.requireProfile(attachTo);
        const reason = this.joinRefusal(target, identity);
        if (reason === undefined) {
          this.join(target, identity, event.timestamp);
          record(attachTo, identity, 'link');
        } else {
          record(attachTo, identity, 'refused', reason);
          this.found(identity, event.timestamp);
        }
      }
      placed.add(identity);
      changed.add(identity);
    }

    return { profileId: this.requireProfile(top).id, assignments: this.assignmentsFor(changed), edges, merges };
  }

  /**
   * Undo one link edge: append an 'unlink' edge, recompute the components of the affected profile
   * from its remaining links (replayed in eventTime order under the same limits), and return the
   * new assignments and the affected profile ids (old and new).
   */
  unlink(edgeId: string, at: string, reason: string): UnlinkResult {
    const link = this.edges.get(edgeId);
    if (link === undefined) throw new Error(`unknown edge ${edgeId}: no link edge has this id (only link edges can be undone)`);
    if (link.action !== 'link') throw new Error(`edge ${edgeId} is a ${link.action} edge; only link edges can be undone`);
    if (this.undone.has(edgeId)) return { edges: [], assignments: [], profiles: [] };

    const edge: Edge = {
      id: uuidFrom(`unlink\n${edgeId}`),
      a: link.a,
      b: link.b,
      action: 'unlink',
      rule: 'unlink',
      messageId: `unlink:${edgeId}`,
      eventTime: at,
      reason,
      undoes: edgeId,
    };
    this.edges.set(edge.id, edge);
    this.undone.add(edgeId);

    const pa = this.profileOf(link.a);
    const pb = this.profileOf(link.b);
    const old = pa === undefined ? undefined : this.profiles.get(pa);
    if (old === undefined || pa !== pb) {
      // Already apart (an earlier unlink split them): the edge is recorded, nothing moves.
      return { edges: [edge], assignments: [], profiles: [...new Set([pa, pb].filter((p) => p !== undefined))] };
    }

    const members = [...old.members];
    const links = [...this.edges.values()]
      .filter((e) => e.action === 'link' && !this.undone.has(e.id) && old.members.has(e.a) && old.members.has(e.b))
      .sort(compareEdges);
    const components = this.replay(members, links);

    this.profiles.delete(old.id);
    const changed = new Set<Identity>();
    const created: string[] = [];
    for (const component of components) {
      const founder = this.founderOf(component);
      const id = profileIdFor(founder);
      this.profiles.set(id, this.buildProfile(id, this.firstSeen(founder), component));
      if (id !== old.id) created.push(id);
      for (const identity of component) {
        const state = this.requireState(identity);
        if (state.profileId === id) continue;
        state.profileId = id;
        changed.add(identity);
      }
    }
    return { edges: [edge], assignments: this.assignmentsFor(changed), profiles: [old.id, ...created.sort(compareStrings)] };
  }

  profileOf(identity: Identity): string | undefined {
    return this.identities.get(identity)?.profileId;
  }

  identitiesOf(profileId: string): Identity[] {
    const profile = this.profiles.get(profileId);
    return profile === undefined ? [] : [...profile.members].sort((a, b) => this.compareIdentities(a, b));
  }

  /** link/refused/unlink edges touching the profile's identities, for audit */
  edgesOf(profileId: string): Edge[] {
    const profile = this.profiles.get(profileId);
    if (profile === undefined) return [];
    return [...this.edges.values()].filter((e) => profile.members.has(e.a) || profile.members.has(e.b)).sort(compareEdges);
  }

  // -------------------------------------------------------------------------------------------

  private firstSeen(identity: Identity): string {
    return this.identities.get(identity)?.firstSeen ?? '';
  }

  /** The pending identity a userId or anonymousId would join (whether or not the graph holds it). */
  private pendingFor(identity: Identity): Identity | undefined {
    const key = keyOf(identity);
    if (this.userKey === undefined || this.anonymousKey === undefined) return undefined;
    if (key !== this.userKey.name && key !== this.anonymousKey.name) return undefined;
    return `${PENDING_KEY}:${identity.slice(key.length + 1)}`;
  }

  private requireState(identity: Identity): IdentityState {
    const state = this.identities.get(identity);
    if (state === undefined) throw new Error(`identity ${identity} is not in the graph`);
    return state;
  }

  private requireProfile(identity: Identity): ProfileState {
    const { profileId } = this.requireState(identity);
    const profile = this.profiles.get(profileId);
    if (profile === undefined) throw new Error(`identity ${identity} points at missing profile ${profileId}`);
    return profile;
  }

  private compareIdentities(a: Identity, b: Identity): number {
    const pa = this.priority.get(keyOf(a)) ?? Number.MAX_SAFE_INTEGER;
    const pb = this.priority.get(keyOf(b)) ?? Number.MAX_SAFE_INTEGER;
    return pa - pb || compareStrings(a, b);
  }

  /** Older first; on equal eventTime the smaller id, so every replica picks the same survivor. */
  private compareAge(a: ProfileState, b: ProfileState): number {
    return compareTimes(a.createdAt, b.createdAt) || compareStrings(a.id, b.id);
  }

  private buildProfile(id: string, createdAt: string, members: Iterable<Identity>): ProfileState {
    const profile: ProfileState = { id, createdAt, members: new Set(), keyCounts: new Map(), founders: 0 };
    for (const member of members) {
      profile.members.add(member);
      bump(profile.keyCounts, keyOf(member), 1);
      if (this.founders.has(member)) profile.founders++;
    }
    return profile;
  }

  private found(identity: Identity, at: string): void {
    const id = profileIdFor(identity);
    this.founders.add(identity);
    this.identities.set(identity, { profileId: id, firstSeen: at });
    this.profiles.set(id, this.buildProfile(id, at, [identity]));
  }

  private join(profile: ProfileState, identity: Identity, at: string): void {
    this.identities.set(identity, { profileId: profile.id, firstSeen: at });
    profile.members.add(identity);
    bump(profile.keyCounts, keyOf(identity), 1);
  }

  private fold(loser: ProfileState, survivor: ProfileState): void {
    for (const member of loser.members) {
      this.requireState(member).profileId = survivor.id;
      survivor.members.add(member);
    }
    for (const [key, n] of loser.keyCounts) bump(survivor.keyCounts, key, n);
    survivor.founders += loser.founders;
    this.profiles.delete(loser.id);
  }

  private keyLimitRefusal(profileId: string, a: Map<string, number>, b: Map<string, number>): string | undefined {
    for (const [key, limit] of this.limits) {
      const na = a.get(key) ?? 0;
      const nb = b.get(key) ?? 0;
      // Both sides must hold the key: a profile already over its limit (a config change since it
      // was built) should not block merges that add nothing to the offending key.
      if (na > 0 && nb > 0 && na + nb > limit) return `would give profile ${profileId} ${na + nb} values of ${key} (limit ${limit})`;
    }
    return undefined;
  }

  private mergeRefusal(survivor: ProfileState, loser: ProfileState): string | undefined {
    const byKey = this.keyLimitRefusal(survivor.id, survivor.keyCounts, loser.keyCounts);
    if (byKey !== undefined) return byKey;
    const absorbed = survivor.founders + loser.founders - 1;
    if (absorbed > this.maxProfilesPerMerge) {
      return (
        `profile ${survivor.id} has already absorbed ${survivor.founders - 1} profiles and ${loser.id} would bring ` +
        `${loser.founders} more (maxProfilesPerMerge ${this.maxProfilesPerMerge})`
      );
    }
    return undefined;
  }

  private joinRefusal(target: ProfileState, identity: Identity): string | undefined {
    return this.keyLimitRefusal(target.id, target.keyCounts, new Map([[keyOf(identity), 1]]));
  }

  /**
   * Connected components of `members` under `links`, each link applied in order only if the
   * union respects the same limits observe() enforces, so a replay cannot build a profile that
   * live processing would have refused.
   */
  private replay(members: Identity[], links: Edge[]): Identity[][] {
    const unitOf = new Map<Identity, Unit>();
    for (const member of members) {
      unitOf.set(member, { members: [member], keyCounts: new Map([[keyOf(member), 1]]), founders: this.founders.has(member) ? 1 : 0 });
    }
    for (const link of links) {
      const ua = unitOf.get(link.a);
      const ub = unitOf.get(link.b);
      if (ua === undefined || ub === undefined || ua === ub) continue;
      if (this.keyLimitRefusal('', ua.keyCounts, ub.keyCounts) !== undefined) continue;
      // Only a union of two founded profiles is an absorption; a lone non-founder is a new identity joining.
      if (ua.founders > 0 && ub.founders > 0 && ua.founders + ub.founders - 1 > this.maxProfilesPerMerge) continue;
      const [big, small] = ua.members.length >= ub.members.length ? [ua, ub] : [ub, ua];
      for (const member of small.members) {
        big.members.push(member);
        unitOf.set(member, big);
      }
      for (const [key, n] of small.keyCounts) bump(big.keyCounts, key, n);
      big.founders += small.founders;
    }
    return [...new Set(unitOf.values())].map((u) => u.members);
  }

  /**
   * Whose id a component takes: the oldest founder it holds (the same choice merges make, so the
   * old profile keeps its id and a split-off one gets back the id it had before it was absorbed);
   * a component with no founder gets its earliest identity as founder, as if first seen alone.
   */
  private founderOf(component: Identity[]): Identity {
    const byAge = (a: Identity, b: Identity): number => compareTimes(this.firstSeen(a), this.firstSeen(b));
    const founders = component.filter((m) => this.founders.has(m));
    if (founders.length > 0) {
      return founders.sort((a, b) => byAge(a, b) || compareStrings(profileIdFor(a), profileIdFor(b)))[0] as Identity;
    }
    // A pending identity is older than the identity that joined it, but the profile is that one's.
    const real = component.filter((m) => !isPending(m));
    const founder = [...(real.length > 0 ? real : component)].sort((a, b) => byAge(a, b) || this.compareIdentities(a, b))[0] as Identity;
    this.founders.add(founder);
    return founder;
  }

  private assignmentsFor(identities: Set<Identity>): Assignment[] {
    return [...identities]
      .sort((a, b) => this.compareIdentities(a, b))
      .map((identity) => {
        const { profileId, firstSeen } = this.requireState(identity);
        return { identity, profileId, firstSeen };
      });
  }
}

function bump(counts: Map<string, number>, key: string, by: number): void {
  counts.set(key, (counts.get(key) ?? 0) + by);
}
