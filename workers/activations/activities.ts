// Activities of campaigns, audience syncs and conversion attribution (workflows/campaigns.ts).
//
// Built by createActivities(deps), so tests hand in real engines or stubs. Each runs at least once
// and is idempotent: a delivery's idempotency key comes from the Activation and its trigger, the
// deliver activity checks activation_deliveries for it before sending and records the send after,
// so a re-run neither sends twice nor records twice (ReplacingMergeTree folds the same row). A
// crash between the destination's answer and the record repeats the send with the same key, which
// the receiver recognises (Idempotency-Key, Message-ID, the Kafka record's header).
//
// The Activation is read from the watched cache at every step: an edit, a suspend or a deletion
// takes effect on campaigns already waiting.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { chTime, type Warehouse } from '../../lib/clickhouse.ts';
import type { JsonObject } from '../../api/event.ts';
import type { OutgoingRecord } from '../../lib/kafka.ts';
import type { Logger } from '../../lib/log.ts';
import type { Activation, ActivationSpec } from '../../api/v1alpha1/activation.ts';
import { durationMs } from '../../api/duration.ts';
import type { Trigger } from '../../workflows/campaigns.ts';
import type { ActivationLookup, SecretLookup } from './cluster.ts';
import { type Delivery, Mailer, kafkaRecord, sendEmail, sendKafka, sendWebhook } from './destinations.ts';
import { consentGranted, overFrequencyCap, quietHoursWaitMs, timeZoneOf, variantFor } from './policy.ts';
import { type RenderContext, type RenderedMessage, TemplateError, renderMessage, renderTemplate } from './render.ts';
import { deliveryKey } from './triggers.ts';

export type Outcome = 'sent' | 'failed' | 'suppressed' | 'holdout';

/** Items recommended for a profile (module 8); the worker wires the source, [] without one. */
export type Recommender = (input: { database: string; profileId: string; activation: string }) => Promise<unknown[]>;

export interface ActivationsDeps {
  namespace: string;
  /** The namespace's database (USPA_DATABASE). */
  database: string;
  warehouse: (database: string) => Warehouse;
  activations: ActivationLookup;
  secrets: SecretLookup;
  /** Producer for Kafka destinations (acks=all). */
  producer: { send(records: OutgoingRecord[]): Promise<void> };
  log: Logger;
  recommendations?: Recommender;
  fetch?: typeof fetch;
  mailer?: Mailer;
  /** Conversions count within this long after a send or holdout decision (default 7 days). */
  conversionWindowMs?: number;
  /** Called for every outcome recorded (metrics). */
  onOutcome?: (activation: string, outcome: Outcome) => void;
}

interface Who {
  namespace: string;
  activation: string;
  key: string;
  profileId: string;
  variant: string;
}

export interface DecideInput {
  namespace: string;
  activation: string;
  person: string;
  identities: string[];
  profileId?: string;
  trigger: Trigger;
  /** Workflow time: quiet hours and the frequency cap are judged at this instant. */
  now: number;
  round: number;
}

export type Decision =
  | { action: 'send'; profileId: string; variant: string }
  | { action: 'record'; outcome: 'suppressed' | 'holdout'; reason: string; profileId: string; variant: string }
  | { action: 'wait'; untilMs: number; reason: string; profileId: string; variant: string }
  | { action: 'stop'; reason: string };

export interface RenderInput extends Who {
  person: string;
  trigger: Trigger;
  triggers: Trigger[];
}

export interface DeliverInput extends Who {
  person: string;
  message: RenderedMessage;
}

export interface RecordInput extends Who {
  outcome: Outcome;
  reason: string;
  attempt: number;
}

export interface SyncPlan {
  namespace: string;
  activation: string;
  database: string;
  segment: string;
  version: number;
  /** The version the diff is computed against; 0 for a full list. */
  base: number;
  mode: 'full' | 'diff';
  /** Part of every key of this sync: the same diff (or this run's full list) is never sent twice. */
  syncId: string;
  revision: string;
}

export interface SyncCursor {
  phase: 'members' | 'entered' | 'exited';
  /** Profile ids are walked in order: the last one done. */
  after: string;
}

export interface SyncTotals {
  sent: number;
  suppressed: number;
  chunks: number;
}

/** Profiles per sync chunk (one webhook POST, or this many Kafka records or emails). */
export const SYNC_PAGE = 500;
const MAX_MESSAGE_BYTES = 1024 * 1024;
const DEFAULT_CONVERSION_WINDOW_MS = 7 * 86_400_000;

interface Person {
  profileId: string;
  found: boolean;
  traits: JsonObject;
  profile: Record<string, unknown>;
}

function parseTraits(text: string | undefined): JsonObject {
  if (!text) return {};
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : {};
  } catch {
    return {};
  }
}

/**
 * Rows that concurrent activities write within a few milliseconds go to ClickHouse as one INSERT:
 * one part instead of one per send. Each caller resolves once its rows are stored.
 */
export class RowBatcher {
  private readonly pending = new Map<string, { w: Warehouse; table: string; rows: object[]; waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }>; timer: NodeJS.Timeout }>();

  constructor(
    private readonly lingerMs = 15,
    private readonly maxRows = 2_000,
  ) {}

  insert(w: Warehouse, table: string, rows: object[]): Promise<void> {
    const id = `${w.database}\n${table}`;
    let batch = this.pending.get(id);
    if (!batch) {
      batch = { w, table, rows: [], waiters: [], timer: setTimeout(() => void this.flush(id), this.lingerMs) };
      this.pending.set(id, batch);
    }
    batch.rows.push(...rows);
    const done = new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    if (batch.rows.length >= this.maxRows) void this.flush(id);
    return done;
  }

  private async flush(id: string): Promise<void> {
    const batch = this.pending.get(id);
    if (!batch) return;
    this.pending.delete(id);
    clearTimeout(batch.timer);
    try {
      await batch.w.insert(batch.table, batch.rows);
      for (const x of batch.waiters) x.resolve();
    } catch (err) {
      for (const x of batch.waiters) x.reject(err);
    }
  }
}

const EMAIL = /^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$|<[^@\s<>]+@[^@\s<>]+>\s*$/;

export function createActivities(deps: ActivationsDeps) {
  const log = deps.log;
  const mailer = deps.mailer ?? new Mailer();
  const fetchImpl = deps.fetch ?? fetch;
  const batcher = new RowBatcher();

  const activationKey = (activation: string) => `${deps.namespace}/${activation}`;

  async function activationOf(name: string): Promise<Activation | undefined> {
    await deps.activations.ready();
    return deps.activations.get(name);
  }

  async function insertOutcomes(w: Warehouse, rows: Array<RecordInput>): Promise<void> {
    if (rows.length === 0) return;
    const at = chTime(new Date().toISOString());
    await batcher.insert(
      w,
      'activation_deliveries',
      rows.map((r) => ({ activation: activationKey(r.activation), message_id: r.key, profile_id: r.profileId, variant: r.variant, outcome: r.outcome, reason: r.reason, attempt: r.attempt, at })),
    );
    for (const r of rows) deps.onOutcome?.(activationKey(r.activation), r.outcome);
  }

  /** Keys of the Activation that already have an outcome (of the given kinds). */
  async function recorded(w: Warehouse, activation: string, keys: string[], outcomes: Outcome[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const rows = await w.query<{ message_id: string }>(
      'SELECT DISTINCT message_id FROM {db}.activation_deliveries FINAL WHERE activation = {a:String} AND message_id IN {keys:Array(String)} AND outcome IN {outcomes:Array(String)}',
      { a: activationKey(activation), keys, outcomes },
    );
    return new Set(rows.map((r) => r.message_id));
  }

  async function profilesOf(w: Warehouse, ids: string[]): Promise<Map<string, Person>> {
    const out = new Map<string, Person>();
    if (ids.length === 0) return out;
    const rows = await w.query<{ profile_id: string; traits: string; first_seen: string; last_seen: string; lifetime_revenue: number; order_count: string; event_count: string }>(
      `SELECT profile_id, traits, first_seen, last_seen, lifetime_revenue, order_count, event_count
       FROM {db}.profiles FINAL WHERE profile_id IN {ids:Array(String)} AND deleted = 0`,
      { ids },
    );
    for (const r of rows) {
      out.set(r.profile_id, {
        profileId: r.profile_id,
        found: true,
        traits: parseTraits(r.traits),
        profile: { id: r.profile_id, firstSeen: r.first_seen, lastSeen: r.last_seen, lifetimeRevenue: Number(r.lifetime_revenue), orderCount: Number(r.order_count), eventCount: Number(r.event_count) },
      });
    }
    return out;
  }

  /**
   * The person's profile: by id (segment triggers), else through their identities (best first).
   * Someone the pipeline has not stored yet keeps their identity as profile id and has no traits.
   */
  async function resolve(w: Warehouse, identities: string[], profileId?: string): Promise<Person> {
    let id = profileId;
    if (!id && identities.length > 0) {
      const rows = await w.query<{ identity: string; profile_id: string }>('SELECT identity, profile_id FROM {db}.identities FINAL WHERE identity IN {ids:Array(String)}', { ids: identities });
      const byIdentity = new Map(rows.map((r) => [r.identity, r.profile_id]));
      id = identities.map((i) => byIdentity.get(i)).find(Boolean);
    }
    const fallback = id ?? identities[0] ?? '';
    if (!id) return { profileId: fallback, found: false, traits: {}, profile: { id: fallback } };
    return (await profilesOf(w, [id])).get(id) ?? { profileId: id, found: false, traits: {}, profile: { id } };
  }

  async function count(w: Warehouse, sql: string, params: Record<string, unknown>): Promise<number> {
    const [row] = await w.query<{ n: string }>(sql, params);
    return Number(row?.n ?? 0);
  }

  /** Backstop for an `unless` signal that never came (another topic lagging, another identity of the person). */
  function unlessInEventLog(w: Warehouse, spec: ActivationSpec, trigger: Trigger, identities: string[], person: Person): Promise<number> {
    const from = Date.parse(trigger.at);
    return count(
      w,
      `SELECT count() AS n FROM {db}.events
       WHERE event = {event:String} AND timestamp >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND timestamp <= fromUnixTimestamp64Milli({to:Int64}, 'UTC')
         AND (identity IN {ids:Array(String)} OR identity IN (SELECT identity FROM {db}.identities FINAL WHERE profile_id = {profile:String}))`,
      { event: spec.trigger.unless!.event, from, to: from + durationMs(spec.trigger.unless!.within), ids: identities, profile: person.found ? person.profileId : '' },
    );
  }

  function latestVersionSql(param: string): string {
    return `(SELECT max(version) FROM {db}.segment_versions WHERE segment = {${param}:String})`;
  }

  function renderContext(a: Activation, variant: string, person: Person, trigger: Trigger | undefined, triggers: Trigger[], recommendations: unknown[]): RenderContext {
    const eventOf = (t: Trigger) => (t.event ? { name: t.event.name, messageId: t.messageId, timestamp: t.at, properties: t.event.properties } : undefined);
    const events = triggers.map(eventOf).filter((e) => e !== undefined);
    return {
      traits: person.traits,
      profile: person.profile,
      event: trigger ? eventOf(trigger) : undefined,
      events,
      segment: trigger?.segment,
      recommendations,
      activation: { name: a.metadata.name!, namespace: deps.namespace, variant },
    };
  }

  async function recommendationsFor(database: string, profileId: string, activation: string): Promise<unknown[]> {
    if (!deps.recommendations) return [];
    try {
      return await deps.recommendations({ database, profileId, activation });
    } catch (err) {
      log.warn({ activation: activationKey(activation), err: (err as Error).message }, 'recommendations unavailable; rendering without them');
      return [];
    }
  }

  async function render(a: Activation, variant: string, context: RenderContext): Promise<RenderedMessage | { suppress: string }> {
    let message: RenderedMessage;
    try {
      message = await renderMessage(a.spec, variant, context);
    } catch (err) {
      if (err instanceof TemplateError) throw ApplicationFailure.create({ type: 'TemplateError', message: err.message, nonRetryable: true });
      throw err;
    }
    if (Buffer.byteLength(message.body) > MAX_MESSAGE_BYTES) throw ApplicationFailure.create({ type: 'TemplateError', message: `the rendered message is larger than ${MAX_MESSAGE_BYTES} bytes`, nonRetryable: true });
    if (a.spec.destination.type === 'email' && !EMAIL.test(message.to ?? '')) return { suppress: 'no email address (spec.destination.email.to rendered to no address)' };
    return message;
  }

  /** Sends one or more deliveries to the Activation's destination; throws ApplicationFailures. */
  async function send(a: Activation, deliveries: Delivery[], where: string): Promise<void> {
    const dest = a.spec.destination;
    const attempt = deliveries[0]?.attempt ?? 1;
    const secret = async (ref: { name: string; key?: string }, defaultKey: string, field: string) => {
      try {
        return await deps.secrets.value(ref, defaultKey, field);
      } catch (err) {
        throw ApplicationFailure.create({ type: 'SecretNotUsable', message: (err as Error).message, details: [{ attempt }] });
      }
    };
    if (dest.type === 'webhook') {
      if (!dest.webhook) throw ApplicationFailure.create({ type: 'InvalidDestination', message: `${where}: spec.destination.webhook is required when destination.type is webhook`, nonRetryable: true });
      const signing = dest.webhook.signingSecretRef ? await secret(dest.webhook.signingSecretRef, 'signingSecret', 'spec.destination.webhook.signingSecretRef') : undefined;
      for (const d of deliveries) await sendWebhook(dest.webhook, signing, d, fetchImpl);
    } else if (dest.type === 'kafka') {
      if (!dest.kafka) throw ApplicationFailure.create({ type: 'InvalidDestination', message: `${where}: spec.destination.kafka is required when destination.type is kafka`, nonRetryable: true });
      await sendKafka(deps.producer, deliveries.map((d) => kafkaRecord(dest.kafka!.topic, d)), attempt);
    } else {
      if (!dest.email) throw ApplicationFailure.create({ type: 'InvalidDestination', message: `${where}: spec.destination.email is required when destination.type is email`, nonRetryable: true });
      const url = await secret(dest.email.smtpSecretRef, 'url', 'spec.destination.email.smtpSecretRef');
      for (const d of deliveries) await sendEmail(mailer, url, dest.email.from, d);
    }
  }

  /** Runs fn while heartbeating: a worker that dies mid-send is noticed after heartbeatTimeout. */
  async function heartbeating<T>(fn: () => Promise<T>): Promise<T> {
    const ctx = Context.current();
    const timer = setInterval(() => ctx.heartbeat(), 1_000);
    try {
      return await fn();
    } finally {
      clearInterval(timer);
    }
  }

  function pageSql(cursor: SyncCursor): string {
    const base = 'SELECT DISTINCT profile_id FROM {db}.segment_members WHERE segment = {segment:String}';
    const other = (v: string) => `profile_id NOT IN (SELECT profile_id FROM {db}.segment_members WHERE segment = {segment:String} AND version = {${v}:UInt64})`;
    const tail = 'AND profile_id > {after:String} ORDER BY profile_id LIMIT {limit:UInt32}';
    if (cursor.phase === 'members') return `${base} AND version = {version:UInt64} ${tail}`;
    if (cursor.phase === 'entered') return `${base} AND version = {version:UInt64} AND ${other('base')} ${tail}`;
    return `${base} AND version = {base:UInt64} AND ${other('version')} ${tail}`;
  }

  async function page(plan: SyncPlan, cursor: SyncCursor): Promise<{ ids: string[]; next?: SyncCursor }> {
    const w = deps.warehouse(plan.database);
    const rows = await w.query<{ profile_id: string }>(pageSql(cursor), { segment: `${plan.namespace}/${plan.segment}`, version: plan.version, base: plan.base, after: cursor.after, limit: SYNC_PAGE });
    const ids = rows.map((r) => r.profile_id);
    let next: SyncCursor | undefined;
    if (ids.length === SYNC_PAGE) next = { phase: cursor.phase, after: ids[ids.length - 1]! };
    else if (cursor.phase === 'entered') next = { phase: 'exited', after: '' };
    return { ids, next };
  }

  const changeOf = (phase: SyncCursor['phase']) => (phase === 'members' ? 'member' : phase);
  const syncKey = (plan: SyncPlan, phase: string, profileId: string) => deliveryKey(plan.namespace, plan.activation, `${plan.syncId}:${phase}:${profileId}`);

  /** One page of the audience: consent and holdout per person, then one POST, or a record or email per person. */
  async function syncPage(input: { plan: SyncPlan; cursor: SyncCursor }): Promise<{ next?: SyncCursor; sent: number; suppressed: number }> {
    const { plan, cursor } = input;
    const a = await activationOf(plan.activation);
    if (!a || a.spec.suspend) return { sent: 0, suppressed: 0 };
    const { ids, next } = await page(plan, cursor);
    if (ids.length === 0) return { next, sent: 0, suppressed: 0 };
    const w = deps.warehouse(plan.database);
    const spec = a.spec;
    const key = activationKey(plan.activation);
    const keys = new Map(ids.map((id) => [id, syncKey(plan, cursor.phase, id)]));
    const done = await recorded(w, plan.activation, [...keys.values()], ['sent', 'suppressed', 'holdout']);
    const profiles = await profilesOf(w, ids.filter((id) => !done.has(keys.get(id)!)));
    const change = changeOf(cursor.phase);
    const outcomes: RecordInput[] = [];
    const eligible: Array<{ person: Person; variant: string; key: string }> = [];
    for (const id of ids) {
      const k = keys.get(id)!;
      if (done.has(k)) continue;
      const person = profiles.get(id) ?? { profileId: id, found: false, traits: {}, profile: { id } };
      const row = { namespace: plan.namespace, activation: plan.activation, key: k, profileId: id, attempt: 0 };
      if (spec.consent && !consentGranted(person.traits, spec.consent.category)) {
        outcomes.push({ ...row, variant: '', outcome: 'suppressed', reason: `no consent for ${spec.consent.category}` });
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
        ? await renderTemplate(spec.template.body, 'spec.template.body', { traits: {}, profile: {}, recommendations: [], segment, members, activation: { name: plan.activation, namespace: plan.namespace, variant: '' } } as RenderContext).catch((err: unknown) => {
            throw err instanceof TemplateError ? ApplicationFailure.create({ type: 'TemplateError', message: err.message, nonRetryable: true }) : err;
          })
        : JSON.stringify({ activation: plan.activation, namespace: plan.namespace, segment: plan.segment, version: plan.version, baseVersion: plan.base || undefined, mode: plan.mode, change, profiles: members.map((m) => m.id) });
      deliveries.push({ key: syncKey(plan, cursor.phase, `${eligible[0]!.person.profileId}:page`), activation: key, variant: '', profileId: '', message: { body }, attempt });
    } else {
      for (const e of eligible) {
        const context = renderContext(a, e.variant, e.person, undefined, [], await recommendationsFor(plan.database, e.person.profileId, plan.activation));
        context.segment = segment;
        const message = await render(a, e.variant, context);
        if ('suppress' in message) {
          outcomes.push({ namespace: plan.namespace, activation: plan.activation, key: e.key, profileId: e.person.profileId, variant: e.variant, outcome: 'suppressed', reason: message.suppress, attempt: 0 });
          continue;
        }
        deliveries.push({ key: e.key, activation: key, variant: e.variant, profileId: e.person.profileId, message, attempt });
      }
    }
    if (deliveries.length > 0) await send(a, deliveries, key);
    const sentKeys = spec.destination.type === 'webhook' ? new Set(eligible.map((e) => e.key)) : new Set(deliveries.map((d) => d.key));
    for (const e of eligible) if (sentKeys.has(e.key)) outcomes.push({ namespace: plan.namespace, activation: plan.activation, key: e.key, profileId: e.person.profileId, variant: e.variant, outcome: 'sent', reason: change, attempt });
    await insertOutcomes(w, outcomes);
    return { next, sent: sentKeys.size, suppressed: outcomes.length - sentKeys.size };
  }

  return {
    /** Whether, when and which variant: the Activation's current spec and the person's profile decide. */
    async decide(input: DecideInput): Promise<Decision> {
      const a = await activationOf(input.activation);
      if (!a) return { action: 'stop', reason: 'the Activation was deleted' };
      const spec = a.spec;
      if (spec.suspend) return { action: 'stop', reason: 'the Activation is suspended' };
      if (spec.trigger.type !== input.trigger.kind) return { action: 'stop', reason: `the Activation's trigger is now ${spec.trigger.type}` };
      const w = deps.warehouse(deps.database);
      const key = activationKey(input.activation);
      if ((await recorded(w, input.activation, [input.trigger.key], ['sent', 'failed', 'suppressed', 'holdout'])).size > 0) return { action: 'stop', reason: 'already decided (the trigger was delivered again)' };
      const person = await resolve(w, input.identities, input.profileId);
      const who = { profileId: person.profileId };
      if (input.round === 0 && spec.trigger.unless && input.trigger.kind === 'event' && (await unlessInEventLog(w, spec, input.trigger, input.identities, person)) > 0) {
        return { action: 'stop', reason: `${spec.trigger.unless.event} within ${spec.trigger.unless.within} (found in the event log)` };
      }
      const suppress = (reason: string, variant = ''): Decision => ({ action: 'record', outcome: 'suppressed', reason, ...who, variant });
      if (spec.segment && spec.trigger.type === 'event') {
        const member = await count(w, `SELECT count() AS n FROM {db}.segment_members WHERE segment = {s:String} AND profile_id = {p:String} AND version = ${latestVersionSql('s')}`, { s: `${deps.namespace}/${spec.segment}`, p: person.profileId });
        if (member === 0) return suppress(`not a member of segment ${spec.segment}`);
      }
      if (spec.consent && !consentGranted(person.traits, spec.consent.category, input.trigger.event?.consent)) return suppress(`no consent for ${spec.consent.category}`);
      const arm = variantFor(key, person.profileId, spec.variants, spec.holdoutPercent);
      if (arm.holdout) return { action: 'record', outcome: 'holdout', reason: 'holdout group', ...who, variant: '' };
      if (spec.frequencyCap) {
        const sent = await count(
          w,
          `SELECT count() AS n FROM {db}.activation_deliveries FINAL WHERE activation = {a:String} AND profile_id = {p:String} AND outcome = 'sent' AND at > fromUnixTimestamp64Milli({since:Int64}, 'UTC')`,
          { a: key, p: person.profileId, since: input.now - durationMs(spec.frequencyCap.per) },
        );
        if (overFrequencyCap(sent, spec.frequencyCap)) return suppress(`frequency cap: ${sent} sent within ${spec.frequencyCap.per} (max ${spec.frequencyCap.max})`, arm.variant);
      }
      if (spec.quietHours) {
        const zone = timeZoneOf(person.traits, spec.quietHours, input.trigger.event?.timezone);
        const wait = quietHoursWaitMs(input.now, spec.quietHours, zone);
        if (wait > 0) return { action: 'wait', untilMs: input.now + wait, reason: `quiet hours ${spec.quietHours.start}–${spec.quietHours.end} in ${zone}`, ...who, variant: arm.variant };
      }
      return { action: 'send', ...who, variant: arm.variant };
    },

    /** The person's message in their variant; a person without an email address is suppressed. */
    async render(input: RenderInput): Promise<RenderedMessage | { suppress: string }> {
      const a = await activationOf(input.activation);
      if (!a) return { suppress: 'the Activation was deleted' };
      const w = deps.warehouse(deps.database);
      const person = (await profilesOf(w, [input.profileId])).get(input.profileId) ?? { profileId: input.profileId, found: false, traits: {}, profile: { id: input.profileId } };
      const recs = await recommendationsFor(deps.database, input.profileId, input.activation);
      return render(a, input.variant, renderContext(a, input.variant, person, input.trigger, input.triggers, recs));
    },

    /** Sends once: skipped when the key is already recorded as sent, recorded as sent right after. */
    async deliver(input: DeliverInput): Promise<{ status: 'sent' | 'duplicate' | 'stopped' }> {
      const a = await activationOf(input.activation);
      if (!a) return { status: 'stopped' };
      const w = deps.warehouse(deps.database);
      const { attempt } = Context.current().info;
      // The first attempt follows the campaign's decide, which found no outcome for this key; a
      // retry may follow an attempt that sent and recorded, or sent and died before recording.
      if (attempt > 1 && (await recorded(w, input.activation, [input.key], ['sent'])).size > 0) return { status: 'duplicate' };
      const delivery: Delivery = { key: input.key, activation: activationKey(input.activation), variant: input.variant, profileId: input.profileId, message: input.message, attempt };
      try {
        await heartbeating(() => send(a, [delivery], activationKey(input.activation)));
      } catch (err) {
        log.warn({ activation: delivery.activation, key: input.key, attempt, err: (err as Error).message }, 'delivery attempt failed');
        throw err;
      }
      await insertOutcomes(w, [{ ...input, outcome: 'sent', reason: '', attempt }]);
      log.debug({ activation: delivery.activation, key: input.key, attempt }, 'delivered');
      return { status: 'sent' };
    },

    /** Records a suppression, holdout or failure (idempotent: the same row folds). */
    async record(input: RecordInput): Promise<void> {
      await insertOutcomes(deps.warehouse(deps.database), [input]);
    },

    /** What this run of the audience sync sends: the latest version in full, or its diff since the last sync. */
    async planSync(input: { namespace: string; activation: string; database: string; segment: string; sync: 'full' | 'diff'; revision: string; runId: string }): Promise<{ skip: string } | { plan: SyncPlan; cursor: SyncCursor }> {
      const a = await activationOf(input.activation);
      if (!a) return { skip: 'the Activation was deleted' };
      if (a.spec.suspend) return { skip: 'the Activation is suspended' };
      const w = deps.warehouse(input.database);
      const segmentKey = `${input.namespace}/${input.segment}`;
      const version = await count(w, `SELECT max(version) AS n FROM {db}.segment_versions WHERE segment = {s:String}`, { s: segmentKey });
      if (version === 0) return { skip: `segment ${input.segment} has no computed version yet` };
      let mode = input.sync;
      let base = 0;
      if (mode === 'diff') {
        const last = await count(w, 'SELECT max(version) AS n FROM {db}.activation_syncs FINAL WHERE activation = {a:String} AND segment = {s:String}', { a: activationKey(input.activation), s: segmentKey });
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
      log.info({ activation: activationKey(input.activation), segment: segmentKey, version, base, mode }, 'audience sync planned');
      return { plan, cursor: { phase: mode === 'full' ? 'members' : 'entered', after: '' } };
    },

    /** One page of the audience (heartbeating while it works). */
    async syncChunk(input: { plan: SyncPlan; cursor: SyncCursor }): Promise<{ next?: SyncCursor; sent: number; suppressed: number }> {
      return heartbeating(() => syncPage(input));
    },

    /** Records the people of a page whose sync failed for good. */
    async failChunk(input: { plan: SyncPlan; cursor: SyncCursor; reason: string }): Promise<void> {
      const { plan, cursor } = input;
      const { ids } = await page(plan, cursor);
      const w = deps.warehouse(plan.database);
      const keys = ids.map((id) => syncKey(plan, cursor.phase, id));
      const done = await recorded(w, plan.activation, keys, ['sent', 'suppressed', 'holdout']);
      await insertOutcomes(
        w,
        ids.flatMap((id, i) => (done.has(keys[i]!) ? [] : [{ namespace: plan.namespace, activation: plan.activation, key: keys[i]!, profileId: id, variant: '', outcome: 'failed' as const, reason: input.reason, attempt: 0 }])),
      );
    },

    /** Marks the sync done: the next diff starts from this version. */
    async finishSync(input: { plan: SyncPlan; totals: SyncTotals }): Promise<void> {
      const { plan, totals } = input;
      await deps.warehouse(plan.database).insert('activation_syncs', [
        { activation: activationKey(plan.activation), segment: `${plan.namespace}/${plan.segment}`, version: plan.version, base_version: plan.base, mode: plan.mode, revision: plan.revision, sent: totals.sent, suppressed: totals.suppressed, synced_at: chTime(new Date().toISOString()) },
      ]);
      log.info({ activation: activationKey(plan.activation), version: plan.version, base: plan.base, mode: plan.mode, ...totals }, 'audience sync done');
    },

    /**
     * Attributes conversions: for each Activation with a conversion event (its unless event), the
     * first such event by the same profile within the window after each send or holdout decision.
     */
    async attributeConversions(input: { namespace: string; database: string }): Promise<{ attributed: number }> {
      await deps.activations.ready();
      const w = deps.warehouse(input.database);
      const windowMs = deps.conversionWindowMs ?? DEFAULT_CONVERSION_WINDOW_MS;
      let attributed = 0;
      for (const a of deps.activations.list()) {
        const event = a.spec.trigger.unless?.event;
        if (!event) continue;
        const key = activationKey(a.metadata.name!);
        const params = { key, event, window: windowMs };
        const before = await count(w, 'SELECT count() AS n FROM {db}.activation_conversions FINAL WHERE activation = {key:String}', params);
        await w.command(
          `INSERT INTO {db}.activation_conversions (activation, message_id, profile_id, variant, outcome, event, event_message_id, delivered_at, converted_at)
           SELECT d.activation, d.message_id, d.profile_id, d.variant, d.outcome, {event:String}, argMin(e.message_id, e.timestamp), d.at, min(e.timestamp)
           FROM (SELECT activation, message_id, profile_id, variant, outcome, at FROM {db}.activation_deliveries FINAL
                 WHERE activation = {key:String} AND outcome IN ('sent', 'holdout') AND at >= now64(3) - toIntervalMillisecond({window:UInt64})
                   AND message_id NOT IN (SELECT message_id FROM {db}.activation_conversions WHERE activation = {key:String})) AS d
           INNER JOIN (SELECT i.profile_id AS profile_id, ev.message_id AS message_id, ev.timestamp AS timestamp
                       FROM {db}.events AS ev INNER JOIN (SELECT identity, profile_id FROM {db}.identities FINAL) AS i ON i.identity = ev.identity
                       WHERE ev.event = {event:String} AND ev.timestamp >= now64(3) - toIntervalMillisecond({window:UInt64} * 2)) AS e ON e.profile_id = d.profile_id
           WHERE e.timestamp > d.at AND e.timestamp <= d.at + toIntervalMillisecond({window:UInt64})
           GROUP BY d.activation, d.message_id, d.profile_id, d.variant, d.outcome, d.at`,
          params,
        );
        attributed += (await count(w, 'SELECT count() AS n FROM {db}.activation_conversions FINAL WHERE activation = {key:String}', params)) - before;
      }
      return { attributed };
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
