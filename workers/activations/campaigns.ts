// Activities of the campaign workflow: decide (whether, when and in which variant), render,
// deliver, record. Each runs at least once and is idempotent: the delivery's idempotency key comes
// from the Activation and its trigger, deliver checks the ledger for it before sending and records
// the send after, so a re-run neither sends twice nor records twice. A crash between the
// destination's answer and the record repeats the send with the same key, which the receiver
// recognises (Idempotency-Key, Message-ID, the Kafka record's header).
import { Context } from '@temporalio/activity';
import { durationMs } from '../../api/duration.ts';
import type { ActivationSpec } from '../../api/v1alpha1/activation.ts';
import type { Trigger } from '../../api/workflows/activations.ts';
import type { Warehouse } from '../../lib/clickhouse.ts';
import type { ActivitiesContext } from './context.ts';
import type { RecordInput, Who } from './deliveries.ts';
import type { Delivery } from './destinations.ts';
import { heartbeating } from './messages.ts';
import { consentGranted, overFrequencyCap, quietHoursWaitMs, requiredConsent, timeZoneOf, variantFor } from './policy.ts';
import { type Person, count, latestSegmentVersionSql, profileOf, resolvePerson } from './reads.ts';
import { messageUses, type RenderedMessage } from './render.ts';

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

export function campaignActivities(c: ActivitiesContext) {
  const { deps, ledger, messages } = c;

  return {
    /** Whether, when and which variant: the Activation's current spec and the person's profile decide. */
    async decide(input: DecideInput): Promise<Decision> {
      const a = await c.activationOf(input.activation);
      if (!a) return { action: 'stop', reason: 'the Activation was deleted' };
      const spec = a.spec;
      if (spec.suspend) return { action: 'stop', reason: 'the Activation is suspended' };
      if (spec.trigger.type !== input.trigger.kind) return { action: 'stop', reason: `the Activation's trigger is now ${spec.trigger.type}` };
      const w = deps.warehouse(deps.database);
      const key = c.activationKey(input.activation);
      if ((await ledger.recorded(w, input.activation, [input.trigger.key], ['sent', 'failed', 'suppressed', 'holdout'])).size > 0) return { action: 'stop', reason: 'already decided (the trigger was delivered again)' };
      const person = await resolvePerson(w, input.identities, input.profileId);
      const who = { profileId: person.profileId };
      if (input.round === 0 && spec.trigger.unless && input.trigger.kind === 'event' && (await unlessInEventLog(w, spec, input.trigger, input.identities, person)) > 0) {
        return { action: 'stop', reason: `${spec.trigger.unless.event} within ${spec.trigger.unless.within} (found in the event log)` };
      }
      const suppress = (reason: string, variant = ''): Decision => ({ action: 'record', outcome: 'suppressed', reason, ...who, variant });
      if (spec.segment && spec.trigger.type === 'event') {
        const member = await count(w, `SELECT count() AS n FROM {db}.segment_members WHERE segment = {s:String} AND profile_id = {p:String} AND version = ${latestSegmentVersionSql('s')}`, { s: `${deps.namespace}/${spec.segment}`, p: person.profileId });
        if (member === 0) return suppress(`not a member of segment ${spec.segment}`);
      }
      const category = requiredConsent(spec, deps.defaultConsentCategory);
      if (category && !consentGranted(person.traits, category, input.trigger.event?.consent)) return suppress(`no consent for ${category}`);
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
      const a = await c.activationOf(input.activation);
      if (!a) return { suppress: 'the Activation was deleted' };
      const person = await profileOf(deps.warehouse(deps.database), input.profileId);
      // Recommendations cost a ClickHouse read per send: only for templates that use them.
      const recommendations = messageUses(a.spec, input.variant, 'recommendations') ? await messages.recommendationsFor(deps.database, input.profileId, input.activation) : [];
      return messages.render(a, input.variant, messages.context(a, input.variant, person, input.trigger, input.triggers, recommendations));
    },

    /** Sends once: skipped when the key is already recorded as sent, recorded as sent right after. */
    async deliver(input: DeliverInput): Promise<{ status: 'sent' | 'duplicate' | 'stopped' }> {
      const a = await c.activationOf(input.activation);
      if (!a) return { status: 'stopped' };
      const w = deps.warehouse(deps.database);
      const { attempt } = Context.current().info;
      // The first attempt follows the campaign's decide, which found no outcome for this key; a
      // retry may follow an attempt that sent and recorded, or sent and died before recording.
      if (attempt > 1 && (await ledger.recorded(w, input.activation, [input.key], ['sent'])).size > 0) return { status: 'duplicate' };
      const delivery: Delivery = { key: input.key, activation: c.activationKey(input.activation), variant: input.variant, profileId: input.profileId, message: input.message, attempt };
      try {
        await heartbeating(() => messages.send(a, [delivery], delivery.activation));
      } catch (err) {
        c.log.warn({ activation: delivery.activation, key: input.key, attempt, err: (err as Error).message }, 'delivery attempt failed');
        throw err;
      }
      await ledger.record(w, [{ ...input, outcome: 'sent', reason: '', attempt }]);
      c.log.debug({ activation: delivery.activation, key: input.key, attempt }, 'delivered');
      return { status: 'sent' };
    },

    /** Records a suppression, holdout or failure (idempotent: the same row folds). */
    async record(input: RecordInput): Promise<void> {
      await ledger.record(deps.warehouse(deps.database), [input]);
    },
  };
}
