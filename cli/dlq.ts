// `uspa dlq list | replay`: look at dead letters and, after a fix, send them through again.
// The operator applies the schema; the CLI only reads and appends, so it never creates a database.
// What is pending and how a replay works is lib/dead-letters.ts, shared with the API.
import { Warehouse } from '../lib/clickhouse.ts';
import { loadReplayPlan, pendingDeadLetters, sendReplay, type DeadLetterFilter, type PendingDeadLetter, type ReplayPlan } from '../lib/dead-letters.ts';
import { BatchingProducer, connectKafka, kafkaSettingsFromEnv } from '../lib/kafka.ts';
import { createLogger } from '../lib/log.ts';
import { clickhouseFor, targetFromEnv, type Target } from './target.ts';

export { planReplay, replayReport, type ReplayItem, type ReplayPlan } from '../lib/dead-letters.ts';

export type DlqFilter = Pick<DeadLetterFilter, 'source' | 'reason' | 'since'>;

export async function listDeadLetters(filter: DlqFilter, target: Target = targetFromEnv()): Promise<PendingDeadLetter[]> {
  const warehouse = new Warehouse(clickhouseFor(target));
  try {
    return await pendingDeadLetters(warehouse, filter);
  } finally {
    await warehouse.close();
  }
}

/** Re-sends the original events of matching dead letters to their Source's topic, each message id once; a dry run only plans. */
export async function replayDeadLetters(filter: DlqFilter & { dryRun?: boolean }, progress: (done: number, total: number) => void, target: Target = targetFromEnv()): Promise<ReplayPlan & { replayed: number }> {
  const log = createLogger('uspa-cli', 'warn');
  const warehouse = new Warehouse(clickhouseFor(target));
  let plan: ReplayPlan;
  try {
    plan = await loadReplayPlan(warehouse, filter, target.sourceTopic);
  } catch (err) {
    await warehouse.close();
    throw err;
  }
  if (filter.dryRun || plan.ready.length === 0) {
    await warehouse.close();
    return { ...plan, replayed: 0 };
  }
  const producer = new BatchingProducer(connectKafka(kafkaSettingsFromEnv('uspa-dlq-replay'), log));
  await producer.connect();
  try {
    return { ...plan, replayed: await sendReplay(plan, warehouse, producer, progress) };
  } finally {
    await producer.disconnect();
    await warehouse.close();
  }
}
