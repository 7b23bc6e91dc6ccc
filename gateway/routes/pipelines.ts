// Pipelines: their status and lag as the operator reports it on the resource, their dead letters
// with causes, and replay — the same replay as `uspa dlq replay` (lib/dead-letters.ts).
import { pipelineCrd, type PipelineSpec, type PipelineStatus } from '../../api/v1alpha1/index.ts';
import { FILTER, filterParams, loadReplayPlan, PENDING, replayGroups, sendReplay, type DeadLetterFilter } from '../../lib/dead-letters.ts';
import { BatchingProducer } from '../../lib/kafka.ts';
import type { GatewayContext } from '../context.ts';
import { invalid } from '../http/errors.ts';
import { CURSOR, decodeCursor, encodeCursor, LIMIT, NEXT_CURSOR, operation, type JsonSchema, type Operation } from '../http/operation.ts';
import { fromKubernetes } from '../kubernetes/errors.ts';
import { CustomResources, type CustomResource } from '../kubernetes/resources.ts';

type Pipeline = CustomResource<PipelineSpec, PipelineStatus>;

const NAME: JsonSchema = { type: 'string', minLength: 1, maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$', description: 'Name of the Pipeline.' };
const SOURCE: JsonSchema = { type: 'string', minLength: 1, maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$', description: 'Only dead letters of this Source (one of the Pipeline\'s).' };
const REASON: JsonSchema = { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$', description: 'Only dead letters with this reason, e.g. tracking_plan_violation.' };
const SINCE: JsonSchema = { type: 'string', format: 'date-time', description: 'Only dead letters that failed at or after this time (RFC 3339).' };
const UNTIL: JsonSchema = { type: 'string', format: 'date-time', description: 'Only dead letters that failed at or before this time (RFC 3339).' };

const CONDITION: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'status', 'reason', 'message'],
  properties: { type: { type: 'string' }, status: { type: 'string', enum: ['True', 'False', 'Unknown'] }, reason: { type: 'string' }, message: { type: 'string' }, lastTransitionTime: { type: 'string', format: 'date-time' } },
};

const DEAD_LETTER_COUNTS: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['total', 'pending', 'lastFailedAt'],
  properties: {
    total: { type: 'integer', minimum: 0, description: "Dead letters of the Pipeline's Sources." },
    pending: { type: 'integer', minimum: 0, description: 'Of those, the ones a replay would still send (not replayed before).' },
    lastFailedAt: { type: ['string', 'null'], format: 'date-time' },
  },
};

const PIPELINE: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'generation', 'sources', 'suspend', 'status', 'deadLetters'],
  properties: {
    name: { type: 'string' },
    generation: { type: 'integer', minimum: 1 },
    sources: { type: 'array', items: { type: 'string' } },
    suspend: { type: 'boolean' },
    status: {
      type: 'object',
      additionalProperties: false,
      required: ['conditions'],
      description: 'As the operator reports it on the resource.',
      properties: {
        conditions: { type: 'array', items: CONDITION },
        observedGeneration: { type: 'integer', minimum: 0 },
        consumerLag: { type: 'integer', minimum: 0, description: "Events in the Sources' topics not processed yet." },
        lagUpdatedAt: { type: 'string', format: 'date-time' },
        replicas: { type: 'integer', minimum: 0 },
        readyReplicas: { type: 'integer', minimum: 0 },
        apiUrl: { type: 'string' },
      },
    },
    deadLetters: DEAD_LETTER_COUNTS,
  },
};

const DEAD_LETTER: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['failedAt', 'stage', 'source', 'reason', 'errors', 'messageId', 'topic', 'partition', 'offset', 'replayed'],
  properties: {
    failedAt: { type: 'string', format: 'date-time' },
    stage: { type: 'string', description: 'Where it failed: collector, or pipeline:<name>.' },
    source: { type: 'string' },
    reason: { type: 'string', description: 'The cause, e.g. tracking_plan_violation, invalid_json, invalid_event.' },
    errors: { type: 'array', items: { type: 'string' }, description: 'What was wrong, field by field.' },
    messageId: { type: 'string', description: 'Empty when the input had none (it cannot be replayed).' },
    topic: { type: 'string', description: 'Where the record was read.' },
    partition: { type: 'integer' },
    offset: { type: 'string' },
    replayed: { type: 'boolean', description: 'Whether a replay has sent it through again.' },
    payload: { description: 'What was received (personal data): only for roles that see identifiers.' },
  },
};

const GROUP: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['source', 'reason', 'count', 'messageIds'],
  properties: { source: { type: 'string' }, reason: { type: 'string' }, count: { type: 'integer', minimum: 1 }, messageIds: { type: 'array', items: { type: 'string' }, description: 'The first few.' }, why: { type: 'string', description: 'Why they are skipped.' } },
};

/** ClickHouse DateTime64 text (UTC) → RFC 3339. */
function iso(text: string): string {
  return `${text.replace(' ', 'T')}Z`;
}

function summary(p: Pipeline, counts: { total: number; pending: number; lastFailedAt: string | null }) {
  const s = p.status ?? {};
  const status: Record<string, unknown> = {
    conditions: (s.conditions ?? []).map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message, ...(c.lastTransitionTime ? { lastTransitionTime: new Date(c.lastTransitionTime as unknown as string).toISOString() } : {}) })),
  };
  for (const k of ['observedGeneration', 'consumerLag', 'lagUpdatedAt', 'replicas', 'readyReplicas', 'apiUrl'] as const) if (s[k] !== undefined) status[k] = s[k];
  return { name: p.metadata!.name!, generation: p.metadata!.generation ?? 1, sources: p.spec.sources ?? [], suspend: p.spec.suspend ?? false, status, deadLetters: counts };
}

export function pipelineOperations(ctx: GatewayContext): Operation[] {
  // Made at the first call: the operations are also declared without engines (the OpenAPI document).
  let made: CustomResources<Pipeline> | undefined;
  const pipelines = () => (made ??= new CustomResources<Pipeline>(ctx.kc, ctx.namespace, pipelineCrd.spec.names.kind, pipelineCrd.spec.names.plural));

  const pipeline = async (name: string) => {
    try {
      return await pipelines().get(name);
    } catch (err) {
      throw fromKubernetes(err, `Pipeline ${name}`);
    }
  };

  /** Dead-letter counts per Source. */
  const counts = async (sources: string[]) => {
    const rows = await ctx.warehouse.query<{ source: string; total: string; pending: string; last: string }>(
      `SELECT source, uniqExact(topic, partition, offset) AS total, uniqExactIf(message_id, ${PENDING}) AS pending, toString(max(failed_at)) AS last
       FROM {db}.dead_letters WHERE has({sources:Array(String)}, source) GROUP BY source`,
      { sources },
    );
    return new Map(rows.map((r) => [r.source, { total: Number(r.total), pending: Number(r.pending), last: iso(r.last) }]));
  };
  const countsOf = (p: Pipeline, bySource: Map<string, { total: number; pending: number; last: string }>) => {
    let total = 0;
    let pending = 0;
    let last: string | null = null;
    for (const s of p.spec.sources ?? []) {
      const c = bySource.get(s);
      if (!c) continue;
      total += c.total;
      pending += c.pending;
      if (!last || c.last > last) last = c.last;
    }
    return { total, pending, lastFailedAt: last };
  };

  /** The filter's Source must be one of the Pipeline's. */
  const sourceOf = (p: Pipeline, source: string | undefined, field: string) => {
    if (source !== undefined && !(p.spec.sources ?? []).includes(source)) throw invalid(field, `is not a Source of Pipeline ${p.metadata!.name} (its Sources: ${(p.spec.sources ?? []).join(', ')})`);
    return source;
  };

  // One replay at a time in this process, so two concurrent calls cannot send a letter twice.
  let replaying: Promise<unknown> = Promise.resolve();

  const params = { type: 'object', required: ['name'], properties: { name: NAME } };
  return [
    operation({
      id: 'listPipelines',
      method: 'get',
      path: '/v1/pipelines',
      summary: "The namespace's Pipelines: Sources, status, lag and dead-letter counts",
      tag: 'pipelines',
      permission: 'pipelines:read',
      responses: { 200: { description: 'Every Pipeline of the namespace (a handful: no pages).', schema: { type: 'object', additionalProperties: false, required: ['items'], properties: { items: { type: 'array', items: PIPELINE } } } } },
      async handler() {
        let items: Pipeline[];
        try {
          items = (await pipelines().list()).items;
        } catch (err) {
          throw fromKubernetes(err, 'Pipelines');
        }
        const bySource = await counts([...new Set(items.flatMap((p) => p.spec.sources ?? []))]);
        return { body: { items: items.map((p) => summary(p, countsOf(p, bySource))) } };
      },
    }),
    operation<{ name: string }>({
      id: 'getPipeline',
      method: 'get',
      path: '/v1/pipelines/{name}',
      summary: 'One Pipeline: Sources, status, lag and dead-letter counts',
      tag: 'pipelines',
      permission: 'pipelines:read',
      params,
      responses: { 200: { description: 'The Pipeline.', schema: PIPELINE } },
      async handler({ params: { name } }) {
        const p = await pipeline(name);
        return { body: summary(p, countsOf(p, await counts(p.spec.sources ?? []))) };
      },
    }),
    operation<{ name: string }, { source?: string; reason?: string; since?: string; until?: string; replayed?: boolean; limit: number; cursor?: string }>({
      id: 'listDeadLetters',
      method: 'get',
      path: '/v1/pipelines/{name}/dead-letters',
      summary: "Dead letters of the Pipeline's Sources, newest first, with their causes",
      description: 'Payloads are what was received, i.e. personal data: they are included only for roles that see identifiers; for the others payload is left out and payloadNote says so.',
      tag: 'pipelines',
      permission: 'pipelines:read',
      audit: 'read',
      params,
      query: { type: 'object', properties: { source: SOURCE, reason: REASON, since: SINCE, until: UNTIL, replayed: { type: 'boolean', description: 'true: only replayed ones; false: only those a replay would still send.' }, limit: LIMIT(1000, 100), cursor: CURSOR } },
      responses: {
        200: {
          description: 'A page of dead letters.',
          schema: { type: 'object', additionalProperties: false, required: ['items', 'next_cursor'], properties: { items: { type: 'array', items: DEAD_LETTER }, next_cursor: NEXT_CURSOR, payloadNote: { type: 'string' } } },
        },
      },
      async handler({ params: { name }, query, identifiers, subject }) {
        subject(`Pipeline/${name}`);
        const after = decodeCursor<{ t: string; tp: string; p: number; o: string }>(query.cursor, {
          required: ['t', 'tp', 'p', 'o'],
          properties: { t: { type: 'string', pattern: '^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d(\\.\\d{1,3})?$' }, tp: { type: 'string', maxLength: 255 }, p: { type: 'integer', minimum: 0, maximum: 2147483647 }, o: { type: 'string', pattern: '^\\d{1,20}$' } },
        });
        const p = await pipeline(name);
        const filter: DeadLetterFilter = { source: sourceOf(p, query.source, 'query.source'), reason: query.reason, since: query.since, until: query.until, sources: p.spec.sources ?? [] };
        const replayed = '(source, message_id) IN (SELECT source, message_id FROM {db}.dead_letter_replays)';
        const rows = await ctx.warehouse.query<{ failed_at: string; stage: string; source: string; reason: string; errors: string[]; message_id: string; topic: string; partition: number; offset: string; replayed: number; payload?: string }>(
          `SELECT failed_at, stage, source, reason, errors, message_id, topic, partition, offset, ${replayed} AS replayed${identifiers ? ', payload' : ''}
           FROM {db}.dead_letters
           WHERE ${FILTER}
             AND ({replayed:String} = '' OR ${replayed} = ({replayed:String} = 'true'))
             AND (NOT {after:Bool} OR (failed_at, topic, partition, offset) < (parseDateTime64BestEffort({t:String}, 3), {tp:String}, {p:Int32}, {o:String}))
           ORDER BY failed_at DESC, topic DESC, partition DESC, offset DESC
           LIMIT 1 BY failed_at, topic, partition, offset
           LIMIT {n:UInt32}`,
          { ...filterParams(filter), replayed: query.replayed === undefined ? '' : String(query.replayed), after: Boolean(after), t: after?.t ?? '1970-01-01 00:00:00', tp: after?.tp ?? '', p: after?.p ?? 0, o: after?.o ?? '', n: query.limit + 1 },
        );
        const page = rows.slice(0, query.limit);
        const last = page.at(-1);
        const items = page.map((r) => {
          const item: Record<string, unknown> = { failedAt: iso(r.failed_at), stage: r.stage, source: r.source, reason: r.reason, errors: r.errors, messageId: r.message_id, topic: r.topic, partition: Number(r.partition), offset: r.offset, replayed: Boolean(Number(r.replayed)) };
          if (r.payload !== undefined) {
            try {
              item.payload = JSON.parse(r.payload);
            } catch {
              item.payload = r.payload;
            }
          }
          return item;
        });
        return {
          body: {
            items,
            next_cursor: rows.length > query.limit && last ? encodeCursor({ t: last.failed_at, tp: last.topic, p: Number(last.partition), o: last.offset }) : null,
            ...(identifiers ? {} : { payloadNote: "payloads are left out: they are personal data, and this key's role does not see identifiers" }),
          },
        };
      },
    }),
    operation<{ name: string }, Record<string, never>, { source?: string; reason?: string; since?: string; until?: string; messageIds?: string[]; dryRun?: boolean }>({
      id: 'replayDeadLetters',
      method: 'post',
      path: '/v1/pipelines/{name}/dead-letters/replay',
      summary: "Send the Pipeline's dead letters through again, after a fix (as uspa dlq replay)",
      description: "One, a selection (messageIds) or every dead letter matching a filter: each matching dead letter not replayed before goes back to its Source's topic once and is recorded as replayed; letters without an event (unparseable input) are skipped with why. dryRun: only say what would happen.",
      tag: 'pipelines',
      permission: 'pipelines:replay',
      audit: 'write',
      params,
      body: {
        type: 'object',
        additionalProperties: false,
        properties: {
          source: SOURCE,
          reason: REASON,
          since: SINCE,
          until: UNTIL,
          messageIds: { type: 'array', minItems: 1, maxItems: 1000, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 200 }, description: 'Only these dead letters (one, or a selection), by message id; combined with the other filters.' },
          dryRun: { type: 'boolean', default: false },
        },
      },
      responses: {
        200: {
          description: 'What was replayed (or, with dryRun, what would be) and what was skipped, per Source and cause.',
          schema: {
            type: 'object',
            additionalProperties: false,
            required: ['dryRun', 'replayed', 'skipped', 'groups'],
            properties: {
              dryRun: { type: 'boolean' },
              replayed: { type: 'integer', minimum: 0, description: 'Events sent (with dryRun: that would be sent).' },
              skipped: { type: 'integer', minimum: 0 },
              groups: { type: 'object', additionalProperties: false, required: ['replayed', 'skipped'], properties: { replayed: { type: 'array', items: GROUP }, skipped: { type: 'array', items: GROUP } } },
            },
          },
        },
      },
      async handler({ params: { name }, body, subject }) {
        subject(`Pipeline/${name}`);
        const p = await pipeline(name);
        const sources = p.spec.sources ?? [];
        const filter: DeadLetterFilter = { source: sourceOf(p, body.source, 'body.source'), reason: body.reason, since: body.since, until: body.until, messageIds: body.messageIds, sources };
        const run = replaying.then(async () => {
          const plan = await loadReplayPlan(ctx.warehouse, filter, (s) => (sources.includes(s) ? ctx.topics.source(s) : undefined));
          if (body.dryRun || plan.ready.length === 0) return plan;
          const producer = new BatchingProducer(ctx.kafka);
          await producer.connect();
          try {
            await sendReplay(plan, ctx.warehouse, producer);
          } finally {
            await producer.disconnect();
          }
          return plan;
        });
        replaying = run.catch(() => undefined);
        const plan = await run;
        const groups = (items: Parameters<typeof replayGroups>[0]) => replayGroups(items).map(({ ids, ...g }) => ({ ...g, messageIds: ids }));
        return { body: { dryRun: Boolean(body.dryRun), replayed: plan.ready.length, skipped: plan.skipped.length, groups: { replayed: groups(plan.ready), skipped: groups(plan.skipped) } } };
      },
    }),
  ];
}
