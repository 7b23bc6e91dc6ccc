// Every profile of the namespace in memory, in the slim form decisions need (traits, profile
// columns, interests, Segments, persona, consent): loaded in chunks after the API starts, then kept
// fresh by the pipeline's profile-changes records (changed profiles re-read in small batches) and
// the Segments' entered/exited records (applied as they come). Once loaded, a decision reads no
// ClickHouse at all, and an identity the store does not know is a visitor without a profile.
import type { ProfileChangeRecord } from '../../api/profile-changes.ts';
import type { SegmentChangeRecord } from '../../api/segment-changes.ts';
import type { Warehouse } from '../../lib/clickhouse.ts';
import { consentStates } from '../../lib/consent.ts';
import type { Logger } from '../../lib/log.ts';
import { latestVersionSql } from '../../lib/models/tables.ts';
import type { DecisionProfile } from '../../lib/personalization/predicate.ts';
import { isoTime, segmentName } from '../profiles/clickhouse.ts';

/** A profile as decisions see it. */
export interface DecisionDoc {
  profileId: string;
  identities: string[];
  profile: DecisionProfile;
  consent: Record<string, boolean>;
  persona: string | null;
}

/** Above this many profiles the store is not loaded (decisions read through the profile cache). */
export const DEFAULT_WARM_PROFILES = 2_000_000;
const CHUNKS_PER_MILLION = 40;
const RELOAD_EVERY_MS = 100;
const NO_SEGMENTS: ReadonlySet<string> = new Set();
const PERSONAS_CHECK_MS = 60_000;

interface Row {
  profile_id: string;
  identities: string[];
  traits: string;
  event_counts: Record<string, string>;
  interests: Record<string, number>;
  first_seen: string;
  last_seen: string;
  event_count: string;
  lifetime_revenue: number;
  order_count: string;
  last_order_at: string | null;
  rfm_recency: number;
  rfm_frequency: number;
  rfm_monetary: number;
}

const COLUMNS = `profile_id, identities, traits, event_counts, interests, toString(first_seen) AS first_seen, toString(last_seen) AS last_seen, event_count,
  lifetime_revenue, order_count, if(isNull(last_order_at), NULL, toString(last_order_at)) AS last_order_at, rfm_recency, rfm_frequency, rfm_monetary`;
const REALTIME = `(SELECT segment FROM {db}.segment_definitions FINAL WHERE deleted = 0 AND mode = 'realtime')`;
// Per profile, the batch Segments whose latest version holds it and the realtime ones it is live in.
const MEMBERSHIPS = `
SELECT profile_id, groupUniqArray(segment) AS segments FROM (
  SELECT m.profile_id AS profile_id, m.segment AS segment FROM {db}.segment_members AS m
  INNER JOIN (SELECT segment, max(version) AS version FROM {db}.segment_versions WHERE segment NOT IN ${REALTIME} GROUP BY segment) AS v
    ON v.segment = m.segment AND v.version = m.version
  WHERE m.profile_id IN {ids:Array(String)}
  UNION ALL
  SELECT profile_id, segment FROM {db}.segment_live WHERE segment IN ${REALTIME} AND profile_id IN {ids:Array(String)}
  GROUP BY segment, profile_id HAVING argMax(member, changed_at) = 1
) GROUP BY profile_id`;

function parseTraits(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text || '{}');
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const time = (text: string | null) => (text ? Date.parse(isoTime(text)) : null);

export function decisionDoc(r: Row, segments: ReadonlySet<string>, persona: string | null): DecisionDoc {
  const traits = parseTraits(r.traits);
  const eventCounts: Record<string, number> = {};
  for (const [k, n] of Object.entries(r.event_counts)) eventCounts[k] = Number(n);
  const interests: Record<string, number> = {};
  for (const [k, n] of Object.entries(r.interests ?? {})) interests[k] = Number(n);
  return {
    profileId: r.profile_id,
    identities: r.identities,
    profile: {
      traits,
      fields: {
        first_seen: time(r.first_seen),
        last_seen: time(r.last_seen),
        event_count: Number(r.event_count),
        lifetime_revenue: Number(r.lifetime_revenue),
        order_count: Number(r.order_count),
        last_order_at: time(r.last_order_at),
        rfm_recency: Number(r.rfm_recency),
        rfm_frequency: Number(r.rfm_frequency),
        rfm_monetary: Number(r.rfm_monetary),
      },
      eventCounts,
      interests,
      segments,
    },
    consent: consentStates(traits as never),
    persona,
  };
}

export class WarmProfiles {
  private readonly docs = new Map<string, DecisionDoc>();
  private readonly byIdentity = new Map<string, string>();
  private readonly changed = new Set<string>();
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private personasVersion = -1;
  private personasCheckedAt = 0;
  /** True once every profile was loaded; until then decisions read through the profile cache. */
  ready = false;
  /** Why the store is not in use (undefined: loading or ready). */
  disabled?: string;

  constructor(
    private readonly warehouse: Warehouse,
    private readonly log: Logger,
    private readonly maxProfiles = Number(process.env.USPA_API_WARM_PROFILES ?? DEFAULT_WARM_PROFILES),
  ) {}

  get size(): number {
    return this.docs.size;
  }

  /** The profile an identity belongs to; undefined: a visitor without a profile. Only while ready. */
  get(identity: string): DecisionDoc | undefined {
    const id = this.byIdentity.get(identity);
    return id === undefined ? undefined : this.docs.get(id);
  }

  /** Loads every profile, chunk by chunk; changes that arrive meanwhile are re-read after. */
  async load(onProgress?: (loaded: number, total: number) => void): Promise<void> {
    const started = Date.now();
    const [count] = await this.warehouse.query<{ n: string }>('SELECT count() AS n FROM {db}.profiles FINAL WHERE deleted = 0');
    const total = Number(count?.n ?? 0);
    if (this.maxProfiles <= 0 || total > this.maxProfiles) {
      this.disabled = `${total} profiles is more than USPA_API_WARM_PROFILES (${this.maxProfiles}): decisions read through the profile cache`;
      this.log.warn({ profiles: total, max: this.maxProfiles }, this.disabled);
      return;
    }
    this.docs.clear();
    this.byIdentity.clear();
    const chunks = Math.max(1, Math.ceil((total / 1_000_000) * CHUNKS_PER_MILLION));
    await this.refreshPersonas();
    const personas = await this.personas();
    for (let c = 0; c < chunks && !this.stopped; c++) {
      const rows = await this.warehouse.query<Row>(`SELECT ${COLUMNS} FROM {db}.profiles FINAL WHERE deleted = 0 AND cityHash64(profile_id) % {n:UInt32} = {c:UInt32}`, { n: chunks, c });
      await this.put(rows, personas);
      onProgress?.(this.docs.size, total);
    }
    this.ready = !this.stopped;
    this.log.info({ profiles: this.docs.size, identities: this.byIdentity.size, seconds: (Date.now() - started) / 1000 }, 'decision profiles loaded');
    this.schedule();
  }

  /** The latest personas model's label per profile. */
  private async personas(ids?: string[]): Promise<Map<string, string>> {
    const rows = await this.warehouse.query<{ profile_id: string; persona: string }>(
      `SELECT profile_id, persona FROM {db}.profile_personas WHERE model_version = ${latestVersionSql('personas')}${ids ? ' AND profile_id IN {ids:Array(String)}' : ''}`,
      ids ? { ids } : {},
    );
    return new Map(rows.map((r) => [r.profile_id, r.persona]));
  }

  private async put(rows: Row[], personas: Map<string, string>): Promise<void> {
    if (rows.length === 0) return;
    const memberships = new Map<string, Set<string>>();
    for (let i = 0; i < rows.length; i += 10_000) {
      const ids = rows.slice(i, i + 10_000).map((r) => r.profile_id);
      for (const m of await this.warehouse.query<{ profile_id: string; segments: string[] }>(MEMBERSHIPS, { ids })) memberships.set(m.profile_id, new Set(m.segments.map(segmentName)));
    }
    for (const r of rows) {
      const before = this.docs.get(r.profile_id);
      for (const identity of before?.identities ?? []) if (this.byIdentity.get(identity) === r.profile_id) this.byIdentity.delete(identity);
      this.docs.set(r.profile_id, decisionDoc(r, memberships.get(r.profile_id) ?? NO_SEGMENTS, personas.get(r.profile_id) ?? null));
      for (const identity of r.identities) this.byIdentity.set(identity, r.profile_id);
    }
  }

  /** A profile was rebuilt or deleted (profile-changes): re-read soon; a deletion applies now. */
  applyProfileChange(change: ProfileChangeRecord): void {
    if (change.deleted) {
      const doc = this.docs.get(change.profileId);
      for (const identity of doc?.identities ?? []) if (this.byIdentity.get(identity) === change.profileId) this.byIdentity.delete(identity);
      this.docs.delete(change.profileId);
      return;
    }
    // Its identities point at it at once: a visitor who just identified is not unknown for a moment.
    for (const identity of change.identities) {
      if (this.docs.has(change.profileId)) this.byIdentity.set(identity, change.profileId);
    }
    this.changed.add(change.profileId);
  }

  /** The change records stopped (the consumer crashed or stopped): not used until loaded again. */
  down(reason: string): void {
    if (!this.ready) return;
    this.ready = false;
    this.log.warn({ reason }, 'decision profiles may miss changes: reloading them; decisions read through the profile cache meanwhile');
    if (this.timer) clearTimeout(this.timer);
    const retry = (): void => {
      if (this.stopped) return;
      this.load().catch((err: unknown) => {
        this.log.warn({ err: (err as Error).message }, 'decision profiles not reloaded; retried in 10 s');
        setTimeout(retry, 10_000).unref();
      });
    };
    setTimeout(retry, 1_000).unref();
  }

  /** A Segment entry or exit: applied to the profile's memberships directly. */
  applySegmentChange(change: SegmentChangeRecord): void {
    const doc = this.docs.get(change.profileId);
    if (!doc) return;
    const name = segmentName(change.segment);
    const next = new Set(doc.profile.segments);
    if (change.change === 'entered') next.add(name);
    else next.delete(name);
    doc.profile = { ...doc.profile, segments: next };
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.reload().finally(() => this.schedule());
    }, RELOAD_EVERY_MS);
    this.timer.unref();
  }

  private async reload(): Promise<void> {
    if (Date.now() - this.personasCheckedAt > PERSONAS_CHECK_MS) await this.refreshPersonas().catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'personas not refreshed; retried'));
    if (this.changed.size === 0) return;
    const ids = [...this.changed].slice(0, 5_000);
    for (const id of ids) this.changed.delete(id);
    try {
      const rows = await this.warehouse.query<Row>(`SELECT ${COLUMNS} FROM {db}.profiles FINAL WHERE profile_id IN {ids:Array(String)} AND deleted = 0`, { ids });
      await this.put(rows, await this.personas(ids));
    } catch (err) {
      for (const id of ids) this.changed.add(id);
      this.log.warn({ err: (err as Error).message, profiles: ids.length }, 'changed decision profiles not re-read; retried');
    }
  }

  /** A new personas model version publishes no profile changes: its labels are read here when it appears. */
  private async refreshPersonas(): Promise<void> {
    this.personasCheckedAt = Date.now();
    const [row] = await this.warehouse.query<{ v: string }>(`SELECT toString(${latestVersionSql('personas')}) AS v`);
    const version = Number(row?.v ?? 0);
    if (version === this.personasVersion) return;
    const first = this.personasVersion < 0;
    this.personasVersion = version;
    if (first) return;
    const personas = await this.personas();
    for (const doc of this.docs.values()) doc.persona = personas.get(doc.profileId) ?? null;
  }

  stop(): void {
    this.stopped = true;
    this.ready = false;
    if (this.timer) clearTimeout(this.timer);
  }
}
