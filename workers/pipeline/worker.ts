// A Pipeline's stream worker: consume its Sources' topics (one consumer group per Pipeline),
// validate → enrich → resolve identity → write ClickHouse in batches bounded by size and time,
// and commit offsets only after ClickHouse accepted the batch. Profiles are rebuilt off that path
// (realtime Segments follow each rebuild), and unmerges arrive on the control topic.
import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { Warehouse } from '../../lib/clickhouse.ts';
import { resolveIdentityKeys, type WorkloadPipeline } from '../../api/workload.ts';
import type { BatchingProducer, TopicNames } from '../../lib/kafka.ts';
import type { Logger } from '../../lib/log.ts';
import { enrichConfig } from '../../lib/enrichment/enrich.ts';
import { BatchConsumer } from './batch-consumer.ts';
import { BatchWriter } from './batch-writer.ts';
import { DeadLetterSender } from './dead-letter-sender.ts';
import { IdentityStore } from './identity-store.ts';
import { pipelineMetrics } from './metrics.ts';
import { ProfileBuilder } from './profile-builder.ts';
import { RealtimeSegments, type SegmentReporter } from './realtime-segments.ts';
import { SerialQueue } from './serial-queue.ts';
import { StallWatch, type StallState } from './stall.ts';
import { UnmergeLoop } from './unmerge.ts';
import type { SuppressionList } from '../../lib/privacy/suppressions.ts';
import { ConsentMemory } from './consent.ts';

export class PipelineWorker {
  /** Batches and unmerges, one at a time: the identity graph has one writer. */
  private readonly queue = new SerialQueue();
  private readonly identity: IdentityStore;
  private readonly profiles: ProfileBuilder;
  private readonly writer: BatchWriter;
  private readonly batches: BatchConsumer;
  private readonly unmerges: UnmergeLoop;
  private readonly stall: StallWatch;
  private readonly realtime: RealtimeSegments;

  constructor(
    private readonly spec: WorkloadPipeline,
    private readonly kafka: Kafka,
    warehouse: Warehouse,
    producer: BatchingProducer,
    private readonly log: Logger,
    registry: Registry,
    private readonly topics: TopicNames,
    /** Where the stall state goes besides the metric (the Pipeline's status), if anywhere. */
    private readonly report?: (state: StallState) => void,
    /** Where each realtime Segment's state goes (its status), if anywhere. */
    reportSegment?: SegmentReporter,
    /** The namespace's suppression list (one per process), if any. */
    suppressions?: SuppressionList,
  ) {
    const keys = resolveIdentityKeys(spec.identity?.keys, `pipeline ${spec.name}: identity.keys`);
    const metrics = pipelineMetrics(registry, spec.name);
    this.stall = new StallWatch(metrics, log, report);
    this.identity = new IdentityStore(warehouse, { keys, maxProfilesPerMerge: spec.identity?.maxProfilesPerMerge ?? 50 }, log);
    const realtime = new RealtimeSegments(warehouse, producer, topics, metrics, log, reportSegment);
    this.realtime = realtime;
    this.profiles = new ProfileBuilder(spec.name, warehouse, spec.batch?.profileIntervalMs ?? 1000, (ids) => realtime.evaluate(ids), metrics, log, { producer, topic: topics.profileChanges });
    this.writer = new BatchWriter({
      pipeline: spec.name,
      keys,
      enrich: enrichConfig(spec.enrich),
      warehouse,
      identity: this.identity,
      profiles: this.profiles,
      deadLetters: new DeadLetterSender(spec.name, topics, producer, metrics, log),
      metrics,
      log,
      suppressions,
      consent: new ConsentMemory(new Set((spec.consent?.purposes ?? []).map((p) => p.name))),
    });
    this.batches = new BatchConsumer({
      group: this.groupId,
      topics: spec.sources.map((s) => topics.source(s)),
      maxEvents: spec.batch?.maxEvents ?? 5000,
      maxWaitMs: spec.batch?.maxWaitMs ?? 200,
      write: (records) => this.stall.track(this.writer.write(records)),
      // The in-memory graph may hold observations ClickHouse never got: start again from what is stored.
      afterFailedWrite: () => this.identity.load().catch((err: unknown) => log.error({ err }, 'reloading the identity graph failed')),
      queue: this.queue,
      log,
    });
    this.unmerges = new UnmergeLoop(warehouse, this.identity, this.queue, log, (written, now) => this.profiles.publishChanges(written, now));
  }

  get groupId(): string {
    return this.topics.pipelineGroup(this.spec.name);
  }

  /** Until every profile is current, how many are waiting (for tests and /metrics). */
  get profilesPending(): number {
    return this.profiles.pending;
  }

  /** Whether writes keep failing (the offsets do not move), and why. */
  get stallState(): StallState {
    return this.stall.state;
  }

  /** When the last batch was written (ms since the epoch; 0: none yet). */
  get lastFlushAt(): number {
    return this.writer.lastWriteAt;
  }

  /** Loads the identity graph from ClickHouse, then starts consuming. */
  async start(): Promise<void> {
    await this.identity.load();
    await this.profiles.recover();
    this.profiles.start();
    await this.batches.start(this.kafka);
    await this.unmerges.start(this.kafka, this.topics.pipelineControlGroup(this.spec.name), this.topics.control(this.spec.name));
    // Consuming first: a Segment reported Live is evaluated for every event from then on.
    await this.realtime.start();
    this.log.info({ pipeline: this.spec.name, sources: this.spec.sources, group: this.groupId }, 'pipeline consuming');
    this.report?.(this.stall.state);
  }

  async stop(): Promise<void> {
    this.realtime.stop();
    this.profiles.stop();
    await this.unmerges.stop();
    await this.batches.stop();
    await this.queue.idle();
    await this.profiles.settled();
  }
}
