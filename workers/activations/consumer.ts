// The trigger consumer: one Kafka consumer group per namespace on its Sources' event topics and
// its segment-changes topic. A matching event starts (or joins) the person's campaign by
// signal-with-start; an `unless` event signals the running campaign; a segment change starts
// campaigns for the profile. Offsets are committed after Temporal accepted every start and signal
// of a batch, so a crash re-delivers, and a re-delivered record is recognised by its message id
// (in the running campaign) or its delivery key (once decided).
//
// Nothing published after an Activation was accepted is skipped: a group without committed
// offsets starts where the oldest trigger Activation became effective (offsets by timestamp), not
// at the latest offsets; an Activation that appears (or changes) while the consumer runs gets a
// bounded catch-up read of what was published between its acceptance and its load, for it alone.
// `load()` resolves once that holds; the worker then reports the generation as loaded.
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Counter } from 'prom-client';
import type { CanonicalEvent } from '../../api/event.ts';
import type { Activation } from '../../api/v1alpha1/activation.ts';
import { durationMs } from '../../api/duration.ts';
import type { TopicNames } from '../../lib/kafka.ts';
import type { Logger } from '../../lib/log.ts';
import type { ActivationLookup } from './cluster.ts';
import { triggerSignal, unlessSignal } from '../../api/workflows/activations.ts';
import { campaign } from '../../workflows/activations.ts';
import { parseSegmentChange } from '../../api/segment-changes.ts';
import { actionsForEvent, actionsForSegmentChange, type TriggerAction } from './triggers.ts';

export interface TriggerConsumerOptions {
  kafka: Kafka;
  topics: TopicNames;
  namespace: string;
  activations: ActivationLookup;
  temporal: Client;
  taskQueue: string;
  log: Logger;
  /** Consumer group; default "<topic prefix>.activations". */
  groupId?: string;
  /** How often new Source topics are looked for (default 30 s). */
  topicRefreshMs?: number;
  /** Triggers older than their campaign's wait plus this are skipped (a backlog or an import of history); default 1 h. */
  staleAfterMs?: number;
  /** Start/signal calls in flight per batch. */
  concurrency?: number;
  metrics?: { records: Counter<'kind'>; actions: Counter<'action'> };
}

/** Kafka record timestamps come from the producers' clocks, acceptance times from the API server's. */
const CLOCK_SKEW_MS = 2_000;
/** A catch-up read that has not reached its end by then gives up (logged); the Activation is loaded anyway. */
const CATCH_UP_TIMEOUT_MS = 60_000;

/**
 * When the Activation's current generation was accepted by the API server (epoch ms, whole
 * seconds): its creation for generation 1; else the newest write of the object that was not a
 * status write (managedFields), which is no earlier than the change of its spec.
 */
export function acceptedAt(a: Pick<Activation, 'metadata'>): number {
  const created = Date.parse(String(a.metadata.creationTimestamp ?? ''));
  if ((a.metadata.generation ?? 1) <= 1) return created;
  const writes = (a.metadata.managedFields ?? []).filter((f) => !f.subresource && f.time).map((f) => Date.parse(String(f.time)));
  return Math.max(created, ...writes.filter((t) => !Number.isNaN(t)));
}

/**
 * Where reading for this Activation must start (epoch ms): its acceptance less the clock skew, but
 * no earlier than the oldest record it could still act on (its wait plus the staleness bound: an
 * older trigger is skipped anyway), so an Activation accepted long ago is not read back for days.
 */
export function readFrom(a: Pick<Activation, 'metadata' | 'spec'>, staleAfterMs: number, now: number = Date.now()): number {
  const t = a.spec.trigger;
  const wait = Math.max(t.delay ? durationMs(t.delay) : 0, t.unless ? durationMs(t.unless.within) : 0);
  return Math.max(acceptedAt(a) - CLOCK_SKEW_MS, now - wait - staleAfterMs);
}

/** Whether the trigger consumer carries the Activation out (event and segment triggers). */
export function consumes(a: Pick<Activation, 'spec'>): boolean {
  return a.spec.trigger.type !== 'schedule';
}

/** The component name the activations worker reports under (status.workers). */
export const REPORTER = 'activations';

/** Whether a worker process has reported this generation of the Activation loaded. */
export function reportedLoaded(a: Pick<Activation, 'metadata' | 'status'>): boolean {
  return Boolean(a.status?.workers?.some((w) => w.component === REPORTER && w.generation >= (a.metadata.generation ?? 0)));
}

/** Per partition, the records to catch up on: from the offset at the acceptance time up to the end seen when the catch-up began. */
export interface CatchUpRange {
  topic: string;
  partition: number;
  start: number;
  end: number;
}

export function catchUpRanges(topic: string, starts: Array<{ partition: number; offset: string }>, ends: Array<{ partition: number; high: string }>): CatchUpRange[] {
  const out: CatchUpRange[] = [];
  for (const e of ends) {
    const start = Number(starts.find((s) => s.partition === e.partition)?.offset ?? e.high);
    if (start < Number(e.high)) out.push({ topic, partition: e.partition, start, end: Number(e.high) });
  }
  return out;
}

/** Whether Temporal refused a start or signal because of what the record holds (gRPC INVALID_ARGUMENT). */
function refusedForGood(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.code === GRPC_INVALID_ARGUMENT) return true;
  }
  return false;
}
const GRPC_INVALID_ARGUMENT = 3;

export class TriggerConsumer {
  private consumer?: Consumer;
  private topics: string[] = [];
  private refresh?: NodeJS.Timeout;
  private joined = false;
  private stopping = false;
  private restarting?: Promise<void>;
  private seen = 0;
  private skipped = 0;
  /** Activation name → the generation this consumer carries out (start offsets or catch-up done). */
  private readonly loaded = new Map<string, number>();
  private loading: Promise<void> = Promise.resolve();

  constructor(private readonly o: TriggerConsumerOptions) {}

  get groupId(): string {
    return this.o.groupId ?? `${this.o.topics.prefix}.activations`;
  }

  /** Records skipped because they could not be read or Temporal refused them (logged with where and why). */
  get recordsSkipped(): number {
    return this.skipped;
  }

  private skip(topic: string, partition: number | undefined, offset: string, err: unknown): void {
    this.skipped++;
    this.o.metrics?.records.inc({ kind: 'skipped' });
    this.o.log.warn({ topic, partition, offset, cause: (err as Error)?.message ?? String(err) }, 'skipping a trigger record it cannot use');
  }

  private get staleAfterMs(): number {
    return this.o.staleAfterMs ?? 3_600_000;
  }

  /** Records read so far (all topics). */
  get recordsSeen(): number {
    return this.seen;
  }

  /** True once the group has been joined (partitions assigned): records produced after it are seen. */
  get isJoined(): boolean {
    return this.joined;
  }

  private sourcePrefix(): string {
    return this.o.topics.source('');
  }

  private async wantedTopics(): Promise<string[]> {
    const admin = this.o.kafka.admin();
    await admin.connect();
    try {
      const all = await admin.listTopics();
      const prefix = this.sourcePrefix();
      return all.filter((t) => (t.startsWith(prefix) && t.length > prefix.length) || t === this.o.topics.segmentChanges).sort();
    } finally {
      await admin.disconnect();
    }
  }

  async start(): Promise<void> {
    this.stopping = false;
    // A new group's start offsets cover every Activation known now; a group that had offsets
    // resumes where an earlier process left, which covers what that process reported loaded.
    const known = this.o.activations.list();
    const fresh = await this.subscribe(await this.wantedTopics());
    for (const a of known) if (fresh || reportedLoaded(a)) this.loaded.set(a.metadata.name!, a.metadata.generation ?? 0);
    this.refresh = setInterval(() => void this.checkTopics(), this.o.topicRefreshMs ?? 30_000);
  }

  /** Where a partition without committed offsets starts: where the oldest trigger Activation became effective. */
  private startTime(): number {
    const times = this.o.activations.list().filter(consumes).map((a) => readFrom(a, this.staleAfterMs)).filter((t) => !Number.isNaN(t));
    return Math.min(Date.now() - CLOCK_SKEW_MS, ...times);
  }

  /**
   * Gives the group's partitions that have no committed offset the offsets at `since` (the group
   * must be empty); true when no partition had one (a new group).
   */
  private async seedOffsets(topics: string[], since: number): Promise<boolean> {
    const admin = this.o.kafka.admin();
    await admin.connect();
    let fresh = true;
    try {
      for (const { topic, partitions } of await admin.fetchOffsets({ groupId: this.groupId, topics })) {
        const unset = new Set(partitions.filter((p) => Number(p.offset) < 0).map((p) => p.partition));
        if (unset.size < partitions.length) fresh = false;
        if (unset.size === 0) continue;
        const at = (await admin.fetchTopicOffsetsByTimestamp(topic, since)).filter((p) => unset.has(p.partition));
        await admin.setOffsets({ groupId: this.groupId, topic, partitions: at.map(({ partition, offset }) => ({ partition, offset })) });
        this.o.log.info({ topic, since: new Date(since).toISOString(), partitions: at }, 'new partitions of the group start where the trigger Activations became effective');
      }
    } finally {
      await admin.disconnect();
    }
    return fresh;
  }

  /**
   * Resolves once the consumer carries out this generation of the Activation: records published
   * since it was accepted have been read with it (catch-up) or will be (start offsets). One at a time.
   */
  load(a: Activation): Promise<void> {
    const run = this.loading.then(() => this.loadNow(a));
    this.loading = run.catch(() => undefined);
    return run;
  }

  private async loadNow(a: Activation): Promise<void> {
    const name = a.metadata.name!;
    const generation = a.metadata.generation ?? 0;
    while (!this.joined) {
      if (this.stopping) throw new Error('the trigger consumer stopped');
      await new Promise((r) => setTimeout(r, 100));
    }
    if ((this.loaded.get(name) ?? -1) >= generation) return;
    if (consumes(a) && !a.spec.suspend) await this.catchUp(a, readFrom(a, this.staleAfterMs));
    this.loaded.set(name, Math.max(generation, this.loaded.get(name) ?? 0));
  }

  /**
   * Reads, for this Activation only, what was published between `since` and now: the consumer
   * group has read it with the Activations it knew then. A throwaway group that commits nothing.
   */
  private async catchUp(a: Activation, since: number): Promise<void> {
    const admin = this.o.kafka.admin();
    await admin.connect();
    let ranges: CatchUpRange[] = [];
    try {
      for (const topic of this.topics) ranges.push(...catchUpRanges(topic, await admin.fetchTopicOffsetsByTimestamp(topic, since), await admin.fetchTopicOffsets(topic)));
    } finally {
      await admin.disconnect();
    }
    ranges = ranges.filter((r) => r.start < r.end);
    if (ranges.length === 0) return;
    const log = { activation: `${this.o.namespace}/${a.metadata.name}`, generation: a.metadata.generation, since: new Date(since).toISOString(), records: ranges.reduce((n, r) => n + r.end - r.start, 0) };
    this.o.log.info(log, 'catching up on records published since the Activation was accepted');
    const groupId = `${this.groupId}.catch-up.${randomUUID()}`;
    const consumer = this.o.kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 100 });
    const pending = new Map(ranges.map((r) => [`${r.topic}/${r.partition}`, r]));
    let finish!: () => void;
    const finished = new Promise<void>((r) => (finish = r));
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [...new Set(ranges.map((r) => r.topic))], fromBeginning: false });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const r = pending.get(`${batch.topic}/${batch.partition}`);
          if (!r) return;
          const inRange = batch.messages.filter((m) => Number(m.offset) >= r.start && Number(m.offset) < r.end);
          if (inRange.length === 0) return;
          await this.handle(batch.topic, inRange, [a], batch.partition);
          if (Number(inRange.at(-1)!.offset) >= r.end - 1) {
            pending.delete(`${batch.topic}/${batch.partition}`);
            if (pending.size === 0) finish();
          }
        },
      });
      for (const r of ranges) consumer.seek({ topic: r.topic, partition: r.partition, offset: String(r.start) });
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([finished.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), CATCH_UP_TIMEOUT_MS)))]);
      clearTimeout(timer);
      if (timedOut) this.o.log.warn({ ...log, left: [...pending.keys()] }, 'catch-up did not reach its end in time');
    } finally {
      await consumer.disconnect().catch(() => undefined);
      const cleanup = this.o.kafka.admin();
      await cleanup.connect().then(() => cleanup.deleteGroups([groupId])).catch(() => undefined).finally(() => cleanup.disconnect());
    }
  }

  /** Waits until the group is joined (e.g. before a test produces). */
  async joinedWithin(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (!this.joined) {
      if (Date.now() > until) throw new Error(`trigger consumer ${this.groupId} did not join its group within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private async checkTopics(): Promise<void> {
    if (this.stopping || this.restarting) return;
    try {
      const wanted = await this.wantedTopics();
      if (wanted.join('\n') === this.topics.join('\n')) return;
      this.o.log.info({ topics: wanted }, 'event topics changed; resubscribing');
      this.restarting = this.consumer!.disconnect().then(async () => {
        await this.subscribe(wanted);
      });
      await this.restarting;
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'could not refresh the trigger topics');
    } finally {
      this.restarting = undefined;
    }
  }

  /** Subscribes a new consumer of the group; true when the group had no offsets yet. */
  private async subscribe(topics: string[]): Promise<boolean> {
    this.topics = topics;
    this.joined = false;
    const consumer = this.o.kafka.consumer({ groupId: this.groupId, allowAutoTopicCreation: false, sessionTimeout: 30_000, heartbeatInterval: 3_000, maxWaitTimeInMs: 100 });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, () => (this.joined = true));
    await consumer.connect();
    if (topics.length === 0) {
      this.o.log.warn({ prefix: this.sourcePrefix() }, 'no event topics yet; waiting for Sources');
      return false;
    }
    const fresh = await this.seedOffsets(topics, this.startTime()).catch((err: unknown) => {
      this.o.log.warn({ err: (err as Error).message }, 'could not set the start offsets; new partitions start at the latest offsets');
      return false;
    });
    await consumer.subscribe({ topics, fromBeginning: false });
    await consumer.run({ partitionsConsumedConcurrently: 4, eachBatchAutoResolve: true, eachBatch: (payload) => this.batch(payload) });
    return fresh;
  }

  private actionsOf(topic: string, value: string, activations: readonly Activation[]): TriggerAction[] {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch (err) {
      throw new Error(`not JSON: ${(err as Error).message}`);
    }
    if (topic === this.o.topics.segmentChanges) {
      this.o.metrics?.records.inc({ kind: 'segment-change' });
      const { change, problem } = parseSegmentChange(parsed);
      if (!change) throw new Error(`not a segment change: ${problem}`);
      if (change.namespace && change.namespace !== this.o.namespace) return [];
      return actionsForSegmentChange(this.o.namespace, activations, change);
    }
    this.o.metrics?.records.inc({ kind: 'event' });
    const event = parsed as CanonicalEvent;
    if (!event || typeof event !== 'object' || typeof event.messageId !== 'string') return [];
    const stale = this.staleAfterMs;
    return actionsForEvent(this.o.namespace, activations, event).filter((a) => {
      if (a.kind !== 'start') return true;
      const wait = Math.max(a.input.delayMs, a.input.unless?.withinMs ?? 0);
      const age = Date.now() - Date.parse(a.trigger.at);
      if (age <= wait + stale) return true;
      this.o.log.debug({ activation: a.input.activation, messageId: a.trigger.messageId }, 'skipping a stale trigger');
      return false;
    });
  }

  private async act(a: TriggerAction): Promise<void> {
    const { temporal, taskQueue } = this.o;
    if (a.kind === 'start') {
      await temporal.workflow.signalWithStart(campaign, {
        workflowId: a.workflowId,
        taskQueue,
        args: [a.input],
        signal: triggerSignal,
        signalArgs: [a.trigger],
        memo: { namespace: a.input.namespace, activation: a.input.activation },
      });
      this.o.metrics?.actions.inc({ action: 'start' });
      return;
    }
    try {
      await temporal.workflow.getHandle(a.workflowId).signal(unlessSignal, a.signal);
      this.o.metrics?.actions.inc({ action: 'unless' });
    } catch (err) {
      // No campaign waiting for this person: nothing to cancel.
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }

  private async batch({ batch, heartbeat }: EachBatchPayload): Promise<void> {
    this.seen += batch.messages.length;
    await this.handle(batch.topic, batch.messages, this.o.activations.list(), batch.partition);
    await heartbeat();
  }

  /** Starts and signals what the records ask of these Activations. */
  private async handle(topic: string, messages: KafkaMessage[], activations: readonly Activation[], partition?: number): Promise<void> {
    // One person's actions keep their order (a trigger, then the event that cancels it); people
    // are handled concurrently.
    const byCampaign = new Map<string, Array<{ a: TriggerAction; offset: string }>>();
    for (const m of messages) {
      if (!m.value) continue;
      let actions: TriggerAction[];
      try {
        actions = this.actionsOf(topic, m.value.toString('utf8'), activations);
      } catch (err) {
        this.skip(topic, partition, m.offset, err);
        continue;
      }
      for (const a of actions) {
        const list = byCampaign.get(a.workflowId) ?? [];
        list.push({ a, offset: m.offset });
        byCampaign.set(a.workflowId, list);
      }
    }
    const queues = [...byCampaign.values()];
    let next = 0;
    const worker = async () => {
      while (next < queues.length) {
        for (const { a, offset } of queues[next++]!) {
          try {
            await this.act(a);
          } catch (err) {
            // Temporal refusing the record itself (an id or payload over its limits) would stop the
            // partition for good if retried; anything else (Temporal down) is retried.
            if (!refusedForGood(err)) throw err;
            this.skip(topic, partition, offset, err);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.o.concurrency ?? 16, queues.length) }, worker));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.refresh);
    await this.restarting?.catch(() => undefined);
    await this.consumer?.disconnect();
  }
}
