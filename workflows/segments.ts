// computeSegment: one run of a Segment's schedule. Membership is computed in ClickHouse as a new
// version, diffed with the previous one, published as entered/exited records, then committed —
// all in a few chunked activities (never a workflow per profile). A retried or re-run version
// yields the same rows: every activity is idempotent for its (segment, version).
import { proxyActivities } from '@temporalio/workflow';
import type { Implements } from '../api/workflows/contract.ts';
import type { ComputeSegmentInput, ComputeSegmentResult, SegmentsWorkflows } from '../api/workflows/segments.ts';
import type { SegmentsActivities } from '../workers/segments/activities.ts';

/** Entered/exited records are published in this many chunks, each its own activity. */
export const PUBLISH_CHUNKS = 8;

const { nextVersion, materialize, commitVersion, pruneVersions } = proxyActivities<SegmentsActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

const { publishChanges } = proxyActivities<SegmentsActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 20 },
});

export async function computeSegment(input: ComputeSegmentInput): Promise<ComputeSegmentResult> {
  const { previous, version } = await nextVersion({ database: input.database, key: input.key });
  const size = await materialize({ database: input.database, key: input.key, version, sql: input.sql, params: input.params });
  const counts = await Promise.all(
    Array.from({ length: PUBLISH_CHUNKS }, (_, chunk) => publishChanges({ namespace: input.namespace, segment: input.segment, database: input.database, key: input.key, version, previous, chunk, chunks: PUBLISH_CHUNKS, mode: input.mode })),
  );
  // Committed last: readers (segment references, status, triggers) only see complete versions.
  await commitVersion({ database: input.database, key: input.key, version, size, sql: input.sql, params: input.params });
  await pruneVersions({ database: input.database, key: input.key, keep: 2 });
  return { version, size, entered: counts.reduce((n, c) => n + c.entered, 0), exited: counts.reduce((n, c) => n + c.exited, 0) };
}

export type Contract = Implements<SegmentsWorkflows, typeof import('./segments.ts')>;
