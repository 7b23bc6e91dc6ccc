// `uspa dlq list | replay`: look at dead letters and, after a fix, send them through again.
// The operator applies the schema; the CLI only reads and appends, so it never creates a database.
import type { CanonicalEvent } from '../api/event.ts';
import { Warehouse } from '../lib/clickhouse.ts';
import { BatchingProducer, connectKafka, kafkaSettingsFromEnv } from '../lib/kafka.ts';
import { createLogger } from '../lib/log.ts';
import { clickhouseFor, targetFromEnv, type Target } from './target.ts';

export interface DlqFilter {
  source?: string;
  reason?: string;
  since?: string;
}

const WHERE = `message_id != ''
  AND ({source:String} = '' OR source = {source:String})
  AND ({reason:String} = '' OR reason = {reason:String})
  AND failed_at >= parseDateTime64BestEffort({since:String}, 3)
  AND (source, message_id) NOT IN (SELECT source, message_id FROM {db}.dead_letter_replays)`;

function params(filter: DlqFilter) {
  return { source: filter.source ?? '', reason: filter.reason ?? '', since: filter.since ?? '1970-01-01' };
}

export async function listDeadLetters(filter: DlqFilter, target: Target = targetFromEnv()): Promise<Array<{ failed_at: string; source: string; reason: string; errors: string[]; message_id: string }>> {
  const warehouse = new Warehouse(clickhouseFor(target));
  try {
    return await warehouse.query(`SELECT failed_at, source, reason, errors, message_id FROM {db}.dead_letters WHERE ${WHERE} ORDER BY failed_at LIMIT 1 BY message_id`, params(filter));
  } finally {
    await warehouse.close();
  }
}

/** Re-sends the original events of matching dead letters to their Source's topic; each message id once. */
export async function replayDeadLetters(filter: DlqFilter & { dryRun?: boolean }, progress: (done: number, total: number) => void, target: Target = targetFromEnv()): Promise<{ replayed: number; replayable: number; skipped: Array<{ message_id: string; why: string }> }> {
  const log = createLogger('uspa-cli', 'warn');
  const warehouse = new Warehouse(clickhouseFor(target));
  const rows = await warehouse.query<{ source: string; message_id: string; payload: string }>(
    `SELECT source, message_id, payload FROM {db}.dead_letters WHERE ${WHERE} ORDER BY failed_at LIMIT 1 BY message_id`,
    params(filter),
  );
  const skipped: Array<{ message_id: string; why: string }> = [];
  const ready: Array<{ source: string; topic: string; event: CanonicalEvent }> = [];
  for (const r of rows) {
    const event = JSON.parse(r.payload) as CanonicalEvent | string;
    if (typeof event !== 'object' || event === null || !event.type || !event.messageId) {
      skipped.push({ message_id: r.message_id, why: 'the dead letter holds no event (unparseable input); fix and re-send it at the source' });
      continue;
    }
    const topic = target.sourceTopic(r.source);
    if (!topic) {
      skipped.push({ message_id: r.message_id, why: `Source ${r.source} no longer exists (or has no topic yet)` });
      continue;
    }
    ready.push({ source: r.source, topic, event });
  }
  if (filter.dryRun || ready.length === 0) {
    await warehouse.close();
    return { replayed: 0, replayable: ready.length, skipped };
  }
  const kafka = connectKafka(kafkaSettingsFromEnv('uspa-dlq-replay'), log);
  const producer = new BatchingProducer(kafka);
  await producer.connect();
  try {
    for (let i = 0; i < ready.length; i += 500) {
      const chunk = ready.slice(i, i + 500);
      await producer.send(chunk.map(({ source, topic, event }) => ({ topic, key: event.anonymousId ?? event.userId, value: JSON.stringify(event), headers: { source, replay: 'dlq' } })));
      await warehouse.insert('dead_letter_replays', chunk.map(({ source, event }) => ({ source, message_id: event.messageId })));
      progress(Math.min(i + 500, ready.length), ready.length);
    }
  } finally {
    await producer.disconnect();
    await warehouse.close();
  }
  return { replayed: ready.length, replayable: ready.length, skipped };
}
