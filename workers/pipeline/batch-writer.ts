// Writes one batch to ClickHouse: de-duplicates against what is stored, resolves identity, inserts
// identity first, then events (so every stored event's profile is known), marks the profiles to
// rebuild and dead-letters what it cannot store. It resolves only when all of that succeeded.
import type { Warehouse } from '../../lib/clickhouse.ts';
import type { Logger } from '../../lib/log.ts';
import type { IdentityKey } from '../../api/v1alpha1/pipeline.ts';
import type { DeadLetterSender } from './dead-letter-sender.ts';
import type { EnrichConfig } from '../../lib/enrichment/enrich.ts';
import type { IdentityStore } from './identity-store.ts';
import type { PipelineMetrics } from './metrics.ts';
import type { ProfileBuilder } from './profile-builder.ts';
import { readBatch, resolveBatch, type ConsumedRecord } from './resolve-batch.ts';

export interface BatchWriterDeps {
  pipeline: string;
  keys: readonly IdentityKey[];
  enrich: EnrichConfig;
  warehouse: Warehouse;
  identity: IdentityStore;
  profiles: ProfileBuilder;
  deadLetters: DeadLetterSender;
  metrics: PipelineMetrics;
  log: Logger;
}

export class BatchWriter {
  /** When the last batch was written (ms since the epoch; 0: none yet). */
  lastWriteAt = 0;

  constructor(private readonly d: BatchWriterDeps) {}

  async write(records: ConsumedRecord[]): Promise<void> {
    const { warehouse, metrics } = this.d;
    const end = metrics.flush.startTimer();
    const read = readBatch(records);
    metrics.duplicates.inc(read.duplicates);
    const t0 = performance.now();
    const stored = new Set(
      read.events.length === 0
        ? []
        : (await warehouse.query<{ message_id: string }>('SELECT DISTINCT message_id FROM {db}.events WHERE message_id IN {ids:Array(String)}', { ids: read.events.map((e) => e.event.messageId) })).map((r) => r.message_id),
    );
    const t1 = performance.now();
    const fresh = read.events.filter((e) => !stored.has(e.event.messageId));
    metrics.duplicates.inc(read.events.length - fresh.length);

    const batch = resolveBatch(this.d.identity.graph, { keys: this.d.keys, enrich: this.d.enrich }, read.events, stored);
    const t2 = performance.now();
    const version = Date.now();
    if (batch.edges.length) {
      await this.d.identity.insertEdges(batch.edges);
      for (const e of batch.edges) metrics.merges.inc({ pipeline: this.d.pipeline, action: e.action });
    }
    if (batch.assignments.length) await this.d.identity.insertAssignments(batch.assignments, version);
    if (batch.traits.length) await warehouse.insert('identity_traits', batch.traits);
    if (batch.events.length) await warehouse.insert('events', batch.events);
    const t3 = performance.now();
    this.d.profiles.mark(batch.touched, batch.removed);
    const t4 = performance.now();
    const dead = [...read.rejected, ...batch.rejected];
    if (dead.length) await this.d.deadLetters.send(dead);

    metrics.events.inc(batch.events.length);
    const newest = fresh.map((f) => Date.parse(f.event.receivedAt)).reduce((a, b) => Math.max(a, b), 0);
    if (newest) metrics.lag.set((Date.now() - newest) / 1000);
    this.lastWriteAt = Date.now();
    end();
    if (batch.events.length || dead.length) {
      this.d.log.debug({ written: batch.events.length, duplicates: read.events.length - fresh.length, dead: dead.length, profiles: batch.touched.size, ms: { dedup: Math.round(t1 - t0), resolve: Math.round(t2 - t1), insert: Math.round(t3 - t2), queue: Math.round(t4 - t3) } }, 'batch written');
    }
  }
}
