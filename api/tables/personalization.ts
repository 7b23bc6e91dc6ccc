// The product catalog and what personalization adds to profiles. An item row is replaced by a newer
// one (updated_at: the API's clock for API and file loads, the event time for catalog events, so a
// late event never undoes a newer load); `deleted` hides an item without losing its history.
export const CATALOG_TABLES: string[] = [
  `CREATE TABLE IF NOT EXISTS {db}.catalog_items (
    id String COMMENT 'product_id (or sku), as events name it',
    title String,
    category Array(String) COMMENT 'category path, broadest first',
    price Nullable(Float64),
    currency LowCardinality(String),
    tags Array(String),
    url String,
    image String,
    available UInt8 DEFAULT 1 COMMENT '0: never recommended',
    attributes String COMMENT 'JSON object of string, number and boolean values',
    origin LowCardinality(String) COMMENT 'api, or event:<Source> for a catalog event',
    deleted UInt8 DEFAULT 0,
    updated_at DateTime64(3, 'UTC'),
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'when the row was written: what readers poll for changes (updated_at may be an old event time)'
  ) ENGINE = ReplacingMergeTree(updated_at)
  ORDER BY id`,
];

// Interest affinities on the profile row, rebuilt with it (workers/pipeline/profiles.ts).
export const PROFILE_INTEREST_COLUMNS: string[] = [
  `ALTER TABLE {db}.profiles ADD COLUMN IF NOT EXISTS interests Map(String, Float64) DEFAULT map() COMMENT 'interest key (category word, tag, page topic) → recency-weighted share of interactions 0–1'`,
];
