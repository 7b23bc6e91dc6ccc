// Our one door to Kafka: everything else in USPA talks to these functions, not to kafkajs.
import kafkajs from 'kafkajs';
import { Kafka, Partitioners, logLevel, type Admin, type Consumer, type Message, type Producer } from 'kafkajs';
import { topicNames as namesUnder, type TopicNames } from '../api/names.ts';
import type { Logger } from './log.ts';
import { readTlsDir } from './tls.ts';

export type { TopicNames };

// Not a named export the ESM loader can see in kafkajs's CommonJS build.
const { ConfigResourceTypes } = kafkajs;

export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/** How a client reaches the brokers: TLS (server CA, client certificate) and SASL credentials. */
export interface KafkaSecurity {
  ssl?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  sasl?: { mechanism: SaslMechanism; username: string; password: string };
}

export interface KafkaSettings extends KafkaSecurity {
  brokers: string[];
  clientId: string;
}

/**
 * KAFKA_TLS=true (or KAFKA_TLS_DIR: ca.crt, tls.crt, tls.key) connects over TLS; KAFKA_SASL_MECHANISM
 * (plain, scram-sha-256, scram-sha-512) with KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD
 * authenticates. Without them, plaintext as before.
 */
export function kafkaSecurityFromEnv(env: NodeJS.ProcessEnv = process.env): KafkaSecurity {
  const files = readTlsDir(env.KAFKA_TLS_DIR, 'KAFKA_TLS_DIR');
  const security: KafkaSecurity = {};
  if (files || env.KAFKA_TLS === 'true') security.ssl = Object.fromEntries(Object.entries(files ?? {}).filter(([, v]) => v !== undefined));
  const mechanism = env.KAFKA_SASL_MECHANISM?.toLowerCase();
  if (mechanism) {
    if (!(SASL_MECHANISMS as readonly string[]).includes(mechanism)) throw new Error(`KAFKA_SASL_MECHANISM=${mechanism}: choose ${SASL_MECHANISMS.join(', ')}`);
    if (!env.KAFKA_SASL_USERNAME || !env.KAFKA_SASL_PASSWORD) throw new Error(`KAFKA_SASL_MECHANISM=${mechanism} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD`);
    security.sasl = { mechanism: mechanism as SaslMechanism, username: env.KAFKA_SASL_USERNAME, password: env.KAFKA_SASL_PASSWORD };
  }
  return security;
}

export function kafkaSettingsFromEnv(clientId: string, env: NodeJS.ProcessEnv = process.env): KafkaSettings {
  const brokers = (env.KAFKA_BROKERS ?? '').split(',').map((b) => b.trim()).filter(Boolean);
  if (brokers.length === 0) throw new Error('KAFKA_BROKERS is not set: give a comma-separated list of host:port');
  return { brokers, clientId, ...kafkaSecurityFromEnv(env) };
}

/**
 * The topic names of this process's installation and namespace. USPA_TOPIC_PREFIX (default "uspa")
 * keeps installations that share a Kafka cluster — or test runs sharing the local one — apart.
 */
export function topicNames(env: NodeJS.ProcessEnv = process.env): TopicNames {
  return namesUnder(env.USPA_TOPIC_PREFIX || 'uspa');
}

/**
 * `requestTimeoutMs`: short for request/response paths (the collector must answer 503 in seconds
 * when the broker hangs); leave the default for consumers, whose JoinGroup legitimately waits.
 */
export function connectKafka(settings: KafkaSettings, log: Logger, options: { requestTimeoutMs?: number } = {}): Kafka {
  const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = { [logLevel.ERROR]: 'error', [logLevel.WARN]: 'warn', [logLevel.INFO]: 'info', [logLevel.DEBUG]: 'debug' };
  return new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    ...(settings.ssl ? { ssl: settings.ssl } : {}),
    ...(settings.sasl ? { sasl: settings.sasl as never } : {}),
    logLevel: logLevel.WARN,
    retry: { initialRetryTime: 200, retries: 5 },
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    connectionTimeout: 3_000,
    logCreator: () => ({ namespace, level, log: entry }) => {
      const { message, ...rest } = entry;
      log[levels[level] ?? 'info']({ kafka: namespace, ...rest }, message);
    },
  });
}

export interface TopicSpec {
  topic: string;
  partitions: number;
  retentionHours?: number;
  replicationFactor?: number;
  /** Kept by key forever (cleanup.policy=compact): the latest record of each key stays. */
  compacted?: boolean;
}

/**
 * Creates missing topics and grows partition counts; never shrinks or deletes. Idempotent, so it
 * starts over after a retriable error: right after a create, a KRaft broker can still answer
 * UNKNOWN_TOPIC_OR_PARTITION for the new topic's metadata (kafkajs's waitForLeaders then throws),
 * for tens of seconds on a fresh broker with two busy cores: eight attempts wait about 50 s in all.
 */
export async function ensureTopics(admin: Admin, specs: TopicSpec[], attempts = 8): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ensureTopicsOnce(admin, specs);
    } catch (err) {
      if (attempt >= attempts || !(err as { retriable?: boolean }).retriable) throw err;
      await new Promise((r) => setTimeout(r, 200 * 2 ** (attempt - 1)));
    }
  }
}

async function ensureTopicsOnce(admin: Admin, specs: TopicSpec[]): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.topic));
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((s) => ({
        topic: s.topic,
        numPartitions: s.partitions,
        replicationFactor: s.replicationFactor ?? -1,
        configEntries: topicConfig(s),
      })),
    });
  }
  const present = specs.filter((s) => existing.has(s.topic));
  if (present.length === 0) return;
  const metadata = await admin.fetchTopicMetadata({ topics: present.map((s) => s.topic) });
  const grow = present.flatMap((s) => {
    const have = metadata.topics.find((t) => t.name === s.topic)?.partitions.length ?? 0;
    return have < s.partitions ? [{ topic: s.topic, count: s.partitions }] : [];
  });
  if (grow.length > 0) await admin.createPartitions({ topicPartitions: grow });
  // Retention and min.insync.replicas follow the spec on existing topics too. AlterConfigs replaces a
  // topic's whole config, so the complete desired set goes whenever one entry differs.
  const configured = present.filter((s) => topicConfig(s).length > 0);
  if (configured.length === 0) return;
  const described = await admin.describeConfigs({ includeSynonyms: false, resources: configured.map((s) => ({ type: ConfigResourceTypes.TOPIC, name: s.topic, configNames: topicConfig(s).map((c) => c.name) })) });
  const alter = configured.filter((s) => {
    const current = described.resources.find((r) => r.resourceName === s.topic)?.configEntries ?? [];
    return topicConfig(s).some((want) => current.find((c) => c.configName === want.name)?.configValue !== want.value);
  });
  if (alter.length > 0) {
    await admin.alterConfigs({ validateOnly: false, resources: alter.map((s) => ({ type: ConfigResourceTypes.TOPIC, name: s.topic, configEntries: topicConfig(s) })) });
  }
}

/**
 * min.insync.replicas for a replication factor, so that acks=all writes survive losing one broker
 * where that is possible: RF ≥ 3 → 2; RF 2 → 1 (2 would stop every write while one broker is down,
 * so RF 2 survives a broker loss only by accepting writes held by one replica); RF 1 → 1.
 */
export function minInsyncReplicas(replicationFactor: number): number {
  return replicationFactor >= 3 ? 2 : 1;
}

/** The topic configuration USPA sets: retention when given, min.insync.replicas when the replication factor is. */
export function topicConfig(s: TopicSpec): Array<{ name: string; value: string }> {
  return [
    ...(s.retentionHours ? [{ name: 'retention.ms', value: String(s.retentionHours * 3_600_000) }] : []),
    ...(s.compacted ? [{ name: 'cleanup.policy', value: 'compact' }] : []),
    // -1 (the broker's default replication factor) leaves min.insync.replicas to the broker too.
    ...(s.replicationFactor && s.replicationFactor > 0 ? [{ name: 'min.insync.replicas', value: String(minInsyncReplicas(s.replicationFactor)) }] : []),
  ];
}

/** Deletes topics that exist; absent ones are fine (idempotent cleanup). */
export async function deleteTopics(admin: Admin, names: string[]): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const present = names.filter((n) => existing.has(n));
  if (present.length > 0) await admin.deleteTopics({ topics: present, timeout: 10_000 });
}

/**
 * Until the operator owns topics, each process makes sure the topics it uses exist: every Source's,
 * its dead-letter topic, the given pipelines' control topics and (namespaceTopics) the namespace's
 * segment-changes and profile-changes topics.
 */
export async function ensureInstallationTopics(kafka: Kafka, topics: TopicNames, sources: Array<{ name: string; topic?: { partitions?: number; retentionHours?: number }; deadLetter?: { retentionHours?: number }; rateLimit?: unknown }>, pipelines: string[] = [], namespaceTopics = false): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [
      ...sources.map((s) => ({ topic: topics.source(s.name), partitions: s.topic?.partitions ?? 3, retentionHours: s.topic?.retentionHours })),
      ...sources.map((s) => ({ topic: topics.deadLetters(s.name), partitions: 1, retentionHours: s.deadLetter?.retentionHours })),
      ...pipelines.map((p) => ({ topic: topics.control(p), partitions: 1 })),
      // Read from the newest offset only: an hour is plenty.
      ...(sources.some((s) => s.rateLimit) ? [{ topic: topics.collectorDemand, partitions: 1, retentionHours: 1 }] : []),
      ...(namespaceTopics ? namespaceTopicSpecs(topics) : []),
    ]);
  } finally {
    await admin.disconnect();
  }
}

/** The namespace's change topics; profile changes are read from the latest offset only, so a day is plenty. */
export function namespaceTopicSpecs(topics: TopicNames): TopicSpec[] {
  return [
    { topic: topics.segmentChanges, partitions: 3, retentionHours: 24 * 7 },
    { topic: topics.profileChanges, partitions: 3, retentionHours: 24 },
  ];
}

export interface OutgoingRecord {
  topic: string;
  key?: string;
  value: string;
  headers?: Record<string, string>;
}

/**
 * A producer that acknowledges a record only when every in-sync replica has it (acks=all), and
 * gathers records from concurrent callers into one request per short window, so thousands of
 * single-event HTTP requests a second become a few Kafka requests.
 */
export class BatchingProducer {
  private readonly producer: Producer;
  private queue: Array<{ record: OutgoingRecord; resolve: () => void; reject: (err: Error) => void }> = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private connected = false;

  constructor(
    kafka: Kafka,
    private readonly options: { lingerMs: number; maxBatch: number } = { lingerMs: 2, maxBatch: 2000 },
  ) {
    // Not kafkajs's idempotent mode: that needs unbounded retries, and a caller must get an answer
    // (503) in bounded time. Duplicates from a retried send are folded by messageId downstream.
    this.producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false, retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 } });
    this.producer.on(this.producer.events.DISCONNECT, () => (this.connected = false));
    this.producer.on(this.producer.events.CONNECT, () => (this.connected = true));
  }

  get isConnected(): boolean {
    return this.connected;
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  async disconnect(): Promise<void> {
    await this.flush();
    await this.producer.disconnect();
  }

  send(records: OutgoingRecord[]): Promise<void> {
    return Promise.all(
      records.map(
        (record) =>
          new Promise<void>((resolve, reject) => {
            this.queue.push({ record, resolve, reject });
            if (this.queue.length >= this.options.maxBatch) void this.flush();
            else this.timer ??= setTimeout(() => void this.flush(), this.options.lingerMs);
          }),
      ),
    ).then(() => undefined);
  }

  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const byTopic = new Map<string, Message[]>();
    for (const { record } of batch) {
      const messages = byTopic.get(record.topic) ?? [];
      messages.push({ key: record.key ?? null, value: record.value, headers: record.headers });
      byTopic.set(record.topic, messages);
    }
    this.inFlight++;
    try {
      await this.producer.sendBatch({ acks: -1, timeout: 10_000, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
      for (const b of batch) b.resolve();
    } catch (err) {
      for (const b of batch) b.reject(err as Error);
    } finally {
      this.inFlight--;
    }
  }
}

export type { Admin, Consumer, Kafka };
