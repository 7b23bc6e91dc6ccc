// Mirrors the dead-letter topic into ClickHouse, where the dashboard and `uspa dlq` read it. Anyone
// who can write the topic can write anything to it: a record that is no dead letter, or a row
// ClickHouse refuses, is logged with where it is and skipped (it stays in Kafka), never retried
// forever in front of the letters behind it.
import type { Kafka } from 'kafkajs';
import type { Warehouse } from '../../lib/clickhouse.ts';
import { chTime } from '../../lib/clickhouse.ts';
import type { DeadLetter } from '../../api/event.ts';
import { deadLetterMirrorGroup } from '../../api/names.ts';
import type { TopicNames } from '../../lib/kafka.ts';
import type { Logger } from '../../lib/log.ts';
import { insertIsolating } from './refusals.ts';

type Where = { topic: string; partition: number; offset: string };
export type DeadLetterRow = ReturnType<typeof deadLetterRow>;

/** A dead letter → its dead_letters row; where it came from defaults to where it was read. */
export function deadLetterRow(letter: DeadLetter, fallback: Where) {
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

/** A dead-letter record's value → the letter, or why it is none (field by field). */
export function readDeadLetter(value: Buffer | null): { ok: true; letter: DeadLetter } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(value?.toString('utf8') ?? '');
  } catch (err) {
    return { ok: false, error: `record value is not JSON: ${(err as Error).message}` };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { ok: false, error: 'record value must be a JSON object' };
  const l = json as Record<string, unknown>;
  const problems: string[] = [];
  for (const field of ['stage', 'source', 'reason', 'failedAt'] as const) if (typeof l[field] !== 'string') problems.push(`${field}: must be a string`);
  if (typeof l.failedAt === 'string' && !Number.isFinite(Date.parse(l.failedAt))) problems.push('failedAt: must be a date-time');
  if (!Array.isArray(l.errors) || !l.errors.every((e) => typeof e === 'string')) problems.push('errors: must be an array of strings');
  if (l.messageId !== undefined && typeof l.messageId !== 'string') problems.push('messageId: must be a string');
  const o = l.origin as Record<string, unknown> | undefined;
  if (o !== undefined && (typeof o !== 'object' || o === null || typeof o.topic !== 'string' || !Number.isInteger(o.partition) || typeof o.offset !== 'string')) {
    problems.push('origin: must be { topic: string, partition: integer, offset: string }');
  }
  if (problems.length) return { ok: false, error: problems.join('; ') };
  return { ok: true, letter: { ...(l as unknown as DeadLetter), failedAt: new Date(Date.parse(l.failedAt as string)).toISOString() } };
}

export async function mirrorDeadLetters(kafka: Kafka, warehouse: Warehouse, log: Logger, topics: TopicNames, sources: string[], pipeline: string) {
  const consumer = kafka.consumer({ groupId: deadLetterMirrorGroup(warehouse.database, pipeline), maxWaitTimeInMs: 500 });
  await consumer.connect();
  await consumer.subscribe({ topics: sources.map((s) => topics.deadLetters(s)), fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const rows: Array<{ row: DeadLetterRow; at: Where }> = [];
      for (const m of batch.messages) {
        const at = { topic: batch.topic, partition: batch.partition, offset: m.offset };
        const read = readDeadLetter(m.value);
        if (read.ok) rows.push({ row: deadLetterRow(read.letter, at), at });
        else log.error({ ...at, cause: read.error }, 'unreadable dead letter kept in Kafka only');
      }
      // A refused row is skipped (and logged); ClickHouse being down fails the batch, which is retried.
      const refused = await insertIsolating((part) => warehouse.insert('dead_letters', part.map((r) => r.row)), rows);
      for (const { row, cause } of refused) log.error({ ...row.at, cause }, 'dead letter refused by ClickHouse, kept in Kafka only');
    },
  });
  return consumer;
}
