// Consent per purpose as the Pipeline records it: each event's statements about the purposes it
// declares become a consent_history row and the trait consent_<purpose> (the profile's newest
// state) when they change what this worker last recorded for the identity. The memory is updated
// only after the rows are stored, so a failed batch writes them again on its retry.
import { LRUCache } from 'lru-cache';
import type { CanonicalEvent } from '../../api/event.ts';
import { chTime } from '../../lib/clickhouse.ts';
import { consentStatements, consentTrait, type ConsentChannel } from '../../lib/consent.ts';
import { traitTime, type TraitRow } from './rows.ts';

export interface ConsentRow {
  identity: string;
  profile_id: string;
  purpose: string;
  granted: 0 | 1;
  at: string;
  source: string;
  message_id: string;
  channel: ConsentChannel;
}

/**
 * What this worker last recorded per identity and purpose. Bounded, and forgotten after a while:
 * another replica may have recorded a change meanwhile (a forgotten entry only costs one more row).
 */
export class ConsentMemory {
  private readonly last = new LRUCache<string, { granted: boolean; at: string }>({ max: 200_000, ttl: 10 * 60_000 });

  constructor(readonly declared: ReadonlySet<string>) {}

  private static key(identity: string, purpose: string): string {
    return `${identity}\n${purpose}`;
  }

  /** The state recorded last, if remembered. */
  recorded(identity: string, purpose: string): { granted: boolean; at: string } | undefined {
    return this.last.get(ConsentMemory.key(identity, purpose));
  }

  remember(rows: readonly ConsentRow[]): void {
    for (const r of rows) {
      const key = ConsentMemory.key(r.identity, r.purpose);
      const before = this.last.get(key);
      if (!before || before.at <= r.at) this.last.set(key, { granted: r.granted === 1, at: r.at });
    }
  }
}

/**
 * The rows one event adds: a statement is recorded when it differs from the newest state known for
 * the identity (remembered, or earlier in this batch via `pending`); one older than that state is
 * history only (the trait keeps the newer state, as last-write-wins would anyway).
 */
export function consentRows(
  event: Pick<CanonicalEvent, 'type' | 'traits' | 'context' | 'timestamp' | 'receivedAt' | 'source' | 'messageId'>,
  identity: string,
  profileId: string,
  memory: ConsentMemory,
  pending: Map<string, { granted: boolean; at: string }>,
  now: Date = new Date(),
): { history: ConsentRow[]; traits: TraitRow[] } {
  const out = { history: [] as ConsentRow[], traits: [] as TraitRow[] };
  if (memory.declared.size === 0) return out;
  const at = chTime(traitTime(event as CanonicalEvent, now));
  for (const s of consentStatements(event, memory.declared)) {
    const key = `${identity}\n${s.purpose}`;
    const known = pending.get(key) ?? memory.recorded(identity, s.purpose);
    if (known && known.granted === s.granted && known.at <= at) continue;
    out.history.push({ identity, profile_id: profileId, purpose: s.purpose, granted: s.granted ? 1 : 0, at, source: event.source, message_id: event.messageId, channel: s.channel });
    if (!known || known.at <= at) {
      pending.set(key, { granted: s.granted, at });
      out.traits.push({ identity, trait: consentTrait(s.purpose), value: JSON.stringify(s.granted), event_time: at, message_id: event.messageId });
    }
  }
  return out;
}
