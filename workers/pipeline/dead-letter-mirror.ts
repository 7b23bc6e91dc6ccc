// Mirrors the dead-letter topic into ClickHouse, where the dashboard and `uspa dlq` read it.
import type { Kafka } from 'kafkajs';
import type { Warehouse } from '../../lib/clickhouse.ts';
import { chTime } from '../../lib/clickhouse.ts';
import type { DeadLetter } from '../../api/event.ts';
import { deadLetterMirrorGroup } from '../../api/names.ts';
import type { TopicNames } from '../../lib/kafka.ts';
import type { Logger } from '../../lib/log.ts';

/** A dead letter → its dead_letters row; where it came from defaults to where it was read. */
export function deadLetterRow(letter: DeadLetter, fallback: { topic: string; partition: number; offset: string }) {
  return {
    failed_at: chTime(letter.failedAt),
    stage: letter.stage,
    source: letter.source,
    reason: letter.reason,
    errors: letter.errors,
    message_id: letter.messageId ?? '',
    payload: JSON.stringify(letter.payload),
    topic: letter.origin?.topic ?? fallback.topic,
    partition: letter.origin?.partition ?? fallback.partition,
    offset: letter.origin?.offset ?? fallback.offset,
  };
}

export async function mirrorDeadLetters(kafka: Kafka, warehouse: Warehouse, log: Logger, topics: TopicNames, sources: string[], pipeline: string) {
  const consumer = kafka.consumer({ groupId: deadLetterMirrorGroup(warehouse.database, pipeline), maxWaitTimeInMs: 500 });
  await consumer.connect();
  await consumer.subscribe({ topics: sources.map((s) => topics.deadLetters(s)), fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const rows = batch.messages.flatMap((m) => {
        try {
          return [deadLetterRow(JSON.parse(String(m.value)) as DeadLetter, { topic: batch.topic, partition: batch.partition, offset: m.offset })];
        } catch (err) {
          log.error({ err: (err as Error).message, offset: m.offset }, 'unreadable dead letter kept in Kafka only');
          return [];
        }
      });
      await warehouse.insert('dead_letters', rows);
    },
  });
  return consumer;
}
