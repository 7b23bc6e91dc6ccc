// Segments as readers see them: the resources with their current size, history and members.
// Members leave as a stream (NDJSON, CSV) straight from ClickHouse with backpressure, or in pages.
import { pipeline } from 'node:stream/promises';
import type { Response } from 'express';
import { Counter } from 'prom-client';
import { DNS1123_LABEL, SEGMENT_MODES, type Segment, type SegmentMode } from '../../api/v1alpha1/index.ts';
import type { GatewayContext } from '../context.ts';
import { ApiError, invalid, notFound } from '../http/errors.ts';
import { CURSOR, LIMIT, NEXT_CURSOR, decodeCursor, encodeCursor, operation, type JsonSchema, type Operation } from '../http/operation.ts';
import { SegmentReader } from '../segments/kube.ts';
import { liveStates } from '../../lib/segments/live.ts';
import { inDatabase, latestVersions, membersQuery, versionHistory, type MemberSource } from '../segments/queries.ts';
import { csvWriter, membersOf, ndjsonWriter, toMember, type Member } from '../segments/writers.ts';

const NAME: JsonSchema = { type: 'string', minLength: 1, maxLength: 63, pattern: DNS1123_LABEL, description: 'Name of the Segment resource.' };
const TIME: JsonSchema = { type: 'string', format: 'date-time' };

const SEGMENT_PROPERTIES = {
  name: { type: 'string' },
  description: { type: 'string' },
  mode: { type: 'string', enum: [...SEGMENT_MODES] },
  rule: { type: 'object', description: 'spec.rule as written.' },
  suspended: { type: 'boolean' },
  ready: {
    type: ['object', 'null'],
    description: "The Segment's Ready condition (null until the operator reported one).",
    additionalProperties: false,
    required: ['status', 'reason', 'message'],
    properties: { status: { type: 'string', enum: ['True', 'False', 'Unknown'] }, reason: { type: 'string' }, message: { type: 'string' }, lastTransitionTime: TIME },
  },
  computed: { type: 'boolean', description: 'false until a first version completed (realtime: or the pipeline evaluated it); members then answer 409.' },
  size: { type: ['integer', 'null'], minimum: 0, description: 'Current members: the newest version\'s size (batch), live members (realtime). null when not computed.' },
  version: { type: ['integer', 'null'], minimum: 1, description: 'Newest complete version.' },
  lastComputedAt: { type: ['string', 'null'], format: 'date-time', description: 'When the newest version was computed.' },
  createdAt: TIME,
} as const;
const SEGMENT_REQUIRED = ['name', 'mode', 'rule', 'suspended', 'ready', 'computed', 'size', 'version', 'lastComputedAt', 'createdAt'];
const SEGMENT: JsonSchema = { type: 'object', additionalProperties: false, required: SEGMENT_REQUIRED, properties: SEGMENT_PROPERTIES };

const VERSION_ITEM: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['version', 'size', 'computedAt'],
  properties: { version: { type: 'integer', minimum: 1 }, size: { type: 'integer', minimum: 0 }, computedAt: TIME },
};

const MEMBER: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['profileId'],
  properties: {
    profileId: { type: 'string' },
    identities: { type: 'array', items: { type: 'string' }, description: '"type:value"; email and phone values are "[redacted]" for roles without identifiers. [] for a profile merged away.' },
  },
};

type SegmentView = Record<string, unknown> & { name: string; mode: SegmentMode; computed: boolean; version: number | null };

/** A page of resources with what ClickHouse knows of them: two queries for the whole page. */
async function views(ctx: GatewayContext, segments: Segment[]): Promise<SegmentView[]> {
  const keys = segments.map((s) => `${ctx.namespace}/${s.metadata.name!}`);
  const realtime = segments.filter((s) => s.spec.mode === 'realtime').map((s) => `${ctx.namespace}/${s.metadata.name!}`);
  const [versions, live] = await Promise.all([latestVersions(ctx.warehouse, keys), liveStates(ctx.warehouse, realtime)]);
  return segments.map((s, i) => {
    const mode: SegmentMode = s.spec.mode ?? 'batch';
    const latest = versions.get(keys[i]!);
    const state = live.get(keys[i]!);
    const computed = Boolean(latest) || (mode === 'realtime' && (state?.profiles ?? 0) > 0);
    const ready = s.status?.conditions?.find((c) => c.type === 'Ready');
    return {
      name: s.metadata.name!,
      ...(s.spec.description ? { description: s.spec.description } : {}),
      mode,
      rule: s.spec.rule,
      suspended: Boolean(s.spec.suspend),
      ready: ready ? { status: ready.status, reason: ready.reason ?? '', message: ready.message ?? '', ...(ready.lastTransitionTime ? { lastTransitionTime: new Date(ready.lastTransitionTime).toISOString() } : {}) } : null,
      computed,
      size: !computed ? null : mode === 'realtime' ? (state?.members ?? 0) : latest!.size,
      version: latest?.version ?? null,
      lastComputedAt: latest?.computedAt ?? null,
      createdAt: new Date(s.metadata.creationTimestamp ?? 0).toISOString(),
    };
  });
}

async function segmentNamed(reader: SegmentReader, name: string): Promise<Segment> {
  const segment = await reader.get(name);
  if (!segment) throw notFound(`no Segment ${name} in this namespace; GET /v1/segments lists them`, 'path.name');
  return segment;
}

const FORMATS = ['json', 'ndjson', 'csv'] as const;
type Format = (typeof FORMATS)[number];

const CONTENT_TYPE: Record<Exclude<Format, 'json'>, string> = { ndjson: 'application/x-ndjson', csv: 'text/csv; charset=utf-8' };

export function segmentOperations(ctx: GatewayContext): Operation[] {
  // Made on first use: the operations are declared (and the document printed) without engines.
  let made: { reader: SegmentReader; exported: Counter; cut: Counter } | undefined;
  const engines = () =>
    (made ??= {
      reader: new SegmentReader(ctx.kc, ctx.namespace),
      exported: new Counter({ name: 'uspa_api_segment_members_exported_total', help: 'Segment members sent by member exports, by format', labelNames: ['format'], registers: [ctx.registry] }),
      cut: new Counter({ name: 'uspa_api_segment_exports_cut_total', help: 'Member exports the client closed before the end (their ClickHouse query was aborted)', labelNames: ['format'], registers: [ctx.registry] }),
    });

  const list = operation<Record<string, never>, { limit: number; cursor?: string }>({
    id: 'listSegments',
    method: 'get',
    path: '/v1/segments',
    summary: "The namespace's Segments with their current size",
    description: 'In name order. Size and version come from the newest complete computation (realtime Segments: the live membership).',
    tag: 'segments',
    permission: 'segments:read',
    query: { properties: { limit: LIMIT(1000, 100), cursor: CURSOR } },
    responses: {
      200: { description: 'A page of Segments.', schema: { type: 'object', additionalProperties: false, required: ['segments', 'next_cursor'], properties: { segments: { type: 'array', items: SEGMENT }, next_cursor: NEXT_CURSOR } } },
    },
    async handler({ query }) {
      const position = decodeCursor<{ k: string }>(query.cursor, { required: ['k'], properties: { k: { type: 'string', minLength: 1, maxLength: 1536 } } });
      const page = await engines().reader.list(query.limit, position?.k);
      return { body: { segments: await views(ctx, page.items), next_cursor: page.next ? encodeCursor({ k: page.next }) : null } };
    },
  });

  const get = operation<{ name: string }, { history_limit: number; cursor?: string }>({
    id: 'getSegment',
    method: 'get',
    path: '/v1/segments/{name}',
    summary: 'A Segment with its size history',
    description: 'history: computed versions newest first; next_cursor pages back through older ones.',
    tag: 'segments',
    permission: 'segments:read',
    params: { required: ['name'], properties: { name: NAME } },
    query: { properties: { history_limit: LIMIT(1000, 20), cursor: CURSOR } },
    responses: {
      200: {
        description: 'The Segment.',
        schema: { type: 'object', additionalProperties: false, required: [...SEGMENT_REQUIRED, 'history', 'next_cursor'], properties: { ...SEGMENT_PROPERTIES, history: { type: 'array', items: VERSION_ITEM }, next_cursor: NEXT_CURSOR } },
      },
      404: { description: 'No such Segment (error.field path.name).', schema: { $ref: '#/components/schemas/Error' } },
    },
    async handler({ params, query }) {
      const position = decodeCursor<{ b: number }>(query.cursor, { required: ['b'], properties: { b: { type: 'integer', minimum: 1 } } });
      const segment = await segmentNamed(engines().reader, params.name);
      const [[view], history] = await Promise.all([views(ctx, [segment]), versionHistory(ctx.warehouse, `${ctx.namespace}/${params.name}`, query.history_limit, position?.b)]);
      const last = history.versions.at(-1);
      return { body: { ...view, history: history.versions, next_cursor: history.more && last ? encodeCursor({ b: last.version }) : null } };
    },
  });

  const members = operation<{ name: string }, { format: Format; identities: boolean; limit?: number; cursor?: string }>({
    id: 'exportSegmentMembers',
    method: 'get',
    path: '/v1/segments/{name}/members',
    summary: "A Segment's current members: streamed as NDJSON or CSV, or paged JSON",
    description: [
      'format=ndjson streams one {profileId, identities} object a line; format=csv streams RFC 4180 CSV with a header row (profile_id, identities space-separated); both send every member of the newest version (realtime: the live membership) once and take neither limit nor cursor.',
      'format=json (default) answers pages in profile id order (limit ≤ 1000, next_cursor); a paged read stays on the version it began with.',
      'identities=false leaves identities out (faster). A Segment not computed yet answers 409 (error.field path.name) rather than an empty list that would look like an empty audience.',
      'Every call is written to the audit log as an export of the Segment.',
    ].join(' '),
    tag: 'segments',
    permission: 'segments:export',
    audit: 'export',
    params: { required: ['name'], properties: { name: NAME } },
    query: {
      properties: {
        format: { type: 'string', enum: [...FORMATS], default: 'json', description: 'json (paged), ndjson or csv (streamed).' },
        identities: { type: 'boolean', default: true, description: "Include each member's identities." },
        limit: { type: 'integer', minimum: 1, maximum: 1000, description: 'format=json: members per page, 1–1000 (default 100).' },
        cursor: { ...CURSOR, description: 'format=json: next_cursor of the previous page.' },
      },
    },
    responses: {
      200: {
        description: 'The members.',
        schema: {
          type: 'object',
          additionalProperties: false,
          required: ['segment', 'mode', 'version', 'members', 'next_cursor'],
          properties: { segment: { type: 'string' }, mode: { type: 'string', enum: [...SEGMENT_MODES] }, version: { type: ['integer', 'null'], description: 'The version read (null: realtime live membership).' }, members: { type: 'array', items: MEMBER }, next_cursor: NEXT_CURSOR },
        },
        content: { 'application/x-ndjson': MEMBER, 'text/csv': { type: 'string' } },
      },
      404: { description: 'No such Segment (error.field path.name).', schema: { $ref: '#/components/schemas/Error' } },
      409: { description: 'The Segment has not been computed yet (error.field path.name).', schema: { $ref: '#/components/schemas/Error' } },
    },
    async handler({ params, query, identifiers, res, subject }) {
      subject(params.name);
      if (query.format !== 'json') {
        if (query.limit !== undefined) throw invalid('query.limit', 'applies to format=json only: ndjson and csv stream every member');
        if (query.cursor !== undefined) throw invalid('query.cursor', 'applies to format=json only: ndjson and csv stream every member');
      }
      const cursor = decodeCursor<{ a: string; v?: number }>(query.cursor, { required: ['a'], properties: { a: { type: 'string', maxLength: 1024 }, v: { type: 'integer', minimum: 1 } } });
      const segment = await segmentNamed(engines().reader, params.name);
      const [view] = await views(ctx, [segment]);
      if (!view!.computed) throw new ApiError(409, 'conflict', `Segment ${params.name} has not been computed yet: its members are known after its first computation (GET /v1/segments/${params.name} shows computed and lastComputedAt)`, 'path.name');
      const key = `${ctx.namespace}/${params.name}`;
      let source: MemberSource;
      if (view!.mode === 'realtime') source = { mode: 'realtime', key };
      else {
        const version = cursor?.v ?? view!.version!;
        if (version > view!.version!) throw invalid('query.cursor', 'is not a cursor this API returned (pass next_cursor from the previous page as it is)');
        source = { mode: 'batch', key, version };
      }
      if (query.format === 'json') {
        const limit = query.limit ?? 100;
        const q = membersQuery(source, { identities: query.identities, page: { limit: limit + 1, ...(cursor ? { after: cursor.a } : {}) } });
        const rows = await ctx.warehouse.query<Member>(q.query, q.params);
        const page = rows.slice(0, limit).map((r) => toMember(r, identifiers));
        engines().exported.inc({ format: 'json' }, page.length);
        const next = rows.length > limit ? encodeCursor({ a: page.at(-1)!.profileId, ...(source.mode === 'batch' ? { v: source.version } : {}) }) : null;
        return { headers: { 'Cache-Control': 'no-store' }, body: { segment: params.name, mode: view!.mode, version: source.mode === 'batch' ? source.version : null, members: page, next_cursor: next } };
      }
      await stream(res, query.format, params.name, source, query.identities, identifiers);
      return 'streamed';
    },
  });

  async function stream(res: Response, format: 'ndjson' | 'csv', name: string, source: MemberSource, withIdentities: boolean, identifiers: boolean): Promise<void> {
    const q = membersQuery(source, { identities: withIdentities });
    // A client gone mid-export stops the ClickHouse query, not just our writing.
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    const cutShort = () => {
      engines().cut.inc({ format });
      ctx.log.info({ segment: name, format, sent, requestId: res.locals.requestId }, 'member export closed by the client; ClickHouse query aborted');
    };
    let sent = 0;
    let result;
    try {
      result = await ctx.warehouse.client.query({ query: inDatabase(ctx.warehouse, q.query), query_params: q.params, format: 'JSONEachRow', abort_signal: controller.signal });
    } catch (err) {
      if (!controller.signal.aborted) throw err;
      return cutShort();
    }
    res.status(200);
    res.setHeader('Content-Type', CONTENT_TYPE[format]);
    res.setHeader('Content-Disposition', `attachment; filename="${name}-members.${format}"`);
    res.setHeader('Cache-Control', 'no-store');
    if (source.mode === 'batch') res.setHeader('X-Segment-Version', String(source.version));
    const count = (n: number) => {
      sent += n;
      engines().exported.inc({ format }, n);
    };
    const writers = format === 'ndjson' ? [ndjsonWriter(withIdentities && !identifiers, count)] : [membersOf(identifiers, count), csvWriter(withIdentities)];
    try {
      await pipeline([result.stream(), ...writers, res]);
    } catch (err) {
      if (!controller.signal.aborted) throw err;
      cutShort();
    }
  }

  return [list, get, members];
}
