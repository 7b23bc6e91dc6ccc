// The namespace at a glance, for the dashboard's first page: events per Source over time, how long
// an event takes from the collector to being queryable, consumer lag, dead letters and collector
// refusals by cause, and the health of every custom resource.
import { CustomObjectsApi } from '@kubernetes/client-node';
import { GROUP, KINDS, VERSION } from '../../api/v1alpha1/index.ts';
import type { GatewayContext } from '../context.ts';
import { operation, type JsonSchema, type Operation } from '../http/operation.ts';
import { CollectorRefusals } from '../overview/refusals.ts';
import { isoTime } from '../segments/queries.ts';

const TIME: JsonSchema = { type: 'string', format: 'date-time' };
const COUNT = { type: 'integer', minimum: 0 } as const;
export const SERIES: JsonSchema = {
  type: 'array',
  description: 'One point per bucket that had any; missing buckets are zero.',
  items: { type: 'object', additionalProperties: false, required: ['t', 'n'], properties: { t: { ...TIME, description: 'Start of the bucket.' }, n: COUNT } },
};
export const READY: JsonSchema = {
  type: ['object', 'null'],
  description: 'The Ready condition as the operator reports it (null before it did).',
  additionalProperties: false,
  required: ['status', 'reason', 'message'],
  properties: { status: { type: 'string', enum: ['True', 'False', 'Unknown'] }, reason: { type: 'string' }, message: { type: 'string' } },
};
export const MINUTES: JsonSchema = { type: 'integer', minimum: 5, maximum: 10080, default: 60, description: 'How far back, in minutes (5 to 10080, a week; default 60).' };

/** Bucket width for a window: about 60–150 points, on round units. */
export function bucketSeconds(minutes: number): number {
  if (minutes <= 150) return 60;
  if (minutes <= 720) return 300;
  if (minutes <= 1440) return 600;
  return 3600;
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}
interface AnyResource {
  metadata: { name: string; generation?: number };
  status?: { conditions?: Condition[]; observedGeneration?: number; consumerLag?: number; lagUpdatedAt?: string };
  spec?: { sources?: string[] };
}

export function readyOf(r: { status?: { conditions?: Condition[] } }) {
  const c = r.status?.conditions?.find((x) => x.type === 'Ready');
  return c ? { status: c.status as 'True' | 'False' | 'Unknown', reason: c.reason ?? '', message: c.message ?? '' } : null;
}

export function overviewOperations(ctx: GatewayContext): Operation[] {
  let custom: CustomObjectsApi | undefined;
  let refusals: CollectorRefusals | undefined;
  const list = async (plural: string): Promise<AnyResource[]> => {
    custom ??= ctx.kc.makeApiClient(CustomObjectsApi);
    const page = (await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ctx.namespace, plural, limit: 500 })) as { items: AnyResource[] };
    return page.items;
  };

  return [
    operation<Record<string, never>, { minutes: number }>({
      id: 'getOverview',
      method: 'get',
      path: '/v1/overview',
      summary: "The namespace's health: volume, freshness, lag, dead letters, refusals and every resource's state",
      description:
        'Volume and freshness come from the stored events (received_at: when the collector accepted an event; ingested_at: when ClickHouse stored it), dead letters from the dead-letter table, lag from each Pipeline\'s status, refusals from sampling the collector\'s metrics every 15 s while this is being read (so only since the first read, at most an hour; under several collector replicas, the replica the Service answered with).',
      tag: 'overview',
      permission: 'overview:read',
      query: { properties: { minutes: MINUTES } },
      responses: {
        200: {
          description: 'The overview.',
          schema: {
            type: 'object',
            additionalProperties: false,
            required: ['window', 'sources', 'freshness', 'pipelines', 'deadLetters', 'refusals', 'resources'],
            properties: {
              window: { type: 'object', additionalProperties: false, required: ['from', 'to', 'bucketSeconds'], properties: { from: TIME, to: TIME, bucketSeconds: { type: 'integer', minimum: 1 } } },
              sources: {
                type: 'array',
                description: 'Events received per Source (every Source of the namespace\'s Pipelines, with or without events).',
                items: { type: 'object', additionalProperties: false, required: ['source', 'total', 'perSecond', 'series'], properties: { source: { type: 'string' }, total: COUNT, perSecond: { type: 'number', minimum: 0, description: 'Over the last full minute.' }, series: SERIES } },
              },
              freshness: {
                type: 'object',
                additionalProperties: false,
                required: ['recent', 'series'],
                description: 'Seconds from the collector accepting an event to ClickHouse storing it (queryable).',
                properties: {
                  recent: { type: 'object', additionalProperties: false, required: ['events', 'p50Seconds', 'p95Seconds'], description: 'The last 5 minutes.', properties: { events: COUNT, p50Seconds: { type: ['number', 'null'] }, p95Seconds: { type: ['number', 'null'] } } },
                  series: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['t', 'p50Seconds', 'p95Seconds'], properties: { t: TIME, p50Seconds: { type: 'number' }, p95Seconds: { type: 'number' } } } },
                },
              },
              pipelines: {
                type: 'array',
                items: { type: 'object', additionalProperties: false, required: ['name', 'sources', 'ready', 'consumerLag', 'lagUpdatedAt'], properties: { name: { type: 'string' }, sources: { type: 'array', items: { type: 'string' } }, ready: READY, consumerLag: { type: ['integer', 'null'], minimum: 0 }, lagUpdatedAt: { type: ['string', 'null'], format: 'date-time' } } },
              },
              deadLetters: {
                type: 'object',
                additionalProperties: false,
                required: ['total', 'byCause', 'series'],
                properties: { total: COUNT, byCause: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['source', 'reason', 'count'], properties: { source: { type: 'string' }, reason: { type: 'string' }, count: COUNT } } }, series: SERIES },
              },
              refusals: {
                type: 'object',
                additionalProperties: false,
                required: ['reachable', 'since', 'byStatus', 'series'],
                description: 'Requests the collector answered with 4xx or 5xx (bad write key, too large, rate limited …): they store nothing.',
                properties: {
                  reachable: { type: 'boolean' },
                  problem: { type: 'string' },
                  since: { type: ['string', 'null'], format: 'date-time', description: 'Sampling started then; nothing before is known.' },
                  byStatus: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['route', 'status', 'count'], properties: { route: { type: 'string' }, status: { type: 'integer' }, count: COUNT } } },
                  series: SERIES,
                },
              },
              resources: {
                type: 'array',
                description: 'Every USPA custom resource of the namespace (the first 500 of each kind).',
                items: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['kind', 'name', 'ready', 'generation', 'observedGeneration'],
                  properties: { kind: { type: 'string' }, name: { type: 'string' }, ready: READY, generation: { type: 'integer' }, observedGeneration: { type: ['integer', 'null'] } },
                },
              },
            },
          },
        },
      },
      async handler({ query }) {
        const minutes = query.minutes;
        const bucket = bucketSeconds(minutes);
        const to = new Date();
        const from = new Date(to.getTime() - minutes * 60_000);
        const params = { minutes, bucket };
        const [kinds, volume, fresh, recent, dead, refused] = await Promise.all([
          Promise.all(KINDS.map(async (k) => ({ kind: k.kind, items: await list(k.plural) }))),
          ctx.warehouse.query<{ source: string; t: string; n: string }>(
            `SELECT source, toString(toStartOfInterval(received_at, INTERVAL {bucket:UInt32} SECOND)) AS t, count() AS n
             FROM {db}.events WHERE received_at >= now64(3) - INTERVAL {minutes:UInt32} MINUTE GROUP BY source, t ORDER BY t`,
            params,
          ),
          ctx.warehouse.query<{ t: string; p50: number; p95: number }>(
            `SELECT toString(toStartOfInterval(received_at, INTERVAL {bucket:UInt32} SECOND)) AS t, quantile(0.5)(d) AS p50, quantile(0.95)(d) AS p95
             FROM (SELECT received_at, greatest(0, dateDiff('millisecond', received_at, ingested_at)) / 1000 AS d FROM {db}.events WHERE received_at >= now64(3) - INTERVAL {minutes:UInt32} MINUTE)
             GROUP BY t ORDER BY t`,
            params,
          ),
          ctx.warehouse.query<{ n: string; p50: number | null; p95: number | null }>(
            `SELECT count() AS n, if(n = 0, NULL, quantile(0.5)(d)) AS p50, if(n = 0, NULL, quantile(0.95)(d)) AS p95
             FROM (SELECT greatest(0, dateDiff('millisecond', received_at, ingested_at)) / 1000 AS d FROM {db}.events WHERE received_at >= now64(3) - INTERVAL 5 MINUTE)`,
          ),
          ctx.warehouse.query<{ source: string; reason: string; t: string; n: string }>(
            `SELECT source, reason, toString(toStartOfInterval(failed_at, INTERVAL {bucket:UInt32} SECOND)) AS t, uniqExact(topic, partition, offset) AS n
             FROM {db}.dead_letters WHERE failed_at >= now64(3) - INTERVAL {minutes:UInt32} MINUTE GROUP BY source, reason, t ORDER BY t`,
            params,
          ),
          (refusals ??= new CollectorRefusals(async () => {
            const url = await ctx.collectorUrl();
            return url && `${url}/metrics`;
          })).view(minutes, bucket),
        ]);
        const pipelines = kinds.find((k) => k.kind === 'Pipeline')!.items;
        const sourceNames = [...new Set([...pipelines.flatMap((p) => p.spec?.sources ?? []), ...volume.map((r) => r.source)])].sort();
        const nowMinute = Math.floor(to.getTime() / 60_000) * 60_000;
        const sources = sourceNames.map((source) => {
          const rows = volume.filter((r) => r.source === source);
          // The last full minute: the bucket before the current one (buckets of 60 s), or an estimate from its share of a wider one.
          const lastMinute = rows.filter((r) => Date.parse(isoTime(r.t)) === nowMinute - 60_000).reduce((a, r) => a + Number(r.n), 0);
          return { source, total: rows.reduce((a, r) => a + Number(r.n), 0), perSecond: bucket === 60 ? Math.round((lastMinute / 60) * 100) / 100 : 0, series: rows.map((r) => ({ t: isoTime(r.t), n: Number(r.n) })) };
        });
        const deadSeries = new Map<string, number>();
        const byCause = new Map<string, { source: string; reason: string; count: number }>();
        for (const r of dead) {
          const t = isoTime(r.t);
          deadSeries.set(t, (deadSeries.get(t) ?? 0) + Number(r.n));
          const k = `${r.source}|${r.reason}`;
          const c = byCause.get(k) ?? { source: r.source, reason: r.reason, count: 0 };
          c.count += Number(r.n);
          byCause.set(k, c);
        }
        const r0 = recent[0];
        return {
          body: {
            window: { from: from.toISOString(), to: to.toISOString(), bucketSeconds: bucket },
            sources,
            freshness: {
              recent: { events: Number(r0?.n ?? 0), p50Seconds: r0?.p50 == null ? null : Number(r0.p50), p95Seconds: r0?.p95 == null ? null : Number(r0.p95) },
              series: fresh.map((r) => ({ t: isoTime(r.t), p50Seconds: Number(r.p50), p95Seconds: Number(r.p95) })),
            },
            pipelines: pipelines.map((p) => ({ name: p.metadata.name, sources: p.spec?.sources ?? [], ready: readyOf(p), consumerLag: p.status?.consumerLag ?? null, lagUpdatedAt: p.status?.lagUpdatedAt ?? null })),
            deadLetters: { total: [...byCause.values()].reduce((a, c) => a + c.count, 0), byCause: [...byCause.values()].sort((a, b) => b.count - a.count), series: [...deadSeries].map(([t, n]) => ({ t, n })) },
            refusals: refused,
            resources: kinds.flatMap(({ kind, items }) => items.map((r) => ({ kind, name: r.metadata.name, ready: readyOf(r), generation: r.metadata.generation ?? 1, observedGeneration: r.status?.observedGeneration ?? null }))),
          },
        };
      },
    }),
  ];
}
