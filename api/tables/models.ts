// The predictive models' tables (personas, recommendations). A training run writes every row of
// its version first and its model_versions row LAST: the newest version in model_versions is the
// newest complete one, and readers filter the other tables by it. Rows of a version are keyed so
// that a retried run rewrites the same keys.
export const MODEL_TABLES: string[] = [
  `CREATE TABLE IF NOT EXISTS {db}.model_versions (
    model LowCardinality(String) COMMENT 'personas or recommendations',
    version UInt64 COMMENT 'increasing per model, from 1',
    run String COMMENT 'idempotency key of the run that trained it (default its workflow id, unique per scheduled time): the same run never trains twice',
    revision String COMMENT 'configuration revision the run was started with (the operator schedule revision)',
    trained_at DateTime64(3, 'UTC'),
    params String COMMENT 'JSON: the inputs (k or kRange, seed, features, topN, weights …)',
    quality String COMMENT 'JSON: personas: k, silhouette, inertia, n, candidates, clusters (sizes); recommendations: items, pairs, coverage, profiles',
    artifact String COMMENT 'JSON: what applying the model needs (personas: standardization, centroids, labels)'
  ) ENGINE = ReplacingMergeTree(trained_at)
  ORDER BY (model, version)`,
  `CREATE TABLE IF NOT EXISTS {db}.profile_personas (
    model_version UInt64,
    profile_id String,
    persona LowCardinality(String) COMMENT 'the label, e.g. p1-high-value-frequent: also the profile trait persona',
    cluster UInt16,
    distance Float64 COMMENT 'Euclidean distance to the persona centroid, in standardized feature units'
  ) ENGINE = ReplacingMergeTree
  ORDER BY (model_version, profile_id)`,
  `CREATE TABLE IF NOT EXISTS {db}.item_recommendations (
    version UInt64,
    item String COMMENT 'product_id (or sku)',
    rank UInt16 COMMENT '1 = most similar',
    rec_item String,
    score Float64 COMMENT 'cosine similarity over views and purchases, 0–1'
  ) ENGINE = ReplacingMergeTree
  ORDER BY (version, item, rank)`,
  `CREATE TABLE IF NOT EXISTS {db}.profile_recommendations (
    version UInt64,
    profile_id String,
    rank UInt16 COMMENT '1 = best',
    item String,
    score Float64 COMMENT 'sum of the similarities to the items of the profile, weighted like them'
  ) ENGINE = ReplacingMergeTree
  ORDER BY (version, profile_id, rank)`,
];
