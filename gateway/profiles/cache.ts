// The API's profile cache: identity → profile id and profile id → document, bounded LRUs kept fresh
// by the pipeline's profile-changes records and the Segments' entered/exited records (Kafka, not
// polling). Each API process reads both topics with a consumer group of its own from the latest
// offset; while that consumer is not running the cache is emptied and bypassed (and /readyz says why).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { LRUCache } from 'lru-cache';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { parseProfileChange, type ProfileChangeRecord } from '../../api/profile-changes.ts';
import { parseSegmentChange, type SegmentChangeRecord } from '../../api/segment-changes.ts';
import { ensureTopics, namespaceTopicSpecs, type Consumer, type Kafka, type TopicNames } from '../../lib/kafka.ts';
import type { Logger } from '../../lib/log.ts';
import type { ProfileDocument } from './document.ts';
import type { ProfileStore } from './store.ts';

export const DEFAULT_CACHE_PROFILES = 100_000;
/**
 * A backstop only: every change the pipeline and the Segments make arrives as a record. Personas
 * (written by the models worker, which publishes none) are at most this old.
 */
const MAX_AGE_MS = 10 * 60_000;
/** Identity entries are small; a profile has a few identities. */
const IDENTITIES_PER_PROFILE = 4;
/**
 * Changed profiles reloaded at once in the background; past that a change only evicts, so a Segment
 * version entering 100,000 cached profiles does not queue 100,000 loads in front of the readers.
 */
const MAX_REFRESHES = 4;
/** How long start() waits to join before serving with the cache bypassed (problem() says why). */
const JOIN_WAIT_MS = 30_000;

type Outcome = 'hit' | 'miss';

export interface CacheMetrics {
  lookup(cache: 'profile' | 'identity', outcome: Outcome): void;
  evicted(reason: 'capacity' | 'change' | 'expired'): void;
}

/** A load in flight: readers of the same key share it; a change meanwhile marks it stale so its result is not kept. */
interface Pending<T> {
  promise: Promise<T>;
  stale: boolean;
}

/** The cache logic, without Kafka: lookups through the LRUs, shared loads, changes applied. */
export class ProfileCache implements ProfileStore {
  private readonly profiles: LRUCache<string, ProfileDocument>;
  private readonly identities: LRUCache<string, string>;
  /** profile id → the identities the identity LRU maps to it (to evict those that moved away). */
  private readonly identitiesOf = new Map<string, Set<string>>();
  private readonly loading = new Map<string, Pending<ProfileDocument | undefined>>();
  private readonly resolving = new Map<string, Pending<string | undefined>>();
  private refreshing = 0;

  constructor(
    private readonly inner: ProfileStore,
    maxProfiles: number,
    private readonly metrics: CacheMetrics = { lookup: () => undefined, evicted: () => undefined },
    private readonly log?: Logger,
  ) {
    this.profiles = new LRUCache<string, ProfileDocument>({
      max: maxProfiles,
      ttl: MAX_AGE_MS,
      dispose: (_doc, _id, reason) => {
        if (reason === 'evict') metrics.evicted('capacity');
        else if (reason === 'expire') metrics.evicted('expired');
      },
    });
    this.identities = new LRUCache<string, string>({
      max: maxProfiles * IDENTITIES_PER_PROFILE,
      ttl: MAX_AGE_MS,
      dispose: (profileId, identity) => {
        const set = this.identitiesOf.get(profileId);
        set?.delete(identity);
        if (set?.size === 0) this.identitiesOf.delete(profileId);
      },
    });
  }

  get size(): { profiles: number; identities: number } {
    return { profiles: this.profiles.size, identities: this.identities.size };
  }

  async resolve(identity: string): Promise<string | undefined> {
    const cached = this.identities.get(identity);
    if (cached !== undefined) {
      this.metrics.lookup('identity', 'hit');
      return cached;
    }
    this.metrics.lookup('identity', 'miss');
    // Unknown identities are not remembered: the next identify may create them.
    return this.shared(this.resolving, identity, () => this.inner.resolve(identity), (profileId) => profileId && this.remember(identity, profileId));
  }

  async load(profileId: string): Promise<ProfileDocument | undefined> {
    const cached = this.profiles.get(profileId);
    if (cached) {
      this.metrics.lookup('profile', 'hit');
      return cached;
    }
    this.metrics.lookup('profile', 'miss');
    return this.shared(this.loading, profileId, () => this.inner.load(profileId), (doc) => {
      if (!doc) return;
      this.profiles.set(profileId, doc);
      // The document names its identities as of this load: later lookups by any of them are hits.
      for (const identity of doc.identities) this.remember(identity, profileId);
    });
  }

  /**
   * A profile was rebuilt or deleted: its document goes (and is loaded again if it was cached, so
   * hot profiles stay hits); identities that now belong to it, or no longer do, are forgotten.
   */
  applyProfileChange(change: ProfileChangeRecord): void {
    const { profileId } = change;
    const wasCached = this.forgetProfile(profileId);
    const now = new Set(change.identities);
    for (const identity of now) {
      this.staleResolve(identity);
      if (this.identities.peek(identity) !== profileId) this.forgetIdentity(identity);
    }
    for (const identity of [...(this.identitiesOf.get(profileId) ?? [])]) if (!now.has(identity)) this.forgetIdentity(identity);
    if (wasCached && !change.deleted) this.refresh(profileId);
  }

  /** A profile entered or left a Segment: its memberships changed. */
  applySegmentChange(profileId: string): void {
    if (this.forgetProfile(profileId)) this.refresh(profileId);
  }

  /** Empties the cache; loads in flight keep no result. */
  clear(): void {
    for (const p of [...this.loading.values(), ...this.resolving.values()]) p.stale = true;
    this.loading.clear();
    this.resolving.clear();
    this.profiles.clear();
    this.identities.clear();
    this.identitiesOf.clear();
  }

  private remember(identity: string, profileId: string): void {
    this.identities.set(identity, profileId);
    let set = this.identitiesOf.get(profileId);
    if (!set) this.identitiesOf.set(profileId, (set = new Set()));
    set.add(identity);
  }

  /** True when the document was cached. */
  private forgetProfile(profileId: string): boolean {
    const pending = this.loading.get(profileId);
    if (pending) {
      pending.stale = true;
      this.loading.delete(profileId);
    }
    const had = this.profiles.delete(profileId);
    if (had) this.metrics.evicted('change');
    return had;
  }

  private forgetIdentity(identity: string): void {
    this.identities.delete(identity);
  }

  private staleResolve(identity: string): void {
    const pending = this.resolving.get(identity);
    if (!pending) return;
    pending.stale = true;
    this.resolving.delete(identity);
  }

  private refresh(profileId: string): void {
    if (this.refreshing >= MAX_REFRESHES) return;
    this.refreshing++;
    this.load(profileId)
      .catch((err: unknown) => this.log?.warn({ err, profileId }, 'refreshing a cached profile failed; the next read loads it'))
      .finally(() => this.refreshing--);
  }

  private shared<T>(map: Map<string, Pending<T>>, key: string, load: () => Promise<T>, keep: (value: T) => void): Promise<T> {
    const inFlight = map.get(key);
    if (inFlight) return inFlight.promise;
    const pending: Pending<T> = { stale: false, promise: undefined as never };
    pending.promise = load()
      .then((value) => {
        if (!pending.stale) keep(value);
        return value;
      })
      .finally(() => {
        if (map.get(key) === pending) map.delete(key);
      });
    map.set(key, pending);
    return pending.promise;
  }
}

/** What follows the change records besides the cache; `down`: records may be missed from now on. */
export interface ChangeListener {
  profile(change: ProfileChangeRecord): void;
  segment(change: SegmentChangeRecord): void;
  down(reason: string): void;
}

export interface CachedProfilesDeps {
  kafka: Kafka;
  topics: TopicNames;
  log: Logger;
  registry: Registry;
  /** Bound on cached profiles (default USPA_API_CACHE_PROFILES, else 100,000). */
  maxProfiles?: number;
}

/** The ProfileStore routes use: the cache while its change consumer runs, the inner store otherwise. */
export class CachedProfiles implements ProfileStore {
  private readonly cache: ProfileCache;
  private readonly changes: Counter<'topic'>;
  private readonly unreadable: Counter<'topic'>;
  private readonly lag: Histogram<'topic'>;
  private consumer?: Consumer;
  private groupId?: string;
  /** Why the cache is not in use; undefined while the consumer runs. */
  private state: string | undefined = 'the profile cache has not started';
  /** Others that follow the same change records (the decisions' warm profiles). */
  private readonly listeners: Array<ChangeListener> = [];

  constructor(
    private readonly inner: ProfileStore,
    private readonly deps: CachedProfilesDeps,
  ) {
    const { registry } = deps;
    const maxProfiles = deps.maxProfiles ?? (Number(process.env.USPA_API_CACHE_PROFILES) || DEFAULT_CACHE_PROFILES);
    const lookups = new Counter({ name: 'uspa_api_profile_cache_hits_total', help: 'Profile cache lookups served from memory', labelNames: ['cache'], registers: [registry] });
    const misses = new Counter({ name: 'uspa_api_profile_cache_misses_total', help: 'Profile cache lookups that went to ClickHouse', labelNames: ['cache'], registers: [registry] });
    const evictions = new Counter({ name: 'uspa_api_profile_cache_evictions_total', help: 'Cached profiles removed: capacity (LRU), change (a change record), expired (the 10-minute backstop)', labelNames: ['reason'], registers: [registry] });
    this.changes = new Counter({ name: 'uspa_api_profile_cache_changes_total', help: 'Change records applied to the cache', labelNames: ['topic'], registers: [registry] });
    this.unreadable = new Counter({ name: 'uspa_api_profile_cache_unreadable_total', help: 'Change records that could not be read (skipped, logged)', labelNames: ['topic'], registers: [registry] });
    this.lag = new Histogram({ name: 'uspa_api_profile_cache_change_lag_seconds', help: 'From the change (the rebuild round began, the Segment change was computed) to its record applied here', labelNames: ['topic'], buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60], registers: [registry] });
    this.cache = new ProfileCache(inner, maxProfiles, {
      lookup: (cache, outcome) => (outcome === 'hit' ? lookups : misses).inc({ cache }),
      evicted: (reason) => evictions.inc({ reason }),
    }, deps.log);
    const cache = this.cache;
    new Gauge({ name: 'uspa_api_profile_cache_entries', help: 'Entries in the profile cache', labelNames: ['cache'], registers: [registry],
      collect() {
        this.set({ cache: 'profile' }, cache.size.profiles);
        this.set({ cache: 'identity' }, cache.size.identities);
      },
    });
  }

  resolve(identity: string): Promise<string | undefined> {
    return this.state ? this.inner.resolve(identity) : this.cache.resolve(identity);
  }

  load(profileId: string): Promise<ProfileDocument | undefined> {
    return this.state ? this.inner.load(profileId) : this.cache.load(profileId);
  }

  /** Also hands every change record read to `listener`. */
  follow(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  /** Undefined while the change consumer runs; else why the cache is bypassed. */
  problem(): string | undefined {
    return this.state;
  }

  /** Joins a group of this process's own at the topics' latest offsets; resolves once consuming. */
  async start(): Promise<void> {
    const { kafka, topics, log } = this.deps;
    const subscribed = [topics.profileChanges, topics.segmentChanges];
    const admin = kafka.admin();
    await admin.connect();
    let latest: Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>;
    try {
      await ensureTopics(admin, namespaceTopicSpecs(topics));
      latest = await Promise.all(subscribed.map(async (topic) => ({ topic, partitions: (await admin.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, offset: p.high })) })));
    } finally {
      await admin.disconnect();
    }
    this.groupId = topics.profileCacheGroup(`${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`);
    const consumer = kafka.consumer({ groupId: this.groupId, maxWaitTimeInMs: 1_000, retry: { retries: 10 } });
    this.consumer = consumer;
    let first = true;
    const joined = new Promise<void>((resolve) => {
      consumer.on(consumer.events.GROUP_JOIN, () => {
        // Offsets taken before joining: no change made after start() is skipped.
        if (first) for (const t of latest) for (const p of t.partitions) consumer.seek({ topic: t.topic, partition: p.partition, offset: p.offset });
        first = false;
        this.state = undefined;
        resolve();
      });
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.down(`the profile cache's Kafka consumer crashed (${payload.error.message})${payload.restart ? '; restarting' : ''}`);
      log.error({ err: payload.error, group: this.groupId, restart: payload.restart }, 'profile cache consumer crashed; cache bypassed until it rejoins');
    });
    consumer.on(consumer.events.STOP, () => this.down('the profile cache has stopped'));
    await consumer.connect();
    await consumer.subscribe({ topics: subscribed, fromBeginning: false });
    await consumer.run({ eachMessage: async ({ topic, message }) => this.onRecord(topic, message.value) });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), JOIN_WAIT_MS)));
    if ((await Promise.race([joined.then(() => false), late])) && first) {
      this.state = `the profile cache's Kafka consumer has not joined its group ${this.groupId} yet`;
      log.warn({ group: this.groupId }, 'profile cache consumer not joined yet; reads go to ClickHouse until it does');
    } else log.info({ group: this.groupId, topics: subscribed }, 'profile cache consuming changes');
    clearTimeout(timer);
  }

  async stop(): Promise<void> {
    this.down('the profile cache has stopped');
    if (!this.consumer) return;
    await this.consumer.disconnect();
    const admin = this.deps.kafka.admin();
    try {
      await admin.connect();
      await admin.deleteGroups([this.groupId!]);
    } catch (err) {
      this.deps.log.warn({ err, group: this.groupId }, 'deleting the profile cache consumer group failed; Kafka expires it');
    } finally {
      await admin.disconnect();
    }
  }

  /** One change record; a record that cannot be read is skipped (logged), never retried. */
  onRecord(topic: string, value: Buffer | null): void {
    const label = topic === this.deps.topics.profileChanges ? 'profile-changes' : 'segment-changes';
    let json: unknown;
    try {
      json = JSON.parse(String(value));
    } catch {
      json = undefined;
    }
    if (label === 'profile-changes') {
      const { change, problem } = parseProfileChange(json);
      if (!change) return this.skip(label, problem);
      if (!this.state) this.cache.applyProfileChange(change);
      for (const l of this.listeners) l.profile(change);
      this.applied(label, change.updatedAt);
    } else {
      const { change, problem } = parseSegmentChange(json);
      if (!change) return this.skip(label, problem);
      if (!this.state) this.cache.applySegmentChange(change.profileId);
      for (const l of this.listeners) l.segment(change);
      this.applied(label, change.at);
    }
  }

  private applied(topic: string, at: string): void {
    this.changes.inc({ topic });
    const lag = (Date.now() - Date.parse(at)) / 1000;
    if (Number.isFinite(lag)) this.lag.observe({ topic }, Math.max(0, lag));
  }

  private skip(topic: string, problem: string | undefined): void {
    this.unreadable.inc({ topic });
    this.deps.log.warn({ topic, problem }, 'unreadable change record skipped');
  }

  private down(reason: string): void {
    this.state = reason;
    this.cache.clear();
    for (const l of this.listeners) l.down(reason);
  }
}
