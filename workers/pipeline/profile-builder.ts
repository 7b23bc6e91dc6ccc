// Profile rows are rebuilt off the commit path: batches mark the profiles they touched, a timer
// rebuilds them in small rounds, and a watermark lets a restarted worker find what it missed.
// Each rebuilt (or deleted) profile is then published to the profile-changes topic, after
// ClickHouse has it: the API's caches evict or refresh it from that record.
import type { ProfileChangeRecord } from '../../api/profile-changes.ts';
import type { Warehouse } from '../../lib/clickhouse.ts';
import { chTime } from '../../lib/clickhouse.ts';
import type { BatchingProducer } from '../../lib/kafka.ts';
import type { Logger } from '../../lib/log.ts';
import type { PipelineMetrics } from './metrics.ts';
import { rebuildProfiles, type RebuiltProfile } from './profiles.ts';

/** Small rounds: on a single-writer ClickHouse (the local chdb front) a long rebuild would stall ingestion. */
const ROUND_SIZE = 2_000;
/** The watermark trails the round's start, so events stored while it ran are rebuilt again after a crash. */
const WATERMARK_MARGIN_MS = 60_000;

export class ProfileBuilder {
  /** Profiles whose events or identities changed. */
  private readonly dirty = new Set<string>();
  /** Profiles folded into another: their rows are deleted. */
  private readonly gone = new Set<string>();
  private round: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** Change records not yet acknowledged by Kafka, by profile (the newest wins). */
  private readonly unpublished = new Map<string, ProfileChangeRecord>();
  private publishing: Promise<void> | undefined;

  constructor(
    private readonly pipeline: string,
    private readonly warehouse: Warehouse,
    private readonly intervalMs: number,
    /** Runs after each round's rebuild with the profiles it rebuilt; a failure retries the round. */
    private readonly afterRebuild: (profileIds: string[]) => Promise<void>,
    private readonly metrics: PipelineMetrics,
    private readonly log: Logger,
    /** Where profile-changes records go; none: not published (tests of the rebuild alone). */
    private readonly changes?: { producer: BatchingProducer; topic: string },
  ) {}

  /** Until every profile is current, how many are waiting. */
  get pending(): number {
    return this.dirty.size + this.gone.size;
  }

  /** Profiles a write changed (touched) or folded away (removed); a profile in both is rebuilt. */
  mark(touched: Iterable<string>, removed: Iterable<string>): void {
    for (const p of touched) this.dirty.add(p);
    for (const p of removed) this.gone.add(p);
    this.metrics.backlog.set(this.pending);
  }

  start(): void {
    this.running = true;
    this.schedule();
  }

  /** No round starts after this; the one in flight finishes (see settled). */
  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Settles when the round in flight has, and its change records were sent (rounds never reject: a failed one is retried). */
  async settled(): Promise<void> {
    await this.round;
    await this.publishing;
  }

  /** Change records waiting for Kafka (a failed send keeps them for the next round). */
  get unpublishedChanges(): number {
    return this.unpublished.size;
  }

  /** After a crash the pending set is gone: rebuild every profile touched since the last watermark. */
  async recover(): Promise<void> {
    const state = await this.warehouse.query<{ value: string }>(
      "SELECT argMax(value, updated_at) AS value FROM {db}.pipeline_state WHERE pipeline = {p:String} AND key = 'profiles_watermark' GROUP BY key",
      { p: this.pipeline },
    );
    const since = chTime(state[0]?.value ?? '1970-01-01T00:00:00.000Z');
    const touched = await this.warehouse.query<{ profile_id: string }>(
      `SELECT DISTINCT profile_id FROM (
         SELECT identity, argMax(profile_id, version) AS profile_id, max(updated_at) AS changed FROM {db}.identities GROUP BY identity
       ) WHERE changed >= {since:DateTime64(3)}
          OR identity IN (SELECT DISTINCT identity FROM {db}.events WHERE ingested_at >= {since:DateTime64(3)})`,
      { since },
    );
    for (const r of touched) this.dirty.add(r.profile_id);
    const orphans = await this.warehouse.query<{ profile_id: string }>(
      `SELECT profile_id FROM {db}.profiles FINAL WHERE deleted = 0 AND updated_at >= {since:DateTime64(3)}
         AND profile_id NOT IN (SELECT DISTINCT argMax(profile_id, version) FROM {db}.identities GROUP BY identity)`,
      { since },
    );
    for (const r of orphans) this.gone.add(r.profile_id);
    if (this.pending) this.log.info({ profiles: this.pending, since }, 'rebuilding profiles touched since the last watermark');
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.round = this.rebuild().finally(() => this.schedule());
    }, this.intervalMs);
  }

  /**
   * One round. When it leaves nothing pending, every event stored before it began is reflected in
   * its profile: that time (less a margin) becomes the watermark a restarted worker recovers from.
   */
  private async rebuild(): Promise<void> {
    if (this.unpublished.size > 0) this.flushChanges();
    if (this.pending === 0) return;
    const roundStart = Date.now();
    const ids = [...this.dirty].slice(0, ROUND_SIZE);
    const gone = [...this.gone].filter((p) => !this.dirty.has(p));
    for (const p of ids) this.dirty.delete(p);
    for (const p of gone) this.gone.delete(p);
    try {
      const now = new Date();
      const written = await rebuildProfiles(this.warehouse, ids, gone, now);
      this.metrics.rebuilt.inc(ids.length + gone.length);
      this.publishChanges(written, now);
      await this.afterRebuild([...ids, ...gone]);
      if (this.pending === 0) {
        await this.warehouse.insert('pipeline_state', [{ pipeline: this.pipeline, key: 'profiles_watermark', value: new Date(roundStart - WATERMARK_MARGIN_MS).toISOString() }]);
      }
    } catch (err) {
      for (const p of ids) this.dirty.add(p);
      for (const p of gone) this.gone.add(p);
      this.log.error({ err }, 'profile rebuild failed; will retry');
    } finally {
      this.metrics.backlog.set(this.pending);
    }
  }

  /**
   * Queues the records and sends them without holding up the next round: a slow Kafka delays the
   * caches' freshness, not the rebuilds. One send at a time; a failed one is kept and sent with the
   * next round's (or on the next retry), so no change is lost while the process lives. Also called
   * for the profiles an unmerge rebuilt.
   */
  publishChanges(written: RebuiltProfile[], now: Date): void {
    if (!this.changes) return;
    const updatedAt = now.toISOString();
    for (const w of written) this.unpublished.set(w.profileId, { profileId: w.profileId, identities: w.identities, deleted: w.deleted, updatedAt });
    this.flushChanges();
  }

  private flushChanges(): void {
    this.publishing ??= this.sendChanges().finally(() => (this.publishing = undefined));
  }

  private async sendChanges(): Promise<void> {
    const { producer, topic } = this.changes!;
    while (this.unpublished.size > 0) {
      const batch = [...this.unpublished.values()];
      this.unpublished.clear();
      try {
        await producer.send(batch.map((r) => ({ topic, key: r.profileId, value: JSON.stringify(r) })));
        this.metrics.profileChanges.inc(batch.length);
      } catch (err) {
        // A newer record of the same profile queued meanwhile supersedes the failed one.
        for (const r of batch) if (!this.unpublished.has(r.profileId)) this.unpublished.set(r.profileId, r);
        this.log.warn({ err, records: batch.length }, 'publishing profile changes failed; retried next round');
        return;
      }
    }
  }
}
