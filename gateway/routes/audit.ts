// The audit log, for admin and privacy roles: who read, wrote or exported what, newest first.
import { chTime } from '../../lib/clickhouse.ts';
import { ROLES } from '../access/roles.ts';
import type { GatewayContext } from '../context.ts';
import { invalid } from '../http/errors.ts';
import { CURSOR, LIMIT, NEXT_CURSOR, decodeCursor, encodeCursor, operation, type JsonSchema } from '../http/operation.ts';

const KINDS = ['read', 'write', 'export'];

const AUDIT_RECORD: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['at', 'requestId', 'apiKey', 'keyId', 'role', 'operation', 'kind', 'method', 'route', 'target', 'status', 'ip', 'userAgent'],
  properties: {
    at: { type: 'string', format: 'date-time' },
    requestId: { type: 'string', description: 'X-Request-Id of the call.' },
    apiKey: { type: 'string', description: 'Name of the ApiKey resource.' },
    keyId: { type: 'string', description: "First characters of the key's SHA-256 (never the key)." },
    role: { type: 'string', enum: [...ROLES] },
    operation: { type: 'string', description: 'operationId of the call.' },
    kind: { type: 'string', enum: KINDS },
    method: { type: 'string' },
    route: { type: 'string', description: 'The path template, never the URL (URLs carry identities).' },
    target: { type: 'string', description: 'What the call was about: a profile id, a Segment name (never an email); empty when the call failed before it was known.' },
    status: { type: 'integer' },
    ip: { type: 'string' },
    userAgent: { type: 'string' },
  },
};

/** Position of the last row of a page: (at, request_id), the table's order. */
const POSITION: JsonSchema = {
  required: ['at', 'id'],
  properties: { at: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}(\\.\\d{1,3})?$' }, id: { type: 'string', maxLength: 128 } },
};

interface Query {
  apiKey?: string;
  operation?: string;
  kind?: string;
  target?: string;
  since?: string;
  until?: string;
  limit: number;
  cursor?: string;
}

interface Row {
  at_text: string;
  request_id: string;
  api_key: string;
  key_id: string;
  role: string;
  operation: string;
  kind: string;
  method: string;
  route: string;
  target: string;
  status: number;
  ip: string;
  user_agent: string;
}

/** A time of the query or cursor as ClickHouse UTC text, within DateTime64's years. */
function utc(value: string, field: string, message = 'is not a date-time between 1900 and 2299'): string {
  const ms = Date.parse(value);
  const year = new Date(ms).getUTCFullYear();
  if (Number.isNaN(ms) || year < 1900 || year > 2299) throw invalid(field, message);
  return chTime(new Date(ms).toISOString());
}

export function auditOperations(ctx: GatewayContext) {
  return [
    operation<Record<string, never>, Query>({
      id: 'listAudit',
      method: 'get',
      path: '/v1/audit',
      summary: 'The audit log: reads of personal data, writes and exports, newest first',
      description: 'One record per audited call that reached its handler, whatever its status (a 404 of a profile read is recorded, an export the client cut off is status 499; a call refused before it — 401, 403, 429, 400 — touched no data and is not). Records hold who, which key id, what operation and target id, when, from where and the status — never the data nor a key. Records are written in batches: a call shows up within about a second.',
      tag: 'audit',
      permission: 'audit:read',
      query: {
        properties: {
          apiKey: { type: 'string', maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$', description: 'Only calls with this ApiKey (its name).' },
          operation: { type: 'string', maxLength: 128, pattern: '^[A-Za-z][\\w.-]*$', description: 'Only this operationId.' },
          kind: { type: 'string', enum: KINDS, description: 'Only reads, writes or exports.' },
          target: { type: 'string', minLength: 1, maxLength: 512, description: 'Only calls about this target (a profile id, a Segment name).' },
          since: { type: 'string', format: 'date-time', description: 'Only calls at or after this time.' },
          until: { type: 'string', format: 'date-time', description: 'Only calls before this time.' },
          limit: LIMIT(1000, 100),
          cursor: CURSOR,
        },
      },
      responses: {
        200: {
          description: 'A page of audit records, newest first.',
          schema: { type: 'object', additionalProperties: false, required: ['items', 'next_cursor'], properties: { items: { type: 'array', items: AUDIT_RECORD }, next_cursor: NEXT_CURSOR } },
        },
      },
      async handler({ query }) {
        const after = decodeCursor<{ at: string; id: string }>(query.cursor, POSITION);
        // Each filter is a fixed condition with its value as a query parameter.
        const where: string[] = [];
        const params: Record<string, unknown> = { limit: query.limit + 1 };
        const filter = (name: keyof Query, sql: string, value: unknown) => {
          if (query[name] === undefined) return;
          where.push(sql);
          params[name] = value;
        };
        filter('apiKey', 'api_key = {apiKey:String}', query.apiKey);
        filter('operation', 'operation = {operation:String}', query.operation);
        filter('kind', 'kind = {kind:String}', query.kind);
        filter('target', 'target = {target:String}', query.target);
        filter('since', "at >= {since:DateTime64(3, 'UTC')}", query.since && utc(query.since, 'query.since'));
        filter('until', "at < {until:DateTime64(3, 'UTC')}", query.until && utc(query.until, 'query.until'));
        if (after) {
          where.push("(at, request_id) < ({afterAt:DateTime64(3, 'UTC')}, {afterId:String})");
          Object.assign(params, { afterAt: utc(`${after.at.replace(' ', 'T')}Z`, 'query.cursor', 'is not a cursor this API returned'), afterId: after.id });
        }
        const rows = await ctx.warehouse.query<Row>(
          `SELECT toString(at) AS at_text, request_id, api_key, key_id, role, operation, kind, method, route, target, status, ip, user_agent
           FROM {db}.api_audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
           ORDER BY at DESC, request_id DESC LIMIT {limit:UInt32}`,
          params,
        );
        const page = rows.slice(0, query.limit);
        const last = page[page.length - 1];
        return {
          body: {
            items: page.map((r) => ({
              at: `${r.at_text.replace(' ', 'T')}Z`,
              requestId: r.request_id,
              apiKey: r.api_key,
              keyId: r.key_id,
              role: r.role,
              operation: r.operation,
              kind: r.kind,
              method: r.method,
              route: r.route,
              target: r.target,
              status: Number(r.status),
              ip: r.ip,
              userAgent: r.user_agent,
            })),
            next_cursor: rows.length > query.limit && last ? encodeCursor({ at: last.at_text, id: last.request_id }) : null,
          },
        };
      },
    }),
  ];
}
