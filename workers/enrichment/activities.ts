// Activities of backfillEnrichment. Re-enriching writes a full copy of each event row with the
// new enrichment and a newer ingested_at; events is a ReplacingMergeTree(ingested_at) over
// (identity, timestamp, message_id), so the copy replaces the old row and a repeated page is harmless.
import { Context } from '@temporalio/activity';
import type { Warehouse } from '../../lib/clickhouse.ts';
import type { CanonicalEvent, JsonObject } from '../../api/event.ts';
import { enrich } from '../pipeline/enrich.ts';
import { enrichmentColumns } from '../pipeline/rows.ts';
import type { Chunk, EnrichRules } from '../../workflows/enrichment.ts';

let warehouseOf: ((database: string) => Warehouse) | undefined;

export function setEnrichmentDeps(d: { warehouse: (database: string) => Warehouse }): void {
  warehouseOf = d.warehouse;
}

function warehouse(database: string): Warehouse {
  if (!warehouseOf) throw new Error('enrichment activities used before setEnrichmentDeps');
  return warehouseOf(database);
}

/** Rows per chunk aimed at; the bucket count per month follows from it. */
const CHUNK_ROWS = 200_000;
const PAGE = 2_000;

export async function planBackfill(input: { database: string; sources: string[] }): Promise<{ total: number; chunks: Chunk[] }> {
  const months = await warehouse(input.database).query<{ month: number; n: string }>(
    'SELECT toYYYYMM(timestamp) AS month, count() AS n FROM {db}.events WHERE source IN {sources:Array(String)} GROUP BY month ORDER BY month',
    { sources: input.sources },
  );
  const chunks: Chunk[] = [];
  let total = 0;
  for (const m of months) {
    const n = Number(m.n);
    total += n;
    const buckets = Math.max(1, Math.ceil(n / CHUNK_ROWS));
    for (let bucket = 0; bucket < buckets; bucket++) chunks.push({ month: Number(m.month), bucket, buckets });
  }
  return { total, chunks };
}

type StoredRow = Record<string, unknown> & { message_id: string; type: string; properties: string; context: string; ip: string };

/** Re-enriches one chunk, page by page; resumes after the message id of its last heartbeat. */
export async function reenrichChunk(input: { database: string; sources: string[]; enrich: EnrichRules; chunk: Chunk }): Promise<number> {
  const w = warehouse(input.database);
  const ctx = Context.current();
  let after = (ctx.info.heartbeatDetails as { after?: string } | undefined)?.after ?? '';
  let done = 0;
  const config = { geoip: input.enrich.geoip ?? true, userAgent: input.enrich.userAgent ?? true, anonymizeIp: input.enrich.anonymizeIp ?? false, urlTopics: input.enrich.urlTopics ?? [] };
  for (;;) {
    const rows = await w.query<StoredRow>(
      `SELECT * EXCEPT (ingested_at) FROM {db}.events FINAL
       WHERE source IN {sources:Array(String)} AND toYYYYMM(timestamp) = {month:UInt32} AND cityHash64(message_id) % {buckets:UInt32} = {bucket:UInt32} AND message_id > {after:String}
       ORDER BY message_id LIMIT {page:UInt32}`,
      { sources: input.sources, month: input.chunk.month, buckets: input.chunk.buckets, bucket: input.chunk.bucket, after, page: PAGE },
    );
    if (rows.length === 0) return done;
    const now = new Date().toISOString().replace('T', ' ').replace('Z', '');
    await w.insert('events', rows.map((row) => ({ ...row, ...reenrich(row, config), ingested_at: now })));
    done += rows.length;
    after = rows[rows.length - 1]!.message_id;
    ctx.heartbeat({ after });
  }
}

/** The enrichment columns of a stored row, recomputed from its stored context and properties. */
export function reenrich(row: StoredRow, config: Parameters<typeof enrich>[1]): Record<string, unknown> {
  const context = parseObject(row.context);
  // The stored ip is the one to geolocate when the context no longer carries one.
  if (typeof context.ip !== 'string' && row.ip) context.ip = row.ip;
  const event = { type: row.type, properties: parseObject(row.properties), context } as unknown as CanonicalEvent;
  return enrichmentColumns(enrich(event, config));
}

function parseObject(text: string): JsonObject {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : {};
  } catch {
    return {};
  }
}
