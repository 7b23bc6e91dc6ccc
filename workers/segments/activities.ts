// Activities of computeSegment. Each is idempotent for its (segment, version): a retry after a
// crash rewrites the same rows, so nothing is counted or published twice in ClickHouse.
import { Context } from '@temporalio/activity';
import type { Producer } from 'kafkajs';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { SegmentChangeRecord } from '../../api/segment-changes.ts';
import type { Warehouse } from '../../lib/clickhouse.ts';
import { quoteString } from '../../lib/segments/compile.ts';
import { liveDifferences, recordLive, type SegmentChange } from '../../lib/segments/realtime.ts';

export interface SegmentsDeps {
  warehouse: (database: string) => Warehouse;
  producer: Producer;
  changesTopic: (namespace: string) => string;
  /** Where the Segment sizes and published changes are counted (/metrics); none in tests that do not look. */
  registry?: Registry;
}

function createMetrics(registry: Registry) {
  return {
    members: new Gauge({ name: 'uspa_segments_members', help: 'Members of the newest committed version, by Segment', labelNames: ['segment'] as const, registers: [registry] }),
    changes: new Counter({ name: 'uspa_segments_changes_published_total', help: 'Entered and exited records a batch run published, by Segment and change', labelNames: ['segment', 'change'] as const, registers: [registry] }),
    computed: new Gauge({ name: 'uspa_segments_last_computed_timestamp_seconds', help: 'When the newest version of each Segment was committed (Unix time)', labelNames: ['segment'] as const, registers: [registry] }),
  };
}

/** The Segment's name from its key `<namespace>/<segment>` (the namespace is the worker's own). */
const segmentOf = (key: string) => key.slice(key.indexOf('/') + 1);

export type SegmentsActivities = ReturnType<typeof createActivities>;

/** The activities of computeSegment over the worker's engines (tests pass their own). */
export function createActivities(deps: SegmentsDeps) {
  const metrics = deps.registry && createMetrics(deps.registry);
  return {
    nextVersion: (input: { database: string; key: string }) => nextVersion(deps, input),
    materialize: (input: MaterializeInput) => materialize(deps, input),
    publishChanges: async (input: PublishInput) => {
      const published = await publishChanges(deps, input);
      metrics?.changes.inc({ segment: input.segment, change: 'entered' }, published.entered);
      metrics?.changes.inc({ segment: input.segment, change: 'exited' }, published.exited);
      return published;
    },
    commitVersion: async (input: CommitInput) => {
      await commitVersion(deps, input);
      metrics?.members.set({ segment: segmentOf(input.key) }, input.size);
      metrics?.computed.set({ segment: segmentOf(input.key) }, Date.now() / 1000);
    },
    pruneVersions: (input: { database: string; key: string; keep: number }) => pruneVersions(deps, input),
  };
}

/**
 * The version this run computes: one past the last committed version, or — when a previous attempt
 * of this same run already materialized members without committing — that same version again.
 */
async function nextVersion(deps: SegmentsDeps, input: { database: string; key: string }): Promise<{ previous: number; version: number }> {
  const w = deps.warehouse(input.database);
  const [row] = await w.query<{ v: string }>('SELECT max(version) AS v FROM {db}.segment_versions WHERE segment = {key:String}', { key: input.key });
  const previous = Number(row?.v ?? 0);
  return { previous, version: previous + 1 };
}

interface MaterializeInput {
  database: string;
  key: string;
  version: number;
  sql: string;
  params: Record<string, unknown>;
}

/** Computes the members into segment_members for this version; returns the size. */
async function materialize(deps: SegmentsDeps, input: MaterializeInput): Promise<number> {
  const w = deps.warehouse(input.database);
  const own = { ...input.params, uspa_key: input.key, uspa_version: input.version };
  // Idempotent: whatever a failed attempt left for this version goes first.
  await w.command('DELETE FROM {db}.segment_members WHERE segment = {uspa_key:String} AND version = {uspa_version:UInt64}', own);
  Context.current().heartbeat('materializing');
  await w.command(`INSERT INTO {db}.segment_members (segment, version, profile_id) SELECT {uspa_key:String}, {uspa_version:UInt64}, profile_id FROM (${input.sql}) GROUP BY profile_id`, own);
  const [row] = await w.query<{ n: string }>('SELECT count() AS n FROM {db}.segment_members FINAL WHERE segment = {uspa_key:String} AND version = {uspa_version:UInt64}', own);
  return Number(row?.n ?? 0);
}

interface PublishInput {
  namespace: string;
  segment: string;
  database: string;
  key: string;
  version: number;
  previous: number;
  chunk: number;
  chunks: number;
  mode?: 'batch' | 'realtime';
}

/**
 * Publishes one chunk (by profile id hash) of entered and exited records to the changes topic. For
 * a realtime Segment the chunk is what segment_live still lacks, published first and recorded as
 * live only after (a slice at a time): a failed send, or a crash between the two, leaves the
 * difference for the retry or the next run to publish again — at least once, never lost. A retry
 * publishes only what earlier attempts did not record, so its counts cover that attempt alone.
 */
async function publishChanges(deps: SegmentsDeps, input: PublishInput): Promise<{ entered: number; exited: number }> {
  const { warehouse, producer, changesTopic } = deps;
  const w = warehouse(input.database);
  const params = { key: input.key, version: input.version, previous: input.previous, chunk: input.chunk, chunks: input.chunks };
  // Taken before the difference is read: a realtime change the pipeline records meanwhile is newer, and wins.
  const computedAt = new Date();
  const realtime = input.mode === 'realtime';
  // A realtime Segment's pipelines already published what they saw: the batch run reconciles the
  // live state (e.g. time windows that expired) and publishes only what is still different.
  const rows: SegmentChange[] = realtime
    ? await liveDifferences(w, input.key, input.version, input.chunk, input.chunks)
    : (await w.query<{ profile_id: string; change: 'entered' | 'exited' }>(
    `SELECT profile_id, if(countIf(version = {version:UInt64}) > 0, 'entered', 'exited') AS change
     FROM {db}.segment_members FINAL
     WHERE segment = {key:String} AND version IN ({version:UInt64}, {previous:UInt64}) AND cityHash64(profile_id) % {chunks:UInt32} = {chunk:UInt32}
     GROUP BY profile_id
     HAVING count() = 1`,
    params,
  )).map((r) => ({ segment: input.key, profileId: r.profile_id, change: r.change }));
  const at = computedAt.toISOString();
  const topic = changesTopic(input.namespace);
  for (let i = 0; i < rows.length; i += 5000) {
    const slice = rows.slice(i, i + 5000);
    // At least once: a retried chunk may publish again; consumers deduplicate by (segment, version, profile).
    await producer.send({ topic, acks: -1, messages: slice.map((c) => ({ key: c.profileId, value: JSON.stringify(changeRecord(input, c.profileId, c.change, at)) })) });
    if (realtime) await recordLive(w, slice, 'batch', computedAt);
    Context.current().heartbeat(i);
  }
  return { entered: rows.filter((r) => r.change === 'entered').length, exited: rows.filter((r) => r.change === 'exited').length };
}

interface CommitInput extends MaterializeInput {
  size: number;
}

/** Marks the version complete with its size and the SQL (values inlined) that computed it. */
async function commitVersion(deps: SegmentsDeps, input: CommitInput): Promise<void> {
  const w = deps.warehouse(input.database);
  await w.insert('segment_versions', [{ segment: input.key, version: input.version, size: input.size, computed_at: new Date().toISOString().replace('T', ' ').replace('Z', ''), query: inline(input.sql, input.params) }]);
}

/** Keeps the members of the newest `keep` versions (sizes stay in segment_versions as history). */
async function pruneVersions(deps: SegmentsDeps, input: { database: string; key: string; keep: number }): Promise<void> {
  const w = deps.warehouse(input.database);
  await w.command(
    'DELETE FROM {db}.segment_members WHERE segment = {key:String} AND version <= (SELECT max(version) FROM {db}.segment_versions WHERE segment = {key:String}) - {keep:UInt64}',
    { key: input.key, keep: input.keep },
  );
}

function changeRecord(input: PublishInput, profileId: string, change: SegmentChangeRecord['change'], at: string): SegmentChangeRecord {
  return { namespace: input.namespace, segment: input.segment, version: input.version, profileId, change, at };
}

function inline(sql: string, params: Record<string, unknown>): string {
  return sql.replace(/\{(\w+):[^}]+\}/g, (m, name: string) => {
    const v = params[name];
    if (v === undefined) return m;
    if (typeof v === 'number') return String(v);
    if (Array.isArray(v)) return `[${v.map((x) => (typeof x === 'number' ? String(x) : quoteString(String(x)))).join(', ')}]`;
    return quoteString(String(v));
  });
}
