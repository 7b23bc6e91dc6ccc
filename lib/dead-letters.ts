// Dead letters of a namespace: which are waiting, and sending them through again after a fix. Used
// by `uspa dlq` and by the API, so both replay the same letters the same way: each (source,
// message id) once, recorded in dead_letter_replays.
import type { CanonicalEvent } from '../api/event.ts';
import type { Warehouse } from './clickhouse.ts';
import type { BatchingProducer } from './kafka.ts';

export interface DeadLetterFilter {
  source?: string;
  reason?: string;
  /** Earliest failed_at, as ISO 8601 or any form ClickHouse reads best-effort. */
  since?: string;
  /** Latest failed_at. */
  until?: string;
  /** Only these Sources (a Pipeline's); empty or absent: every Source. */
  sources?: readonly string[];
  /** Only these message ids (a selection); empty or absent: any. */
  messageIds?: readonly string[];
}

/** The filter's conditions on {db}.dead_letters; every value is a query parameter. */
export const FILTER = `({source:String} = '' OR source = {source:String})
  AND ({reason:String} = '' OR reason = {reason:String})
  AND (empty({sources:Array(String)}) OR has({sources:Array(String)}, source))
  AND (empty({messageIds:Array(String)}) OR has({messageIds:Array(String)}, message_id))
  AND failed_at >= parseDateTime64BestEffort({since:String}, 3)
  AND failed_at <= parseDateTime64BestEffort({until:String}, 3)`;

/** A dead letter that a replay would still pick up: it has a message id and was not replayed before. */
export const PENDING = `message_id != ''
  AND (source, message_id) NOT IN (SELECT source, message_id FROM {db}.dead_letter_replays)`;

export function filterParams(filter: DeadLetterFilter): Record<string, unknown> {
  return { source: filter.source ?? '', reason: filter.reason ?? '', sources: [...(filter.sources ?? [])], messageIds: [...(filter.messageIds ?? [])], since: filter.since ?? '1970-01-01', until: filter.until ?? '2299-12-31' };
}

export interface PendingDeadLetter {
  failed_at: string;
  source: string;
  reason: string;
  errors: string[];
  message_id: string;
}

/** The dead letters not replayed yet, oldest first, one per message id. */
export function pendingDeadLetters(warehouse: Warehouse, filter: DeadLetterFilter): Promise<PendingDeadLetter[]> {
  return warehouse.query(`SELECT failed_at, source, reason, errors, message_id FROM {db}.dead_letters WHERE ${PENDING} AND ${FILTER} ORDER BY failed_at LIMIT 1 BY message_id`, filterParams(filter));
}

export interface DeadLetterRow {
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

/** Reads the pending dead letters matching the filter and plans their replay. */
export async function loadReplayPlan(warehouse: Warehouse, filter: DeadLetterFilter, sourceTopic: (source: string) => string | undefined): Promise<ReplayPlan> {
  const rows = await warehouse.query<DeadLetterRow>(`SELECT source, reason, message_id, payload FROM {db}.dead_letters WHERE ${PENDING} AND ${FILTER} ORDER BY failed_at LIMIT 1 BY message_id`, filterParams(filter));
  return planReplay(rows, sourceTopic);
}

const CHUNK = 500;

/** Sends the plan's events to their Source's topic and records each as replayed (after Kafka took it). */
export async function sendReplay(plan: ReplayPlan, warehouse: Warehouse, producer: Pick<BatchingProducer, 'send'>, progress: (done: number, total: number) => void = () => undefined): Promise<number> {
  const { ready } = plan;
  for (let i = 0; i < ready.length; i += CHUNK) {
    const chunk = ready.slice(i, i + CHUNK);
    await producer.send(chunk.map(({ source, topic, event }) => ({ topic, key: event.anonymousId ?? event.userId, value: JSON.stringify(event), headers: { source, replay: 'dlq' } })));
    await warehouse.insert('dead_letter_replays', chunk.map(({ source, event }) => ({ source, message_id: event.messageId })));
    progress(Math.min(i + CHUNK, ready.length), ready.length);
  }
  return ready.length;
}

/** Message ids shown per group in a report. */
const FIRST_IDS = 3;

export interface ReplayGroup {
  source: string;
  reason: string;
  why?: string;
  count: number;
  /** The first few message ids. */
  ids: string[];
}

/** Items grouped by Source and cause (and, for skipped ones, why), in order of first appearance. */
export function replayGroups(items: Array<ReplayItem & { why?: string }>): ReplayGroup[] {
  const byKey = new Map<string, ReplayGroup>();
  for (const item of items) {
    const key = JSON.stringify([item.source, item.reason, item.why]);
    const g = byKey.get(key) ?? byKey.set(key, { source: item.source, reason: item.reason, ...(item.why ? { why: item.why } : {}), count: 0, ids: [] }).get(key)!;
    g.count++;
    if (g.ids.length < FIRST_IDS) g.ids.push(item.message_id);
  }
  return [...byKey.values()];
}

/** The report of a replay (or of what a dry run would replay): counts per Source and cause, the first ids of each, the filter. */
export function replayReport(plan: ReplayPlan, o: { dryRun: boolean; filter: DeadLetterFilter; where: string; took?: string }): string {
  const lines = [
    o.dryRun
      ? `dry run: would replay ${plan.ready.length} event(s) in ${o.where}; skip ${plan.skipped.length}; nothing was sent`
      : `replayed ${plan.ready.length} event(s) in ${o.where}${o.took ? ` in ${o.took}` : ''}; skipped ${plan.skipped.length}`,
    `  filter: source ${o.filter.source ?? '(any)'}, reason ${o.filter.reason ?? '(any)'}, since ${o.filter.since ?? '(any time)'}; dead letters not replayed before`,
  ];
  for (const g of replayGroups(plan.ready)) lines.push(`  ${o.dryRun ? 'would replay' : 'replayed'} ${g.count}  ${g.source}  ${g.reason}  ${firstIds(g)}`);
  for (const g of replayGroups(plan.skipped)) lines.push(`  ${o.dryRun ? 'would skip' : 'skipped'} ${g.count}  ${g.source}  ${g.reason}  ${firstIds(g)}  (${g.why})`);
  return lines.join('\n');
}

function firstIds(g: ReplayGroup): string {
  return g.ids.join(', ') + (g.count > g.ids.length ? `, … ${g.count - g.ids.length} more` : '');
}
