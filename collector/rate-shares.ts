// A Source's rate limit held across collector replicas. The budget lives in the replicas: each
// enforces its share of the limit locally (no store on the request path), and every second each
// publishes how many events per Source it was asked to take to a small Kafka topic that all of
// them read, then re-divides every limit in proportion to that demand. So a client pinned to one
// replica by keep-alive gets the whole limit, and evenly spread traffic gets a third on each of
// three. A replica that stops publishing (gone, partitioned) drops out after STALE_AFTER intervals.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka, Producer } from 'kafkajs';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../lib/log.ts';

/** What a replica publishes each interval: events per second asked of it, per Source with a limit. */
export interface DemandRecord {
  replica: string;
  /** The publisher's clock (ms): for logs only; ages are measured on the receiver's clock. */
  at: number;
  demand: Record<string, number>;
}

export interface PeerDemand {
  demand: Record<string, number>;
  /** When this replica received it (its own clock, ms). */
  receivedAt: number;
}

/** Intervals without a record after which a peer no longer counts. */
export const STALE_AFTER = 3;

/**
 * This replica's fraction of a Source's limit: its demand over everyone's, each smoothed by a
 * small constant so that shares sum to 1, nobody's is 0, and no demand at all splits evenly.
 */
export function shareOf(source: string, mine: number, peers: ReadonlyMap<string, PeerDemand>, now: number, intervalMs: number): number {
  const alive = alivePeers(peers, now, intervalMs);
  const n = 1 + alive.length;
  // One event/s of smoothing: a replica that just saw its first request is not starved for long.
  const epsilon = 1;
  const total = mine + alive.reduce((s, p) => s + (p.demand[source] ?? 0), 0);
  return (mine + epsilon) / (total + n * epsilon);
}

/** The peers heard from recently enough to count. */
export function alivePeers(peers: ReadonlyMap<string, PeerDemand>, now: number, intervalMs: number): PeerDemand[] {
  return [...peers.values()].filter((p) => now - p.receivedAt <= STALE_AFTER * intervalMs);
}

export interface RateSharesOptions {
  kafka: Kafka;
  topic: string;
  /** The Sources that have a rate limit. */
  sources: string[];
  log: Logger;
  /** This replica's name in the records, before a random suffix (a Pod's name is its hostname). */
  replica?: string;
  intervalMs?: number;
  /** Called with each Source's new share after every exchange. */
  apply: (source: string, share: number) => void;
  /** Where the shares and the replicas heard from are shown (/metrics). */
  registry?: Registry;
}

export class RateShares {
  readonly replica: string;
  private readonly intervalMs: number;
  private readonly peers = new Map<string, PeerDemand>();
  private asked = new Map<string, number>();
  private windowStart = Date.now();
  private producer?: Producer;
  private consumer?: Consumer;
  private timer?: NodeJS.Timeout;
  private readonly groupId: string;
  private readonly shareGauge?: Gauge<'source'>;
  private readonly replicasGauge?: Gauge;

  constructor(private readonly o: RateSharesOptions) {
    if (o.registry) {
      this.shareGauge = new Gauge({ name: 'uspa_collector_rate_limit_share', help: 'This collector\'s fraction of each rate-limited Source\'s limit, by the demand every replica published', labelNames: ['source'], registers: [o.registry] });
      this.replicasGauge = new Gauge({ name: 'uspa_collector_replicas_heard', help: 'Collector replicas sharing the rate limits as this one sees them (itself included)', registers: [o.registry] });
    }
    // Suffixed: two processes with one host name (a restart, the local runtime) must not read each other as self.
    this.replica = `${o.replica ?? hostname()}-${randomUUID().slice(0, 8)}`;
    this.intervalMs = o.intervalMs ?? 1000;
    // One group per replica: every replica must read every record (kafkajs has no group-less reads).
    this.groupId = `${o.topic}.${this.replica}`;
  }

  /** Counts events asked of this replica for a Source (admitted or not): its demand. */
  note(source: string, events: number): void {
    this.asked.set(source, (this.asked.get(source) ?? 0) + events);
  }

  async start(): Promise<void> {
    if (this.o.sources.length === 0) return;
    this.producer = this.o.kafka.producer({ allowAutoTopicCreation: false });
    await this.producer.connect();
    this.consumer = this.o.kafka.consumer({ groupId: this.groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 200 });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.o.topic], fromBeginning: false });
    await this.consumer.run({
      eachMessage: async ({ message }) => {
        const record = parseDemand(message.value);
        if (!record) {
          this.o.log.warn({ topic: this.o.topic, offset: message.offset }, 'skipping a record that is not a collector demand record');
          return;
        }
        if (record.replica !== this.replica) this.peers.set(record.replica, { demand: record.demand, receivedAt: Date.now() });
      },
    });
    this.timer = setInterval(() => void this.exchange(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.consumer?.disconnect().catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
    if (this.consumer) {
      const admin = this.o.kafka.admin();
      await admin.connect().then(() => admin.deleteGroups([this.groupId])).catch(() => undefined).finally(() => admin.disconnect());
    }
  }

  /** Publishes this interval's demand and re-divides: shares follow traffic within about a second. */
  private async exchange(): Promise<void> {
    const now = Date.now();
    const seconds = Math.max(0.001, (now - this.windowStart) / 1000);
    const demand = Object.fromEntries(this.o.sources.map((s) => [s, (this.asked.get(s) ?? 0) / seconds]));
    this.asked = new Map();
    this.windowStart = now;
    for (const [replica, p] of this.peers) if (now - p.receivedAt > STALE_AFTER * this.intervalMs * 10) this.peers.delete(replica);
    for (const source of this.o.sources) {
      const share = shareOf(source, demand[source] ?? 0, this.peers, now, this.intervalMs);
      this.o.apply(source, share);
      this.shareGauge?.set({ source }, share);
    }
    this.replicasGauge?.set(1 + alivePeers(this.peers, now, this.intervalMs).length);
    const record: DemandRecord = { replica: this.replica, at: now, demand };
    try {
      await this.producer?.send({ topic: this.o.topic, acks: 1, messages: [{ key: this.replica, value: JSON.stringify(record) }] });
    } catch (err) {
      // Peers then count this replica as gone after a few intervals and take its share: the limit
      // is then exceeded by at most this replica's share, never refused for everyone.
      this.o.log.warn({ err: (err as Error).message, topic: this.o.topic }, 'could not publish this collector\'s demand; peers will soon stop counting it');
    }
  }
}

export function parseDemand(value: Buffer | null): DemandRecord | undefined {
  if (!value) return undefined;
  try {
    const r = JSON.parse(value.toString('utf8')) as Partial<DemandRecord>;
    if (typeof r.replica !== 'string' || typeof r.demand !== 'object' || r.demand === null) return undefined;
    const demand: Record<string, number> = {};
    for (const [k, v] of Object.entries(r.demand)) if (typeof v === 'number' && Number.isFinite(v) && v >= 0) demand[k] = v;
    return { replica: r.replica, at: Number(r.at ?? 0), demand };
  } catch {
    return undefined;
  }
}
