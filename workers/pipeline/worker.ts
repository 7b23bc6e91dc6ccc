// A Pipeline's stream worker: consume its Sources' topics (one consumer group per Pipeline),
// validate → enrich → resolve identity → write ClickHouse in batches bounded by size and time,
// and commit offsets only after ClickHouse accepted the batch.
import type { EachBatchPayload, Kafka, Consumer } from 'kafkajs';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Warehouse } from '../../lib/clickhouse.ts';
import { chTime } from '../../lib/clickhouse.ts';
import { resolveIdentityKeys, type WorkloadPipeline } from '../../api/workload.ts';
import type { CanonicalEvent, DeadLetter, Json } from '../../api/event.ts';
import type { BatchingProducer, TopicNames } from '../../lib/kafka.ts';
import type { Logger } from '../../lib/log.ts';
import { enrich, type EnrichConfig } from './enrich.ts';
import type { IdentityKey } from '../../api/v1alpha1/pipeline.ts';
import { IdentityGraph, extractIdentities, type Assignment, type Edge } from './identity.ts';
import { rebuildProfiles } from './profiles.ts';
import { evaluateRealtime, loadRealtimeDefinitions, type SegmentDefinition } from '../../lib/segments/realtime.ts';

const REALTIME_RELOAD_MS = 10_000;
import { eventRow, parseRecord, traitRows, type EventRow, type TraitRow } from './rows.ts';

export interface UnmergeCommand {
  kind: 'unmerge';
  requestId: string;
  edgeId: string;
  reason: string;
  requestedAt: string;
}

interface Pending {
  topic: string;
  partition: number;
  message: { offset: string; value: Buffer | null };
}

interface Waiter {
  records: Pending[];
  resolve: () => void;
  reject: (err: Error) => void;
}

export class PipelineWorker {
  private consumer?: Consumer;
  private control?: Consumer;
  private graph: IdentityGraph;
  private readonly enrichConfig: EnrichConfig;
  private readonly maxEvents: number;
  private readonly maxWaitMs: number;
  private waiters: Waiter[] = [];
  private buffered = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly keys: readonly IdentityKey[];
  private readonly metrics;
  /** Profiles to rebuild: filled by batches, drained by the profile builder off the commit path. */
  private readonly dirty = new Set<string>();
  private readonly gone = new Set<string>();
  private builder: Promise<void> = Promise.resolve();
  private builderTimer: NodeJS.Timeout | undefined;
  private running = false;
  lastFlushAt = 0;
  /** Realtime Segments, re-read from segment_definitions every REALTIME_RELOAD_MS. */
  private realtime: SegmentDefinition[] = [];
  private realtimeLoadedAt = 0;

  constructor(
    private readonly spec: WorkloadPipeline,
    private readonly kafka: Kafka,
    private readonly warehouse: Warehouse,
    private readonly producer: BatchingProducer,
    private readonly log: Logger,
    registry: Registry,
    private readonly topics: TopicNames,
  ) {
    this.keys = resolveIdentityKeys(spec.identity?.keys, `pipeline ${spec.name}: identity.keys`);
    this.graph = new IdentityGraph({ keys: this.keys, maxProfilesPerMerge: spec.identity?.maxProfilesPerMerge ?? 50 });
    this.enrichConfig = { geoip: spec.enrich?.geoip ?? true, userAgent: spec.enrich?.userAgent ?? true, anonymizeIp: spec.enrich?.anonymizeIp ?? false, urlTopics: spec.enrich?.urlTopics ?? [] };
    this.maxEvents = spec.batch?.maxEvents ?? 5000;
    this.maxWaitMs = spec.batch?.maxWaitMs ?? 200;
    const labels = { pipeline: spec.name };
    this.metrics = {
      events: new Counter({ name: 'uspa_pipeline_events_written_total', help: 'Events written to ClickHouse', labelNames: ['pipeline'], registers: [registry] }).labels(labels),
      duplicates: new Counter({ name: 'uspa_pipeline_events_duplicate_total', help: 'Events skipped because their messageId was already stored', labelNames: ['pipeline'], registers: [registry] }).labels(labels),
      dead: new Counter({ name: 'uspa_pipeline_dead_letters_total', help: 'Records sent to the dead-letter topic', labelNames: ['pipeline', 'reason'], registers: [registry] }),
      flush: new Histogram({ name: 'uspa_pipeline_flush_seconds', help: 'Time to write one batch to ClickHouse', labelNames: ['pipeline'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5], registers: [registry] }).labels(labels),
      lag: new Gauge({ name: 'uspa_pipeline_freshness_seconds', help: 'Age of the newest event written, at write time', labelNames: ['pipeline'], registers: [registry] }).labels(labels),
      merges: new Counter({ name: 'uspa_pipeline_identity_edges_total', help: 'Identity edges recorded by action', labelNames: ['pipeline', 'action'], registers: [registry] }),
      backlog: new Gauge({ name: 'uspa_pipeline_profiles_pending', help: 'Profiles whose events are stored but whose profile row is not rebuilt yet', labelNames: ['pipeline'], registers: [registry] }).labels(labels),
      segmentChanges: new Counter({ name: 'uspa_pipeline_segment_changes_total', help: 'Realtime Segment entries and exits published', labelNames: ['pipeline'], registers: [registry] }).labels(labels),
      rebuilt: new Counter({ name: 'uspa_pipeline_profiles_rebuilt_total', help: 'Profile rows rebuilt', labelNames: ['pipeline'], registers: [registry] }).labels(labels),
    };
  }

  get groupId(): string {
    // Named after the topic prefix too: two namespaces (or installations) never share a group.
    return `${this.topics.prefix}.pipeline.${this.spec.name}`;
  }

  /** Loads the identity graph from ClickHouse, then starts consuming. */
  async start(): Promise<void> {
    this.running = true;
    await this.loadGraph();
    await this.recoverDirtyProfiles();
    this.scheduleBuilder();
    this.consumer = this.kafka.consumer({ groupId: this.groupId, maxWaitTimeInMs: this.maxWaitMs, sessionTimeout: 30_000, heartbeatInterval: 3_000, maxBytes: 16 * 1024 * 1024 });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.spec.sources.map((s) => this.topics.source(s)), fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 16,
      eachBatch: (payload) => this.onBatch(payload),
    });
    this.control = this.kafka.consumer({ groupId: `${this.groupId}-control` });
    await this.control.connect();
    await this.control.subscribe({ topics: [this.topics.control(this.spec.name)], fromBeginning: false });
    await this.control.run({
      eachMessage: async ({ message }) => {
        const command = JSON.parse(String(message.value)) as UnmergeCommand;
        await this.enqueueControl(command);
      },
    });
    this.log.info({ pipeline: this.spec.name, sources: this.spec.sources, group: this.groupId }, 'pipeline consuming');
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.builderTimer) clearTimeout(this.builderTimer);
    await this.control?.disconnect();
    await this.consumer?.disconnect();
    await this.flushing;
    await this.builder;
  }

  /** Until every profile is current, how many are waiting (for tests and /metrics). */
  get profilesPending(): number {
    return this.dirty.size + this.gone.size;
  }

  private get profileIntervalMs(): number {
    return this.spec.batch?.profileIntervalMs ?? 1000;
  }

  private scheduleBuilder(): void {
    if (!this.running) return;
    this.builderTimer = setTimeout(() => {
      this.builder = this.buildProfiles().finally(() => this.scheduleBuilder());
    }, this.profileIntervalMs);
  }

  /**
   * Rebuilds pending profiles in rounds. When a round leaves nothing pending, every event stored
   * before the round began is reflected in its profile: that time (less a margin) becomes the
   * watermark a restarted worker recovers from.
   */
  private async buildProfiles(): Promise<void> {
    if (this.dirty.size === 0 && this.gone.size === 0) return;
    const roundStart = Date.now();
    // Small rounds: on a single-writer ClickHouse (the local chdb front) a long rebuild would stall ingestion.
    const ids = [...this.dirty].slice(0, 2_000);
    const gone = [...this.gone].filter((p) => !this.dirty.has(p));
    for (const p of ids) this.dirty.delete(p);
    for (const p of gone) this.gone.delete(p);
    try {
      await rebuildProfiles(this.warehouse, ids, gone);
      this.metrics.rebuilt.inc(ids.length + gone.length);
      await this.evaluateRealtimeSegments([...ids, ...gone]);
      if (this.dirty.size === 0 && this.gone.size === 0) {
        await this.warehouse.insert('pipeline_state', [{ pipeline: this.spec.name, key: 'profiles_watermark', value: new Date(roundStart - 60_000).toISOString() }]);
      }
    } catch (err) {
      for (const p of ids) this.dirty.add(p);
      for (const p of gone) this.gone.add(p);
      this.log.error({ err }, 'profile rebuild failed; will retry');
    } finally {
      this.metrics.backlog.set(this.profilesPending);
    }
  }

  /** Realtime Segments for the profiles just rebuilt: entries and exits published within seconds. */
  private async evaluateRealtimeSegments(profileIds: string[]): Promise<void> {
    if (Date.now() - this.realtimeLoadedAt > REALTIME_RELOAD_MS) {
      this.realtime = await loadRealtimeDefinitions(this.warehouse);
      this.realtimeLoadedAt = Date.now();
    }
    const changes = await evaluateRealtime(this.warehouse, this.realtime, profileIds);
    if (changes.length === 0) return;
    const at = new Date().toISOString();
    await this.producer.send(changes.map((c) => {
      const [namespace, segment] = c.segment.split('/') as [string, string];
      return { topic: this.topics.segmentChanges, key: c.profileId, value: JSON.stringify({ namespace, segment, version: 0, profileId: c.profileId, change: c.change, at, origin: 'realtime' }) };
    }));
    this.metrics.segmentChanges.inc(changes.length);
  }

  /** After a crash the pending set is gone: rebuild every profile touched since the last watermark. */
  private async recoverDirtyProfiles(): Promise<void> {
    const state = await this.warehouse.query<{ value: string }>(
      "SELECT argMax(value, updated_at) AS value FROM {db}.pipeline_state WHERE pipeline = {p:String} AND key = 'profiles_watermark' GROUP BY key",
      { p: this.spec.name },
    );
    const since = chTime(state[0]?.value ?? '1970-01-01T00:00:00.000Z');
    const touched = await this.warehouse.query<{ profile_id: string }>(
      `SELECT DISTINCT profile_id FROM (
         SELECT identity, argMax(profile_id, version) AS profile_id, max(updated_at) AS changed FROM {db}.identities GROUP BY identity
       ) WHERE changed >= {since:DateTime64(3)}
          OR identity IN (SELECT DISTINCT identity FROM {db}.events WHERE ingested_at >= {since:DateTime64(3)})`,
      { since },
    );
    for (const r of touched) this.dirty.add(r.profile_id);
    const orphans = await this.warehouse.query<{ profile_id: string }>(
      `SELECT profile_id FROM {db}.profiles FINAL WHERE deleted = 0 AND updated_at >= {since:DateTime64(3)}
         AND profile_id NOT IN (SELECT DISTINCT argMax(profile_id, version) FROM {db}.identities GROUP BY identity)`,
      { since },
    );
    for (const r of orphans) this.gone.add(r.profile_id);
    if (this.profilesPending) this.log.info({ profiles: this.profilesPending, since }, 'rebuilding profiles touched since the last watermark');
  }

  private async loadGraph(): Promise<void> {
    const assignments = await this.warehouse.query<{ identity: string; profileId: string; firstSeen: string }>(
      'SELECT identity, argMax(profile_id, version) AS profileId, argMax(first_seen, version) AS firstSeen FROM {db}.identities GROUP BY identity',
    );
    const edges = await this.warehouse.query<Edge & { eventTime: string; mergeFrom: string; mergeInto: string }>(
      `SELECT id, a, b, action, rule, message_id AS messageId, event_time AS eventTime, reason, undoes, merge_from AS mergeFrom, merge_into AS mergeInto
       FROM {db}.identity_edges FINAL WHERE action IN ('link', 'refused', 'unlink') ORDER BY event_time, id`,
    );
    this.graph = new IdentityGraph({ keys: this.keys, maxProfilesPerMerge: this.spec.identity?.maxProfilesPerMerge ?? 50 });
    this.graph.load(
      assignments.map((a) => ({ ...a, firstSeen: isoOf(a.firstSeen) })),
      edges.map(({ mergeFrom, mergeInto, ...e }) => ({
        ...e,
        eventTime: isoOf(e.eventTime),
        reason: e.reason || undefined,
        undoes: e.undoes || undefined,
        ...(mergeFrom ? { merge: { from: mergeFrom, into: mergeInto } } : {}),
      })),
    );
    this.log.info({ identities: assignments.length, edges: edges.length }, 'identity graph loaded');
  }

  /** Each partition's batch waits in the shared buffer until the buffer is written, then commits. */
  private async onBatch({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload): Promise<void> {
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    const records = batch.messages.map((m) => ({ topic: batch.topic, partition: batch.partition, message: { offset: m.offset, value: m.value } }));
    await new Promise<void>((resolve, reject) => {
      this.waiters.push({ records, resolve, reject });
      this.buffered += records.length;
      if (this.buffered >= this.maxEvents) this.scheduleFlush(0);
      else this.scheduleFlush(this.maxWaitMs);
    });
    const last = batch.messages[batch.messages.length - 1]!;
    // Both: resolving moves this consumer's fetch position, committing moves the group's.
    resolveOffset(last.offset);
    await this.consumer!.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }]);
    await heartbeat();
  }

  private scheduleFlush(delay: number): void {
    if (delay === 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.flushing = this.flushing.then(() => this.flush());
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flushing = this.flushing.then(() => this.flush());
    }, delay);
  }

  private async flush(): Promise<void> {
    const waiters = this.waiters;
    this.waiters = [];
    this.buffered = 0;
    if (waiters.length === 0) return;
    try {
      await this.write(waiters.flatMap((w) => w.records));
      for (const w of waiters) w.resolve();
    } catch (err) {
      // Nothing is committed: the records are consumed again after the consumer restarts them.
      this.log.error({ err }, 'batch write failed; offsets not committed');
      // The in-memory graph may hold observations ClickHouse never got: start again from what is stored.
      await this.loadGraph().catch((loadErr: unknown) => this.log.error({ err: loadErr }, 'reloading the identity graph failed'));
      for (const w of waiters) w.reject(err as Error);
    }
  }

  /** The whole batch: dedupe, transform, write (identity first, then events, then profiles). */
  private async write(records: Pending[]): Promise<void> {
    const end = this.metrics.flush.startTimer();
    const dead: DeadLetter[] = [];
    const parsed: Array<{ event: CanonicalEvent; origin: Pending }> = [];
    const seen = new Set<string>();
    for (const r of records) {
      const p = parseRecord(r.message.value);
      if (!p.ok) {
        dead.push(this.deadLetter(r, p.reason, p.errors, p.payload));
        continue;
      }
      if (seen.has(p.event.messageId)) {
        this.metrics.duplicates.inc();
        continue;
      }
      seen.add(p.event.messageId);
      parsed.push({ event: p.event, origin: r });
    }
    const t0 = performance.now();
    const stored = new Set(
      parsed.length === 0
        ? []
        : (await this.warehouse.query<{ message_id: string }>('SELECT DISTINCT message_id FROM {db}.events WHERE message_id IN {ids:Array(String)}', { ids: [...seen] })).map((r) => r.message_id),
    );
    const t1 = performance.now();
    const fresh = parsed.filter((p) => !stored.has(p.event.messageId));
    this.metrics.duplicates.inc(parsed.length - fresh.length);

    const events: EventRow[] = [];
    const traits: TraitRow[] = [];
    const edges: Edge[] = [];
    const assignments = new Map<string, Assignment>();
    const touched = new Set<string>();
    const removed = new Set<string>();
    // Already-stored events go through identity (a no-op for a known message) and traits again, so a
    // batch that failed after its events were inserted still gets its profiles built on the retry.
    for (const { event, origin } of parsed) {
      try {
        const identities = this.aliasAware(event, extractIdentities(event, this.keys));
        if (identities.length === 0) throw new Error('the event carries none of the pipeline identity keys');
        const observation = this.graph.observe({ messageId: event.messageId, timestamp: event.timestamp, identities }, event.type);
        for (const a of observation.assignments) assignments.set(a.identity, a);
        edges.push(...observation.edges);
        for (const m of observation.merges) {
          removed.add(m.from);
          touched.add(m.into);
        }
        touched.add(observation.profileId);
        const anchor = identities[0]!;
        if (!stored.has(event.messageId)) events.push(eventRow(event, enrich(event, this.enrichConfig), anchor, observation.profileId));
        traits.push(...traitRows(event, anchor));
      } catch (err) {
        if (!stored.has(event.messageId)) dead.push(this.deadLetter(origin, 'processing_failed', [(err as Error).message], event as unknown as Json));
      }
    }
    for (const p of touched) removed.delete(p);

    const t2 = performance.now();
    const version = Date.now();
    if (edges.length) {
      await this.warehouse.insert('identity_edges', edges.map(edgeRow));
      for (const e of edges) this.metrics.merges.inc({ pipeline: this.spec.name, action: e.action });
    }
    if (assignments.size) await this.warehouse.insert('identities', [...assignments.values()].map((a) => assignmentRow(a, version)));
    if (traits.length) await this.warehouse.insert('identity_traits', traits);
    if (events.length) await this.warehouse.insert('events', events);
    const t3 = performance.now();
    for (const p of touched) this.dirty.add(p);
    for (const p of removed) this.gone.add(p);
    this.metrics.backlog.set(this.profilesPending);
    const t4 = performance.now();
    if (dead.length) await this.sendDeadLetters(dead);

    this.metrics.events.inc(events.length);
    const newest = fresh.map((f) => Date.parse(f.event.receivedAt)).reduce((a, b) => Math.max(a, b), 0);
    if (newest) this.metrics.lag.set((Date.now() - newest) / 1000);
    this.lastFlushAt = Date.now();
    end();
    if (events.length || dead.length) {
      this.log.debug({ written: events.length, duplicates: parsed.length - fresh.length, dead: dead.length, profiles: touched.size, ms: { dedup: Math.round(t1 - t0), resolve: Math.round(t2 - t1), insert: Math.round(t3 - t2), queue: Math.round(t4 - t3) } }, 'batch written');
    }
  }

  /**
   * alias(previousId) is read as a userId by default, but server-side SDKs often alias an anonymous
   * id without sending it as anonymousId. The graph knows which it is: prefer the identity it has seen.
   */
  private aliasAware(event: CanonicalEvent, identities: string[]): string[] {
    if (event.type !== 'alias' || !event.previousId) return identities;
    const asUser = `userId:${event.previousId}`;
    const asAnonymous = `anonymousId:${event.previousId}`;
    if (identities.includes(asUser) && !this.graph.profileOf(asUser) && this.graph.profileOf(asAnonymous)) {
      return identities.map((i) => (i === asUser ? asAnonymous : i));
    }
    return identities;
  }

  private deadLetter(r: Pending, reason: string, errors: string[], payload: Json): DeadLetter {
    this.metrics.dead.inc({ pipeline: this.spec.name, reason });
    const source = r.topic.slice(this.topics.source('').length);
    const messageId = payload && typeof payload === 'object' && !Array.isArray(payload) && typeof payload.messageId === 'string' ? payload.messageId : undefined;
    return { stage: `pipeline:${this.spec.name}`, source, reason, errors, payload, messageId, origin: { topic: r.topic, partition: r.partition, offset: r.message.offset }, failedAt: new Date().toISOString() };
  }

  /** Dead letters go to Kafka (acks=all) before the batch's offsets are committed: none is lost. */
  private async sendDeadLetters(letters: DeadLetter[]): Promise<void> {
    await this.producer.send(letters.map((l) => ({ topic: this.topics.deadLetters(l.source), key: l.messageId, value: JSON.stringify(l), headers: { source: l.source, reason: l.reason } })));
    for (const l of letters) this.log.warn({ source: l.source, reason: l.reason, errors: l.errors.slice(0, 3), origin: l.origin }, 'record dead-lettered');
  }

  /** Unmerges run in the same queue as batches, so the in-memory graph has one writer. */
  private enqueueControl(command: UnmergeCommand): Promise<void> {
    const run = async () => {
      try {
        const result = this.graph.unlink(command.edgeId, new Date().toISOString(), command.reason);
        await this.warehouse.insert('identity_edges', result.edges.map(edgeRow));
        if (result.assignments.length) {
          const version = Date.now();
          await this.warehouse.insert('identities', result.assignments.map((a) => assignmentRow(a, version)));
        }
        const live = result.profiles.filter((p) => this.graph.identitiesOf(p).length > 0);
        await rebuildProfiles(this.warehouse, live, result.profiles.filter((p) => !live.includes(p)));
        this.log.info({ edge: command.edgeId, profiles: result.profiles, requestId: command.requestId }, 'unmerge applied');
      } catch (err) {
        this.log.error({ err: (err as Error).message, edge: command.edgeId, requestId: command.requestId }, 'unmerge refused');
        await this.warehouse.insert('identity_edges', [{ id: `unmerge-failed-${command.requestId}`, a: '', b: '', action: 'unlink_failed', rule: 'unmerge', message_id: command.requestId, event_time: chTime(new Date().toISOString()), reason: (err as Error).message, undoes: command.edgeId, merge_from: '', merge_into: '' }]);
      }
    };
    this.flushing = this.flushing.then(run);
    return this.flushing;
  }
}

function isoOf(chDate: string): string {
  return chDate.includes('T') ? chDate : chDate.replace(' ', 'T') + 'Z';
}

function edgeRow(e: Edge) {
  return {
    id: e.id, a: e.a, b: e.b, action: e.action, rule: e.rule, message_id: e.messageId, event_time: chTime(e.eventTime),
    reason: e.reason ?? '', undoes: e.undoes ?? '', merge_from: e.merge?.from ?? '', merge_into: e.merge?.into ?? '',
  };
}

function assignmentRow(a: Assignment, version: number) {
  return { identity: a.identity, profile_id: a.profileId, first_seen: chTime(a.firstSeen), version };
}
