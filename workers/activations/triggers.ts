// What the trigger consumer does with a record, as pure functions: which Activations an event or a
// segment change starts, cancels, and with what workflow id, input and signal.
//
// Campaigns of event triggers are keyed by the event's person key — its userId, else its
// anonymousId — because the consumer sees raw events before the pipeline resolved them to
// profiles. The profile (traits, consent, time zone) is resolved at send time. Known limit: a
// follow-up ("unless") event sent under another identity of the same person (the anonymousId
// before login, the userId after) does not reach the campaign as a signal; the decide activity's
// check of the event log (by profile) catches it if the pipeline has stored it by send time.
import { createHash } from 'node:crypto';
import type { Activation } from '../../api/v1alpha1/activation.ts';
import { durationMs } from '../../api/duration.ts';
import type { CanonicalEvent, JsonObject } from '../../api/event.ts';
import type { SegmentChangeRecord } from '../../api/segment-changes.ts';
import { type CampaignInput, type Trigger, type UnlessSignal, campaignWorkflowId } from '../../api/workflows/activations.ts';
import { matchesWhere } from './policy.ts';

/** The delivery's idempotency key: the same trigger of the same Activation always gives the same key. */
export function deliveryKey(namespace: string, activation: string, what: string): string {
  return createHash('sha256').update(`${namespace}/${activation}\n${what}`).digest('hex').slice(0, 40);
}

/** "userId:u-1", else "anonymousId:a-1" (the identity format of workers/pipeline/identity.ts); undefined without either. */
export function personKey(event: Pick<CanonicalEvent, 'userId' | 'anonymousId'>): string | undefined {
  if (event.userId) return `userId:${event.userId}`;
  if (event.anonymousId) return `anonymousId:${event.anonymousId}`;
  return undefined;
}

function identitiesOf(event: Pick<CanonicalEvent, 'userId' | 'anonymousId'>): string[] {
  return [event.userId ? `userId:${event.userId}` : '', event.anonymousId ? `anonymousId:${event.anonymousId}` : ''].filter(Boolean);
}

/** The Activation's waits, computed once when the campaign starts. */
function timing(a: Activation): Pick<CampaignInput, 'delayMs' | 'unless'> {
  const t = a.spec.trigger;
  return {
    delayMs: t.delay ? durationMs(t.delay) : 0,
    unless: t.unless ? { event: t.unless.event, withinMs: durationMs(t.unless.within) } : undefined,
  };
}

export interface StartCampaign {
  kind: 'start';
  workflowId: string;
  input: CampaignInput;
  trigger: Trigger;
}

export interface SignalUnless {
  kind: 'unless';
  workflowId: string;
  signal: UnlessSignal;
}

export type TriggerAction = StartCampaign | SignalUnless;

function live(a: Activation): boolean {
  return !a.spec.suspend && !a.metadata.deletionTimestamp;
}

/** Only what templates and policies use travels in the signal: properties, the time zone and consent context. */
function eventSummary(e: CanonicalEvent): NonNullable<Trigger['event']> {
  const ctx = e.context ?? {};
  const summary: NonNullable<Trigger['event']> = { name: e.event ?? '', properties: e.properties ?? {} };
  if (typeof ctx.timezone === 'string') summary.timezone = ctx.timezone;
  if (ctx.consent && typeof ctx.consent === 'object') summary.consent = ctx.consent as JsonObject;
  return summary;
}

/** The campaigns a raw event starts (trigger.event matches) and the running campaigns it cancels (unless). */
export function actionsForEvent(namespace: string, activations: readonly Activation[], e: CanonicalEvent): TriggerAction[] {
  if (e.type !== 'track' || !e.event) return [];
  const person = personKey(e);
  if (!person) return [];
  const out: TriggerAction[] = [];
  for (const a of activations) {
    const t = a.spec.trigger;
    if (t.type !== 'event' || !live(a)) continue;
    const name = a.metadata.name!;
    const workflowId = campaignWorkflowId(namespace, name, person);
    if (t.unless?.event === e.event) out.push({ kind: 'unless', workflowId, signal: { messageId: e.messageId, event: e.event, at: e.timestamp } });
    if (t.event?.name === e.event && matchesWhere(e.properties ?? {}, t.event.where)) {
      out.push({
        kind: 'start',
        workflowId,
        input: { namespace, activation: name, person, identities: identitiesOf(e), ...timing(a) },
        trigger: { key: deliveryKey(namespace, name, `event:${e.messageId}`), messageId: e.messageId, at: e.timestamp, kind: 'event', event: eventSummary(e) },
      });
    }
  }
  return out;
}

/** The campaigns a segment change starts: Activations triggered by entering or leaving that Segment. */
export function actionsForSegmentChange(namespace: string, activations: readonly Activation[], c: SegmentChangeRecord): StartCampaign[] {
  const type = c.change === 'entered' ? 'segmentEntered' : 'segmentExited';
  const out: StartCampaign[] = [];
  for (const a of activations) {
    if (a.spec.trigger.type !== type || a.spec.segment !== c.segment || !live(a)) continue;
    const name = a.metadata.name!;
    const person = `profile:${c.profileId}`;
    const what = `segment:${c.segment}@${c.version}:${c.profileId}:${c.change}`;
    out.push({
      kind: 'start',
      workflowId: campaignWorkflowId(namespace, name, person),
      input: { namespace, activation: name, person, identities: [], profileId: c.profileId, ...timing(a) },
      trigger: { key: deliveryKey(namespace, name, what), messageId: what, at: c.at, kind: type, segment: { name: c.segment, version: c.version, change: c.change } },
    });
  }
  return out;
}
