// Pure translations: canonical event (+ enrichment, + profile) → ClickHouse rows.
import { chTime } from '../../lib/clickhouse.ts';
import type { CanonicalEvent, Json } from '../../api/event.ts';
import { enrichmentColumns, storedContext, type Enrichment } from '../../lib/enrichment/enrich.ts';

export interface EventRow {
  message_id: string;
  source: string;
  type: string;
  event: string;
  name: string;
  category: string;
  timestamp: string;
  original_timestamp: string | null;
  sent_at: string | null;
  received_at: string;
  user_id: string;
  anonymous_id: string;
  group_id: string;
  previous_id: string;
  identity: string;
  profile_id: string;
  properties: string;
  traits: string;
  context: string;
  ip: string;
  country: string;
  region: string;
  city: string;
  device_type: string;
  os_name: string;
  os_version: string;
  browser_name: string;
  browser_version: string;
  page_path: string;
  page_topics: string[];
  revenue: number;
}

/** Segment's ecommerce spec puts money in `revenue` (or `total`). */
export function revenueOf(event: CanonicalEvent): number {
  for (const key of ['revenue', 'total']) {
    const v = event.properties[key];
    const n = typeof v === 'string' ? Number(v) : v;
    if (typeof n === 'number' && Number.isFinite(n)) return n;
  }
  return 0;
}

export function eventRow(event: CanonicalEvent, enrichment: Enrichment, identity: string, profileId: string): EventRow {
  return {
    message_id: event.messageId,
    source: event.source,
    type: event.type,
    event: event.event ?? (event.type === 'page' || event.type === 'screen' ? (event.name ?? '') : ''),
    name: event.name ?? '',
    category: event.category ?? '',
    timestamp: chTime(event.timestamp),
    original_timestamp: event.originalTimestamp ? chTime(event.originalTimestamp) : null,
    sent_at: event.sentAt ? chTime(event.sentAt) : null,
    received_at: chTime(event.receivedAt),
    user_id: event.userId ?? '',
    anonymous_id: event.anonymousId ?? '',
    group_id: event.groupId ?? '',
    previous_id: event.previousId ?? '',
    identity,
    profile_id: profileId,
    properties: JSON.stringify(event.properties),
    traits: JSON.stringify(event.traits),
    context: JSON.stringify(storedContext(event.context, enrichment)),
    ...enrichmentColumns(enrichment),
    revenue: revenueOf(event),
  };
}

export interface TraitRow {
  identity: string;
  trait: string;
  value: string;
  event_time: string;
  message_id: string;
}

/**
 * When a trait value was set, for last-write-wins: the event time, but never later than when the
 * collector received the event, nor than now. A client clock (or anyone writing the topic) dating
 * an event in 2099 would otherwise pin the trait until 2099; late events still lose to newer ones.
 */
export function traitTime(event: CanonicalEvent, now: Date = new Date()): string {
  const candidates = [event.timestamp, event.receivedAt, now.toISOString()].map((iso) => ({ iso, ms: Date.parse(iso) })).filter((c) => Number.isFinite(c.ms));
  return candidates.reduce((a, b) => (b.ms < a.ms ? b : a)).iso;
}

/** identify traits (and context.traits sent along with any call) become per-identity trait values. */
export function traitRows(event: CanonicalEvent, identity: string, now: Date = new Date()): TraitRow[] {
  const contextTraits = event.context.traits;
  const traits: Record<string, Json> = {
    ...(contextTraits && typeof contextTraits === 'object' && !Array.isArray(contextTraits) ? contextTraits : {}),
    ...(event.type === 'identify' ? event.traits : {}),
  };
  return Object.entries(traits).map(([trait, value]) => ({
    identity,
    trait,
    value: JSON.stringify(value),
    event_time: chTime(traitTime(event, now)),
    message_id: event.messageId,
  }));
}

/** RFM scores 1–5 (0 = never ordered) by fixed default thresholds. */
export function rfmScores(input: { daysSinceLastOrder: number | null; orders: number; revenue: number }): { recency: number; frequency: number; monetary: number } {
  if (input.orders === 0 || input.daysSinceLastOrder === null) return { recency: 0, frequency: 0, monetary: 0 };
  const d = input.daysSinceLastOrder;
  const recency = d <= 30 ? 5 : d <= 90 ? 4 : d <= 180 ? 3 : d <= 365 ? 2 : 1;
  const o = input.orders;
  const frequency = o >= 10 ? 5 : o >= 5 ? 4 : o >= 3 ? 3 : o >= 2 ? 2 : 1;
  const r = input.revenue;
  const monetary = r >= 1000 ? 5 : r >= 500 ? 4 : r >= 200 ? 3 : r >= 50 ? 2 : 1;
  return { recency, frequency, monetary };
}
