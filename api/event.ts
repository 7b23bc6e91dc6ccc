/**
 * The canonical event: what the collector writes to a Source's Kafka topic and what the pipeline
 * reads. It follows the Segment spec (https://segment.com/docs/connections/spec/common/) so events
 * from Segment- and RudderStack-compatible SDKs map onto it one to one.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { describeAjvErrors } from './problems.ts';

export type EventType = 'track' | 'identify' | 'page' | 'screen' | 'group' | 'alias';
export const EVENT_TYPES: readonly EventType[] = ['track', 'identify', 'page', 'screen', 'group', 'alias'];

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface CanonicalEvent {
  type: EventType;
  /** Client-provided, or derived by the collector from the Source and the event as sent when absent (a retry keeps it). The deduplication key. */
  messageId: string;
  /** Event time, corrected for client clock skew, ISO 8601 with milliseconds, UTC. */
  timestamp: string;
  /** The client's own timestamp as sent, if any. */
  originalTimestamp?: string;
  sentAt?: string;
  /** When the collector received the request, ISO 8601 UTC. */
  receivedAt: string;
  userId?: string;
  anonymousId?: string;
  /** track: event name. */
  event?: string;
  /** page / screen: name and category. */
  name?: string;
  category?: string;
  /** group: the group id. */
  groupId?: string;
  /** alias: the previous id. */
  previousId?: string;
  properties: JsonObject;
  traits: JsonObject;
  context: JsonObject;
  integrations: JsonObject;
  /** The Source (by name) this event came in through; never its write key. */
  source: string;
}

/** What the dead-letter topic carries: the original input, where it failed and why. */
export interface DeadLetter {
  /** "collector" | "pipeline:<name>" */
  stage: string;
  source: string;
  /** Machine-readable reason, e.g. "tracking_plan_violation", "invalid_event", "timestamp_out_of_window", "clickhouse_rejected". */
  reason: string;
  /** Human-readable, field-level where possible: "properties.revenue: must be number". */
  errors: string[];
  /** The event or raw payload, as received. */
  payload: Json;
  messageId?: string;
  /** Where the record came from when it failed in the pipeline. */
  origin?: { topic: string; partition: number; offset: string };
  failedAt: string;
}

/** The envelope every record of a Source's topic must have: the collector guarantees it, but topics can be written by anyone. */
const ENVELOPE_SCHEMA = {
  type: 'object',
  required: ['type', 'messageId', 'timestamp', 'receivedAt', 'source', 'properties', 'traits', 'context'],
  properties: {
    type: { enum: EVENT_TYPES },
    messageId: { type: 'string', minLength: 1, maxLength: 100 },
    timestamp: { type: 'string', format: 'date-time' },
    receivedAt: { type: 'string', format: 'date-time' },
    originalTimestamp: { type: 'string', format: 'date-time' },
    sentAt: { type: 'string', format: 'date-time' },
    userId: { type: 'string' },
    anonymousId: { type: 'string' },
    event: { type: 'string' },
    source: { type: 'string' },
    properties: { type: 'object' },
    traits: { type: 'object' },
    context: { type: 'object' },
  },
  // An anonymized event (its Source's withoutConsent: anonymize) names nobody, on purpose.
  anyOf: [
    { required: ['userId'] },
    { required: ['anonymousId'] },
    { required: ['context'], properties: { context: { required: ['uspa'], properties: { uspa: { type: 'object', required: ['anonymized'], properties: { anonymized: { const: true } } } } } } },
  ],
};

// Compiled on first use: processes that only produce events (the collector) never pay for it.
let validateEnvelope: ValidateFunction | undefined;
function envelopeValidator(): ValidateFunction {
  if (!validateEnvelope) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats.default(ajv);
    validateEnvelope = ajv.compile(ENVELOPE_SCHEMA);
  }
  return validateEnvelope;
}

export type ParsedEvent = { ok: true; event: CanonicalEvent } | { ok: false; reason: string; errors: string[]; payload: Json };

/** A Kafka record's value → the canonical event, or why not (the reason and field-level errors a dead letter carries). */
export function parseEvent(value: Buffer | null): ParsedEvent {
  const text = value?.toString('utf8') ?? '';
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: 'invalid_json', errors: [`record value is not JSON: ${(err as Error).message}`], payload: text.slice(0, 32 * 1024) };
  }
  const validate = envelopeValidator();
  if (!validate(json)) return { ok: false, reason: 'invalid_event', errors: describeAjvErrors(validate.errors), payload: json as Json };
  return { ok: true, event: json as unknown as CanonicalEvent };
}
