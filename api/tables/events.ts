// The event log, the identity graph, profiles and dead letters: the tables the pipeline writes.
// `{db}` is the namespace's database; every statement is idempotent (IF NOT EXISTS).

export const EVENT_TABLES: string[] = [
  // The event log. ReplacingMergeTree over (identity, timestamp, message_id) folds exact
  // re-inserts; the pipeline also skips message ids already stored before inserting.
  `CREATE TABLE IF NOT EXISTS {db}.events (
    message_id String,
    source LowCardinality(String),
    type LowCardinality(String),
    event LowCardinality(String),
    name String,
    category String,
    timestamp DateTime64(3, 'UTC'),
    original_timestamp Nullable(DateTime64(3, 'UTC')),
    sent_at Nullable(DateTime64(3, 'UTC')),
    received_at DateTime64(3, 'UTC'),
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3),
    user_id String,
    anonymous_id String,
    group_id String,
    previous_id String,
    identity String COMMENT 'highest-priority identity of the event; profile = identities.profile_id of it',
    profile_id String COMMENT 'profile at ingest time (merges and unmerges move it: join through identities)',
    properties String COMMENT 'JSON; query with JSONExtract*(properties, ...)',
    traits String,
    context String,
    ip String,
    country LowCardinality(String),
    region String,
    city String,
    device_type LowCardinality(String),
    os_name LowCardinality(String),
    os_version String,
    browser_name LowCardinality(String),
    browser_version String,
    page_path String,
    page_topics Array(LowCardinality(String)),
    revenue Float64 COMMENT 'properties.revenue (or total) when numeric',
    INDEX idx_message_id message_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_event event TYPE set(1000) GRANULARITY 4
  ) ENGINE = ReplacingMergeTree(ingested_at)
  PARTITION BY toYYYYMM(timestamp)
  ORDER BY (identity, timestamp, message_id)`,

  // Append-only: every link between identities, every refused merge, every undo, with provenance.
  `CREATE TABLE IF NOT EXISTS {db}.identity_edges (
    id String,
    a String,
    b String,
    action LowCardinality(String),
    rule LowCardinality(String),
    message_id String,
    event_time DateTime64(3, 'UTC'),
    recorded_at DateTime64(3, 'UTC') DEFAULT now64(3),
    reason String,
    undoes String,
    merge_from String COMMENT 'for a link that merged two profiles: the profile folded away',
    merge_into String
  ) ENGINE = ReplacingMergeTree(recorded_at)
  ORDER BY (id)`,

  // Current identity → profile assignment; the newest version wins.
  `CREATE TABLE IF NOT EXISTS {db}.identities (
    identity String,
    profile_id String,
    first_seen DateTime64(3, 'UTC') COMMENT 'decides which profile id survives a merge',
    version UInt64,
    updated_at DateTime64(3, 'UTC') DEFAULT now64(3)
  ) ENGINE = ReplacingMergeTree(version)
  ORDER BY (identity)`,

  // Trait values per identity, last write wins by event time (then message id): a late event
  // never overwrites a newer value, and merges/unmerges need no trait copying.
  `CREATE TABLE IF NOT EXISTS {db}.identity_traits (
    identity String,
    trait String,
    value String COMMENT 'JSON value',
    event_time DateTime64(3, 'UTC'),
    message_id String
  ) ENGINE = ReplacingMergeTree(event_time)
  ORDER BY (identity, trait)`,

  // One row per person, rebuilt by the pipeline for every profile an event touched.
  `CREATE TABLE IF NOT EXISTS {db}.profiles (
    profile_id String,
    identities Array(String),
    traits String COMMENT 'JSON object of current trait values',
    first_seen DateTime64(3, 'UTC'),
    last_seen DateTime64(3, 'UTC'),
    event_count UInt64,
    event_counts Map(String, UInt64),
    lifetime_revenue Float64,
    order_count UInt64,
    last_order_at Nullable(DateTime64(3, 'UTC')),
    rfm_recency UInt8,
    rfm_frequency UInt8,
    rfm_monetary UInt8,
    deleted UInt8 DEFAULT 0 COMMENT '1 when merged into another profile or emptied by an unmerge',
    updated_at DateTime64(3, 'UTC') DEFAULT now64(3)
  ) ENGINE = ReplacingMergeTree(updated_at)
  ORDER BY (profile_id)`,

  `CREATE TABLE IF NOT EXISTS {db}.dead_letters (
    failed_at DateTime64(3, 'UTC'),
    stage LowCardinality(String),
    source LowCardinality(String),
    reason LowCardinality(String),
    errors Array(String),
    message_id String,
    payload String,
    topic String,
    partition Int32,
    offset String
  ) ENGINE = MergeTree
  PARTITION BY toYYYYMM(failed_at)
  ORDER BY (failed_at, source)`,
];

export const DEAD_LETTER_REPLAY_TABLES: string[] = [
  `CREATE TABLE IF NOT EXISTS {db}.dead_letter_replays (
    message_id String,
    source LowCardinality(String),
    replayed_at DateTime64(3, 'UTC') DEFAULT now64(3)
  ) ENGINE = ReplacingMergeTree(replayed_at)
  ORDER BY (source, message_id)`,
];

export const PIPELINE_STATE_TABLES: string[] = [
  `CREATE TABLE IF NOT EXISTS {db}.pipeline_state (
    pipeline String,
    key String,
    value String,
    updated_at DateTime64(3, 'UTC') DEFAULT now64(3)
  ) ENGINE = ReplacingMergeTree(updated_at)
  ORDER BY (pipeline, key)`,
];
