// Writes one batch to ClickHouse: de-duplicates against what is stored, resolves identity, inserts
// identity first, then events (so every stored event's profile is known), marks the profiles to
// rebuild and dead-letters what it cannot store. It resolves only when all of that succeeded.
import type { Warehouse } from '../../lib/clickhouse.ts';
import type { Logger } from '../../lib/log.ts';
import type { IdentityKey } from '../../api/v1alpha1/pipeline.ts';
import type { DeadLetterSender, Rejection } from './dead-letter-sender.ts';
import type { EnrichConfig } from '../../lib/enrichment/enrich.ts';
import type { Json } from '../../api/event.ts';
import type { SuppressionList } from '../../lib/privacy/suppressions.ts';
import type { IdentityStore } from './identity-store.ts';
import type { PipelineMetrics } from './metrics.ts';
import type { ProfileBuilder } from './profile-builder.ts';
import type { ConsentMemory } from './consent.ts';
import { chunksByPartition, insertIsolating, type Refused } from './refusals.ts';
import { dedupKey, readBatch, resolveBatch, type ConsumedRecord, type ResolvedBatch } from './resolve-batch.ts';
import type { EventRow, TraitRow } from './rows.ts';
import { catalogRows } from './catalog.ts';

/** Below ClickHouse's default max_partitions_per_insert_block (100): events are partitioned by month. */
const MAX_PARTITIONS_PER_INSERT = 50;

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
  /** Erased identities, whose events (a replay's too) are not stored. */
  suppressions?: Pick<SuppressionList, 'has'>;
  /** The declared consent purposes and what was recorded of them last. */
  consent?: ConsentMemory;
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
        : (await warehouse.query<{ source: string; message_id: string }>('SELECT DISTINCT source, message_id FROM {db}.events WHERE message_id IN {ids:Array(String)}', { ids: [...new Set(read.events.map((e) => e.event.messageId))] })).map((r) => dedupKey(r.source, r.message_id)),
    );
    const t1 = performance.now();
    const fresh = read.events.filter((e) => !stored.has(dedupKey(e.event.source, e.event.messageId)));
    metrics.duplicates.inc(read.events.length - fresh.length);

    const list = this.d.suppressions;
    const batch = resolveBatch(this.d.identity.graph, { keys: this.d.keys, enrich: this.d.enrich }, read.events, stored, list && ((ids) => list.has(ids)), this.d.consent);
    for (const [source, n] of batch.suppressed) metrics.suppressed.inc({ pipeline: this.d.pipeline, source }, n);
    const t2 = performance.now();
    const version = Date.now();
    if (batch.edges.length) {
      await this.d.identity.insertEdges(batch.edges);
      for (const e of batch.edges) metrics.merges.inc({ pipeline: this.d.pipeline, action: e.action });
    }
    if (batch.assignments.length) await this.d.identity.insertAssignments(batch.assignments, version);
    const { written, rejected: refused } = await this.insertRefusing(batch);
    if (batch.consent.length) {
      await warehouse.insert('consent_history', batch.consent);
      this.d.consent?.remember(batch.consent);
      for (const c of batch.consent) metrics.consentChanges.inc({ pipeline: this.d.pipeline, purpose: c.purpose, granted: String(c.granted === 1) });
    }
    await this.updateCatalog(fresh.map((f) => f.event));
    const t3 = performance.now();
    this.d.profiles.mark(batch.touched, batch.removed);
    const t4 = performance.now();
    const dead = [...read.rejected, ...batch.rejected, ...refused];
    if (dead.length) await this.d.deadLetters.send(dead);

    metrics.events.inc(written);
    const newest = fresh.map((f) => Date.parse(f.event.receivedAt)).reduce((a, b) => Math.max(a, b), 0);
    if (newest) metrics.lag.set((Date.now() - newest) / 1000);
    this.lastWriteAt = Date.now();
    end();
    if (batch.events.length || dead.length) {
      this.d.log.debug({ written, duplicates: read.events.length - fresh.length, dead: dead.length, profiles: batch.touched.size, ms: { dedup: Math.round(t1 - t0), resolve: Math.round(t2 - t1), insert: Math.round(t3 - t2), queue: Math.round(t4 - t3) } }, 'batch written');
    }
  }

  /** Items that catalog events describe; a badly described item is counted and logged, its event is stored regardless. */
  private async updateCatalog(events: Parameters<typeof catalogRows>[0]): Promise<void> {
    const { rows, refused } = catalogRows(events);
    if (rows.length) await this.d.warehouse.insert('catalog_items', rows);
    if (rows.length) this.d.metrics.catalogUpdates.inc({ pipeline: this.d.pipeline, outcome: 'stored' }, rows.length);
    for (const r of refused) {
      this.d.metrics.catalogUpdates.inc({ pipeline: this.d.pipeline, outcome: 'refused' });
      this.d.log.warn({ messageId: r.messageId, source: r.source, problems: r.problems }, 'a catalog event describes no valid item: the event is stored, the catalog is not changed');
    }
  }

  /**
   * Traits, then events, each in inserts of few partitions; rows ClickHouse refuses are isolated
   * and their events dead-lettered with its message (an event whose traits were refused is not
   * stored either, so a replay from the dead-letter topic stores it whole).
   */
  private async insertRefusing(batch: ResolvedBatch): Promise<{ written: number; rejected: Rejection[] }> {
    const { warehouse } = this.d;
    const rejected = new Map<string, Rejection>();
    const originOf = (row: EventRow | TraitRow) => batch.cameFrom.get(row)!.origin;
    const refuse = (what: string, refused: Array<Refused<EventRow | TraitRow>>) => {
      for (const { row, cause } of refused) {
        const { event, origin } = batch.cameFrom.get(row)!;
        const key = originKey(origin);
        if (!rejected.has(key)) rejected.set(key, { origin, reason: 'clickhouse_rejected', errors: [`${what} refused by ClickHouse: ${cause}`], payload: event as unknown as Json });
      }
    };
    refuse('a trait row', await insertIsolating((rows) => warehouse.insert('identity_traits', rows), batch.traits));
    const events = batch.events.filter((row) => !rejected.has(originKey(originOf(row))));
    let written = 0;
    for (const chunk of chunksByPartition(events, (row) => row.timestamp.slice(0, 7), MAX_PARTITIONS_PER_INSERT)) {
      const refused = await insertIsolating((rows) => warehouse.insert('events', rows), chunk);
      refuse('the event row', refused);
      written += chunk.length - refused.length;
    }
    return { written, rejected: [...rejected.values()] };
  }
}

function originKey(o: { topic: string; partition: number; offset: string }): string {
  return `${o.topic}/${o.partition}/${o.offset}`;
}
