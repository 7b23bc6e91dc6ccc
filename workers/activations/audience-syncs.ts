// Activities of the syncAudience workflow: plan (the newest Segment version in full, or its diff
// since the last sync), one page of the audience at a time (consent and holdout per person, then
// one webhook POST, or a Kafka record or email per person), failed pages, and the finished sync
// (the base of the next diff). Every person's outcome is keyed by the sync's id, so a page re-run
// sends nobody twice.
import { Context } from '@temporalio/activity';
import type { SyncCursor, SyncPlan, SyncTotals } from '../../api/workflows/activations.ts';
import { chTime } from '../../lib/clickhouse.ts';
import type { ActivitiesContext } from './context.ts';
import type { RecordInput } from './deliveries.ts';
import type { Delivery } from './destinations.ts';
import { heartbeating } from './messages.ts';
import { consentGranted, requiredConsent, variantFor } from './policy.ts';
import { type Person, count, profilesOf, unknownPerson } from './reads.ts';
import type { RenderContext } from './render.ts';
import { deliveryKey } from './triggers.ts';

/** Profiles per sync chunk (one webhook POST, or this many Kafka records or emails). */
export const SYNC_PAGE = 500;

export interface PlanSyncInput {
  namespace: string;
  activation: string;
  database: string;
  segment: string;
  sync: 'full' | 'diff';
  revision: string;
  runId: string;
}

export interface SyncChunkInput {
  plan: SyncPlan;
  cursor: SyncCursor;
}

export interface SyncChunkResult {
  next?: SyncCursor;
  sent: number;
  suppressed: number;
}

/** The page's query: members of the version, or those entered or exited since the base. */
export function pageSql(cursor: SyncCursor): string {
  const base = 'SELECT DISTINCT profile_id FROM {db}.segment_members WHERE segment = {segment:String}';
  const other = (v: string) => `profile_id NOT IN (SELECT profile_id FROM {db}.segment_members WHERE segment = {segment:String} AND version = {${v}:UInt64})`;
  const tail = 'AND profile_id > {after:String} ORDER BY profile_id LIMIT {limit:UInt32}';
  if (cursor.phase === 'members') return `${base} AND version = {version:UInt64} ${tail}`;
  if (cursor.phase === 'entered') return `${base} AND version = {version:UInt64} AND ${other('base')} ${tail}`;
  return `${base} AND version = {base:UInt64} AND ${other('version')} ${tail}`;
}

const changeOf = (phase: SyncCursor['phase']) => (phase === 'members' ? 'member' : phase);
const syncKey = (plan: SyncPlan, phase: string, profileId: string) => deliveryKey(plan.namespace, plan.activation, `${plan.syncId}:${phase}:${profileId}`);

export function audienceSyncActivities(c: ActivitiesContext) {
  const { deps, ledger, messages } = c;

  async function page(plan: SyncPlan, cursor: SyncCursor): Promise<{ ids: string[]; next?: SyncCursor }> {
    const w = deps.warehouse(plan.database);
    const rows = await w.query<{ profile_id: string }>(pageSql(cursor), { segment: `${plan.namespace}/${plan.segment}`, version: plan.version, base: plan.base, after: cursor.after, limit: SYNC_PAGE });
    const ids = rows.map((r) => r.profile_id);
    let next: SyncCursor | undefined;
    if (ids.length === SYNC_PAGE) next = { phase: cursor.phase, after: ids[ids.length - 1]! };
    else if (cursor.phase === 'entered') next = { phase: 'exited', after: '' };
    return { ids, next };
  }

  /** One page of the audience: consent and holdout per person, then one POST, or a record or email per person. */
  async function syncPage({ plan, cursor }: SyncChunkInput): Promise<SyncChunkResult> {
    const a = await c.activationOf(plan.activation);
    if (!a || a.spec.suspend) return { sent: 0, suppressed: 0 };
    const { ids, next } = await page(plan, cursor);
    if (ids.length === 0) return { next, sent: 0, suppressed: 0 };
    const w = deps.warehouse(plan.database);
    const spec = a.spec;
    const key = c.activationKey(plan.activation);
    const keys = new Map(ids.map((id) => [id, syncKey(plan, cursor.phase, id)]));
    const done = await ledger.recorded(w, plan.activation, [...keys.values()], ['sent', 'suppressed', 'holdout']);
    const profiles = await profilesOf(w, ids.filter((id) => !done.has(keys.get(id)!)));
    const change = changeOf(cursor.phase);
    const outcomes: RecordInput[] = [];
    const eligible: Array<{ person: Person; variant: string; key: string }> = [];
    for (const id of ids) {
      const k = keys.get(id)!;
      if (done.has(k)) continue;
      const person = profiles.get(id) ?? unknownPerson(id);
      const row = { namespace: plan.namespace, activation: plan.activation, key: k, profileId: id, attempt: 0 };
      const category = requiredConsent(spec, c.deps.defaultConsentCategory);
      if (category && !consentGranted(person.traits, category)) {
        outcomes.push({ ...row, variant: '', outcome: 'suppressed', reason: `no consent for ${category}` });
        continue;
      }
      const arm = variantFor(key, id, spec.variants, spec.holdoutPercent);
      if (arm.holdout) outcomes.push({ ...row, variant: '', outcome: 'holdout', reason: 'holdout group' });
      else eligible.push({ person, variant: arm.variant, key: k });
    }
    const attempt = Context.current().info.attempt;
    const segment = { name: plan.segment, version: plan.version, baseVersion: plan.base, mode: plan.mode, change };
    const deliveries: Delivery[] = [];
    if (eligible.length > 0 && spec.destination.type === 'webhook') {
      // An audience page is one POST: the template sees `members` ([{ id, traits }]) and `segment`.
      const members = eligible.map((e) => ({ id: e.person.profileId, traits: e.person.traits, variant: e.variant || undefined }));
      const body = spec.template?.body
        ? await messages.renderPage(spec.template.body, { traits: {}, profile: {}, recommendations: [], segment, members, activation: { name: plan.activation, namespace: plan.namespace, variant: '' } } as RenderContext)
        : JSON.stringify({ activation: plan.activation, namespace: plan.namespace, segment: plan.segment, version: plan.version, baseVersion: plan.base || undefined, mode: plan.mode, change, profiles: members.map((m) => m.id) });
      deliveries.push({ key: syncKey(plan, cursor.phase, `${eligible[0]!.person.profileId}:page`), activation: key, variant: '', profileId: '', message: { body }, attempt });
    } else {
      for (const e of eligible) {
        const context = messages.context(a, e.variant, e.person, undefined, [], await messages.recommendationsFor(plan.database, e.person.profileId, plan.activation));
        context.segment = segment;
        const message = await messages.render(a, e.variant, context);
        if ('suppress' in message) {
          outcomes.push({ namespace: plan.namespace, activation: plan.activation, key: e.key, profileId: e.person.profileId, variant: e.variant, outcome: 'suppressed', reason: message.suppress, attempt: 0 });
          continue;
        }
        deliveries.push({ key: e.key, activation: key, variant: e.variant, profileId: e.person.profileId, message, attempt });
      }
    }
    if (deliveries.length > 0) await messages.send(a, deliveries, key);
    const sentKeys = spec.destination.type === 'webhook' ? new Set(eligible.map((e) => e.key)) : new Set(deliveries.map((d) => d.key));
    for (const e of eligible) if (sentKeys.has(e.key)) outcomes.push({ namespace: plan.namespace, activation: plan.activation, key: e.key, profileId: e.person.profileId, variant: e.variant, outcome: 'sent', reason: change, attempt });
    await ledger.record(w, outcomes);
    return { next, sent: sentKeys.size, suppressed: outcomes.length - sentKeys.size };
  }

  return {
    /** What this run of the audience sync sends: the latest version in full, or its diff since the last sync. */
    async planSync(input: PlanSyncInput): Promise<{ skip: string } | { plan: SyncPlan; cursor: SyncCursor }> {
      const a = await c.activationOf(input.activation);
      if (!a) return { skip: 'the Activation was deleted' };
      if (a.spec.suspend) return { skip: 'the Activation is suspended' };
      const w = deps.warehouse(input.database);
      const segmentKey = `${input.namespace}/${input.segment}`;
      const version = await count(w, `SELECT max(version) AS n FROM {db}.segment_versions WHERE segment = {s:String}`, { s: segmentKey });
      if (version === 0) return { skip: `segment ${input.segment} has no computed version yet` };
      let mode = input.sync;
      let base = 0;
      if (mode === 'diff') {
        const last = await count(w, 'SELECT max(version) AS n FROM {db}.activation_syncs FINAL WHERE activation = {a:String} AND segment = {s:String}', { a: c.activationKey(input.activation), s: segmentKey });
        if (last === version) return { skip: `segment ${input.segment} version ${version} is already synced` };
        const [kept] = await w.query<{ members: string; size: string }>(
          `SELECT (SELECT count() FROM {db}.segment_members WHERE segment = {s:String} AND version = {v:UInt64}) AS members,
                  (SELECT max(size) FROM {db}.segment_versions WHERE segment = {s:String} AND version = {v:UInt64}) AS size`,
          { s: segmentKey, v: last },
        );
        // The first sync, or a base whose members were pruned: send the full list instead.
        if (last > 0 && (Number(kept?.members ?? 0) > 0 || Number(kept?.size ?? 0) === 0)) base = last;
        else mode = 'full';
      }
      const plan: SyncPlan = { namespace: input.namespace, activation: input.activation, database: input.database, segment: input.segment, version, base, mode, revision: input.revision, syncId: mode === 'diff' ? `diff:${base}-${version}` : `full:${version}:${input.runId}` };
      c.log.info({ activation: c.activationKey(input.activation), segment: segmentKey, version, base, mode }, 'audience sync planned');
      return { plan, cursor: { phase: mode === 'full' ? 'members' : 'entered', after: '' } };
    },

    /** One page of the audience (heartbeating while it works). */
    async syncChunk(input: SyncChunkInput): Promise<SyncChunkResult> {
      return heartbeating(() => syncPage(input));
    },

    /** Records the people of a page whose sync failed for good. */
    async failChunk(input: SyncChunkInput & { reason: string }): Promise<void> {
      const { plan, cursor } = input;
      const { ids } = await page(plan, cursor);
      const w = deps.warehouse(plan.database);
      const keys = ids.map((id) => syncKey(plan, cursor.phase, id));
      const done = await ledger.recorded(w, plan.activation, keys, ['sent', 'suppressed', 'holdout']);
      await ledger.record(
        w,
        ids.flatMap((id, i) => (done.has(keys[i]!) ? [] : [{ namespace: plan.namespace, activation: plan.activation, key: keys[i]!, profileId: id, variant: '', outcome: 'failed' as const, reason: input.reason, attempt: 0 }])),
      );
    },

    /** Marks the sync done: the next diff starts from this version. */
    async finishSync(input: { plan: SyncPlan; totals: SyncTotals }): Promise<void> {
      const { plan, totals } = input;
      await deps.warehouse(plan.database).insert('activation_syncs', [
        { activation: c.activationKey(plan.activation), segment: `${plan.namespace}/${plan.segment}`, version: plan.version, base_version: plan.base, mode: plan.mode, revision: plan.revision, sent: totals.sent, suppressed: totals.suppressed, synced_at: chTime(new Date().toISOString()) },
      ]);
      c.log.info({ activation: c.activationKey(plan.activation), version: plan.version, base: plan.base, mode: plan.mode, ...totals }, 'audience sync done');
    },
  };
}
