// Recommendations of the newest complete model version (model_versions is written last by a
// training run, so its newest row names a version whose rows are all there).
import type { Warehouse } from '../../lib/clickhouse.ts';
import type { GatewayContext } from '../context.ts';
import { notFound } from '../http/errors.ts';
import { LIMIT, operation, type JsonSchema } from '../http/operation.ts';
import { identityTypes, parseIdentity } from '../profiles/identity.ts';
import { isoTime } from '../profiles/clickhouse.ts';

export const IDENTITY_PARAM: JsonSchema = {
  type: 'object',
  required: ['identity'],
  properties: { identity: { type: 'string', minLength: 1, maxLength: 1100, description: 'Any identity of the profile, "type:value": userId:u-1, email:ada@example.com, anonymousId:…; or profileId:<its id>' } },
};

const MODEL: JsonSchema = {
  type: ['object', 'null'],
  additionalProperties: false,
  required: ['version', 'trainedAt'],
  properties: { version: { type: 'integer', minimum: 1 }, trainedAt: { type: 'string', format: 'date-time' } },
  description: 'The model version the items come from; null before the first training run.',
};

const ITEM: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['item', 'rank', 'score'],
  properties: { item: { type: 'string' }, rank: { type: 'integer', minimum: 1, description: '1 = best' }, score: { type: 'number' } },
};

export interface Ranked {
  model: { version: number; trainedAt: string } | null;
  items: Array<{ item: string; rank: number; score: number }>;
}

interface RankedRow {
  version: string;
  trained_at: string;
  rank: number | null;
  item: string | null;
  score: number | null;
}

const LATEST = "(SELECT max(version) FROM {db}.model_versions WHERE model = 'recommendations')";

/** Top items of a table keyed (version, <key>, rank) for one key, with the model version; one query. */
async function ranked(warehouse: Warehouse, table: 'profile_recommendations' | 'item_recommendations', key: string, limit: number): Promise<Ranked> {
  const column = table === 'profile_recommendations' ? 'profile_id' : 'item';
  const itemColumn = table === 'profile_recommendations' ? 'item' : 'rec_item';
  const rows = await warehouse.query<RankedRow>(
    `SELECT toString(m.version) AS version, toString(m.trained_at) AS trained_at, r.rank AS rank, r.rec AS item, r.score AS score
     FROM (SELECT version, max(trained_at) AS trained_at FROM {db}.model_versions WHERE model = 'recommendations' AND version = ${LATEST} GROUP BY version) AS m
     LEFT JOIN (SELECT version, rank, any(${itemColumn}) AS rec, any(score) AS score FROM {db}.${table}
                WHERE version = ${LATEST} AND ${column} = {key:String} GROUP BY version, rank) AS r ON r.version = m.version
     ORDER BY rank LIMIT {limit:UInt32}
     SETTINGS join_use_nulls = 1`,
    { key, limit },
  );
  const first = rows[0];
  if (!first) return { model: null, items: [] };
  return {
    model: { version: Number(first.version), trainedAt: isoTime(first.trained_at) },
    items: rows.filter((r) => r.item !== null).map((r) => ({ item: r.item!, rank: Number(r.rank), score: Number(r.score) })),
  };
}

export function profileRecommendations(warehouse: Warehouse, profileId: string, limit: number): Promise<Ranked> {
  return ranked(warehouse, 'profile_recommendations', profileId, limit);
}

/** The profile id of a path identity, or a 404 naming path.identity. */
export async function profileIdOf(ctx: GatewayContext, text: string): Promise<string> {
  // A profile's own id (as Segment exports and campaign deliveries name it) finds it too.
  if (text.startsWith(PROFILE_ID_PREFIX) && text.length > PROFILE_ID_PREFIX.length && text.length <= 200) return text.slice(PROFILE_ID_PREFIX.length);
  const { identity } = parseIdentity(text, identityTypes(ctx.config));
  const id = await ctx.profiles.resolve(identity);
  if (!id) throw notFound(`no profile has the identity ${text.slice(0, text.indexOf(':'))}:…`, 'path.identity');
  return id;
}

const PROFILE_ID_PREFIX = 'profileId:';

export function recommendationOperations(ctx: GatewayContext) {
  const forProfile = operation<{ identity: string }, { limit: number }>({
    id: 'getProfileRecommendations',
    method: 'get',
    path: '/v1/profiles/{identity}/recommendations',
    summary: "A profile's recommended items, best first",
    description: 'From the newest complete recommendations model version.',
    tag: 'recommendations',
    permission: 'recommendations:read',
    audit: 'read',
    params: IDENTITY_PARAM as never,
    query: { properties: { limit: LIMIT(100, 20) } },
    responses: {
      200: {
        description: 'The items; empty when the model has none for the profile.',
        schema: {
          type: 'object',
          additionalProperties: false,
          required: ['profileId', 'model', 'items'],
          properties: { profileId: { type: 'string' }, model: MODEL, items: { type: 'array', items: ITEM } },
        },
      },
    },
    async handler({ params, query, subject }) {
      const profileId = await profileIdOf(ctx, params.identity);
      subject(profileId);
      const { model, items } = await profileRecommendations(ctx.warehouse, profileId, query.limit);
      return { body: { profileId, model, items } };
    },
  });

  const similar = operation<{ item: string }, { limit: number }>({
    id: 'getSimilarItems',
    method: 'get',
    path: '/v1/items/{item}/similar',
    summary: "An item's similar items, most similar first",
    description: 'Cosine similarity over views and purchases, from the newest complete recommendations model version.',
    tag: 'recommendations',
    permission: 'recommendations:read',
    params: { type: 'object', required: ['item'], properties: { item: { type: 'string', minLength: 1, maxLength: 512, pattern: '^[^\\u0000-\\u001f\\u007f]+$', description: 'product_id (or sku)' } } },
    query: { properties: { limit: LIMIT(100, 20) } },
    responses: {
      200: {
        description: 'The similar items.',
        schema: {
          type: 'object',
          additionalProperties: false,
          required: ['item', 'model', 'similar'],
          properties: { item: { type: 'string' }, model: { ...MODEL, type: 'object' }, similar: { type: 'array', items: ITEM } },
        },
      },
    },
    async handler({ params, query }) {
      const { model, items } = await ranked(ctx.warehouse, 'item_recommendations', params.item, query.limit);
      if (!model || items.length === 0) throw notFound(model ? 'the recommendations model knows no similar items for this item' : 'no recommendations model has been trained yet', 'path.item');
      return { body: { item: params.item, model, similar: items } };
    },
  });
  return [forProfile, similar];
}
