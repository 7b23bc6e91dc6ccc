// A profile's consent per purpose through the API: read (the state now and every recorded change)
// and recorded (a preference center). A recorded change is an event, a track "Segment Consent
// Preference Updated" on a Source's topic: the pipeline, the only writer of profiles, records it
// as it records consent from any other event, so history, profile and suppression stay one story.
import { randomUUID } from 'node:crypto';
import type { CanonicalEvent } from '../../api/event.ts';
import { CONSENT_UPDATED } from '../../lib/consent.ts';
import { isoTime } from '../profiles/clickhouse.ts';
import type { GatewayContext } from '../context.ts';
import { ApiError, invalid } from '../http/errors.ts';
import { operation, type Operation } from '../http/operation.ts';
import { loadProfile } from './profiles.ts';
import { IDENTITY_PARAM } from './recommendations.ts';

/** The consent purposes the namespace's Pipelines declare, with their descriptions (the first one given). */
export function declaredPurposes(ctx: GatewayContext): Map<string, string | null> {
  const declared = new Map<string, string | null>();
  for (const p of ctx.config.pipelines) for (const purpose of p.consent?.purposes ?? []) if (!declared.has(purpose.name)) declared.set(purpose.name, purpose.description ?? null);
  return declared;
}

export const declaresPurpose = (ctx: GatewayContext, purpose: string): boolean => declaredPurposes(ctx).has(purpose);

/**
 * The Source a recorded change goes through: the one named, else the first read by a Pipeline
 * declaring every purpose changed. Throws naming the field when there is none.
 */
export function consentSource(ctx: GatewayContext, purposes: readonly string[], named?: string): string {
  const fit = (source: string) => ctx.config.pipelines.some((p) => p.sources.includes(source) && purposes.every((x) => (p.consent?.purposes ?? []).some((d) => d.name === x)));
  if (named !== undefined) {
    if (!ctx.config.sources.some((s) => s.name === named)) throw invalid('body.source', `is not a Source of this namespace (${ctx.config.sources.map((s) => s.name).join(', ') || 'none'})`);
    if (!fit(named)) throw invalid('body.source', `is not read by a Pipeline that declares ${purposes.join(', ')}`);
    return named;
  }
  const found = ctx.config.sources.map((s) => s.name).find(fit);
  if (!found) throw invalid('body.purposes', `no Pipeline of this namespace declares ${purposes.join(', ')} and reads a Source`);
  return found;
}

/** The event that records the change: it carries the profile's strongest identity the pipeline knows by key. */
export function consentEvent(identities: readonly string[], purposes: Record<string, boolean>, source: string, now: Date, messageId: string): CanonicalEvent {
  const of = (type: string) => identities.find((i) => i.startsWith(`${type}:`))?.slice(type.length + 1);
  const userId = of('userId');
  const anonymousId = userId ? undefined : of('anonymousId');
  const other = userId || anonymousId ? undefined : identities[0];
  const traits = other ? { [other.slice(0, other.indexOf(':'))]: other.slice(other.indexOf(':') + 1) } : undefined;
  return {
    type: 'track',
    event: CONSENT_UPDATED,
    messageId,
    timestamp: now.toISOString(),
    receivedAt: now.toISOString(),
    source,
    ...(userId ? { userId } : {}),
    ...(anonymousId ? { anonymousId } : {}),
    properties: {},
    traits: {},
    context: { consent: { categoryPreferences: purposes }, library: { name: 'uspa-api' }, ...(traits ? { traits } : {}) },
    integrations: {},
  };
}

export function consentOperations(ctx: GatewayContext): Operation[] {
  const read = operation<{ identity: string }>({
    id: 'getProfileConsent',
    method: 'get',
    path: '/v1/profiles/{identity}/consent',
    summary: "A profile's consent per purpose, and every change of it",
    description:
      'The purposes the namespace\'s Pipelines declare (spec.consent.purposes), each granted, denied or unknown (unknown is no consent) as the profile holds it now, and the history of statements recorded for the profile\'s identities, newest first (at most 1000): when, granted or not, from which Source and channel (context: context.consent.categoryPreferences; traits: consent traits).',
    tag: 'profiles',
    permission: 'profiles:read',
    audit: 'read',
    params: IDENTITY_PARAM as never,
    responses: {
      200: {
        description: 'Consent now, and its history.',
        schema: {
          type: 'object',
          additionalProperties: false,
          required: ['profileId', 'purposes', 'history'],
          properties: {
            profileId: { type: 'string' },
            purposes: {
              type: 'array',
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['name', 'description', 'state'],
                properties: { name: { type: 'string' }, description: { type: ['string', 'null'] }, state: { type: 'string', enum: ['granted', 'denied', 'unknown'] } },
              },
            },
            history: {
              type: 'array',
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['purpose', 'granted', 'at', 'source', 'channel', 'messageId'],
                properties: { purpose: { type: 'string' }, granted: { type: 'boolean' }, at: { type: 'string', format: 'date-time' }, source: { type: 'string' }, channel: { type: 'string', enum: ['context', 'traits'] }, messageId: { type: 'string' } },
              },
            },
          },
        },
      },
    },
    async handler({ params, subject }) {
      const doc = await loadProfile(ctx, params.identity);
      subject(doc.profileId);
      const declared = declaredPurposes(ctx);
      const rows = await ctx.warehouse.query<{ purpose: string; granted: number; at: string; source: string; channel: 'context' | 'traits'; message_id: string }>(
        `SELECT purpose, granted, toString(at) AS at, source, channel, message_id FROM {db}.consent_history FINAL
         WHERE identity IN {identities:Array(String)} ORDER BY at DESC, message_id DESC LIMIT 1000`,
        { identities: doc.identities },
      );
      const state = (name: string) => (doc.consent[name] === true ? 'granted' : doc.consent[name] === false ? 'denied' : 'unknown');
      return {
        body: {
          profileId: doc.profileId,
          purposes: [...declared].map(([name, description]) => ({ name, description, state: state(name) })),
          history: rows.map((r) => ({ purpose: r.purpose, granted: Number(r.granted) === 1, at: isoTime(r.at), source: r.source, channel: r.channel, messageId: r.message_id })),
        },
      };
    },
  });

  const record = operation<{ identity: string }, Record<string, never>, { purposes: Record<string, boolean>; source?: string }>({
    id: 'recordProfileConsent',
    method: 'put',
    path: '/v1/profiles/{identity}/consent',
    summary: "Record a change of a profile's consent (a preference center)",
    description:
      'Each purpose named is granted (true) or withdrawn (false); others stay as they are. The change is sent as a track "Segment Consent Preference Updated" through a Source (the one named, else the first read by a Pipeline declaring the purposes) and recorded by the pipeline like consent from any event: GET of the same path shows it within seconds. 202: accepted by Kafka.',
    tag: 'profiles',
    permission: 'consent:write',
    audit: 'write',
    params: IDENTITY_PARAM as never,
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['purposes'],
      properties: {
        purposes: { type: 'object', minProperties: 1, maxProperties: 32, additionalProperties: { type: 'boolean' }, description: 'Purpose → granted, e.g. {"marketing": false}.' },
        source: { type: 'string', minLength: 1, maxLength: 63, description: 'The Source to send the change through (default: the first fit).' },
      },
    },
    responses: {
      202: {
        description: 'The change is on its way to the pipeline.',
        schema: { type: 'object', additionalProperties: false, required: ['profileId', 'messageId', 'source', 'purposes'], properties: { profileId: { type: 'string' }, messageId: { type: 'string' }, source: { type: 'string' }, purposes: { type: 'object', additionalProperties: { type: 'boolean' } } } },
      },
      400: { description: 'A purpose the namespace does not declare, or no Source to send it through (error.field says which).', schema: { $ref: '#/components/schemas/Error' } },
    },
    async handler({ params, body, subject }) {
      const declared = declaredPurposes(ctx);
      for (const name of Object.keys(body.purposes)) {
        if (!declared.has(name)) throw invalid(`body.purposes.${name}`, `is not a purpose this namespace declares (${[...declared.keys()].join(', ') || 'none: declare them on a Pipeline, spec.consent.purposes'})`);
      }
      const doc = await loadProfile(ctx, params.identity);
      subject(doc.profileId);
      const source = consentSource(ctx, Object.keys(body.purposes), body.source);
      const event = consentEvent(doc.identities, body.purposes, source, new Date(), `consent-${randomUUID()}`);
      try {
        await (await ctx.producer()).send([{ topic: ctx.topics.source(source), key: event.userId ?? event.anonymousId, value: JSON.stringify(event), headers: { source } }]);
      } catch (err) {
        ctx.log.warn({ err: (err as Error).message, source }, 'consent change not accepted by Kafka');
        throw new ApiError(503, 'unavailable', 'the change could not be sent right now (Kafka unavailable); send it again', 'body');
      }
      return { status: 202, body: { profileId: doc.profileId, messageId: event.messageId, source, purposes: body.purposes } };
    },
  });

  return [read, record];
}
