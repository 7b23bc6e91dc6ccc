// Realtime Segments: re-evaluated for the profiles each rebuild round touched, their entries and
// exits published to the namespace's segment-changes topic at once.
import type { SegmentChangeRecord } from '../../api/segment-changes.ts';
import type { Warehouse } from '../../lib/clickhouse.ts';
import type { BatchingProducer, OutgoingRecord, TopicNames } from '../../lib/kafka.ts';
import { evaluateRealtime, loadRealtimeDefinitions, type SegmentChange, type SegmentDefinition } from '../../lib/segments/realtime.ts';
import type { PipelineMetrics } from './metrics.ts';

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

  constructor(
    private readonly warehouse: Warehouse,
    private readonly producer: BatchingProducer,
    private readonly topics: TopicNames,
    private readonly metrics: PipelineMetrics,
  ) {}

  async evaluate(profileIds: string[]): Promise<void> {
    if (Date.now() - this.loadedAt > RELOAD_MS) {
      this.definitions = await loadRealtimeDefinitions(this.warehouse);
      this.loadedAt = Date.now();
    }
    const changes = await evaluateRealtime(this.warehouse, this.definitions, profileIds);
    if (changes.length === 0) return;
    const at = new Date().toISOString();
    await this.producer.send(changes.map((c) => segmentChangeRecord(this.topics.segmentChanges, c, at)));
    this.metrics.segmentChanges.inc(changes.length);
  }
}
