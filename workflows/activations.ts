// Triggered campaigns and audience syncs of Activations (task queue uspa-activations.<namespace>).
//
// campaign — one per (Activation, person), started by the trigger consumer with signal-with-start
// (workflow id campaign-<namespace>-<activation>-<person>, so a second trigger within the window
// joins the running campaign instead of starting another). It waits the trigger's delay (and, with
// an `unless`, at least its window: "no Order Completed within 30 minutes" is only known after 30
// minutes); an `unless` signal inside the window ends it. Then: decide (the Activation's current
// spec, consent, segment, holdout and variant, frequency cap, quiet hours — which may make it sleep
// until they end), render, deliver, record. Triggers that arrive once the campaign has decided
// start the next campaign through continue-as-new, so no signal is dropped.
//
// syncAudience — one run of an audience-sync schedule: a full list or the diff since the last
// synced version, in chunked activities (never a workflow per profile), continuing as new when its
// history grows.
//
// conversions — a long-lived loop per namespace that attributes conversions to sends and holdout
// decisions, so each variant's lift can be computed.
//
// Deterministic: no I/O, clocks or randomness besides Temporal's; activities do the work.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import {
  type ActivationsWorkflows,
  type CampaignInput,
  type CampaignResult,
  type ConversionsInput,
  type SyncAudienceInput,
  type SyncAudienceResult,
  type SyncCursor,
  type SyncTotals,
  type Trigger,
  type UnlessSignal,
  triggerSignal,
  unlessSignal,
} from '../api/workflows/activations.ts';
import type { Implements } from '../api/workflows/contract.ts';
import type { Activities } from '../workers/activations/activities.ts';

/** Trigger events kept per campaign (for the template's `events`); more are counted, not kept. */
export const MAX_TRIGGERS = 20;
/** Quiet hours are waited out at most this often before the send is suppressed. */
const MAX_QUIET_WAITS = 3;

// Deciding, rendering and recording are short reads and writes of ClickHouse: local activities,
// run inside the workflow task (a marker in the history instead of three events and a task per
// activity), which is most of the event → destination latency saved.
const policy = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  localRetryThreshold: '10 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 20, nonRetryableErrorTypes: ['TemplateError'] },
});

// A delivery heartbeats while it waits on the destination: a worker killed mid-send is noticed
// after heartbeatTimeout, and the retry carries the same idempotency key.
const delivery = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 12 },
});

const syncing = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

function failureMessage(err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
}

function failureAttempt(err: unknown): number {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  const details = cause instanceof ApplicationFailure ? (cause.details?.[0] as { attempt?: number } | undefined) : undefined;
  return details?.attempt ?? 0;
}

export async function campaign(input: CampaignInput): Promise<CampaignResult> {
  const triggers: Trigger[] = [...(input.triggers ?? [])];
  const seen = new Set(input.seen ?? triggers.map((t) => t.messageId));
  const next: Trigger[] = [];
  let decided = false;
  let cancelledBy: UnlessSignal | undefined;

  setHandler(triggerSignal, (t) => {
    if (seen.has(t.messageId)) return; // a re-consumed record
    seen.add(t.messageId);
    if (decided) {
      if (next.length < MAX_TRIGGERS) next.push(t);
    } else if (triggers.length < MAX_TRIGGERS) triggers.push(t);
  });
  setHandler(unlessSignal, (u) => {
    const first = triggers[0];
    if (decided || cancelledBy || !first || !input.unless || u.event !== input.unless.event) return;
    const from = Date.parse(first.at);
    const at = Date.parse(u.at);
    if (at >= from && at <= from + input.unless.withinMs) cancelledBy = u;
  });

  // Signal-with-start delivers the first trigger with the start.
  if (!(await condition(() => triggers.length > 0, '1 minute'))) return { outcome: 'stopped', key: '', reason: 'started without a trigger' };
  const first = triggers[0]!;
  const waitUntil = input.waitUntil ?? Math.min(Date.parse(first.at) || Date.now(), Date.now()) + Math.max(input.delayMs, input.unless?.withinMs ?? 0);
  while (!cancelledBy && Date.now() < waitUntil) {
    if (workflowInfo().continueAsNewSuggested) await continueAsNew<typeof campaign>({ ...input, triggers, seen: [...seen], waitUntil });
    await condition(() => cancelledBy !== undefined || workflowInfo().continueAsNewSuggested, waitUntil - Date.now());
  }

  let result: CampaignResult;
  if (cancelledBy) {
    decided = true;
    result = { outcome: 'cancelled', key: first.key, reason: `${cancelledBy.event} at ${cancelledBy.at}` };
  } else {
    result = await decideAndSend(input, first, triggers, () => (decided = true));
  }
  // Triggers that came after the decision are the next campaign of this person.
  if (next.length > 0) await continueAsNew<typeof campaign>({ ...input, triggers: next, seen: next.map((t) => t.messageId), waitUntil: undefined });
  return result;
}

async function decideAndSend(input: CampaignInput, first: Trigger, triggers: Trigger[], markDecided: () => void): Promise<CampaignResult> {
  const base = { namespace: input.namespace, activation: input.activation, person: input.person, identities: input.identities, profileId: input.profileId, trigger: first };
  let decision = await policy.decide({ ...base, now: Date.now(), round: 0 });
  for (let round = 1; decision.action === 'wait'; round++) {
    if (round > MAX_QUIET_WAITS) {
      decision = { action: 'record', outcome: 'suppressed', reason: 'quiet hours did not end', profileId: decision.profileId, variant: decision.variant };
      break;
    }
    await sleep(Math.max(0, decision.untilMs - Date.now()));
    decision = await policy.decide({ ...base, now: Date.now(), round });
  }
  markDecided();
  const key = first.key;
  if (decision.action === 'stop') return { outcome: 'stopped', key, reason: decision.reason };
  const who = { namespace: input.namespace, activation: input.activation, key, profileId: decision.profileId, variant: decision.variant };
  if (decision.action === 'record') {
    await policy.record({ ...who, outcome: decision.outcome, reason: decision.reason, attempt: 0 });
    return { outcome: decision.outcome, key, reason: decision.reason, variant: decision.variant };
  }

  let rendered: Awaited<ReturnType<Activities['render']>>;
  try {
    rendered = await policy.render({ ...who, person: input.person, trigger: first, triggers });
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    const reason = failureMessage(err);
    await policy.record({ ...who, outcome: 'failed', reason, attempt: 0 });
    return { outcome: 'failed', key, reason, variant: decision.variant };
  }
  if ('suppress' in rendered) {
    await policy.record({ ...who, outcome: 'suppressed', reason: rendered.suppress, attempt: 0 });
    return { outcome: 'suppressed', key, reason: rendered.suppress, variant: decision.variant };
  }
  // Once started, a delivery finishes and is recorded even if the campaign is cancelled meanwhile.
  return CancellationScope.nonCancellable(async () => {
    try {
      const sent = await delivery.deliver({ ...who, person: input.person, message: rendered });
      return { outcome: sent.status === 'stopped' ? 'stopped' : 'sent', key, reason: sent.status === 'sent' ? undefined : sent.status, variant: decision.variant };
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      const reason = failureMessage(err);
      await policy.record({ ...who, outcome: 'failed', reason, attempt: failureAttempt(err) });
      return { outcome: 'failed', key, reason, variant: decision.variant };
    }
  });
}

/** Chunks per run before continuing as new (each chunk adds a handful of history events). */
const CHUNKS_PER_RUN = 200;

export async function syncAudience(input: SyncAudienceInput): Promise<SyncAudienceResult> {
  let plan = input.progress?.plan;
  let cursor: SyncCursor | undefined = input.progress?.cursor;
  const totals: SyncTotals = input.progress?.totals ?? { sent: 0, suppressed: 0, chunks: 0 };
  if (!plan) {
    const planned = await syncing.planSync({ namespace: input.namespace, activation: input.activation, database: input.database, segment: input.segment, sync: input.sync, revision: input.revision ?? '', runId: workflowInfo().workflowId });
    if ('skip' in planned) return { skipped: planned.skip };
    plan = planned.plan;
    cursor = planned.cursor;
  }
  for (let chunks = 0; cursor; chunks++) {
    if (chunks >= CHUNKS_PER_RUN || workflowInfo().continueAsNewSuggested) await continueAsNew<typeof syncAudience>({ ...input, progress: { plan, cursor, totals } });
    let done: Awaited<ReturnType<Activities['syncChunk']>>;
    try {
      done = await syncing.syncChunk({ plan, cursor });
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      // The chunk's people are recorded as failed; the sync is not marked done, so the next run
      // diffs from the same base again (pages already sent are skipped by their keys).
      await syncing.failChunk({ plan, cursor, reason: failureMessage(err) });
      throw ApplicationFailure.create({ type: 'SyncFailed', message: `audience sync of ${input.namespace}/${input.activation} failed at ${cursor.phase} after "${cursor.after}": ${failureMessage(err)}`, nonRetryable: true });
    }
    totals.sent += done.sent;
    totals.suppressed += done.suppressed;
    totals.chunks++;
    cursor = done.next;
  }
  await syncing.finishSync({ plan, totals });
  return { version: plan.version, base: plan.base, mode: plan.mode, totals };
}

const attributing = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

/** Rounds per run before continuing as new. */
const CONVERSION_ROUNDS = 100;

/** The namespace's conversion attribution: a singleton loop (workflow id conversions-<namespace>). */
export async function conversions(input: ConversionsInput): Promise<void> {
  for (let i = 0; i < CONVERSION_ROUNDS; i++) {
    try {
      await attributing.attributeConversions({ namespace: input.namespace, database: input.database });
    } catch (err) {
      // A round that failed for good is retried by the next one (it covers the same window).
      if (!(err instanceof ActivityFailure)) throw err;
    }
    await sleep(input.intervalMs);
  }
  await continueAsNew<typeof conversions>(input);
}

export type Contract = Implements<ActivationsWorkflows, typeof import('./activations.ts')>;
