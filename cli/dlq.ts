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

interface DeadLetterRow {
  source: string;
  reason: string;
  message_id: string;
  payload: string;
}

export interface ReplayItem {
  source: string;
  reason: string;
  message_id: string;
}

/** What a replay sends and what it leaves, decided before anything is sent (a dry run stops here). */
export interface ReplayPlan {
  ready: Array<ReplayItem & { topic: string; event: CanonicalEvent }>;
  skipped: Array<ReplayItem & { why: string }>;
}

/** Sorts the dead letters into those whose event can go back to its Source's topic and those that cannot. */
export function planReplay(rows: DeadLetterRow[], sourceTopic: (source: string) => string | undefined): ReplayPlan {
  const plan: ReplayPlan = { ready: [], skipped: [] };
  for (const r of rows) {
    const item = { source: r.source, reason: r.reason, message_id: r.message_id };
    const event = parsePayload(r.payload);
    if (!event) {
      plan.skipped.push({ ...item, why: 'the dead letter holds no event (unparseable input); fix and re-send it at the source' });
      continue;
    }
    const topic = sourceTopic(r.source);
    if (!topic) {
      plan.skipped.push({ ...item, why: `Source ${r.source} no longer exists (or has no topic yet)` });
      continue;
    }
    plan.ready.push({ ...item, topic, event });
  }
  return plan;
}

function parsePayload(payload: string): CanonicalEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  const event = value as Partial<CanonicalEvent> | null;
  return typeof event === 'object' && event !== null && !Array.isArray(event) && event.type && event.messageId ? (event as CanonicalEvent) : undefined;
}

/** Message ids shown per group in a report. */
const FIRST_IDS = 3;

/** The report of a replay (or of what a dry run would replay): counts per Source and cause, the first ids of each, the filter. */
export function replayReport(plan: ReplayPlan, o: { dryRun: boolean; filter: DlqFilter; where: string; took?: string }): string {
  const lines = [
    o.dryRun
      ? `dry run: would replay ${plan.ready.length} event(s) in ${o.where}; skip ${plan.skipped.length}; nothing was sent`
      : `replayed ${plan.ready.length} event(s) in ${o.where}${o.took ? ` in ${o.took}` : ''}; skipped ${plan.skipped.length}`,
    `  filter: source ${o.filter.source ?? '(any)'}, reason ${o.filter.reason ?? '(any)'}, since ${o.filter.since ?? '(any time)'}; dead letters not replayed before`,
  ];
  for (const g of groups(plan.ready)) lines.push(`  ${o.dryRun ? 'would replay' : 'replayed'} ${g.count}  ${g.source}  ${g.reason}  ${firstIds(g)}`);
  for (const g of groups(plan.skipped)) lines.push(`  ${o.dryRun ? 'would skip' : 'skipped'} ${g.count}  ${g.source}  ${g.reason}  ${firstIds(g)}  (${g.why})`);
  return lines.join('\n');
}

function firstIds(g: { ids: string[]; count: number }): string {
  return g.ids.join(', ') + (g.count > g.ids.length ? `, … ${g.count - g.ids.length} more` : '');
}

/** Items grouped by Source and cause (and, for skipped ones, why), in order of first appearance. */
function groups<T extends ReplayItem & { why?: string }>(items: T[]): Array<{ source: string; reason: string; why?: string; count: number; ids: string[] }> {
  const byKey = new Map<string, { source: string; reason: string; why?: string; count: number; ids: string[] }>();
  for (const item of items) {
    const key = JSON.stringify([item.source, item.reason, item.why]);
    const g = byKey.get(key) ?? byKey.set(key, { source: item.source, reason: item.reason, why: item.why, count: 0, ids: [] }).get(key)!;
    g.count++;
    if (g.ids.length < FIRST_IDS) g.ids.push(item.message_id);
  }
  return [...byKey.values()];
}

/** Re-sends the original events of matching dead letters to their Source's topic, each message id once; a dry run only plans. */
export async function replayDeadLetters(filter: DlqFilter & { dryRun?: boolean }, progress: (done: number, total: number) => void, target: Target = targetFromEnv()): Promise<ReplayPlan & { replayed: number }> {
  const log = createLogger('uspa-cli', 'warn');
  const warehouse = new Warehouse(clickhouseFor(target));
  let plan: ReplayPlan;
  try {
    plan = planReplay(
      await warehouse.query<DeadLetterRow>(`SELECT source, reason, message_id, payload FROM {db}.dead_letters WHERE ${WHERE} ORDER BY failed_at LIMIT 1 BY message_id`, params(filter)),
      target.sourceTopic,
    );
  } catch (err) {
    await warehouse.close();
    throw err;
  }
  const { ready } = plan;
  if (filter.dryRun || ready.length === 0) {
    await warehouse.close();
    return { ...plan, replayed: 0 };
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
  return { ...plan, replayed: ready.length };
}
