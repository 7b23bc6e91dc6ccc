// Realtime Segments: re-evaluated for the profiles each rebuild round touched; their entries and
// exits are published to the namespace's segment-changes topic first and recorded as live after,
// so a failed send (or a crash between the two) leaves the change to be published again: at least
// once, never lost. A definition that cannot be read or evaluated is skipped and logged; the others go on.
// Each Segment is told what the worker evaluates (its status.workers entry, component "pipeline"):
// Live with the generation of the definition once it is loaded and its query accepted, Stalled
// with the cause when it is skipped — the operator makes a realtime Segment Ready only on Live.
import type { SegmentChangeRecord } from '../../api/segment-changes.ts';
import type { WorkerState } from '../../api/v1alpha1/meta.ts';
import type { Warehouse } from '../../lib/clickhouse.ts';
import type { BatchingProducer, OutgoingRecord, TopicNames } from '../../lib/kafka.ts';
import type { Logger } from '../../lib/log.ts';
import { loadRealtimeDefinitions, realtimeChanges, recordLive, type SegmentChange, type SegmentDefinition } from '../../lib/segments/realtime.ts';
import type { PipelineMetrics } from './metrics.ts';
import { isRefusal } from './refusals.ts';

/** Definitions are re-read this often (with or without events), so a new or edited Segment takes effect within seconds. */
const RELOAD_MS = 5_000;

/** What the worker says about one Segment (`<namespace>/<name>`): the generation it evaluates, Live or Stalled. */
export interface SegmentState {
  generation: number;
  state: WorkerState;
  reason?: string;
  message?: string;
}

export type SegmentReporter = (segment: string, state: SegmentState) => void;

/** A change → its segment-changes record, shaped like the batch computation's (version 0: realtime). */
export function segmentChangeRecord(topic: string, c: SegmentChange, at: string): OutgoingRecord {
  const [namespace, segment] = c.segment.split('/') as [string, string];
  const record: SegmentChangeRecord = { namespace, segment, version: 0, profileId: c.profileId, change: c.change, at, origin: 'realtime' };
  return { topic, key: c.profileId, value: JSON.stringify(record) };
}

export class RealtimeSegments {
  private definitions: SegmentDefinition[] = [];
  private loadedAt = 0;
  private loading?: Promise<void>;
  private timer?: NodeJS.Timeout;
  /** Broken definitions already logged (by segment and revision): logged once, not every round. */
  private readonly reported = new Set<string>();
  /** Per Segment: the definition version (revision@generation) whose query ClickHouse accepted. */
  private readonly accepted = new Map<string, string>();
  /** Per Segment: what it is told; told again at each load (reportStatus skips what it already wrote). */
  private readonly states = new Map<string, SegmentState>();

  constructor(
    private readonly warehouse: Warehouse,
    private readonly producer: BatchingProducer,
    private readonly topics: TopicNames,
    private readonly metrics: PipelineMetrics,
    private readonly log: Logger,
    /** Where each Segment's state goes (its status), if anywhere. */
    private readonly report?: SegmentReporter,
  ) {}

  /** Loads the definitions, then again every RELOAD_MS even while no event arrives, so a new generation is reported without traffic. */
  async start(): Promise<void> {
    await this.reload();
    this.timer = setInterval(() => void this.reload().catch((err: unknown) => this.log.warn({ err }, 'reloading realtime Segment definitions failed; will retry')), RELOAD_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async evaluate(profileIds: string[]): Promise<void> {
    if (Date.now() - this.loadedAt > RELOAD_MS) await this.reload();
    if (profileIds.length === 0) return;
    const changes: SegmentChange[] = [];
    for (const def of this.definitions) {
      try {
        changes.push(...(await realtimeChanges(this.warehouse, def, profileIds)));
        this.tell(def, { state: 'Live' });
      } catch (err) {
        // ClickHouse refusing the Segment's own query is that Segment's problem; anything else is retried.
        if (!isRefusal(err)) throw err;
        this.refused(def, err as Error);
      }
    }
    if (changes.length === 0) return;
    const at = new Date().toISOString();
    await this.producer.send(changes.map((c) => segmentChangeRecord(this.topics.segmentChanges, c, at)));
    await recordLive(this.warehouse, changes, 'realtime');
    this.metrics.segmentChanges.inc(changes.length);
  }

  private reload(): Promise<void> {
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(): Promise<void> {
    const loaded = await loadRealtimeDefinitions(this.warehouse);
    this.definitions = loaded.definitions;
    this.loadedAt = Date.now();
    const present = new Set([...loaded.definitions, ...loaded.unreadable].map((d) => d.segment));
    for (const segment of [...this.states.keys()]) if (!present.has(segment)) this.states.delete(segment);
    for (const segment of [...this.accepted.keys()]) if (!present.has(segment)) this.accepted.delete(segment);
    for (const u of loaded.unreadable) {
      this.skip(`${u.segment}@${u.revision}`, { segment: u.segment, cause: u.error }, 'realtime Segment definition unreadable, skipped');
      this.tell(u, { state: 'Stalled', reason: 'DefinitionUnreadable', message: `its definition (revision ${u.revision}) cannot be read, so it is not evaluated: ${u.error}` });
    }
    for (const def of loaded.definitions) {
      const version = `${def.revision}@${def.generation ?? 0}`;
      if (this.accepted.get(def.segment) !== version) {
        // Evaluated once for no profile: ClickHouse analyses the query, so one it refuses is told now, not at the first event.
        try {
          await this.warehouse.query(`SELECT count() AS n FROM (${def.sql}) WHERE profile_id IN {uspa_ids:Array(String)}`, { ...def.params, uspa_ids: [] });
        } catch (err) {
          if (!isRefusal(err)) throw err;
          this.refused(def, err as Error);
          continue;
        }
        this.accepted.set(def.segment, version);
        this.tell(def, { state: 'Live' });
      }
    }
    if (this.report) for (const [segment, state] of this.states) this.report(segment, state);
  }

  private refused(def: SegmentDefinition, err: Error): void {
    this.skip(`${def.segment}@${def.revision}`, { segment: def.segment, cause: err.message }, 'realtime Segment query refused, skipped');
    this.tell(def, { state: 'Stalled', reason: 'QueryRefused', message: `ClickHouse refuses its query (revision ${def.revision}), so it is not evaluated: ${err.message}` });
  }

  /** Records a Segment's state, and reports it at once when it changed. Definitions written before generations were recorded (0) are not reported. */
  private tell(def: { segment: string; generation?: number }, update: Omit<SegmentState, 'generation'>): void {
    const generation = def.generation ?? 0;
    if (generation < 1) return;
    const state: SegmentState = { generation, ...update };
    const before = this.states.get(def.segment);
    this.states.set(def.segment, state);
    if (before && before.generation === state.generation && before.state === state.state && before.reason === state.reason && before.message === state.message) return;
    this.report?.(def.segment, state);
  }

  private skip(key: string, details: { segment: string; cause: string }, message: string): void {
    this.metrics.skipped.inc({ pipeline: this.metrics.pipeline, consumer: 'realtime-segments' });
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.log.error(details, message);
  }
}
