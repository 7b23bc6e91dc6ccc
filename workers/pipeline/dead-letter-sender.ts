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

/** A dead letter must fit in a Kafka record (1 MiB by default) with room to spare. */
export const MAX_PAYLOAD_CHARS = 256 * 1024;

/** The dead letter of a record a Pipeline rejected. */
export function deadLetterOf(pipeline: string, topics: TopicNames, r: Rejection, now = new Date()): DeadLetter {
  const source = r.origin.topic.slice(topics.source('').length);
  const p = r.payload;
  const messageId = p && typeof p === 'object' && !Array.isArray(p) && typeof p.messageId === 'string' ? p.messageId : undefined;
  const { payload, note } = boundedPayload(p);
  return { stage: `pipeline:${pipeline}`, source, reason: r.reason, errors: note ? [...r.errors, note] : r.errors, payload, messageId, origin: r.origin, failedAt: now.toISOString() };
}

/** A payload too large (or too deep) to re-serialize travels as the start of its text, saying so; the record stays in its topic at its origin. */
function boundedPayload(p: Json): { payload: Json; note?: string } {
  let text: string;
  try {
    text = typeof p === 'string' ? p : JSON.stringify(p);
  } catch {
    return { payload: '', note: 'payload left out: it cannot be serialized again (see the record at its origin)' };
  }
  if (text.length <= MAX_PAYLOAD_CHARS) return { payload: p };
  return { payload: text.slice(0, MAX_PAYLOAD_CHARS), note: `payload truncated to its first ${MAX_PAYLOAD_CHARS} of ${text.length} characters (the whole record is at its origin)` };
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
