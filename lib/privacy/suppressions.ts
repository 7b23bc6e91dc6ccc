// The namespace's suppression list: the identities whose events are no longer stored, as SHA-256
// hashes on a compacted Kafka topic (<prefix>.privacy), so the list itself names nobody in clear.
// The privacy worker writes it; every collector and pipeline process reads it whole at start and
// then follows it, so a suppression takes effect everywhere within seconds of being written.
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Consumer, Kafka } from 'kafkajs';
import type { TopicNames } from '../../api/names.ts';
import { ensureTopics, type OutgoingRecord, type TopicSpec } from '../kafka.ts';
import type { Logger } from '../log.ts';

export function identityHash(identity: string): string {
  return createHash('sha256').update(identity).digest('hex');
}

export function suppressionTopicSpec(topics: TopicNames): TopicSpec {
  return { topic: topics.privacy, partitions: 1, compacted: true };
}

/** A record of the list: suppressed (or lifted, as a tombstone) for one identity. */
export function suppressionRecord(topics: TopicNames, identity: string, request: string, at: Date = new Date()): OutgoingRecord {
  return { topic: topics.privacy, key: identityHash(identity), value: JSON.stringify({ suppressed: true, request, at: at.toISOString() }) };
}

/**
 * Lifts the suppression of identities (a request made in error, a person who came back and asked):
 * a tombstone per identity, so compaction forgets them too. Collectors and pipelines follow it
 * within seconds; what was erased stays erased.
 */
export async function liftSuppressions(kafka: Kafka, topics: TopicNames, identities: readonly string[]): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic: topics.privacy, acks: -1, messages: identities.map((i) => ({ key: identityHash(i), value: null })) });
  } finally {
    await producer.disconnect();
  }
}

/** The identities an event names directly (before the pipeline derives more from its traits). */
export function directIdentities(event: { userId?: string | null; anonymousId?: string | null; previousId?: string | null }): string[] {
  const out: string[] = [];
  if (event.userId) out.push(`userId:${event.userId}`);
  if (event.anonymousId) out.push(`anonymousId:${event.anonymousId}`);
  // Segment's previousId is an earlier userId or anonymousId.
  if (event.previousId) out.push(`userId:${event.previousId}`, `anonymousId:${event.previousId}`);
  return out;
}

export interface SuppressionListDeps {
  kafka: Kafka;
  topics: TopicNames;
  log: Logger;
}

/** The list as this process holds it: loaded whole before it answers, then kept current. */
export class SuppressionList {
  private readonly hashes = new Set<string>();
  private consumer?: Consumer;
  private groupId?: string;
  private loaded = false;
  private problemText: string | undefined = 'the suppression list has not been loaded yet';

  constructor(private readonly deps: SuppressionListDeps) {}

  /** True when any of the identities is suppressed. */
  has(identities: readonly string[]): boolean {
    if (this.hashes.size === 0) return false;
    return identities.some((i) => this.hashes.has(identityHash(i)));
  }

  /** Undefined once loaded and following; else why events cannot be checked yet. */
  problem(): string | undefined {
    return this.problemText;
  }

  get size(): number {
    return this.hashes.size;
  }

  /** Reads the whole list (to the end offsets of the moment), then follows it; resolves once loaded. */
  async start(timeoutMs = 60_000): Promise<void> {
    const { kafka, topics, log } = this.deps;
    const admin = kafka.admin();
    await admin.connect();
    let ends: Map<number, bigint>;
    try {
      await ensureTopics(admin, [suppressionTopicSpec(topics)]);
      ends = new Map((await admin.fetchTopicOffsets(topics.privacy)).map((p) => [p.partition, BigInt(p.high)]));
    } finally {
      await admin.disconnect();
    }
    const remaining = new Set([...ends].filter(([, high]) => high > 0n).map(([p]) => p));
    let markLoaded: () => void = () => undefined;
    const loaded = new Promise<void>((resolve) => (markLoaded = resolve));
    const done = () => {
      if (this.loaded) return;
      this.loaded = true;
      this.problemText = undefined;
      log.info({ identities: this.hashes.size, topic: topics.privacy }, 'suppression list loaded');
      markLoaded();
    };
    if (remaining.size === 0) done();
    // A group of this process's own that commits nothing: every start reads the list from the beginning.
    this.groupId = `${topics.prefix}.suppressions.${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
    const consumer = kafka.consumer({ groupId: this.groupId, maxWaitTimeInMs: 500, retry: { retries: 10 } });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      log.error({ err: payload.error, restart: payload.restart }, 'suppression list consumer crashed');
      if (!payload.restart) this.problemText = `the suppression list consumer stopped (${payload.error.message})`;
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topics.privacy], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        this.apply(message.key?.toString() ?? '', message.value);
        if (!this.loaded && BigInt(message.offset) + 1n >= (ends.get(partition) ?? 0n)) {
          remaining.delete(partition);
          if (remaining.size === 0) done();
        }
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([loaded, late]);
    clearTimeout(timer);
    if (!this.loaded) log.warn({ topic: topics.privacy, group: this.groupId }, 'suppression list still loading; not ready until it is');
  }

  /** One record: a hash key with {suppressed: true}, or a tombstone (null) that lifts it. */
  apply(key: string, value: Buffer | null): void {
    if (!/^[0-9a-f]{64}$/.test(key)) {
      this.deps.log.warn({ topic: this.deps.topics.privacy }, 'suppression record skipped: its key is not an identity hash');
      return;
    }
    let suppressed = false;
    try {
      suppressed = value !== null && (JSON.parse(value.toString()) as { suppressed?: unknown }).suppressed === true;
    } catch {
      this.deps.log.warn({ topic: this.deps.topics.privacy }, 'suppression record skipped: its value is not JSON');
      return;
    }
    if (suppressed) this.hashes.add(key);
    else this.hashes.delete(key);
  }

  async stop(): Promise<void> {
    this.problemText = 'the suppression list has stopped';
    await this.consumer?.disconnect();
    if (!this.groupId) return;
    const admin = this.deps.kafka.admin();
    try {
      await admin.connect();
      await admin.deleteGroups([this.groupId]);
    } catch {
      // Kafka expires an empty group on its own.
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}
