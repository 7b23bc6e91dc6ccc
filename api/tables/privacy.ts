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
