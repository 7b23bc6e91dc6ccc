// Activities of backfillEnrichment. Re-enriching writes a full copy of each event row with the
// new enrichment and a newer ingested_at; events is a ReplacingMergeTree(ingested_at) over
// (identity, timestamp, message_id), so the copy replaces the old row and a repeated page is harmless.
// The copy goes through the live path's privacy rules (storedContext); when they anonymize IPs the
// month's partition is merged at its last chunk, so the replaced rows holding raw IPs are gone too.
import { Context } from '@temporalio/activity';
import type { Warehouse } from '../../lib/clickhouse.ts';
import type { CanonicalEvent, JsonObject } from '../../api/event.ts';
import { anonymizeIp, enrich, enrichConfig, enrichmentColumns, storedContext, type EnrichConfig } from '../../lib/enrichment/enrich.ts';
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

type StoredRow = Record<string, unknown> & { message_id: string; type: string; properties: string; context: string; ip: string; country?: string; region?: string; city?: string };

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
  const config = enrichConfig(input.enrich);
  for (;;) {
    const rows = await w.query<StoredRow>(
      `SELECT * EXCEPT (ingested_at) FROM {db}.events FINAL
       WHERE source IN {sources:Array(String)} AND toYYYYMM(timestamp) = {month:UInt32} AND cityHash64(message_id) % {buckets:UInt32} = {bucket:UInt32} AND message_id > {after:String}
       ORDER BY message_id LIMIT {page:UInt32}`,
      { sources: input.sources, month: input.chunk.month, buckets: input.chunk.buckets, bucket: input.chunk.bucket, after, page: PAGE },
    );
    if (rows.length === 0) {
      if (config.anonymizeIp && input.chunk.bucket === input.chunk.buckets - 1) await purgeReplaced(w, input.chunk.month);
      return done;
    }
    const now = new Date().toISOString().replace('T', ' ').replace('Z', '');
    await w.insert('events', rows.map((row) => ({ ...row, ...reenrich(row, config), ingested_at: now })));
    done += rows.length;
    after = rows[rows.length - 1]!.message_id;
    ctx.heartbeat({ after });
  }
}

/**
 * Merges a month's partition so that only the newest copy of each event is left: the rows the
 * backfill replaced still hold what the new rules remove (raw IPs) until ClickHouse merges them,
 * which for an old month may be never. Runs after the month's last chunk; repeating it is harmless.
 */
async function purgeReplaced(w: Warehouse, month: number): Promise<void> {
  if (!Number.isInteger(month) || month < 100001 || month > 999912) throw new Error(`chunk month ${month} is not a YYYYMM partition`);
  await w.command(`OPTIMIZE TABLE {db}.events PARTITION ${month} FINAL`);
}

/** The enrichment columns and the context of a stored row, recomputed as the live path would store them. */
export function reenrich(row: StoredRow, config: EnrichConfig): Record<string, unknown> {
  const stored = parseObject(row.context);
  const context = { ...(stored ?? {}) };
  // The stored ip is the one to geolocate when the context no longer carries one.
  if (typeof context.ip !== 'string' && row.ip) context.ip = row.ip;
  const event = { type: row.type, properties: parseObject(row.properties) ?? {}, context } as unknown as CanonicalEvent;
  const enrichment = enrich(event, config);
  // An address stored anonymized would geolocate worse than the full one did at ingest: keep that geo.
  const ip = typeof context.ip === 'string' ? context.ip : '';
  if (config.geoip && ip !== '' && anonymizeIp(ip) === ip && row.country) enrichment.geo = { country: row.country, region: row.region, city: row.city };
  // A context that is not a JSON object was not written by the pipeline: it is kept as it is.
  return { ...(stored ? { context: JSON.stringify(storedContext(stored, enrichment)) } : {}), ...enrichmentColumns(enrichment) };
}

function parseObject(text: string): JsonObject | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : undefined;
  } catch {
    return undefined;
  }
}
