// Activities of backfillEnrichment. Re-enriching writes a full copy of each event row with the
// new enrichment and a newer ingested_at; events is a ReplacingMergeTree(ingested_at) over
// (identity, timestamp, message_id), so the copy replaces the old row and a repeated page is harmless.
import { Context } from '@temporalio/activity';
import type { Warehouse } from '../../lib/clickhouse.ts';
import type { CanonicalEvent, JsonObject } from '../../api/event.ts';
import { enrich, enrichmentColumns } from '../../lib/enrichment/enrich.ts';
import type { Chunk, EnrichRules } from '../../api/workflows/enrichment.ts';

export interface EnrichmentDeps {
  warehouse: (database: string) => Warehouse;
}

export type EnrichmentActivities = ReturnType<typeof createActivities>;

/** The activities of backfillEnrichment over the worker's warehouses (tests pass their own). */
export function createActivities(deps: EnrichmentDeps) {
  return {
    planBackfill: (input: { database: string; sources: string[] }) => planBackfill(deps.warehouse(input.database), input),
    reenrichChunk: (input: ReenrichInput) => reenrichChunk(deps.warehouse(input.database), input),
  };
}

/** Rows per chunk aimed at; the bucket count per month follows from it. */
const CHUNK_ROWS = 200_000;
const PAGE = 2_000;

/** The chunks of the Sources' stored history, sized so that each is one activity's work. */
async function planBackfill(w: Warehouse, input: { sources: string[] }): Promise<{ total: number; chunks: Chunk[] }> {
  const months = await w.query<{ month: number; n: string }>(
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

interface ReenrichInput {
  database: string;
  sources: string[];
  enrich: EnrichRules;
  chunk: Chunk;
}

/** Re-enriches one chunk, page by page; resumes after the message id of its last heartbeat. */
async function reenrichChunk(w: Warehouse, input: ReenrichInput): Promise<number> {
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
