// The pure steps of writing one batch: read and de-duplicate its records, then resolve each
// event's identity and turn it into the rows to insert.
import { parseEvent, type CanonicalEvent, type Json } from '../../api/event.ts';
import type { IdentityKey } from '../../api/v1alpha1/pipeline.ts';
import { enrich, type EnrichConfig } from '../../lib/enrichment/enrich.ts';
import type { Origin, Rejection } from './dead-letter-sender.ts';
import { extractIdentities, type Assignment, type Edge, type Identity, type IdentityGraph } from './identity.ts';
import { eventRow, traitRows, type EventRow, type TraitRow } from './rows.ts';

/** A record as consumed from a Source's topic. */
export interface ConsumedRecord {
  topic: string;
  partition: number;
  message: { offset: string; value: Buffer | null };
}

export interface ReadBatch {
  /** Valid events, each messageId once, in record order. */
  events: Array<{ event: CanonicalEvent; origin: Origin }>;
  /** Records that are not events. */
  rejected: Rejection[];
  /** Records repeating a messageId seen earlier in the batch. */
  duplicates: number;
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
    if (seen.has(p.event.messageId)) {
      out.duplicates++;
      continue;
    }
    seen.add(p.event.messageId);
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
  stored: ReadonlySet<string>,
): ResolvedBatch {
  const out: ResolvedBatch = { events: [], traits: [], edges: [], assignments: [], touched: new Set(), removed: new Set(), rejected: [] };
  const assignments = new Map<string, Assignment>();
  for (const { event, origin } of events) {
    try {
      const identities = aliasAware(graph, event, extractIdentities(event, config.keys));
      if (identities.length === 0) throw new Error('the event carries none of the pipeline identity keys');
      const observation = graph.observe({ messageId: event.messageId, timestamp: event.timestamp, identities }, event.type);
      for (const a of observation.assignments) assignments.set(a.identity, a);
      out.edges.push(...observation.edges);
      for (const m of observation.merges) {
        out.removed.add(m.from);
        out.touched.add(m.into);
      }
      out.touched.add(observation.profileId);
      const anchor = identities[0]!;
      if (!stored.has(event.messageId)) out.events.push(eventRow(event, enrich(event, config.enrich), anchor, observation.profileId));
      out.traits.push(...traitRows(event, anchor));
    } catch (err) {
      if (!stored.has(event.messageId)) out.rejected.push({ origin, reason: 'processing_failed', errors: [(err as Error).message], payload: event as unknown as Json });
    }
  }
  for (const p of out.touched) out.removed.delete(p);
  out.assignments = [...assignments.values()];
  return out;
}

/**
 * alias(previousId) is read as a userId by default, but server-side SDKs often alias an anonymous
 * id without sending it as anonymousId. The graph knows which it is: prefer the identity it has seen.
 */
export function aliasAware(graph: IdentityGraph, event: CanonicalEvent, identities: Identity[]): Identity[] {
  if (event.type !== 'alias' || !event.previousId) return identities;
  const asUser = `userId:${event.previousId}`;
  const asAnonymous = `anonymousId:${event.previousId}`;
  if (identities.includes(asUser) && !graph.profileOf(asUser) && graph.profileOf(asAnonymous)) {
    return identities.map((i) => (i === asUser ? asAnonymous : i));
  }
  return identities;
}
