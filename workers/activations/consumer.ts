// The trigger consumer: one Kafka consumer group per namespace on its Sources' event topics and
// its segment-changes topic. A matching event starts (or joins) the person's campaign by
// signal-with-start; an `unless` event signals the running campaign; a segment change starts
// campaigns for the profile. Offsets are committed after Temporal accepted every start and signal
// of a batch, so a crash re-delivers, and a re-delivered record is recognised by its message id
// (in the running campaign) or its delivery key (once decided).
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Counter } from 'prom-client';
import type { CanonicalEvent } from '../../api/event.ts';
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

export class TriggerConsumer {
  private consumer?: Consumer;
  private topics: string[] = [];
  private refresh?: NodeJS.Timeout;
  private joined = false;
  private stopping = false;
  private restarting?: Promise<void>;
  private seen = 0;

  constructor(private readonly o: TriggerConsumerOptions) {}

  get groupId(): string {
    return this.o.groupId ?? `${this.o.topics.prefix}.activations`;
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
    await this.subscribe(await this.wantedTopics());
    this.refresh = setInterval(() => void this.checkTopics(), this.o.topicRefreshMs ?? 30_000);
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
      this.restarting = this.consumer!.disconnect().then(() => this.subscribe(wanted));
      await this.restarting;
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'could not refresh the trigger topics');
    } finally {
      this.restarting = undefined;
    }
  }

  private async subscribe(topics: string[]): Promise<void> {
    this.topics = topics;
    this.joined = false;
    const consumer = this.o.kafka.consumer({ groupId: this.groupId, allowAutoTopicCreation: false, sessionTimeout: 30_000, heartbeatInterval: 3_000, maxWaitTimeInMs: 100 });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, () => (this.joined = true));
    await consumer.connect();
    if (topics.length === 0) {
      this.o.log.warn({ prefix: this.sourcePrefix() }, 'no event topics yet; waiting for Sources');
      return;
    }
    await consumer.subscribe({ topics, fromBeginning: false });
    await consumer.run({ partitionsConsumedConcurrently: 4, eachBatchAutoResolve: true, eachBatch: (payload) => this.batch(payload) });
  }

  private actionsOf(topic: string, value: string): TriggerAction[] {
    this.seen++;
    const activations = this.o.activations.list();
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      this.o.log.warn({ topic }, 'skipping a record that is not JSON');
      return [];
    }
    if (topic === this.o.topics.segmentChanges) {
      this.o.metrics?.records.inc({ kind: 'segment-change' });
      const { change, problem } = parseSegmentChange(parsed);
      if (!change) {
        this.o.log.warn({ topic, problem }, 'skipping a malformed segment change');
        return [];
      }
      if (change.namespace && change.namespace !== this.o.namespace) return [];
      return actionsForSegmentChange(this.o.namespace, activations, change);
    }
    this.o.metrics?.records.inc({ kind: 'event' });
    const event = parsed as CanonicalEvent;
    if (!event || typeof event !== 'object' || typeof event.messageId !== 'string') return [];
    const stale = this.o.staleAfterMs ?? 3_600_000;
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
    // One person's actions keep their order (a trigger, then the event that cancels it); people
    // are handled concurrently.
    const byCampaign = new Map<string, TriggerAction[]>();
    for (const m of batch.messages) {
      if (!m.value) continue;
      for (const a of this.actionsOf(batch.topic, m.value.toString('utf8'))) {
        const list = byCampaign.get(a.workflowId) ?? [];
        list.push(a);
        byCampaign.set(a.workflowId, list);
      }
    }
    const queues = [...byCampaign.values()];
    let next = 0;
    const worker = async () => {
      while (next < queues.length) for (const a of queues[next++]!) await this.act(a);
    };
    await Promise.all(Array.from({ length: Math.min(this.o.concurrency ?? 16, queues.length) }, worker));
    await heartbeat();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.refresh);
    await this.restarting?.catch(() => undefined);
    await this.consumer?.disconnect();
  }
}
