/**
 * Normalization and validation of Segment tracking API payloads
 * (https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/) into CanonicalEvents.
 * Pure: no I/O, no clock (the caller passes receivedAt and the messageId generator).
 */
import { createHash } from 'node:crypto';
import { stringify } from 'safe-stable-stringify';
import { EVENT_TYPES, type CanonicalEvent, type EventType, type JsonObject } from '../api/event.ts';

export interface FieldError {
  /** e.g. "event", "properties", "batch[3].userId"; "body" or "batch[3]" for the payload itself. */
  path: string;
  message: string;
}

export interface NormalizeContext {
  /** The Source's name (never its write key). */
  source: string;
  receivedAt: Date;
  /** The client address as seen by the collector, used when the payload has no context.ip. */
  ip?: string;
  /** The id of an event sent without one, from the event as sent (see contentMessageId). */
  newMessageId: (body: Readonly<Record<string, unknown>>) => string;
}

/** Why an event was refused, as a dead letter records it. */
export type RefusalReason = 'invalid_event' | 'timestamp_out_of_window';

/** A refused event; one out of the time window is complete (`event`), so a dead letter can hold it as it would have been stored. */
export type Normalized = { ok: true; event: CanonicalEvent } | { ok: false; errors: FieldError[]; reason?: RefusalReason; event?: CanonicalEvent };

const HOUR_MS = 3_600_000;

/** Segment's documented limits, plus the field lengths, nesting, events per batch and event times we accept. */
export const LIMITS = {
  eventBytes: 32 * 1024,
  batchBytes: 500 * 1024,
  /** 50 bytes an event on average: no real event is smaller, and each refused one costs a dead letter of a few hundred bytes. */
  batchEvents: 10_000,
  idChars: 512,
  eventNameChars: 200,
  messageIdChars: 100,
  /** Levels of objects and arrays in one event, the event itself being level 1. */
  depth: 32,
  /** The window of event times (timestamp after skew correction): Segment does not always ingest events before 1970… */
  earliestEventTime: Date.UTC(1970, 0, 1),
  /** …and a clock set up to a day ahead (a time zone sent as UTC) is tolerated, no further: a future event would win every "latest" forever. */
  maxFutureMs: 24 * HOUR_MS,
  /** Any date field must be storable in the event log (ClickHouse DateTime64: 1900-01-01 to 2299-12-31). */
  storableDates: [Date.UTC(1900, 0, 1), Date.UTC(2300, 0, 1) - 1],
} as const;

/**
 * The messageId of an event sent without one: a digest of the Source (the digest of its write
 * key, never the key) and the event's canonical JSON as sent, less what changes when a client
 * sends the same event again (sentAt, receivedAt, the write key). A retried request then carries
 * the same ids and is stored once; two events identical in every field (no timestamp, no
 * messageId) are one event.
 */
export function contentMessageId(sourceId: string, body: Readonly<Record<string, unknown>>): string {
  const { sentAt: _sentAt, receivedAt: _receivedAt, writeKey: _writeKey, messageId: _messageId, ...content } = body;
  return `c-${createHash('sha256').update(sourceId).update('\0').update(stringify(content) ?? '').digest('base64url')}`;
}

/** UTF-8 byte length of JSON.stringify(value); 0 for values JSON cannot represent (undefined, functions). */
export function jsonBytes(value: unknown): number {
  const text: string | undefined = JSON.stringify(value);
  return text === undefined ? 0 : Buffer.byteLength(text, 'utf8');
}

type Obj = Record<string, unknown>;

function isPlainObject(value: unknown): value is Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

// SDKs send null for "not set" as often as they omit the key.
function isAbsent(value: unknown): boolean {
  return value === undefined || value === null;
}

/** "" → "body"; "batch[3]." → "batch[3]": where to report problems with the payload itself. */
function rootPath(prefix: string): string {
  return prefix === '' ? 'body' : prefix.replace(/\.$/, '');
}

class Checker {
  readonly errors: FieldError[] = [];
  constructor(private readonly prefix: string) {}

  fail(field: string, message: string): void {
    this.errors.push({ path: this.prefix + field, message });
  }

  /** userId-like ids: strings, or finite numbers (some SDKs send numeric ids) as strings; "" counts as absent. */
  id(body: Obj, field: string): string | undefined {
    const value = body[field];
    if (isAbsent(value) || value === '') return undefined;
    let text: string;
    if (typeof value === 'string') text = value;
    else if (typeof value === 'number' && Number.isFinite(value)) text = String(value);
    else {
      this.fail(field, 'must be a string');
      return undefined;
    }
    if (text.length > LIMITS.idChars) {
      this.fail(field, `must be at most ${LIMITS.idChars} characters`);
      return undefined;
    }
    return text;
  }

  string(body: Obj, field: string, maxChars?: number): string | undefined {
    const value = body[field];
    if (isAbsent(value)) return undefined;
    if (typeof value !== 'string') {
      this.fail(field, 'must be a string');
      return undefined;
    }
    if (maxChars !== undefined && value.length > maxChars) {
      this.fail(field, `must be at most ${maxChars} characters`);
      return undefined;
    }
    return value;
  }

  object(body: Obj, field: string): JsonObject {
    const value = body[field];
    if (isAbsent(value)) return {};
    if (!isPlainObject(value)) {
      this.fail(field, 'must be an object');
      return {};
    }
    // The body comes from JSON.parse, so a plain object holds only Json values.
    return value as JsonObject;
  }

  timestamp(body: Obj, field: string): Date | undefined {
    const value = body[field];
    if (isAbsent(value)) return undefined;
    const date = typeof value === 'string' ? parseIsoDate(value) : undefined;
    if (date === undefined) {
      this.fail(field, 'must be an ISO 8601 date-time');
      return undefined;
    }
    const [first, last] = LIMITS.storableDates;
    if (date.getTime() < first || date.getTime() > last) {
      this.fail(field, `must be between ${isoDay(first)} and ${isoDay(last)} (the dates the event log can store)`);
      return undefined;
    }
    return date;
  }
}

const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;

/**
 * Strict ISO 8601 (extended format) parser. Date.parse is not used because V8 also accepts free-form
 * dates ("March 7 2024") and reads zone-less times in the server's local time zone; here a missing
 * offset means UTC so the result never depends on where the collector runs.
 */
function parseIsoDate(text: string): Date | undefined {
  const m = ISO_DATE_TIME.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone = 'Z'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const daysInMonth = [31, isLeapYear(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
  if (day < 1 || day > daysInMonth) return undefined;
  let offsetMinutes = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2)) : 0;
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = sign * (oh * 60 + om);
  }
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0–99 to 1900–1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, ms);
  return new Date(date.getTime() - offsetMinutes * 60_000);
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The event time's window: why `time` is outside it, or undefined. */
function outOfWindow(time: Date, receivedAt: Date, corrected: boolean): string | undefined {
  const how = corrected ? ' (the client time corrected for clock skew with sentAt)' : '';
  if (time.getTime() < LIMITS.earliestEventTime) {
    return `event time ${time.toISOString()}${how} is before ${isoDay(LIMITS.earliestEventTime)}, the earliest the collector accepts`;
  }
  if (time.getTime() > receivedAt.getTime() + LIMITS.maxFutureMs) {
    return `event time ${time.toISOString()}${how} is more than ${LIMITS.maxFutureMs / HOUR_MS} h after the collector received it (${receivedAt.toISOString()})`;
  }
  return undefined;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Validates an object payload of a known type; size is checked by the callers on the payload as sent. */
function validate(type: EventType, body: Obj, ctx: NormalizeContext, prefix: string, errors: FieldError[]): Normalized {
  const c = new Checker(prefix);
  c.errors.push(...errors);

  const userId = c.id(body, 'userId');
  const anonymousId = c.id(body, 'anonymousId');
  if (type === 'alias') {
    if (isAbsent(body.userId) || body.userId === '') c.fail('userId', 'is required for alias');
  } else if ((isAbsent(body.userId) || body.userId === '') && (isAbsent(body.anonymousId) || body.anonymousId === '')) {
    c.fail('userId', 'is required unless anonymousId is set');
  }

  let event: string | undefined;
  let name: string | undefined;
  let category: string | undefined;
  let groupId: string | undefined;
  let previousId: string | undefined;
  switch (type) {
    case 'track':
      event = c.string(body, 'event', LIMITS.eventNameChars);
      if (isAbsent(body.event) || body.event === '') c.fail('event', 'is required for track');
      break;
    case 'page':
    case 'screen':
      name = c.string(body, 'name');
      category = c.string(body, 'category');
      break;
    case 'group':
      groupId = c.id(body, 'groupId');
      if (isAbsent(body.groupId) || body.groupId === '') c.fail('groupId', 'is required for group');
      break;
    case 'alias':
      previousId = c.id(body, 'previousId');
      if (isAbsent(body.previousId) || body.previousId === '') c.fail('previousId', 'is required for alias');
      break;
    case 'identify':
      break;
  }

  const properties = c.object(body, 'properties');
  const traits = c.object(body, 'traits');
  const integrations = c.object(body, 'integrations');
  // Copied: we add ip and drop writeKey without touching the caller's object.
  const context: JsonObject = { ...c.object(body, 'context') };
  if (!isAbsent(context.traits) && !isPlainObject(context.traits)) c.fail('context.traits', 'must be an object');

  let messageId: string | undefined;
  if (isAbsent(body.messageId)) messageId = undefined;
  else if (typeof body.messageId !== 'string' || body.messageId === '') c.fail('messageId', 'must be a non-empty string');
  else if (body.messageId.length > LIMITS.messageIdChars) c.fail('messageId', `must be at most ${LIMITS.messageIdChars} characters`);
  else messageId = body.messageId;

  const timestamp = c.timestamp(body, 'timestamp');
  const originalTimestamp = c.timestamp(body, 'originalTimestamp') ?? timestamp;
  const sentAt = c.timestamp(body, 'sentAt');

  if (c.errors.length > 0) return { ok: false, errors: c.errors };

  // Segment's skew correction: the client clock's offset is (sentAt − receivedAt), both measured at send time.
  const skewCorrected = sentAt !== undefined && originalTimestamp !== undefined;
  const corrected = skewCorrected ? new Date(ctx.receivedAt.getTime() - (sentAt.getTime() - originalTimestamp.getTime())) : (timestamp ?? ctx.receivedAt);

  delete context.writeKey;
  if ((typeof context.ip !== 'string' || context.ip === '') && ctx.ip !== undefined && ctx.ip !== '') context.ip = ctx.ip;

  const out: CanonicalEvent = {
    type,
    // The type is content too: /v1/page and /v1/identify with the same body are two events.
    messageId: messageId ?? ctx.newMessageId({ ...body, type }),
    timestamp: corrected.toISOString(),
    receivedAt: ctx.receivedAt.toISOString(),
    properties,
    traits,
    context,
    integrations,
    source: ctx.source,
  };
  // Only set what was sent, so the stored event has no undefined keys.
  if (originalTimestamp !== undefined) out.originalTimestamp = originalTimestamp.toISOString();
  if (sentAt !== undefined) out.sentAt = sentAt.toISOString();
  if (userId !== undefined) out.userId = userId;
  if (anonymousId !== undefined) out.anonymousId = anonymousId;
  if (event !== undefined) out.event = event;
  if (name !== undefined) out.name = name;
  if (category !== undefined) out.category = category;
  if (groupId !== undefined) out.groupId = groupId;
  if (previousId !== undefined) out.previousId = previousId;
  const outside = outOfWindow(corrected, ctx.receivedAt, skewCorrected);
  if (outside) return { ok: false, reason: 'timestamp_out_of_window', errors: [{ path: `${prefix}timestamp`, message: outside }], event: out };
  return { ok: true, event: out };
}

/** Normalizes one call to /v1/<type>. pathPrefix (e.g. "batch[3].") is prepended to every error path. */
export function normalizeEvent(type: EventType, body: unknown, ctx: NormalizeContext, pathPrefix = ''): Normalized {
  if (!isPlainObject(body)) return { ok: false, errors: [{ path: rootPath(pathPrefix), message: 'must be a JSON object' }] };
  const errors: FieldError[] = [];
  if (jsonBytes(body) > LIMITS.eventBytes) errors.push({ path: rootPath(pathPrefix), message: `must be at most ${LIMITS.eventBytes} bytes` });
  return validate(type, body, ctx, pathPrefix, errors);
}

function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && (EVENT_TYPES as readonly string[]).includes(value);
}

/**
 * Normalizes a /v1/batch payload. Batch-level problems reject the whole request (errors, no results);
 * otherwise there is one result per item, so a bad item does not sink the good ones. Items in
 * `refused` (found unreadable with the body: too deep, duplicate keys, not UTF-8) are not looked
 * into again, since re-serializing a deeply nested one would overflow the stack.
 */
export function normalizeBatch(body: unknown, ctx: NormalizeContext, refused: ReadonlyMap<number, FieldError[]> = new Map()): { results: Normalized[]; errors: FieldError[] } {
  if (!isPlainObject(body)) return { results: [], errors: [{ path: 'body', message: 'must be a JSON object' }] };
  const top = new Checker('');
  const batch = body.batch;
  const measured = refused.size && Array.isArray(batch) ? { ...body, batch: batch.map((item: unknown, i) => (refused.has(i) ? null : item)) } : body;
  if (jsonBytes(measured) > LIMITS.batchBytes) top.fail('body', `must be at most ${LIMITS.batchBytes} bytes`);
  if (!Array.isArray(batch) || batch.length === 0) top.fail('batch', 'must be a non-empty array');
  else if (batch.length > LIMITS.batchEvents) top.fail('batch', `holds ${batch.length} events; the limit is ${LIMITS.batchEvents} per batch`);
  const batchContext = top.object(body, 'context');
  top.object(body, 'integrations');
  top.timestamp(body, 'sentAt');
  if (top.errors.length > 0 || !Array.isArray(batch)) return { results: [], errors: top.errors };

  const results = batch.map((item: unknown, i): Normalized => {
    const prefix = `batch[${i}].`;
    const unreadable = refused.get(i);
    if (unreadable) return { ok: false, errors: unreadable };
    if (!isPlainObject(item)) return { ok: false, errors: [{ path: `batch[${i}]`, message: 'must be an object' }] };
    if (!isEventType(item.type)) {
      return { ok: false, errors: [{ path: `${prefix}type`, message: `must be one of ${EVENT_TYPES.join(', ')}` }] };
    }
    const errors: FieldError[] = [];
    const bytes = jsonBytes(item);
    if (bytes > LIMITS.eventBytes) errors.push({ path: `batch[${i}]`, message: `is ${bytes} bytes; the limit is ${LIMITS.eventBytes} bytes per event` });
    const merged: Obj = { ...item };
    // An invalid item context is left as is so validate() reports it under the item's path.
    if (isAbsent(item.context)) merged.context = batchContext;
    else if (isPlainObject(item.context)) merged.context = { ...batchContext, ...item.context };
    if (isAbsent(item.integrations)) merged.integrations = body.integrations;
    if (isAbsent(item.sentAt)) merged.sentAt = body.sentAt;
    return validate(item.type, merged, ctx, prefix, errors);
  });
  return { results, errors: [] };
}
