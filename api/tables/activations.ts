// What the activations worker records: every delivery decision, conversions and audience syncs.

export const ACTIVATION_DELIVERY_TABLES: string[] = [
  // One row per (activation, message, outcome): every send, failure, suppression and holdout,
  // with the variant, so each variant's lift can be computed.
  `CREATE TABLE IF NOT EXISTS {db}.activation_deliveries (
    activation String COMMENT '<namespace>/<name> of the Activation',
    message_id String COMMENT 'idempotency key of the delivery',
    profile_id String,
    variant LowCardinality(String),
    outcome LowCardinality(String) COMMENT 'sent, failed, suppressed or holdout',
    reason String,
    attempt UInt32,
    at DateTime64(3, 'UTC')
  ) ENGINE = ReplacingMergeTree(at)
  PARTITION BY toYYYYMM(at)
  ORDER BY (activation, message_id, outcome)`,
];

export const ACTIVATION_TABLES: string[] = [
  // The first conversion after each send or holdout decision: the Activation's conversion event
  // (its unless event) by the same profile within the attribution window. One row per delivery.
  `CREATE TABLE IF NOT EXISTS {db}.activation_conversions (
    activation String COMMENT '<namespace>/<name> of the Activation',
    message_id String COMMENT 'the delivery (activation_deliveries.message_id) converted',
    profile_id String,
    variant LowCardinality(String),
    outcome LowCardinality(String) COMMENT 'sent or holdout: the arm the person was in',
    event LowCardinality(String) COMMENT 'the conversion event',
    event_message_id String,
    delivered_at DateTime64(3, 'UTC'),
    converted_at DateTime64(3, 'UTC')
  ) ENGINE = ReplacingMergeTree
  PARTITION BY toYYYYMM(delivered_at)
  ORDER BY (activation, message_id)`,
  // Each completed audience sync: what the next diff starts from.
  `CREATE TABLE IF NOT EXISTS {db}.activation_syncs (
    activation String COMMENT '<namespace>/<name> of the Activation',
    segment String COMMENT '<namespace>/<name> of the Segment',
    version UInt64 COMMENT 'the segment version synced',
    base_version UInt64 COMMENT 'for a diff: the version it was computed against (0: a full list)',
    mode LowCardinality(String) COMMENT 'full or diff',
    revision String COMMENT 'the schedule revision (spec hash) that ran it',
    sent UInt64,
    suppressed UInt64,
    synced_at DateTime64(3, 'UTC')
  ) ENGINE = ReplacingMergeTree(synced_at)
  ORDER BY (activation, version, mode)`,
];
