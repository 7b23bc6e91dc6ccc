// ClickHouse tables of the predictive models (personas, recommendations). Like lib/schema.ts, each
// statement is idempotent; `{db}` is the namespace's database.
//
// A training run writes every row of its version first and its model_versions row LAST: the newest
// version in model_versions is the newest complete one, and readers filter the other tables by it
// (`latestVersionSql`). Rows of a version are keyed so that a retried run rewrites the same keys.

export const MODEL_NAMES = ['personas', 'recommendations'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];


/** Per-version tables of each model, and their version column (for writes, reads and pruning). */
export const VERSIONED_TABLES: Record<ModelName, Array<{ table: string; column: string }>> = {
  personas: [{ table: 'profile_personas', column: 'model_version' }],
  recommendations: [
    { table: 'item_recommendations', column: 'version' },
    { table: 'profile_recommendations', column: 'version' },
  ],
};

/** `(SELECT max(version) …)`: the newest complete version of a model, for readers (0 when none). */
export function latestVersionSql(model: ModelName): string {
  return `(SELECT max(version) FROM {db}.model_versions WHERE model = '${model}')`;
}
