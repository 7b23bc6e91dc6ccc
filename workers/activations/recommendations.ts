// The `recommendations` of a template: the profile's items from the newest complete version of the
// recommendations model, which the models worker trains into the same database.
import type { Warehouse } from '../../lib/clickhouse.ts';
import { profileRecommendations } from '../../lib/models/store.ts';
import type { Recommender } from './messages.ts';

/** Items per message: what the model keeps per profile by default. */
const LIMIT = 10;

/** Recommendations read from the database the campaign works on: [{ item, score }], best first. */
export function profileRecommender(warehouse: (database: string) => Warehouse): Recommender {
  return async ({ database, profileId }) => (await profileRecommendations(warehouse(database), profileId, LIMIT)).map((r) => ({ item: r.item, score: r.score }));
}
