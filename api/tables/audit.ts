// The API's audit log: who (ApiKey, key id, role) did what (operation, route template, target id)
// when, from where, with what status. Never the data read or written, never a key, never a URL
// (URLs carry identities such as email:…): the target is an id (a profile id, a Segment name).
export const AUDIT_TABLES: string[] = [
  `CREATE TABLE IF NOT EXISTS {db}.api_audit (
    at DateTime64(3, 'UTC'),
    request_id String,
    api_key String COMMENT 'name of the ApiKey resource',
    key_id String COMMENT 'first characters of the key hash (never the key)',
    role LowCardinality(String),
    operation LowCardinality(String) COMMENT 'operationId in the OpenAPI document',
    kind LowCardinality(String) COMMENT 'read (of a person), write or export',
    method LowCardinality(String),
    route LowCardinality(String) COMMENT 'the path template, never the URL',
    target String COMMENT 'what the call was about: a profile id, a Segment name; never an email',
    status UInt16,
    ip String,
    user_agent String
  ) ENGINE = MergeTree
  PARTITION BY toYYYYMM(at)
  ORDER BY (at, request_id)
  TTL toDateTime(at) + INTERVAL 400 DAY`,
];
