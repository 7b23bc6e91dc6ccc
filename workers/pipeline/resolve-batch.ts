// The pure steps of writing one batch: read and de-duplicate its records, then resolve each
// event's identity and turn it into the rows to insert.
import { parseEvent, type CanonicalEvent, type Json } from '../../api/event.ts';
import type { IdentityKey } from '../../api/v1alpha1/pipeline.ts';
import { EXPOSURE_EVENT } from '../../api/v1alpha1/personalization.ts';
import { enrich, type EnrichConfig } from '../../lib/enrichment/enrich.ts';
import type { Origin, Rejection } from './dead-letter-sender.ts';
import { extractIdentities, type Assignment, type Edge, type Identity, type IdentityGraph } from './identity.ts';
import { isAnonymized } from '../../lib/consent.ts';
import { consentRows, type ConsentMemory, type ConsentRow } from './consent.ts';
import { eventRow, traitRows, type EventRow, type TraitRow } from './rows.ts';

/** A record as consumed from a Source's topic. */
export interface ConsumedRecord {
  topic: string;
  partition: number;
  message: { offset: string; value: Buffer | null };
}

export interface ReadBatch {
  /** Valid events, each messageId once per Source, in record order. */
  events: Array<{ event: CanonicalEvent; origin: Origin }>;
  /** Records that are not events. */
  rejected: Rejection[];
  /** Records repeating a messageId its Source sent earlier in the batch. */
  duplicates: number;
}

/** messageIds are unique per Source, not per database: two Sources may send the same one. */
function isExposure(event: CanonicalEvent): boolean {
  return event.type === 'track' && event.event === EXPOSURE_EVENT;
}

export function dedupKey(source: string, messageId: string): string {
  return `${source}\n${messageId}`;
}

/** Nesting deeper than this is refused: re-serializing it (rows, dead letters) would overflow the stack. */
export const MAX_DEPTH = 64;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * The first thing in a parsed event ClickHouse or our own serialization cannot take, or undefined:
 * nesting beyond MAX_DEPTH, or a string (or key) that is not valid Unicode (a lone UTF-16
 * surrogate, which JSON allows as an escape and ClickHouse refuses).
 */
export function unstorable(value: unknown): string | undefined {
  const stack: Array<{ v: unknown; path: string; depth: number }> = [{ v: value, path: '', depth: 0 }];
  while (stack.length) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) return `${path || '(value)'}: is not valid Unicode (a lone UTF-16 surrogate)`;
    } else if (v !== null && typeof v === 'object') {
      if (depth >= MAX_DEPTH) return `${path}: nested deeper than ${MAX_DEPTH} levels`;
      for (const [k, child] of Object.entries(v)) {
        const at = Array.isArray(v) ? `${path}[${k}]` : path ? `${path}.${k}` : k;
        if (LONE_SURROGATE.test(k)) return `${path || '(value)'}: a key is not valid Unicode (a lone UTF-16 surrogate)`;
        stack.push({ v: child, path: at, depth: depth + 1 });
      }
    }
  }
  return undefined;
}

const TIME_FIELDS = ['timestamp', 'receivedAt', 'originalTimestamp', 'sentAt'] as const;

/**
 * Rewrites the event's times as ISO 8601 UTC with milliseconds (what ClickHouse reads), or says
 * which one cannot be read. The envelope accepts any RFC 3339 time ("t" and "z" in lower case,
 * offsets, nanoseconds, leap seconds), and not all of them are understood downstream.
 */
export function canonicalTimes(event: CanonicalEvent): string | undefined {
  for (const field of TIME_FIELDS) {
    const value = event[field];
    if (value === undefined) continue;
    const ms = Date.parse(value);
    if (!Number.isFinite(ms)) return `${field}: ${JSON.stringify(value.slice(0, 40))} is not a time this pipeline can read`;
    event[field] = new Date(ms).toISOString();
  }
  return undefined;
}

export function readBatch(records: ConsumedRecord[]): ReadBatch {
  const out: ReadBatch = { events: [], rejected: [], duplicates: 0 };
  const seen = new Set<string>();
  for (const r of records) {
    const origin = { topic: r.topic, partition: r.partition, offset: r.message.offset };
    const p = parseEvent(r.message.value);
    if (!p.ok) {
      out.rejected.push({ origin, reason: p.reason, errors: p.errors, payload: p.payload });
      continue;
    }
    const problem = unstorable(p.event) ?? canonicalTimes(p.event);
    if (problem) {
      out.rejected.push({ origin, reason: 'invalid_event', errors: [problem], payload: r.message.value?.toString('utf8') ?? '' });
      continue;
    }
    const key = dedupKey(p.event.source, p.event.messageId);
    if (seen.has(key)) {
      out.duplicates++;
      continue;
    }
    seen.add(key);
    out.events.push({ event: p.event, origin });
  }
  return out;
}

export interface ResolvedBatch {
  events: EventRow[];
  traits: TraitRow[];
  edges: Edge[];
  /** The newest assignment of each identity. */
  assignments: Assignment[];
  /** Profiles to rebuild. */
  touched: Set<string>;
  /** Profiles folded into another and not touched since. */
  removed: Set<string>;
  rejected: Rejection[];
  /** The event and record each event and trait row came from (to dead-letter what ClickHouse refuses). */
  cameFrom: Map<EventRow | TraitRow, { event: CanonicalEvent; origin: Origin }>;
  /** Events left out per Source because they carry a suppressed (erased) identity. */
  suppressed: Map<string, number>;
  /** Consent statements that change what was recorded (their trait rows are in traits). */
  consent: ConsentRow[];
}

/**
 * Observes each event in the graph (which it updates) and builds its rows. Events already stored
 * (`stored`) go through identity (a no-op for a known message) and traits again, so a batch that
 * failed after its events were inserted still gets its profiles built on the retry.
 */
export function resolveBatch(
  graph: IdentityGraph,
  config: { keys: readonly IdentityKey[]; enrich: EnrichConfig },
  events: ReadBatch['events'],
  /** dedupKey of the events already stored. */
  stored: ReadonlySet<string>,
  /** True for identities on the suppression list: such an event leaves no trace, not even in the graph. */
  suppressed: (identities: readonly Identity[]) => boolean = () => false,
  /** The Pipeline's declared purposes and what it recorded last; none: consent is not recorded. */
  consent?: ConsentMemory,
): ResolvedBatch {
  const out: ResolvedBatch = { events: [], traits: [], edges: [], assignments: [], touched: new Set(), removed: new Set(), rejected: [], cameFrom: new Map(), suppressed: new Map(), consent: [] };
  const pendingConsent = new Map<string, { granted: boolean; at: string }>();
  const assignments = new Map<string, Assignment>();
  for (const { event, origin } of events) {
    const isStored = stored.has(dedupKey(event.source, event.messageId));
    if (isAnonymized(event)) {
      // Kept without the person (its Source's withoutConsent: anonymize): no identity, no profile.
      if (!isStored) {
        const row = eventRow(event, enrich(event, config.enrich), '', '');
        out.events.push(row);
        out.cameFrom.set(row, { event, origin });
      }
      continue;
    }
    try {
      const identities = graph.readAlias(event, extractIdentities(event, config.keys));
      if (identities.length === 0) throw new Error('the event carries none of the pipeline identity keys');
      // An erasure suppresses the person's pending identities too: an alias's previousId seen later is theirs.
      if (suppressed([...identities, ...graph.aliasForms(identities)])) {
        out.suppressed.set(event.source, (out.suppressed.get(event.source) ?? 0) + 1);
        continue;
      }
      const observation = graph.observe({ messageId: event.messageId, source: event.source, timestamp: event.timestamp, identities }, event.type);
      for (const a of observation.assignments) assignments.set(a.identity, a);
      out.edges.push(...observation.edges);
      for (const m of observation.merges) {
        out.removed.add(m.from);
        out.touched.add(m.into);
      }
      // An exposure is a measurement, not something the person did: it changes no profile (and so
      // evicts no cached profile in the API, which records one per decision) unless it links identities.
      if (!isExposure(event) || observation.edges.length > 0) out.touched.add(observation.profileId);
      const anchor = identities[0]!;
      const from = { event, origin };
      if (!isStored) {
        const row = eventRow(event, enrich(event, config.enrich), anchor, observation.profileId);
        out.events.push(row);
        out.cameFrom.set(row, from);
      }
      const stated = consent ? consentRows(event, anchor, observation.profileId, consent, pendingConsent) : { history: [], traits: [] };
      out.consent.push(...stated.history);
      for (const t of [...traitRows(event, anchor), ...stated.traits]) {
        out.traits.push(t);
        out.cameFrom.set(t, from);
      }
    } catch (err) {
      if (!isStored) out.rejected.push({ origin, reason: 'processing_failed', errors: [(err as Error).message], payload: event as unknown as Json });
    }
  }
  for (const p of out.touched) out.removed.delete(p);
  out.assignments = [...assignments.values()];
  return out;
}
