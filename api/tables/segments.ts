// Segment state. A computation writes all members of a new version first, then its
// segment_versions row: the latest version in segment_versions is the latest complete one
// (versions start at 1; members of unfinished versions are ignored). Segment keys are
// `<namespace>/<name>`.
export const SEGMENT_TABLES: string[] = [
  `CREATE TABLE IF NOT EXISTS {db}.segment_versions (
    segment String COMMENT '<namespace>/<name> of the Segment resource',
    version UInt64 COMMENT 'increasing per segment, from 1',
    size UInt64 COMMENT 'number of members',
    computed_at DateTime64(3, 'UTC'),
    query String COMMENT 'the SQL that computed it, values inlined (compileSegment display)'
  ) ENGINE = ReplacingMergeTree(computed_at)
  ORDER BY (segment, version)`,
  `CREATE TABLE IF NOT EXISTS {db}.segment_members (
    segment String COMMENT '<namespace>/<name> of the Segment resource',
    version UInt64,
    profile_id String
  ) ENGINE = ReplacingMergeTree
  ORDER BY (segment, version, profile_id)`,
];

// Realtime Segments: the compiled queries the pipelines evaluate and the live membership they keep
// (one row per segment and profile, newest wins), reconciled by the scheduled batch run.
export const REALTIME_TABLES: string[] = [
  // What the pipelines evaluate: every Segment's compiled query, written by the operator.
  `CREATE TABLE IF NOT EXISTS {db}.segment_definitions (
    segment String COMMENT '<namespace>/<name>',
    sql String,
    params String COMMENT 'JSON of the query parameters',
    mode LowCardinality(String),
    revision String,
    deleted UInt8 DEFAULT 0,
    updated_at DateTime64(3, 'UTC') DEFAULT now64(3)
  ) ENGINE = ReplacingMergeTree(updated_at)
  ORDER BY (segment)`,
  `CREATE TABLE IF NOT EXISTS {db}.segment_live (
    segment String,
    profile_id String,
    member UInt8,
    changed_at DateTime64(3, 'UTC'),
    origin LowCardinality(String) COMMENT 'realtime (pipeline) or batch (scheduled run)'
  ) ENGINE = ReplacingMergeTree(changed_at)
  ORDER BY (segment, profile_id)`,
];

// The Segment's metadata.generation a definition was written for, so the pipeline worker can
// report which generation it evaluates (the Segment is Ready only then). 0: written before this.
export const SEGMENT_DEFINITION_GENERATION: string[] = [
  "ALTER TABLE {db}.segment_definitions ADD COLUMN IF NOT EXISTS generation UInt64 DEFAULT 0 COMMENT 'metadata.generation of the Segment it was written for'",
];
