// Consent as the profile states it: one reading of the traits for every component, so the
// activations worker's sends and the API's profile view can never disagree on what a person granted.
// The pipeline records each purpose's newest statement, from any channel, as trait consent_<purpose>,
// which is read first.
import type { CanonicalEvent, Json, JsonObject } from '../api/event.ts';

const GRANTED = new Set(['true', 'granted', 'yes', 'opt-in', 'opted-in', '1']);
const DENIED = new Set(['false', 'denied', 'no', 'opt-out', 'opted-out', '0']);

function consentValue(value: Json | undefined): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value === 1 ? true : value === 0 ? false : undefined;
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (GRANTED.has(v)) return true;
    if (DENIED.has(v)) return false;
  }
  return undefined;
}

export function objectAt(value: Json | undefined): JsonObject | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
}

/** Purposes with a meaning of their own once a Pipeline declares them. */
export const PERSONALIZATION = 'personalization';
/** Activations without a consent category of their own send only with it. */
export const MARKETING = 'marketing';

/** The trait the pipeline keeps a purpose's newest statement in. */
export const consentTrait = (purpose: string): string => `consent_${purpose}`;

/** What the traits alone say of one category: undefined when they say nothing. */
function fromTraits(traits: JsonObject, category: string): boolean | undefined {
  const consent = objectAt(traits.consent);
  const candidates = [traits[consentTrait(category)], consent?.[category], objectAt(consent?.categoryPreferences)?.[category]];
  for (const c of candidates) {
    const v = consentValue(c);
    if (v !== undefined) return v;
  }
  return undefined;
}

/**
 * Whether the person granted the consent category. The profile decides: trait
 * `consent.<category>` (an object trait `consent`, or Segment's `consent.categoryPreferences`)
 * holding true/"granted" or false/"denied". A profile that says nothing falls back to the
 * trigger event's `context.consent.categoryPreferences` (Segment's consent spec); silence
 * everywhere is no consent.
 */
export function consentGranted(traits: JsonObject, category: string, eventConsent?: Json): boolean {
  const v = fromTraits(traits, category);
  if (v !== undefined) return v;
  const fromEvent = objectAt(objectAt(eventConsent)?.categoryPreferences)?.[category];
  return consentValue(fromEvent) ?? false;
}

/** Every category the traits decide, with its state by the rules of consentGranted (unstated ones are absent: no consent). */
export function consentStates(traits: JsonObject): Record<string, boolean> {
  const consent = objectAt(traits.consent);
  const categories = new Set([
    ...Object.keys(consent ?? {}).filter((k) => k !== 'categoryPreferences'),
    ...Object.keys(objectAt(consent?.categoryPreferences) ?? {}),
    ...Object.keys(traits).filter((k) => k.startsWith('consent_') && k.length > 'consent_'.length).map((k) => k.slice('consent_'.length)),
  ]);
  const states: Record<string, boolean> = {};
  for (const category of [...categories].sort()) {
    const v = fromTraits(traits, category);
    if (v !== undefined) states[category] = v;
  }
  return states;
}

/** Where a consent statement came from: the event's context (Segment's consent spec) or traits sent with it. */
export type ConsentChannel = 'context' | 'traits';

export interface ConsentStatement {
  purpose: string;
  granted: boolean;
  channel: ConsentChannel;
}

/** Every purpose a traits object states, with its state (values that say neither yes nor no are left out). */
function statedIn(traits: JsonObject | undefined): Map<string, boolean> {
  const out = new Map<string, boolean>();
  if (!traits) return out;
  for (const [purpose, granted] of Object.entries(consentStates(traits))) out.set(purpose, granted);
  return out;
}

/**
 * What one event says about consent, per purpose: `context.consent.categoryPreferences` (Segment's
 * consent spec, sent by its SDKs and by /uspa.js with every event), and consent traits of an
 * identify or of `context.traits`. When both speak of a purpose, the traits (an explicit identify)
 * win. Purposes are limited to `declared` when given.
 */
export function consentStatements(event: Pick<CanonicalEvent, 'type' | 'traits' | 'context'>, declared?: ReadonlySet<string>): ConsentStatement[] {
  const out = new Map<string, ConsentStatement>();
  const preferences = objectAt(objectAt(event.context.consent)?.categoryPreferences);
  for (const [purpose, value] of Object.entries(preferences ?? {})) {
    const granted = consentValue(value);
    if (granted !== undefined) out.set(purpose, { purpose, granted, channel: 'context' });
  }
  const traits = { ...(objectAt(event.context.traits) ?? {}), ...(event.type === 'identify' ? event.traits : {}) };
  for (const [purpose, granted] of statedIn(traits)) out.set(purpose, { purpose, granted, channel: 'traits' });
  return [...out.values()].filter((s) => !declared || declared.has(s.purpose)).sort((a, b) => a.purpose.localeCompare(b.purpose));
}

/** Whether the event itself grants the purpose (collection that requires one): silence is no consent. */
export function eventGrants(event: Pick<CanonicalEvent, 'type' | 'traits' | 'context'>, purpose: string): boolean {
  return consentStatements(event).find((s) => s.purpose === purpose)?.granted ?? false;
}

/** The track a client sends when a person changes their consent (Segment's name; /uspa.js sends it too). */
export const CONSENT_UPDATED = 'Segment Consent Preference Updated';

/**
 * What a Source that requires a purpose keeps of an event that does not grant it: nothing, except
 * a consent update, which is the record of the refusal itself. Of that, only who, when and the
 * consent: no properties, traits, page, device or IP.
 */
export function withoutPurpose<E extends CanonicalEvent>(event: E): E | undefined {
  if (event.type !== 'track' || event.event !== CONSENT_UPDATED) return undefined;
  const consent = objectAt(event.context.consent);
  return { ...event, properties: {}, traits: {}, context: consent ? { consent } : {} };
}

/** Marks an event a Source kept anonymized (context.uspa.anonymized): the pipeline links it to nobody. */
export function isAnonymized(event: Pick<CanonicalEvent, 'context'>): boolean {
  return objectAt(objectAt(event.context.uspa))?.anonymized === true;
}

/**
 * An event kept without the person (a Source's withoutConsent: anonymize): every identifier is
 * removed — userId, anonymousId, previousId, traits, context.traits, the IP — so it counts in
 * analytics (event, properties, page, device) but joins no profile and no identity graph.
 */
export function anonymized(event: CanonicalEvent): CanonicalEvent {
  const out: CanonicalEvent = { ...event, traits: {}, context: { ...event.context } };
  delete out.userId;
  delete out.anonymousId;
  delete out.previousId;
  delete out.context.traits;
  delete out.context.ip;
  out.context.uspa = { ...(objectAt(event.context.uspa) ?? {}), anonymized: true };
  return out;
}
