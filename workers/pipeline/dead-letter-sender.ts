// What the pipeline cannot store goes to its Source's dead-letter topic, so it never blocks the
// records around it and is never lost.
import type { DeadLetter, Json } from '../../api/event.ts';
import type { BatchingProducer, TopicNames } from '../../lib/kafka.ts';
import type { Logger } from '../../lib/log.ts';
import type { PipelineMetrics } from './metrics.ts';

/** Where a consumed record came from. */
export interface Origin {
  topic: string;
  partition: number;
  offset: string;
}

export interface Rejection {
  origin: Origin;
  reason: string;
  errors: string[];
  payload: Json;
}

/** The dead letter of a record a Pipeline rejected. */
export function deadLetterOf(pipeline: string, topics: TopicNames, r: Rejection, now = new Date()): DeadLetter {
  const source = r.origin.topic.slice(topics.source('').length);
  const p = r.payload;
  const messageId = p && typeof p === 'object' && !Array.isArray(p) && typeof p.messageId === 'string' ? p.messageId : undefined;
  return { stage: `pipeline:${pipeline}`, source, reason: r.reason, errors: r.errors, payload: p, messageId, origin: r.origin, failedAt: now.toISOString() };
}

export class DeadLetterSender {
  constructor(
    private readonly pipeline: string,
    private readonly topics: TopicNames,
    private readonly producer: BatchingProducer,
    private readonly metrics: PipelineMetrics,
    private readonly log: Logger,
  ) {}

  /** Dead letters go to Kafka (acks=all) before the batch's offsets are committed: none is lost. */
  async send(rejections: Rejection[]): Promise<void> {
    const letters = rejections.map((r) => {
      this.metrics.dead.inc({ pipeline: this.pipeline, reason: r.reason });
      return deadLetterOf(this.pipeline, this.topics, r);
    });
    await this.producer.send(letters.map((l) => ({ topic: this.topics.deadLetters(l.source), key: l.messageId, value: JSON.stringify(l), headers: { source: l.source, reason: l.reason } })));
    for (const l of letters) this.log.warn({ source: l.source, reason: l.reason, errors: l.errors.slice(0, 3), origin: l.origin }, 'record dead-lettered');
  }
}
