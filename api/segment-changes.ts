// The records of a namespace's segment-changes topic (topicNames(prefix).segmentChanges), keyed by
// profile id: published when a profile enters or leaves a Segment — by the segments worker for each
// computed version, by the pipeline for realtime Segments — and read by the activations worker's
// trigger consumer. Publishing is at least once: readers deduplicate by (segment, version, profile).

export interface SegmentChangeRecord {
  namespace: string;
  segment: string;
  /** The Segment version the change belongs to; 0 for a realtime evaluation. */
  version: number;
  profileId: string;
  change: 'entered' | 'exited';
  /** When it was computed, ISO 8601. */
  at: string;
  /** Set by the pipeline's realtime evaluation. */
  origin?: 'realtime';
}

/** A segment-changes record, checked; undefined (with why) when it is not one. */
export function parseSegmentChange(value: unknown): { change?: SegmentChangeRecord; problem?: string } {
  const v = value as Partial<SegmentChangeRecord> | null;
  if (!v || typeof v !== 'object') return { problem: 'not a JSON object' };
  for (const f of ['segment', 'profileId', 'at'] as const) if (typeof v[f] !== 'string' || !v[f]) return { problem: `${f}: must be a non-empty string` };
  if (typeof v.version !== 'number') return { problem: 'version: must be a number' };
  if (v.change !== 'entered' && v.change !== 'exited') return { problem: 'change: must be "entered" or "exited"' };
  return { change: v as SegmentChangeRecord };
}
