// Consumes a Pipeline's Sources (one consumer group per Pipeline) and gathers every partition's
// batch into one buffer, written when it holds maxEvents records or maxWaitMs after it began.
// A partition's offsets are committed only after the write that held its records succeeded.
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from '../../lib/log.ts';
import type { ConsumedRecord } from './resolve-batch.ts';
import type { SerialQueue } from './serial-queue.ts';

export interface BatchConsumerOptions {
  group: string;
  topics: string[];
  maxEvents: number;
  maxWaitMs: number;
  /** Writes the buffer; runs on the queue it shares with the other writers of the graph. */
  write: (records: ConsumedRecord[]) => Promise<void>;
  /** After a failed write, before its records are consumed again; must not reject. */
  afterFailedWrite: () => Promise<void>;
  queue: SerialQueue;
  log: Logger;
}

/** Well inside the 30 s session timeout. */
const HEARTBEAT_WHILE_WAITING_MS = 3_000;

interface Waiter {
  records: ConsumedRecord[];
  resolve: () => void;
  reject: (err: Error) => void;
}

export class BatchConsumer {
  private consumer?: Consumer;
  private waiters: Waiter[] = [];
  private buffered = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: BatchConsumerOptions) {}

  async start(kafka: Kafka): Promise<void> {
    this.consumer = kafka.consumer({ groupId: this.o.group, maxWaitTimeInMs: this.o.maxWaitMs, sessionTimeout: 30_000, heartbeatInterval: 3_000, maxBytes: 16 * 1024 * 1024 });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.o.topics, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 16,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }

  /** Each partition's batch waits in the shared buffer until the buffer is written, then commits. */
  private async onBatch({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload): Promise<void> {
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    const records = batch.messages.map((m) => ({ topic: batch.topic, partition: batch.partition, message: { offset: m.offset, value: m.value } }));
    // A write can take longer than the session timeout (a backlog, a slow ClickHouse): keep the
    // membership alive meanwhile, or the group rebalances and the commit after the write fails.
    const beat = setInterval(() => void heartbeat().catch(() => undefined), HEARTBEAT_WHILE_WAITING_MS);
    try {
      await new Promise<void>((resolve, reject) => {
        this.waiters.push({ records, resolve, reject });
        this.buffered += records.length;
        if (this.buffered >= this.o.maxEvents) this.scheduleFlush(0);
        else this.scheduleFlush(this.o.maxWaitMs);
      });
    } finally {
      clearInterval(beat);
    }
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
      void this.o.queue.run(() => this.flush());
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.o.queue.run(() => this.flush());
    }, delay);
  }

  private async flush(): Promise<void> {
    const waiters = this.waiters;
    this.waiters = [];
    this.buffered = 0;
    if (waiters.length === 0) return;
    try {
      // One fetch can hold far more than maxEvents (a backlog, compressed batches): written in
      // slices of maxEvents, so one write's memory and duration stay bounded. All or nothing for
      // the offsets: a failure re-consumes every slice, and the slices already stored are skipped.
      const records = waiters.flatMap((w) => w.records);
      for (let i = 0; i < records.length; i += this.o.maxEvents) await this.o.write(records.slice(i, i + this.o.maxEvents));
      for (const w of waiters) w.resolve();
    } catch (err) {
      // Nothing is committed: the records are consumed again after the consumer restarts them.
      this.o.log.error({ err }, 'batch write failed; offsets not committed');
      await this.o.afterFailedWrite();
      for (const w of waiters) w.reject(err as Error);
    }
  }
}
