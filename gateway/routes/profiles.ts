// A person's profile, timeline and decisions, by any of their identities. Profiles come from the
// cached store; timelines from the event log over every identity of the profile.
import type { Json, JsonObject } from '../../api/event.ts';
import { EVENT_TYPES } from '../../api/event.ts';
import { chTime } from '../../lib/clickhouse.ts';
import { PERSONALIZATION } from '../../lib/consent.ts';
import { declaresPurpose } from './consent.ts';
import { REDACTED, isIdentifierKey, redactIdentity, redactJson } from '../access/fields.ts';
import type { GatewayContext } from '../context.ts';
import { invalid, notFound } from '../http/errors.ts';
import { CURSOR, LIMIT, NEXT_CURSOR, decodeCursor, encodeCursor, operation, type JsonSchema } from '../http/operation.ts';
import { isoTime } from '../profiles/clickhouse.ts';
import type { ProfileDocument } from '../profiles/document.ts';
import { IDENTITY_PARAM, profileIdOf, profileRecommendations } from './recommendations.ts';

const TIME: JsonSchema = { type: 'string', format: 'date-time' };
const REDACTED_LIST: JsonSchema = { type: 'array', items: { type: 'string' }, description: 'Paths of the fields shown as "[redacted]": the role lacks the identifiers permission.' };

const PROFILE_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['profileId', 'identities', 'traits', 'computed', 'interests', 'persona', 'segments', 'consent', 'updatedAt', 'redacted'],
  properties: {
    profileId: { type: 'string' },
    identities: { type: 'array', items: { type: 'string' }, description: '"type:value", highest priority first.' },
    traits: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['value', 'setAt', 'source', 'messageId'],
        properties: { value: { description: 'Any JSON value.' }, setAt: { ...TIME, description: 'Event time of the event that set it.' }, source: { type: 'string', description: 'Source of that event ("" when no longer stored).' }, messageId: { type: 'string' } },
      },
    },
    computed: {
      type: 'object',
      additionalProperties: false,
      required: ['firstSeen', 'lastSeen', 'eventCount', 'eventCounts', 'lifetimeRevenue', 'orderCount', 'lastOrderAt', 'rfm'],
      properties: {
        firstSeen: TIME,
        lastSeen: TIME,
        eventCount: { type: 'integer', minimum: 0 },
        eventCounts: { type: 'object', additionalProperties: { type: 'integer', minimum: 0 } },
        lifetimeRevenue: { type: 'number' },
        orderCount: { type: 'integer', minimum: 0 },
        lastOrderAt: { type: ['string', 'null'], format: 'date-time' },
        rfm: {
          type: 'object',
          additionalProperties: false,
          required: ['recency', 'frequency', 'monetary'],
          properties: { recency: { type: 'integer' }, frequency: { type: 'integer' }, monetary: { type: 'integer' } },
        },
      },
    },
    interests: {
      type: 'object',
      additionalProperties: { type: 'number', minimum: 0, maximum: 1 },
      description: 'Interest key (a category word, tag or page topic, lower case) → the recency-weighted share of the profile\'s interactions about it, 0–1 (half-life 30 days); at most 50, rebuilt with the profile. Segment rules read them: {interest: "shoes", op: "gte", value: 0.6}.',
    },
    persona: {
      type: ['object', 'null'],
      additionalProperties: false,
      required: ['label', 'cluster', 'modelVersion'],
      properties: { label: { type: 'string' }, cluster: { type: 'integer' }, modelVersion: { type: 'integer' } },
      description: 'From the newest complete personas model version; null when none assigned one.',
    },
    segments: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['segment', 'since'],
        properties: {
          segment: { type: 'string' },
          since: { ...TIME, description: 'Realtime Segments: when it last entered. Batch Segments: when the oldest version of the unbroken run of kept versions holding it was computed.' },
        },
      },
    },
    consent: { type: 'object', additionalProperties: { type: 'boolean' }, description: 'Each category the traits decide (the rules the activations follow); an absent category is no consent.' },
    updatedAt: { ...TIME, description: 'When the pipeline last rebuilt the profile.' },
    redacted: REDACTED_LIST,
  },
};

/** The profile as the role may see it: direct identifiers replaced, their paths listed. */
export function redactProfile(doc: ProfileDocument, identifiers: boolean): ProfileDocument & { redacted: string[] } {
  if (identifiers) return { ...doc, redacted: [] };
  const redacted: string[] = [];
  const identities = doc.identities.map((identity, i) => {
    const shown = redactIdentity(identity);
    if (shown !== identity) redacted.push(`identities[${i}]`);
    return shown;
  });
  const traits: ProfileDocument['traits'] = {};
  for (const [name, trait] of Object.entries(doc.traits)) {
    const where = `traits.${name}.value`;
    if (isIdentifierKey(name) && trait.value !== null && trait.value !== '') {
      traits[name] = { ...trait, value: REDACTED };
      redacted.push(where);
    } else {
      const inner: string[] = [];
      traits[name] = { ...trait, value: redactJson(trait.value, inner) as Json };
      redacted.push(...inner.map((p) => `${where}.${p}`));
    }
  }
  return { ...doc, identities, traits, redacted };
}

export async function loadProfile(ctx: GatewayContext, text: string): Promise<ProfileDocument> {
  const id = await profileIdOf(ctx, text);
  const doc = await ctx.profiles.load(id);
  if (!doc) throw notFound(`no profile has the identity ${text.slice(0, text.indexOf(':'))}:… (it was merged or deleted)`, 'path.identity');
  return doc;
}

export const EVENT_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['messageId', 'type', 'event', 'name', 'timestamp', 'receivedAt', 'source', 'userId', 'anonymousId', 'properties', 'traits', 'context', 'page', 'device', 'geo', 'ip', 'revenue', 'redacted'],
  properties: {
    messageId: { type: 'string' },
    type: { type: 'string', enum: [...EVENT_TYPES] },
    event: { type: 'string', description: 'Track event name ("" for other types).' },
    name: { type: 'string', description: 'Page or screen name.' },
    timestamp: TIME,
    receivedAt: TIME,
    source: { type: 'string' },
    userId: { type: 'string' },
    anonymousId: { type: 'string' },
    properties: { type: 'object' },
    traits: { type: 'object' },
    context: { type: 'object' },
    page: { type: 'object', additionalProperties: false, required: ['path', 'topics'], properties: { path: { type: 'string' }, topics: { type: 'array', items: { type: 'string' } } } },
    device: {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'os', 'osVersion', 'browser', 'browserVersion'],
      properties: { type: { type: 'string' }, os: { type: 'string' }, osVersion: { type: 'string' }, browser: { type: 'string' }, browserVersion: { type: 'string' } },
    },
    geo: { type: 'object', additionalProperties: false, required: ['country', 'region', 'city'], properties: { country: { type: 'string' }, region: { type: 'string' }, city: { type: 'string' } } },
    ip: { type: 'string' },
    revenue: { type: 'number' },
    redacted: REDACTED_LIST,
  },
};

export interface EventRow {
  message_id: string;
  type: string;
  event: string;
  name: string;
  at: string;
  received: string;
  source: string;
  user_id: string;
  anonymous_id: string;
  properties: string;
  traits: string;
  context: string;
  page_path: string;
  page_topics: string[];
  device_type: string;
  os_name: string;
  os_version: string;
  browser_name: string;
  browser_version: string;
  country: string;
  region: string;
  city: string;
  ip: string;
  revenue: number;
}

function object(text: string): JsonObject {
  try {
    const v = JSON.parse(text || '{}') as Json;
    return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}

/** What eventView reads of a row of events (aliases differ from the columns, so WHERE compares times, not text). */
export const EVENT_COLUMNS = `message_id, type, event, name, toString(timestamp) AS at, toString(received_at) AS received, source, user_id, anonymous_id,
  properties, traits, context, page_path, page_topics, device_type, os_name, os_version, browser_name, browser_version,
  country, region, city, ip, revenue`;

export function eventView(r: EventRow, identifiers: boolean) {
  const redacted: string[] = [];
  const part = (name: string, text: string) => {
    const value = object(text);
    if (identifiers) return value;
    const inner: string[] = [];
    const out = redactJson(value, inner);
    redacted.push(...inner.map((p) => `${name}.${p}`));
    return out;
  };
  const hideIp = !identifiers && r.ip !== '';
  if (hideIp) redacted.push('ip');
  return {
    messageId: r.message_id,
    type: r.type,
    event: r.event,
    name: r.name,
    timestamp: isoTime(r.at),
    receivedAt: isoTime(r.received),
    source: r.source,
    userId: r.user_id,
    anonymousId: r.anonymous_id,
    properties: part('properties', r.properties),
    traits: part('traits', r.traits),
    context: part('context', r.context),
    page: { path: r.page_path, topics: r.page_topics },
    device: { type: r.device_type, os: r.os_name, osVersion: r.os_version, browser: r.browser_name, browserVersion: r.browser_version },
    geo: { country: r.country, region: r.region, city: r.city },
    ip: hideIp ? REDACTED : r.ip,
    revenue: Number(r.revenue),
    redacted,
  };
}

// A position in the timeline: the last event of a page (its ClickHouse time text and message id).
const TIMELINE_CURSOR: JsonSchema = {
  required: ['t', 'm'],
  properties: { t: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}(\\.\\d{1,3})?$' }, m: { type: 'string', maxLength: 200 } },
};

interface TimelineQuery {
  limit: number;
  cursor?: string;
  event?: string;
  type?: string;
  since?: string;
  until?: string;
}

/** An ISO 8601 time of the query as the DateTime64 text ClickHouse parses. */
function queryTime(value: string | undefined, field: string): string | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms) || ms < Date.UTC(1900, 0, 1) || ms > Date.UTC(2299, 0, 1)) throw invalid(field, 'must be an ISO 8601 date-time between 1900 and 2299');
  return chTime(new Date(ms).toISOString());
}

export function profileOperations(ctx: GatewayContext) {
  const get = operation<{ identity: string }>({
    id: 'getProfile',
    method: 'get',
    path: '/v1/profiles/{identity}',
    summary: 'A profile by any of its identities',
    description: 'Traits with the time and Source each was set, identities, computed traits, interests, persona, Segment memberships with since when, consent. Roles without `identifiers` see "[redacted]" in place of direct identifiers, listed in `redacted`.',
    tag: 'profiles',
    permission: 'profiles:read',
    audit: 'read',
    params: IDENTITY_PARAM as never,
    responses: { 200: { description: 'The profile.', schema: PROFILE_SCHEMA } },
    async handler({ params, identifiers, subject }) {
      const doc = await loadProfile(ctx, params.identity);
      subject(doc.profileId);
      return { body: redactProfile(doc, identifiers) };
    },
  });

  const events = operation<{ identity: string }, TimelineQuery>({
    id: 'listProfileEvents',
    method: 'get',
    path: '/v1/profiles/{identity}/events',
    summary: "A profile's event timeline, newest first",
    description: 'Events of every identity of the profile, newest first (by event time, then message id), filtered by event name, type and time range.',
    tag: 'profiles',
    permission: 'events:read',
    audit: 'read',
    params: IDENTITY_PARAM as never,
    query: {
      properties: {
        limit: LIMIT(1000, 100),
        cursor: CURSOR,
        event: { type: 'string', minLength: 1, maxLength: 256, description: 'Only track events of this name.' },
        type: { type: 'string', enum: [...EVENT_TYPES], description: 'Only events of this type.' },
        since: { ...TIME, description: 'Only events at or after this time.' },
        until: { ...TIME, description: 'Only events before this time.' },
      },
    },
    responses: {
      200: {
        description: 'One page of events.',
        schema: { type: 'object', additionalProperties: false, required: ['profileId', 'events', 'next_cursor'], properties: { profileId: { type: 'string' }, events: { type: 'array', items: EVENT_SCHEMA }, next_cursor: NEXT_CURSOR } },
      },
    },
    async handler({ params, query, identifiers, subject }) {
      const position = decodeCursor<{ t: string; m: string }>(query.cursor, TIMELINE_CURSOR);
      const since = queryTime(query.since, 'query.since');
      const until = queryTime(query.until, 'query.until');
      const doc = await loadProfile(ctx, params.identity);
      subject(doc.profileId);
      const where = ['identity IN {identities:Array(String)}'];
      if (query.event !== undefined) where.push('event = {event:String}');
      if (query.type !== undefined) where.push('type = {type:String}');
      if (since) where.push("timestamp >= {since:DateTime64(3, 'UTC')}");
      if (until) where.push("timestamp < {until:DateTime64(3, 'UTC')}");
      if (position) where.push("(timestamp < {ct:DateTime64(3, 'UTC')} OR (timestamp = {ct:DateTime64(3, 'UTC')} AND message_id < {cm:String}))");
      // Aliases differ from the columns so WHERE compares times, not text. One row per message id whatever re-deliveries the ReplacingMergeTree has not folded yet.
      const rows = await ctx.warehouse.query<EventRow>(
        `SELECT ${EVENT_COLUMNS}
         FROM {db}.events WHERE ${where.join(' AND ')}
         ORDER BY timestamp DESC, message_id DESC LIMIT 1 BY message_id LIMIT {take:UInt32}`,
        Object.fromEntries(Object.entries({ identities: doc.identities, event: query.event, type: query.type, since, until, ct: position?.t, cm: position?.m, take: query.limit + 1 }).filter(([, v]) => v !== undefined)),
      );
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return {
        body: {
          profileId: doc.profileId,
          events: page.map((r) => eventView(r, identifiers)),
          next_cursor: rows.length > query.limit && last ? encodeCursor({ t: last.at, m: last.message_id }) : null,
        },
      };
    },
  });

  const decisions = operation<{ identity: string }, { limit: number }>({
    id: 'getProfileDecisions',
    method: 'get',
    path: '/v1/profiles/{identity}/decisions',
    summary: 'What personalizes a page for a profile: its Segments, persona and top recommendations',
    description: 'Nothing that names a person: no traits, no identities. The call a browser makes with a decisions key.',
    tag: 'profiles',
    permission: 'decisions:read',
    audit: 'read',
    params: IDENTITY_PARAM as never,
    query: { properties: { limit: LIMIT(10, 10) } },
    responses: {
      200: {
        description: 'The decisions.',
        schema: {
          type: 'object',
          additionalProperties: false,
          required: ['personalized', 'segments', 'persona', 'recommendations'],
          properties: {
            personalized: { type: 'boolean', description: 'False when the namespace declares the purpose personalization and the profile has not granted it: the page shows its defaults (no Segments, persona or recommendations are given).' },
            segments: { type: 'array', items: { type: 'string' }, description: 'Names of the Segments it is a member of.' },
            persona: { type: ['string', 'null'], description: 'The persona label.' },
            recommendations: { type: 'array', maxItems: 10, items: { type: 'object', additionalProperties: false, required: ['item', 'score'], properties: { item: { type: 'string' }, score: { type: 'number' } } } },
          },
        },
      },
    },
    async handler({ params, query, subject }) {
      const doc = await loadProfile(ctx, params.identity);
      subject(doc.profileId);
      if (declaresPurpose(ctx, PERSONALIZATION) && doc.consent[PERSONALIZATION] !== true) return { body: { personalized: false, segments: [], persona: null, recommendations: [] } };
      const { items } = await profileRecommendations(ctx.warehouse, doc.profileId, query.limit);
      return {
        body: {
          personalized: true,
          segments: doc.segments.map((s) => s.segment),
          persona: doc.persona?.label ?? null,
          recommendations: items.map(({ item, score }) => ({ item, score })),
        },
      };
    },
  });
  return [get, events, decisions];
}
