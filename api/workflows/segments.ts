// The workflows of task queue uspa-segments.<namespace>: what the operator's Segment schedules
// start, and what the segments worker runs. Temporal knows a workflow by its exported name.

/** One run of a Segment's schedule. */
export interface ComputeSegmentInput {
  namespace: string;
  segment: string;
  /** `<namespace>/<segment>`: the key in segment_versions and segment_members. */
  key: string;
  database: string;
  /** The compiled rule (lib/segments) and its query parameters. */
  sql: string;
  params: Record<string, unknown>;
  mode?: 'batch' | 'realtime';
  /** The schedule revision that started the run. */
  revision?: string;
}

export interface ComputeSegmentResult {
  version: number;
  size: number;
  entered: number;
  exited: number;
}

/** The task queue's workflows by the names Temporal knows them by (their exports in workflows/segments.ts). */
export interface SegmentsWorkflows {
  computeSegment: (input: ComputeSegmentInput) => Promise<ComputeSegmentResult>;
}

export const COMPUTE_SEGMENT = 'computeSegment' satisfies keyof SegmentsWorkflows;
