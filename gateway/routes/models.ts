// Model versions as the dashboard charts them: each personas version with its cluster sizes and
// labels and quality figures, each recommendations version with its coverage and offline quality.
import type { GatewayContext } from '../context.ts';
import { LIMIT, operation, type JsonSchema, type Operation } from '../http/operation.ts';
import { isoTime } from '../segments/queries.ts';

const MODELS = ['personas', 'recommendations'] as const;

const VERSION: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['version', 'trainedAt', 'params', 'quality', 'personas'],
  properties: {
    version: { type: 'integer', minimum: 1 },
    trainedAt: { type: 'string', format: 'date-time' },
    params: { type: 'object', description: 'The inputs it was trained with (k or kRange, seed, features, topN …).' },
    quality: { type: 'object', description: 'As recorded (without the clusters, which are in personas): personas — algorithm, k, silhouette, inertia, n, candidates; recommendations — items, pairs, coverage, profiles, offline precision/recall against a popularity baseline.' },
    personas: {
      type: 'array',
      description: 'Personas versions: each persona with its size and share of the profiles, best rank first (DBSCAN: noise last); empty for recommendations.',
      items: { type: 'object', additionalProperties: false, required: ['label', 'size', 'share'], properties: { label: { type: 'string' }, size: { type: 'integer', minimum: 0 }, share: { type: 'number', minimum: 0, maximum: 1 } } },
    },
  },
};

function json(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text || '{}') as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** A personas version's clusters (quality.clusters, best rank first; DBSCAN's noise last). Pure, for its test. */
export function personasOf(quality: Record<string, unknown>): Array<{ label: string; size: number; share: number }> {
  const clusters = Array.isArray(quality.clusters) ? (quality.clusters as Array<Record<string, unknown>>) : [];
  return clusters.map((c) => ({ label: String(c.persona ?? ''), size: Number(c.size ?? 0), share: Number(c.share ?? 0) }));
}

/** The figures without the clusters (they are in personas) and their centroids. */
function figures(quality: Record<string, unknown>): Record<string, unknown> {
  const { clusters: _clusters, ...rest } = quality;
  return rest;
}

export function modelOperations(ctx: GatewayContext): Operation[] {
  return [
    operation<Record<string, never>, { limit: number }>({
      id: 'listModels',
      method: 'get',
      path: '/v1/models',
      summary: 'The trained model versions, newest first: personas and recommendations with their quality figures',
      tag: 'models',
      permission: 'models:read',
      query: { properties: { limit: LIMIT(100, 20) } },
      responses: {
        200: {
          description: 'Per model, its newest versions.',
          schema: { type: 'object', additionalProperties: false, required: [...MODELS], properties: Object.fromEntries(MODELS.map((m) => [m, { type: 'array', items: VERSION }])) },
        },
      },
      async handler({ query }) {
        const rows = await ctx.warehouse.query<{ model: string; version: string; at: string; params: string; quality: string }>(
          `SELECT model, version, toString(trained_at) AS at, params, quality
           FROM {db}.model_versions FINAL WHERE model IN {models:Array(String)} ORDER BY model, version DESC LIMIT {n:UInt32} BY model`,
          { models: [...MODELS], n: query.limit },
        );
        const body = Object.fromEntries(MODELS.map((m) => [m, [] as unknown[]]));
        for (const r of rows) {
          const quality = json(r.quality);
          body[r.model]!.push({ version: Number(r.version), trainedAt: isoTime(r.at), params: json(r.params), quality: figures(quality), personas: r.model === 'personas' ? personasOf(quality) : [] });
        }
        return { body };
      },
    }),
  ];
}
