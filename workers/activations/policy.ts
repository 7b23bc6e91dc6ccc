// The rules that decide whether, when and what a person is sent — pure functions of their inputs,
// so each is unit-tested here and the decide activity only gathers the inputs.
import { createHash } from 'node:crypto';
import type { ActivationSpec, ActivationVariant, PropertyFilter, QuietHours } from '../../api/v1alpha1/activation.ts';
import type { Json, JsonObject } from '../../api/event.ts';
import { objectAt } from '../../lib/consent.ts';

export { consentGranted } from '../../lib/consent.ts';

/** The consent category a send needs: the Activation's own, else the namespace's default (marketing, once declared), else none. */
export function requiredConsent(spec: Pick<ActivationSpec, 'consent'>, defaultCategory?: string): string | undefined {
  return spec.consent?.category ?? defaultCategory;
}

/** A stable number in [0, 1) from the text: the same activation and profile always land in the same place. */
export function unitHash(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0) / 2 ** 32;
}

export interface Assignment {
  /** The variant's name; "" in the holdout group or for an Activation without variants. */
  variant: string;
  holdout: boolean;
}

/**
 * Holdout and variant by hash of "<namespace>/<activation>" and the profile: deterministic (the
 * same person always gets the same arm), independent of each other (two hashes), and in
 * proportion to holdoutPercent and the variants' weights.
 */
export function variantFor(activationKey: string, profileId: string, variants: readonly ActivationVariant[] | undefined, holdoutPercent = 0): Assignment {
  if (holdoutPercent > 0 && unitHash(`holdout:${activationKey}:${profileId}`) * 100 < holdoutPercent) return { variant: '', holdout: true };
  if (!variants?.length) return { variant: '', holdout: false };
  const total = variants.reduce((n, v) => n + v.weight, 0);
  let point = unitHash(`variant:${activationKey}:${profileId}`) * total;
  for (const v of variants) {
    point -= v.weight;
    if (point < 0) return { variant: v.name, holdout: false };
  }
  return { variant: variants[variants.length - 1]!.name, holdout: false };
}

/** True when the IANA zone is known to this runtime's Intl. */
export function validTimeZone(zone: string | undefined): zone is string {
  if (!zone) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(zone, f);
  }
  return f;
}

/** Milliseconds the zone's wall clock is ahead of UTC at that instant (DST-aware). */
export function zoneOffsetMs(atMs: number, zone: string): number {
  const parts = Object.fromEntries(formatter(zone).formatToParts(new Date(atMs)).map((p) => [p.type, p.value]));
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return wall - Math.floor(atMs / 1000) * 1000;
}

function minutesOf(hhmm: string, where: string): number {
  const m = /^([01][0-9]|2[0-3]):([0-5][0-9])$/.exec(hhmm);
  if (!m) throw new Error(`${where}: "${hhmm}" is not a time of day HH:MM`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/**
 * How long a send due at `nowMs` must wait for quiet hours to end in `zone`: 0 outside quiet hours.
 * start > end spans midnight (21:00–08:00); start == end means no quiet hours. The end is found on
 * the wall clock, so a DST change during the night is accounted for.
 */
export function quietHoursWaitMs(nowMs: number, quiet: Pick<QuietHours, 'start' | 'end'>, zone: string): number {
  const start = minutesOf(quiet.start, 'spec.quietHours.start');
  const end = minutesOf(quiet.end, 'spec.quietHours.end');
  if (start === end) return 0;
  const localMs = nowMs + zoneOffsetMs(nowMs, zone);
  const dayMs = 86_400_000;
  const sinceMidnight = ((localMs % dayMs) + dayMs) % dayMs;
  const minute = sinceMidnight / 60_000;
  const quiet_ = start < end ? minute >= start && minute < end : minute >= start || minute < end;
  if (!quiet_) return 0;
  const untilEnd = (((end * 60_000 - sinceMidnight) % dayMs) + dayMs) % dayMs;
  // The wall clock may jump in between (DST): correct by the change of offset.
  const candidate = nowMs + untilEnd;
  const shift = zoneOffsetMs(candidate, zone) - zoneOffsetMs(nowMs, zone);
  return Math.max(0, untilEnd - shift);
}

/** The person's time zone: the trait, else the trigger event's context.timezone, else the default. */
export function timeZoneOf(traits: JsonObject, quiet: QuietHours, eventTimeZone?: string): string {
  const trait = traits[quiet.timeZoneTrait ?? 'timezone'];
  if (typeof trait === 'string' && validTimeZone(trait)) return trait;
  if (validTimeZone(eventTimeZone)) return eventTimeZone;
  return validTimeZone(quiet.defaultTimeZone) ? quiet.defaultTimeZone : 'UTC';
}

/** Whether the person is already at the frequency cap (sends counted within the cap's period). */
export function overFrequencyCap(sentInPeriod: number, cap: { max: number } | undefined): boolean {
  return cap !== undefined && sentInPeriod >= cap.max;
}

/** properties["cart"]["total"] for "cart.total"; an exact key containing dots wins. */
export function propertyAt(properties: JsonObject, path: string): Json | undefined {
  if (path in properties) return properties[path];
  let cur: Json | undefined = properties;
  for (const part of path.split('.')) {
    const obj = objectAt(cur);
    if (!obj || !(part in obj)) return undefined;
    cur = obj[part];
  }
  return cur;
}

function compare(a: Json | undefined, b: unknown): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') {
    const [x, y] = [Number(a), Number(b)];
    if (a.trim() !== '' && b.trim() !== '' && Number.isFinite(x) && Number.isFinite(y)) return x - y;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (typeof a === 'number' && typeof b === 'string' && b.trim() !== '' && Number.isFinite(Number(b))) return a - Number(b);
  if (typeof a === 'string' && typeof b === 'number' && a.trim() !== '' && Number.isFinite(Number(a))) return Number(a) - b;
  return undefined;
}

function same(a: Json | undefined, b: unknown): boolean {
  if (a === undefined) return false;
  if (typeof a === 'object' || typeof b === 'object') return JSON.stringify(a) === JSON.stringify(b);
  return a === b || compare(a, b) === 0;
}

/** One trigger.event.where condition against the event's properties. */
export function matchesFilter(properties: JsonObject, f: PropertyFilter): boolean {
  const v = propertyAt(properties, f.property);
  switch (f.op) {
    case 'exists':
      return v !== undefined && v !== null;
    case 'eq':
      return same(v, f.value);
    case 'neq':
      return !same(v, f.value);
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const c = compare(v, f.value);
      if (c === undefined) return false;
      return f.op === 'gt' ? c > 0 : f.op === 'gte' ? c >= 0 : f.op === 'lt' ? c < 0 : c <= 0;
    }
    case 'in':
      return Array.isArray(f.value) && f.value.some((x) => same(v, x));
    case 'contains':
      if (typeof v === 'string') return typeof f.value === 'string' || typeof f.value === 'number' ? v.includes(String(f.value)) : false;
      return Array.isArray(v) && v.some((x) => same(x, f.value));
    default:
      return false;
  }
}

export function matchesWhere(properties: JsonObject, where: readonly PropertyFilter[] | undefined): boolean {
  return (where ?? []).every((f) => matchesFilter(properties, f));
}
