// A profile's identity graph: every link that joined its identities (with the rule, event and time
// that made it), refused merges and undone links; and unmerge, which asks the Pipeline's worker
// (the graph's only writer) to undo one link, as `uspa identity unmerge` does, and waits for it.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { UnmergeCommand } from '../../api/control.ts';
import { redactIdentity } from '../access/fields.ts';
import type { GatewayContext } from '../context.ts';
import { ApiError, invalid, notFound } from '../http/errors.ts';
import { operation, type JsonSchema, type Operation } from '../http/operation.ts';
import { isoTime } from '../segments/queries.ts';
import { loadProfile } from './profiles.ts';
import { IDENTITY_PARAM } from './recommendations.ts';

const TIME: JsonSchema = { type: 'string', format: 'date-time' };
const UNMERGE_WAIT_MS = 30_000;

const EDGE: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'a', 'b', 'action', 'rule', 'messageId', 'eventTime', 'recordedAt', 'reason', 'undoes', 'mergeFrom', 'mergeInto', 'undone'],
  properties: {
    id: { type: 'string' },
    a: { type: 'string', description: 'An identity ("[redacted]" for email/phone without identifiers).' },
    b: { type: 'string' },
    action: { type: 'string', description: 'link (joined a and b), refused (a merge over the limit), unlink (an undo), unlink_failed.' },
    rule: { type: 'string', description: 'What linked them: identify, alias, an event carrying both …' },
    messageId: { type: 'string', description: 'The event that made the link.' },
    eventTime: TIME,
    recordedAt: TIME,
    reason: { type: 'string' },
    undoes: { type: 'string', description: 'For an unlink: the link it undid.' },
    mergeFrom: { type: 'string', description: 'For a link that merged two profiles: the profile folded away.' },
    mergeInto: { type: 'string' },
    undone: { type: 'boolean', description: 'Whether a later unlink undid this link.' },
  },
};

interface EdgeRow {
  id: string;
  a: string;
  b: string;
  action: string;
  rule: string;
  message_id: string;
  event_at: string;
  recorded: string;
  reason: string;
  undoes: string;
  merge_from: string;
  merge_into: string;
}

// Aliases differ from the columns, so WHERE and ORDER BY compare times, not text.
const EDGE_COLUMNS = 'id, a, b, action, rule, message_id, toString(event_time) AS event_at, toString(recorded_at) AS recorded, reason, undoes, merge_from, merge_into';

function edgeView(r: EdgeRow, identifiers: boolean, undone: Set<string>) {
  const shown = (identity: string) => (identifiers ? identity : redactIdentity(identity));
  return { id: r.id, a: shown(r.a), b: shown(r.b), action: r.action, rule: r.rule, messageId: r.message_id, eventTime: isoTime(r.event_at), recordedAt: isoTime(r.recorded), reason: r.reason, undoes: r.undoes, mergeFrom: r.merge_from, mergeInto: r.merge_into, undone: undone.has(r.id) };
}

export function identityOperations(ctx: GatewayContext): Operation[] {
  const edgesOf = async (identities: string[]) =>
    ctx.warehouse.query<EdgeRow>(`SELECT ${EDGE_COLUMNS} FROM {db}.identity_edges FINAL WHERE a IN {ids:Array(String)} OR b IN {ids:Array(String)} ORDER BY event_time, id LIMIT 1000`, { ids: identities });

  return [
    operation<{ identity: string }, Record<string, never>>({
      id: 'listProfileMerges',
      method: 'get',
      path: '/v1/profiles/{identity}/merges',
      summary: "A profile's identity graph: the links that joined its identities, refused merges and undone links, oldest first",
      tag: 'profiles',
      permission: 'profiles:read',
      audit: 'read',
      params: IDENTITY_PARAM as never,
      responses: { 200: { description: 'The edges (at most 1000).', schema: { type: 'object', additionalProperties: false, required: ['profileId', 'edges'], properties: { profileId: { type: 'string' }, edges: { type: 'array', items: EDGE } } } } },
      async handler({ params: { identity }, identifiers, subject }) {
        const doc = await loadProfile(ctx, identity);
        subject(doc.profileId);
        const rows = await edgesOf(doc.identities);
        const undone = new Set(rows.filter((r) => r.action === 'unlink').map((r) => r.undoes));
        return { body: { profileId: doc.profileId, edges: rows.map((r) => edgeView(r, identifiers, undone)) } };
      },
    }),
    operation<{ identity: string }, Record<string, never>, { edgeId: string; reason: string; pipeline?: string }>({
      id: 'unmergeProfile',
      method: 'post',
      path: '/v1/profiles/{identity}/unmerge',
      summary: "Undo one link of a profile's identity graph (a wrong merge); answers once the Pipeline applied it",
      description: `The link's two sides become separate profiles again, each with the events and traits of its own identities. Waits up to ${UNMERGE_WAIT_MS / 1000} s for the Pipeline's worker to apply it (504 when it did not: it may still). A refused undo answers 409 with the worker's reason.`,
      tag: 'profiles',
      permission: 'identities:unmerge',
      audit: 'write',
      params: IDENTITY_PARAM as never,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['edgeId', 'reason'],
        properties: {
          edgeId: { type: 'string', minLength: 1, maxLength: 200, description: 'id of a link edge of this profile (GET …/merges).' },
          reason: { type: 'string', minLength: 1, maxLength: 500, description: 'Why: recorded on the undo.' },
          pipeline: { type: 'string', minLength: 1, maxLength: 253, description: 'The Pipeline whose worker applies it; needed only when the namespace has several.' },
        },
      },
      responses: {
        200: { description: 'The unlink edge the worker recorded.', schema: EDGE },
        409: { description: "The Pipeline's worker refused the undo (its reason is in the message).", schema: { $ref: '#/components/schemas/Error' } },
        504: { description: 'The worker did not apply it in time (it may still).', schema: { $ref: '#/components/schemas/Error' } },
      },
      async handler({ params: { identity }, body, subject }) {
        const doc = await loadProfile(ctx, identity);
        subject(doc.profileId);
        const names = ctx.config.pipelines.map((p) => p.name);
        const pipeline = body.pipeline ?? (names.length === 1 ? names[0] : undefined);
        if (!pipeline) throw invalid('body.pipeline', `is required: this namespace has several Pipelines (${names.join(', ')})`);
        if (!names.includes(pipeline)) throw invalid('body.pipeline', `is not a Pipeline of this namespace (its Pipelines: ${names.join(', ') || 'none'})`);
        const edge = (await edgesOf(doc.identities)).find((e) => e.id === body.edgeId);
        if (!edge) throw notFound(`profile ${doc.profileId} has no edge ${body.edgeId}; GET /v1/profiles/{identity}/merges lists its edges`, 'body.edgeId');
        if (edge.action !== 'link') throw invalid('body.edgeId', `is a ${edge.action} edge; only a link can be undone`);
        const command: UnmergeCommand = { kind: 'unmerge', requestId: randomUUID(), edgeId: body.edgeId, reason: body.reason, requestedAt: new Date().toISOString() };
        await (await ctx.producer()).send([{ topic: ctx.topics.control(pipeline), key: body.edgeId, value: JSON.stringify(command) }]);
        const deadline = Date.now() + UNMERGE_WAIT_MS;
        while (Date.now() < deadline) {
          const [answer] = await ctx.warehouse.query<EdgeRow>(
            `SELECT ${EDGE_COLUMNS} FROM {db}.identity_edges FINAL WHERE undoes = {edge:String} AND action IN ('unlink', 'unlink_failed') AND recorded_at >= parseDateTime64BestEffort({since:String}, 3) ORDER BY recorded_at DESC LIMIT 1`,
            { edge: body.edgeId, since: command.requestedAt },
          );
          if (answer?.action === 'unlink_failed') throw new ApiError(409, 'conflict', `the pipeline refused the unmerge: ${answer.reason}`, 'body.edgeId');
          if (answer) return { body: edgeView(answer, true, new Set()) };
          await sleep(300);
        }
        throw new ApiError(504, 'unavailable', `Pipeline ${pipeline} did not apply the unmerge within ${UNMERGE_WAIT_MS / 1000} s; it may still (is it running?)`);
      },
    }),
  ];
}
