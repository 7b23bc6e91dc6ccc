// Sources as the dashboard shows them: their state, volume, tracking-plan violations, the snippet
// to paste (with the write key for roles that may see it) and a live tail of their newest events.
import { CoreV1Api } from '@kubernetes/client-node';
import { sourceCrd, SOURCE_DEFAULTS, type SourceSpec, type SourceStatus } from '../../api/v1alpha1/index.ts';
import { writeKeySecret } from '../../api/names.ts';
import { allows } from '../access/roles.ts';
import type { GatewayContext } from '../context.ts';
import { decodeCursor, encodeCursor, LIMIT, operation, type JsonSchema, type Operation } from '../http/operation.ts';
import { fromKubernetes } from '../kubernetes/errors.ts';
import { CustomResources, type CustomResource } from '../kubernetes/resources.ts';
import { isoTime } from '../segments/queries.ts';
import { EVENT_COLUMNS, EVENT_SCHEMA, eventView, type EventRow } from './profiles.ts';
import { bucketSeconds, MINUTES, READY, readyOf, SERIES } from './overview.ts';

type Source = CustomResource<SourceSpec, SourceStatus>;

const NAME: JsonSchema = { type: 'string', minLength: 1, maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', description: 'Name of the Source.' };
const COUNT = { type: 'integer', minimum: 0 } as const;
const TIME: JsonSchema = { type: 'string', format: 'date-time' };
export const TRACKING_PLAN_VIOLATION = 'tracking_plan_violation';

const SUMMARY_PROPERTIES = {
  name: { type: 'string' },
  type: { type: 'string' },
  ready: READY,
  suspended: { type: 'boolean' },
  endpoint: { type: ['string', 'null'], description: 'Collector path that accepts its events.' },
  trackingPlan: { type: 'boolean', description: 'Whether it has a tracking plan.' },
  last24h: {
    type: 'object',
    additionalProperties: false,
    required: ['events', 'violations', 'deadLetters'],
    properties: { events: COUNT, violations: { ...COUNT, description: 'Events the tracking plan refused (dead letters of reason tracking_plan_violation).' }, deadLetters: COUNT },
  },
  lastEventAt: { type: ['string', 'null'], format: 'date-time', description: 'When the collector received its newest stored event.' },
} as const;
const SUMMARY_REQUIRED = Object.keys(SUMMARY_PROPERTIES);

const SOURCE: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: [...SUMMARY_REQUIRED, 'window', 'series', 'violations', 'collectorUrl', 'writeKey', 'writeKeyNote', 'snippet'],
  properties: {
    ...SUMMARY_PROPERTIES,
    window: { type: 'object', additionalProperties: false, required: ['from', 'to', 'bucketSeconds'], properties: { from: TIME, to: TIME, bucketSeconds: { type: 'integer' } } },
    series: SERIES,
    violations: {
      type: 'array',
      description: 'Tracking-plan violations in the window, by event and what was wrong, most frequent first (at most 50).',
      items: { type: 'object', additionalProperties: false, required: ['event', 'error', 'count', 'lastAt'], properties: { event: { type: 'string' }, error: { type: 'string' }, count: COUNT, lastAt: TIME } },
    },
    collectorUrl: { type: ['string', 'null'], description: 'Where the collector answers (null: not found).' },
    writeKey: { type: ['string', 'null'], description: 'Only for roles with sources:keys (admin); null otherwise.' },
    writeKeyNote: { type: 'string', description: 'Where the write key is, when it is not shown.' },
    snippet: { type: 'string', description: 'The HTML to paste into a page (web Sources), or a curl line (others).' },
  },
};

/** What to paste: the snippet for a web Source, a curl line for a server one. Pure, for its test. */
export function snippetFor(type: string, collectorUrl: string, writeKey: string): string {
  if (type === 'web') return `<script src="${collectorUrl}/uspa.js" data-write-key="${writeKey}" async></script>`;
  return `curl -u '${writeKey}:' -H 'content-type: application/json' -d '{"userId":"u-1","event":"Signed Up"}' ${collectorUrl}/v1/track`;
}

export function sourceOperations(ctx: GatewayContext): Operation[] {
  let made: { sources: CustomResources<Source>; core: CoreV1Api } | undefined;
  const engines = () => (made ??= { sources: new CustomResources<Source>(ctx.kc, ctx.namespace, sourceCrd.spec.names.kind, sourceCrd.spec.names.plural), core: ctx.kc.makeApiClient(CoreV1Api) });
  const sourceNamed = async (name: string) => {
    try {
      return await engines().sources.get(name);
    } catch (err) {
      throw fromKubernetes(err, `Source ${name}`);
    }
  };

  const last24h = async (names: string[]) => {
    const [events, dead] = await Promise.all([
      ctx.warehouse.query<{ source: string; n: string; last: string }>(
        'SELECT source, count() AS n, toString(max(received_at)) AS last FROM {db}.events WHERE received_at >= now64(3) - INTERVAL 1 DAY AND has({names:Array(String)}, source) GROUP BY source',
        { names },
      ),
      ctx.warehouse.query<{ source: string; n: string; v: string }>(
        'SELECT source, uniqExact(topic, partition, offset) AS n, uniqExactIf((topic, partition, offset), reason = {violation:String}) AS v FROM {db}.dead_letters WHERE failed_at >= now64(3) - INTERVAL 1 DAY AND has({names:Array(String)}, source) GROUP BY source',
        { names, violation: TRACKING_PLAN_VIOLATION },
      ),
    ]);
    // Older than a day: the newest event ever, so a quiet Source still says when it last spoke.
    const quiet = names.filter((n) => !events.some((e) => e.source === n));
    const older = quiet.length ? await ctx.warehouse.query<{ source: string; last: string }>('SELECT source, toString(max(received_at)) AS last FROM {db}.events WHERE has({names:Array(String)}, source) GROUP BY source', { names: quiet }) : [];
    return (name: string) => {
      const e = events.find((r) => r.source === name);
      const d = dead.find((r) => r.source === name);
      const last = e?.last ?? older.find((r) => r.source === name)?.last;
      return { last24h: { events: Number(e?.n ?? 0), violations: Number(d?.v ?? 0), deadLetters: Number(d?.n ?? 0) }, lastEventAt: last ? isoTime(last) : null };
    };
  };
  const summary = (s: Source, stats: ReturnType<Awaited<ReturnType<typeof last24h>>>) => ({
    name: s.metadata!.name!,
    type: s.spec.type,
    ready: readyOf(s as never),
    suspended: Boolean(s.spec.suspend),
    endpoint: s.status?.endpoint ?? null,
    trackingPlan: Boolean(s.spec.trackingPlan),
    ...stats,
  });

  return [
    operation<Record<string, never>, Record<string, never>>({
      id: 'listSources',
      method: 'get',
      path: '/v1/sources',
      summary: "The namespace's Sources with their state and last day's volume",
      tag: 'sources',
      permission: 'sources:read',
      responses: { 200: { description: 'Every Source, by name.', schema: { type: 'object', additionalProperties: false, required: ['sources'], properties: { sources: { type: 'array', items: { type: 'object', additionalProperties: false, required: SUMMARY_REQUIRED, properties: SUMMARY_PROPERTIES } } } } } },
      async handler() {
        const items: Source[] = [];
        let token: string | undefined;
        do {
          const page = await engines().sources.list(500, token);
          items.push(...page.items);
          token = page.continue;
        } while (token);
        items.sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!));
        const stats = await last24h(items.map((s) => s.metadata!.name!));
        return { body: { sources: items.map((s) => summary(s, stats(s.metadata!.name!))) } };
      },
    }),
    operation<{ name: string }, { minutes: number }>({
      id: 'getSource',
      method: 'get',
      path: '/v1/sources/{name}',
      summary: 'One Source: volume over time, tracking-plan violations and the snippet to paste',
      tag: 'sources',
      permission: 'sources:read',
      params: { type: 'object', required: ['name'], properties: { name: NAME } },
      query: { properties: { minutes: MINUTES } },
      responses: { 200: { description: 'The Source.', schema: SOURCE } },
      async handler({ params: { name }, query, caller }) {
        const s = await sourceNamed(name);
        const bucket = bucketSeconds(query.minutes);
        const to = new Date();
        const [stats, series, violations, collectorUrl] = await Promise.all([
          last24h([name]),
          ctx.warehouse.query<{ t: string; n: string }>(
            `SELECT toString(toStartOfInterval(received_at, INTERVAL {bucket:UInt32} SECOND)) AS t, count() AS n FROM {db}.events
             WHERE source = {name:String} AND received_at >= now64(3) - INTERVAL {minutes:UInt32} MINUTE GROUP BY t ORDER BY t`,
            { name, bucket, minutes: query.minutes },
          ),
          ctx.warehouse.query<{ event: string; error: string; n: string; last: string }>(
            `SELECT JSONExtractString(payload, 'event') AS event, arrayJoin(if(empty(errors), [''], errors)) AS error, count() AS n, toString(max(failed_at)) AS last
             FROM {db}.dead_letters WHERE source = {name:String} AND reason = {violation:String} AND failed_at >= now64(3) - INTERVAL {minutes:UInt32} MINUTE
             GROUP BY event, error ORDER BY n DESC LIMIT 50`,
            { name, violation: TRACKING_PLAN_VIOLATION, minutes: query.minutes },
          ),
          ctx.collectorUrl(),
        ]);
        const secretName = s.status?.writeKeySecret ?? s.spec.writeKeySecretRef?.name ?? writeKeySecret(name);
        const secretKey = s.spec.writeKeySecretRef?.key ?? SOURCE_DEFAULTS.writeKeySecretKey;
        let writeKey: string | null = null;
        let writeKeyNote = `the write key is in Secret ${secretName} (data key ${secretKey}); only admins see it here`;
        if (allows(caller.role, 'sources:keys')) {
          try {
            const secret = await engines().core.readNamespacedSecret({ name: secretName, namespace: ctx.namespace });
            const data = secret.data?.[secretKey];
            if (data) writeKey = Buffer.from(data, 'base64').toString('utf8');
            else writeKeyNote = `Secret ${secretName} has no data key ${secretKey}`;
          } catch (err) {
            writeKeyNote = `could not read Secret ${secretName}: ${fromKubernetes(err, `Secret ${secretName}`).message}`;
          }
        }
        const base = collectorUrl ?? 'https://<collector>';
        return {
          body: {
            ...summary(s, stats(name)),
            window: { from: new Date(to.getTime() - query.minutes * 60_000).toISOString(), to: to.toISOString(), bucketSeconds: bucket },
            series: series.map((r) => ({ t: isoTime(r.t), n: Number(r.n) })),
            violations: violations.map((v) => ({ event: v.event, error: v.error, count: Number(v.n), lastAt: isoTime(v.last) })),
            collectorUrl,
            writeKey,
            writeKeyNote: writeKey ? '' : writeKeyNote,
            snippet: snippetFor(s.spec.type, base, writeKey ?? 'WRITE_KEY'),
          },
        };
      },
    }),
    operation<{ name: string }, { limit: number; after?: string }>({
      id: 'tailSourceEvents',
      method: 'get',
      path: '/v1/sources/{name}/events',
      summary: "A Source's newest stored events, for a live view: poll with after = the previous answer's cursor",
      description: 'Newest first, by the time ClickHouse stored them. Without after: the newest limit events. With after: only those stored since (at most limit; more: the answer says truncated). Properties, traits and context are redacted for roles without identifiers, as in a profile timeline.',
      tag: 'sources',
      permission: 'sources:read',
      audit: 'read',
      params: { type: 'object', required: ['name'], properties: { name: NAME } },
      query: { properties: { limit: LIMIT(200, 50), after: { type: 'string', maxLength: 512, description: 'cursor of a previous answer.' } } },
      responses: {
        200: {
          description: 'The newest events.',
          schema: {
            type: 'object',
            additionalProperties: false,
            required: ['events', 'cursor', 'truncated'],
            properties: {
              events: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['storedAt', 'event'], properties: { storedAt: TIME, event: EVENT_SCHEMA } } },
              cursor: { type: 'string', description: 'Pass as after next time.' },
              truncated: { type: 'boolean', description: 'More events were stored since after than limit: the oldest of them are not in this answer.' },
            },
          },
        },
      },
      async handler({ params: { name }, query, identifiers, subject }) {
        subject(`Source/${name}`);
        const position = decodeCursor<{ t: string }>(query.after, { required: ['t'], properties: { t: { type: 'string', pattern: '^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d(\\.\\d{1,3})?$' } } }, 'query.after');
        await sourceNamed(name);
        // A day back at most: the live view is about now, and received_at bounds the scan.
        const rows = await ctx.warehouse.query<EventRow & { stored: string }>(
          `SELECT ${EVENT_COLUMNS}, toString(ingested_at) AS stored FROM {db}.events
           WHERE source = {name:String} AND received_at >= now64(3) - INTERVAL 1 DAY
             AND ingested_at > toDateTime64({after:String}, 3, 'UTC')
           ORDER BY ingested_at DESC, message_id DESC LIMIT 1 BY message_id LIMIT {take:UInt32}`,
          { name, after: position?.t ?? '1970-01-01 00:00:00', take: query.limit + 1 },
        );
        const page = rows.slice(0, query.limit);
        const newest = page[0]?.stored ?? position?.t;
        if (!newest && !position) {
          const [now] = await ctx.warehouse.query<{ t: string }>("SELECT toString(now64(3, 'UTC')) AS t");
          return { body: { events: [], cursor: encodeCursor({ t: now!.t }), truncated: false } };
        }
        return {
          body: {
            events: page.map((r) => ({ storedAt: isoTime(r.stored), event: eventView(r, identifiers) })),
            cursor: encodeCursor({ t: newest! }),
            truncated: Boolean(position) && rows.length > query.limit,
          },
        };
      },
    }),
  ];
}
