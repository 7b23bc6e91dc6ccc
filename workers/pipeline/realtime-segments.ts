// Realtime Segments: re-evaluated for the profiles each rebuild round touched; their entries and
// exits are published to the namespace's segment-changes topic first and recorded as live after,
// so a failed send (or a crash between the two) leaves the change to be published again: at least
// once, never lost. A definition that cannot be read or evaluated is skipped and logged; the others go on.
import type { SegmentChangeRecord } from '../../api/segment-changes.ts';
import type { Warehouse } from '../../lib/clickhouse.ts';
import type { BatchingProducer, OutgoingRecord, TopicNames } from '../../lib/kafka.ts';
import type { Logger } from '../../lib/log.ts';
import { loadRealtimeDefinitions, realtimeChanges, recordLive, type SegmentChange, type SegmentDefinition } from '../../lib/segments/realtime.ts';
import type { PipelineMetrics } from './metrics.ts';
import { isRefusal } from './refusals.ts';

/** Definitions are re-read this often, so a new or edited Segment takes effect within seconds. */
const RELOAD_MS = 10_000;

/** A change → its segment-changes record, shaped like the batch computation's (version 0: realtime). */
export function segmentChangeRecord(topic: string, c: SegmentChange, at: string): OutgoingRecord {
  const [namespace, segment] = c.segment.split('/') as [string, string];
  const record: SegmentChangeRecord = { namespace, segment, version: 0, profileId: c.profileId, change: c.change, at, origin: 'realtime' };
  return { topic, key: c.profileId, value: JSON.stringify(record) };
}

export class RealtimeSegments {
  private definitions: SegmentDefinition[] = [];
  private loadedAt = 0;
  /** Broken definitions already logged (by segment and revision): logged once, not every round. */
  private readonly reported = new Set<string>();

  constructor(
    private readonly warehouse: Warehouse,
    private readonly producer: BatchingProducer,
    private readonly topics: TopicNames,
    private readonly metrics: PipelineMetrics,
    private readonly log: Logger,
  ) {}

  async evaluate(profileIds: string[]): Promise<void> {
    if (Date.now() - this.loadedAt > RELOAD_MS) {
      const loaded = await loadRealtimeDefinitions(this.warehouse);
      for (const u of loaded.unreadable) this.skip(`${u.segment}@${u.revision}`, { segment: u.segment, cause: u.error }, 'realtime Segment definition unreadable, skipped');
      this.definitions = loaded.definitions;
      this.loadedAt = Date.now();
    }
    if (profileIds.length === 0) return;
    const changes: SegmentChange[] = [];
    for (const def of this.definitions) {
      try {
        changes.push(...(await realtimeChanges(this.warehouse, def, profileIds)));
      } catch (err) {
        // ClickHouse refusing the Segment's own query is that Segment's problem; anything else is retried.
        if (!isRefusal(err)) throw err;
        this.skip(`${def.segment}@${def.revision}`, { segment: def.segment, cause: (err as Error).message }, 'realtime Segment query refused, skipped');
      }
    }
    if (changes.length === 0) return;
    const at = new Date().toISOString();
    await this.producer.send(changes.map((c) => segmentChangeRecord(this.topics.segmentChanges, c, at)));
    await recordLive(this.warehouse, changes, 'realtime');
    this.metrics.segmentChanges.inc(changes.length);
  }

  private skip(key: string, details: { segment: string; cause: string }, message: string): void {
    this.metrics.skipped.inc({ pipeline: this.metrics.pipeline, consumer: 'realtime-segments' });
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.log.error(details, message);
  }
}
