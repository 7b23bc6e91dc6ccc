// Access exports waiting to be downloaded: one row per part of a file of the export (a store's rows
// as NDJSON, the manifest, the README). The person's identities are a column, so an erasure finds
// and removes a pending export like any other store; the TTL drops an export nobody downloaded.
export const PRIVACY_TABLES: string[] = [
  `CREATE TABLE IF NOT EXISTS {db}.privacy_exports (
    request_id String COMMENT 'the PrivacyRequest uid',
    file String COMMENT 'path inside the archive, e.g. stores/events.ndjson',
    part UInt32 COMMENT 'files over a few MB are cut into parts at line ends',
    content String CODEC(ZSTD(3)),
    identities Array(String) COMMENT 'the person the export is of (an erasure removes it)',
    created_at DateTime64(3, 'UTC') DEFAULT now64(3),
    expires_at DateTime64(3, 'UTC')
  ) ENGINE = ReplacingMergeTree(created_at)
  ORDER BY (request_id, file, part)
  TTL toDateTime(expires_at)`,
];

// Consent as it was stated, purpose by purpose: a row when a person's stated consent changes (or is
// first seen by a pipeline), from which channel and event; a batch written again keeps one row per event. The profile carries the newest state
// (trait consent_<purpose>); this is the history a privacy officer or the person can be shown.
export const CONSENT_TABLES: string[] = [
  `CREATE TABLE IF NOT EXISTS {db}.consent_history (
    identity String COMMENT 'the identity the statement came with (the event''s first identity)',
    profile_id String COMMENT 'the profile at the time',
    purpose LowCardinality(String) COMMENT 'a purpose the Pipeline declares (spec.consent.purposes)',
    granted UInt8,
    at DateTime64(3, 'UTC') COMMENT 'when it was stated: the event time, capped at its receipt',
    source LowCardinality(String),
    message_id String,
    channel LowCardinality(String) COMMENT 'context (context.consent.categoryPreferences) or traits',
    recorded_at DateTime64(3, 'UTC') DEFAULT now64(3)
  ) ENGINE = ReplacingMergeTree(recorded_at)
  ORDER BY (identity, purpose, at, message_id)`,
];
