// Consent as the profile states it: one reading of the traits for every component, so the
// activations worker's sends and the API's profile view can never disagree on what a person granted.
import type { Json, JsonObject } from '../api/event.ts';

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

/** What the traits alone say of one category: undefined when they say nothing. */
function fromTraits(traits: JsonObject, category: string): boolean | undefined {
  const consent = objectAt(traits.consent);
  const candidates = [consent?.[category], objectAt(consent?.categoryPreferences)?.[category], traits[`consent_${category}`]];
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
