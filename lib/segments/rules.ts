// The Segment rule language: types, validation with JSON paths, and helpers the operator needs
// (segment references and reference cycles). Rules arrive untyped from a Kubernetes custom resource;
// `validateRule` reports every problem at once, `parseRule` turns a valid one into a typed `Rule`.
//
//   { all: Rule[] } | { any: Rule[] } | { not: Rule }
//   { trait: "address.city", op, value? }              profiles.traits (JSON), dotted path
//   { profile: "lifetime_revenue", op, value? }        a built-in profile column (allow-list)
//   { event: "Order Completed", atLeast?, atMost?, within?, where?, aggregate? }
//   { event: "Order Completed", performed: false, within?, where? }
//   { segment: "other-segment" }                       latest computed version, same namespace
//   { interest: "shoes", op, value? }                  profiles.interests (0–1), gt/gte/lt/lte/between/exists
//
// Semantics of a condition on a trait or event property: every operator except `exists` is false
// when the value is absent or JSON null, so `neq` means "present and different"; wrap a condition in
// `not` for its exact complement ("absent or different"). Numbers also match numeric strings ("42");
// gt/gte/lt/lte/between with ISO dates compare string values parsed as dates (UTC unless an offset
// is given). `contains` is a substring of a string value or an element of an array value.

export type Scalar = string | number | boolean;
export type Value = Scalar | Scalar[];

export const OPERATORS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'contains', 'exists', 'between'] as const;
export type Operator = (typeof OPERATORS)[number];

/** Built-in profile columns usable in `{ profile: … }` conditions, with their kind. */
export const PROFILE_FIELDS = {
  first_seen: 'date',
  last_seen: 'date',
  event_count: 'number',
  lifetime_revenue: 'number',
  order_count: 'number',
  last_order_at: 'nullable-date',
  rfm_recency: 'number',
  rfm_frequency: 'number',
  rfm_monetary: 'number',
} as const;
export type ProfileField = keyof typeof PROFILE_FIELDS;

export const AGGREGATE_FUNCTIONS = ['sum', 'avg', 'min', 'max', 'count'] as const;
export type AggregateFunction = (typeof AGGREGATE_FUNCTIONS)[number];
export const COMPARISONS = ['gt', 'gte', 'lt', 'lte', 'eq', 'neq'] as const;
export type Comparison = (typeof COMPARISONS)[number];

export interface AllRule { all: Rule[] }
export interface AnyRule { any: Rule[] }
export interface NotRule { not: Rule }
export interface TraitCondition { trait: string; op: Operator; value?: Value }
export interface ProfileCondition { profile: ProfileField; op: Operator; value?: Value }
/** `property` is a dotted path ("product.category"), or an array of keys for keys containing dots. */
export interface PropertyFilter { property: string | string[]; op: Operator; value?: Value }
export interface EventAggregate { fn: AggregateFunction; property?: string | string[]; op: Comparison; value: number }
export interface EventCondition {
  event: string;
  /** false: did not perform (within the window, matching `where`). Default true. */
  performed?: boolean;
  /** Default 1; 0 means "at most `atMost` times, including never". */
  atLeast?: number;
  atMost?: number;
  /** A duration: a positive integer followed by s, m, h, d or w ("30d"). */
  within?: string;
  where?: PropertyFilter[];
  aggregate?: EventAggregate;
}
export interface SegmentCondition { segment: string }
/** An interest affinity (lib/personalization/interests.ts): absent counts as no interest, so only `exists` matches it. */
export interface InterestCondition { interest: string; op: InterestOperator; value?: number | [number, number] | boolean }
export const INTEREST_OPERATORS = ['gt', 'gte', 'lt', 'lte', 'between', 'exists'] as const;
export type InterestOperator = (typeof INTEREST_OPERATORS)[number];
export type Rule = AllRule | AnyRule | NotRule | TraitCondition | ProfileCondition | EventCondition | SegmentCondition | InterestCondition;

export interface RuleError {
  /** JSON path from the rule's root, e.g. `rule.all[1].op`. */
  path: string;
  message: string;
}

export function formatRuleError(e: RuleError): string {
  return `${e.path}: ${e.message}`;
}

export class RuleValidationError extends Error {
  readonly errors: RuleError[];
  constructor(errors: RuleError[]) {
    super(errors.map(formatRuleError).join('; '));
    this.name = 'RuleValidationError';
    this.errors = errors;
  }
}

export const MAX_DEPTH = 10;
export const MAX_CONDITIONS = 200;
export const MAX_PATH_DEPTH = 8;
export const MAX_IN_VALUES = 10_000;
export const MAX_STRING_LENGTH = 4096;
export const MAX_NAME_LENGTH = 255;
export const MAX_COUNT = 1_000_000_000;
export const MAX_WITHIN_SECONDS = 100 * 365 * 86_400;

const KINDS = ['all', 'any', 'not', 'trait', 'profile', 'event', 'segment', 'interest'] as const;
const KEYS: Record<(typeof KINDS)[number], readonly string[]> = {
  all: ['all'],
  any: ['any'],
  not: ['not'],
  trait: ['trait', 'op', 'value'],
  profile: ['profile', 'op', 'value'],
  event: ['event', 'performed', 'atLeast', 'atMost', 'within', 'where', 'aggregate'],
  segment: ['segment'],
  interest: ['interest', 'op', 'value'],
};
const FILTER_KEYS = ['property', 'op', 'value'];
const AGGREGATE_KEYS = ['fn', 'property', 'op', 'value'];

const TRAIT_SEGMENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DURATION = /^([1-9][0-9]{0,9})([smhdw])$/;
const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
/** DNS-1123 subdomain: what Kubernetes allows as a resource name. */
const SEGMENT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** DNS-1123 label: what Kubernetes allows as a namespace. */
const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Duration ("30d") → seconds, or undefined when it is not one. */
export function durationSeconds(value: string): number | undefined {
  const m = DURATION.exec(value);
  if (!m) return undefined;
  return Number(m[1]) * DURATION_UNITS[m[2]!]!;
}

/** ISO 8601 date or date-time → ClickHouse DateTime64(3, 'UTC') text, or undefined when it is not one. */
export function isoDate(value: string): string | undefined {
  const m = ISO_DATE.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone = 'Z'] = m;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  const probe = new Date(Date.UTC(year, month - 1, day));
  if (probe.getUTCFullYear() !== year || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (zone !== 'Z') {
    const z = zone.replace(':', '');
    const oh = Number(z.slice(1, 3));
    const om = Number(z.slice(3, 5));
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (z.startsWith('-') ? -1 : 1) * (oh * 60 + om);
  }
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  const t = Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMinutes * 60_000;
  if (!Number.isFinite(t) || year < 1900 || year > 2299) return undefined;
  return new Date(t).toISOString().replace('T', ' ').replace('Z', '');
}

export function isSegmentName(name: string): boolean {
  return name.length <= 253 && SEGMENT_NAME.test(name);
}

export function isNamespace(name: string): boolean {
  return name.length <= 63 && NAMESPACE.test(name);
}

/** The key a segment has in segment_versions / segment_members. */
export function segmentKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** A property path: a dotted string split on dots, or the array of keys as given. */
export function propertyPath(property: string | string[]): string[] {
  return typeof property === 'string' ? property.split('.') : property;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalar = (v: unknown): v is Scalar =>
  typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
const list = (xs: readonly string[]) => xs.join(', ');
const show = (v: unknown) => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
};
const describe = (v: unknown) => (v === undefined ? 'nothing' : v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'number' && !Number.isFinite(v) ? String(v) : typeof v === 'object' ? 'an object' : `${typeof v} ${show(v)}`);

class Validator {
  readonly errors: RuleError[] = [];
  conditions = 0;

  error(path: string, message: string): void {
    this.errors.push({ path, message });
  }

  rule(v: unknown, path: string, depth: number): void {
    if (!isObject(v)) {
      this.error(path, `expected an object with one of ${list(KINDS)} (got ${describe(v)})`);
      return;
    }
    const kinds = KINDS.filter((k) => k in v);
    if (kinds.length === 0) {
      const keys = Object.keys(v);
      this.error(path, `expected one of ${list(KINDS)}${keys.length ? ` (got keys ${list(keys.map((k) => JSON.stringify(k)))})` : ''}`);
      return;
    }
    if (kinds.length > 1) {
      this.error(path, `a rule is exactly one of ${list(KINDS)}, got ${list(kinds)}: combine them with all or any`);
      return;
    }
    const kind = kinds[0]!;
    const allowed = KEYS[kind];
    for (const key of Object.keys(v)) {
      if (!allowed.includes(key)) this.error(`${path}.${key}`, `unknown key (expected ${list(allowed)})`);
    }
    switch (kind) {
      case 'all':
      case 'any': {
        const children = v[kind];
        if (!Array.isArray(children)) return this.error(`${path}.${kind}`, `expected an array of rules (got ${describe(children)})`);
        if (children.length === 0) return this.error(`${path}.${kind}`, 'must not be empty');
        if (depth >= MAX_DEPTH) return this.error(`${path}.${kind}`, `nested deeper than ${MAX_DEPTH} levels`);
        children.forEach((c, i) => this.rule(c, `${path}.${kind}[${i}]`, depth + 1));
        return;
      }
      case 'not':
        if (depth >= MAX_DEPTH) return this.error(`${path}.not`, `nested deeper than ${MAX_DEPTH} levels`);
        return this.rule(v.not, `${path}.not`, depth + 1);
      case 'trait':
        this.conditions++;
        this.traitName(v.trait, `${path}.trait`);
        return this.operation(v, path);
      case 'profile':
        this.conditions++;
        return this.profile(v, path);
      case 'event':
        this.conditions++;
        return this.event(v, path);
      case 'interest':
        this.conditions++;
        return this.interest(v, path);
      case 'segment':
        this.conditions++;
        if (typeof v.segment !== 'string') return this.error(`${path}.segment`, `expected a string (got ${describe(v.segment)})`);
        if (!isSegmentName(v.segment)) {
          this.error(`${path}.segment`, `${show(v.segment)} is not a segment name (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters)`);
        }
        return;
    }
  }

  traitName(v: unknown, path: string): void {
    if (typeof v !== 'string') return this.error(path, `expected a string (got ${describe(v)})`);
    const parts = v.split('.');
    if (!parts.every((p) => TRAIT_SEGMENT.test(p) && p.length <= MAX_NAME_LENGTH)) {
      return this.error(path, `${show(v)} is not a trait path (names of letters, digits and _ not starting with a digit, joined by dots)`);
    }
    if (parts.length > MAX_PATH_DEPTH) this.error(path, `trait path is ${parts.length} levels deep (at most ${MAX_PATH_DEPTH})`);
  }

  propertyName(v: unknown, path: string, required = 'is required'): void {
    if (v === undefined) return this.error(path, required);
    if (typeof v === 'string') {
      if (v === '') return this.error(path, 'must not be empty');
      const parts = v.split('.');
      if (parts.some((p) => p === '')) return this.error(path, `${show(v)} has an empty key between dots (use an array of keys for keys containing dots)`);
      if (parts.some((p) => p.length > MAX_NAME_LENGTH)) return this.error(path, `a key is longer than ${MAX_NAME_LENGTH} characters`);
      if (parts.length > MAX_PATH_DEPTH) this.error(path, `property path is ${parts.length} levels deep (at most ${MAX_PATH_DEPTH})`);
      return;
    }
    if (Array.isArray(v)) {
      if (v.length === 0) return this.error(path, 'must not be empty');
      if (v.length > MAX_PATH_DEPTH) this.error(path, `property path is ${v.length} levels deep (at most ${MAX_PATH_DEPTH})`);
      v.forEach((k, i) => {
        if (typeof k !== 'string') this.error(`${path}[${i}]`, `expected a string (got ${describe(k)})`);
        else if (k === '') this.error(`${path}[${i}]`, 'must not be empty');
        else if (k.length > MAX_NAME_LENGTH) this.error(`${path}[${i}]`, `longer than ${MAX_NAME_LENGTH} characters`);
      });
      return;
    }
    this.error(path, `expected a string or an array of keys (got ${describe(v)})`);
  }

  string(v: string, path: string): boolean {
    if (v.length > MAX_STRING_LENGTH) {
      this.error(path, `longer than ${MAX_STRING_LENGTH} characters`);
      return false;
    }
    return true;
  }

  /** op + value of a trait condition or an event property filter. */
  operation(v: Json, path: string): void {
    const op = this.op(v.op, `${path}.op`);
    if (!op) return;
    this.value(op, v.value, 'value' in v, `${path}.value`);
  }

  op<T extends string = Operator>(v: unknown, path: string, allowed: readonly T[] = OPERATORS as readonly string[] as readonly T[], what = 'operator'): T | undefined {
    if (v === undefined) {
      this.error(path, `is required (one of ${list(allowed)})`);
      return undefined;
    }
    if (typeof v !== 'string') {
      this.error(path, `expected a string (got ${describe(v)})`);
      return undefined;
    }
    if (!(allowed as readonly string[]).includes(v)) {
      this.error(path, `unknown ${what} ${show(v)} (expected one of ${list(allowed)})`);
      return undefined;
    }
    return v as T;
  }

  value(op: Operator, v: unknown, present: boolean, path: string): void {
    switch (op) {
      case 'eq':
      case 'neq':
        if (!present) return this.error(path, `${show(op)} needs a value`);
        if (!isScalar(v)) return this.error(path, `${show(op)} needs a string, number or boolean (got ${describe(v)})`);
        if (typeof v === 'string') this.string(v, path);
        return;
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte':
        if (!present) return this.error(path, `${show(op)} needs a value`);
        if (!this.orderable(v)) return this.error(path, `${show(op)} needs a number or an ISO date like 2026-01-31 or 2026-01-31T12:00:00Z (got ${describe(v)})`);
        return;
      case 'between': {
        if (!Array.isArray(v) || v.length !== 2) return this.error(path, `"between" needs [low, high] (got ${describe(v)})`);
        const [low, high] = v as [unknown, unknown];
        const numbers = typeof low === 'number' && typeof high === 'number' && Number.isFinite(low) && Number.isFinite(high);
        const dates = typeof low === 'string' && typeof high === 'string' && isoDate(low) !== undefined && isoDate(high) !== undefined;
        if (!numbers && !dates) return this.error(path, `"between" needs [low, high] of two numbers or two ISO dates (got ${show(v)})`);
        const [a, b] = numbers ? [low, high] : [isoDate(low as string)!, isoDate(high as string)!];
        if (a > b) this.error(path, `"between" needs low ≤ high (got ${show(v)})`);
        return;
      }
      case 'in':
        if (!Array.isArray(v) || v.length === 0) return this.error(path, `"in" needs a non-empty array of strings, numbers or booleans (got ${describe(v)})`);
        if (v.length > MAX_IN_VALUES) return this.error(path, `"in" takes at most ${MAX_IN_VALUES} values (got ${v.length})`);
        v.forEach((x, i) => {
          if (!isScalar(x)) this.error(`${path}[${i}]`, `expected a string, number or boolean (got ${describe(x)})`);
          else if (typeof x === 'string') this.string(x, `${path}[${i}]`);
        });
        return;
      case 'contains':
        if (typeof v !== 'string') return this.error(path, `"contains" needs a string (got ${describe(v)})`);
        if (v === '') return this.error(path, '"contains" needs a non-empty string');
        this.string(v, path);
        return;
      case 'exists':
        if (present && typeof v !== 'boolean') this.error(path, `"exists" takes no value (or false for "does not exist"; got ${describe(v)})`);
        return;
    }
  }

  orderable(v: unknown): boolean {
    return (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && isoDate(v) !== undefined);
  }

  profile(v: Json, path: string): void {
    const fields = Object.keys(PROFILE_FIELDS);
    if (typeof v.profile !== 'string') {
      this.error(`${path}.profile`, `expected a string (got ${describe(v.profile)})`);
      this.op(v.op, `${path}.op`);
      return;
    }
    if (!fields.includes(v.profile)) {
      this.error(`${path}.profile`, `unknown profile field ${show(v.profile)} (expected one of ${list(fields)})`);
      this.op(v.op, `${path}.op`);
      return;
    }
    const kind = PROFILE_FIELDS[v.profile as ProfileField];
    const ops: Operator[] = kind === 'number' ? ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'between'] : ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'between'];
    if (kind === 'nullable-date') ops.push('exists');
    if (typeof v.op === 'string' && (OPERATORS as readonly string[]).includes(v.op) && !ops.includes(v.op as Operator)) {
      return this.error(`${path}.op`, `${show(v.op)} does not apply to profile field ${show(v.profile)} (expected one of ${list(ops)})`);
    }
    const op = this.op(v.op, `${path}.op`);
    if (!op) return;
    const valuePath = `${path}.value`;
    const value = v.value;
    if (kind === 'number') {
      if (op === 'in') {
        if (!Array.isArray(value) || value.length === 0) return this.error(valuePath, `"in" needs a non-empty array of numbers (got ${describe(value)})`);
        if (value.length > MAX_IN_VALUES) return this.error(valuePath, `"in" takes at most ${MAX_IN_VALUES} values (got ${value.length})`);
        value.forEach((x, i) => {
          if (typeof x !== 'number' || !Number.isFinite(x)) this.error(`${valuePath}[${i}]`, `expected a number (got ${describe(x)})`);
        });
        return;
      }
      if (op === 'between') {
        if (!Array.isArray(value) || value.length !== 2) return this.error(valuePath, `"between" needs [low, high] (got ${describe(value)})`);
        if (!value.every((x) => typeof x === 'number' && Number.isFinite(x))) return this.error(valuePath, `"between" needs [low, high] of two numbers (got ${show(value)})`);
        if ((value[0] as number) > (value[1] as number)) this.error(valuePath, `"between" needs low ≤ high (got ${show(value)})`);
        return;
      }
      if (!('value' in v)) return this.error(valuePath, `${show(op)} needs a value`);
      if (typeof value !== 'number' || !Number.isFinite(value)) this.error(valuePath, `${show(v.profile)} is a number: ${show(op)} needs a number (got ${describe(value)})`);
      return;
    }
    if (op === 'exists') return this.value(op, value, 'value' in v, valuePath);
    if (op === 'between') {
      if (!Array.isArray(value) || value.length !== 2) return this.error(valuePath, `"between" needs [low, high] (got ${describe(value)})`);
      const dates = value.map((x) => (typeof x === 'string' ? isoDate(x) : undefined));
      if (!dates.every((d) => d !== undefined)) return this.error(valuePath, `"between" needs [low, high] of two ISO dates (got ${show(value)})`);
      if (dates[0]! > dates[1]!) this.error(valuePath, `"between" needs low ≤ high (got ${show(value)})`);
      return;
    }
    if (!('value' in v)) return this.error(valuePath, `${show(op)} needs a value`);
    if (typeof value !== 'string' || isoDate(value) === undefined) {
      this.error(valuePath, `${show(v.profile)} is a date: ${show(op)} needs an ISO date like 2026-01-31 or 2026-01-31T12:00:00Z (got ${describe(value)})`);
    }
  }

  interest(v: Json, path: string): void {
    if (typeof v.interest !== 'string' || v.interest.trim() === '') this.error(`${path}.interest`, `expected a non-empty string: a category word, tag or page topic (got ${describe(v.interest)})`);
    else if (v.interest.length > 128) this.error(`${path}.interest`, 'longer than 128 characters');
    const op = this.op(v.op, `${path}.op`, INTEREST_OPERATORS);
    if (!op) return;
    const valuePath = `${path}.value`;
    const share = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x >= 0 && x <= 1;
    if (op === 'exists') return this.value(op, v.value, 'value' in v, valuePath);
    if (op === 'between') {
      if (!Array.isArray(v.value) || v.value.length !== 2 || !v.value.every(share)) return this.error(valuePath, `"between" needs [low, high] of two numbers from 0 to 1 (got ${show(v.value)})`);
      if ((v.value[0] as number) > (v.value[1] as number)) this.error(valuePath, `"between" needs low ≤ high (got ${show(v.value)})`);
      return;
    }
    if (!share(v.value)) this.error(valuePath, `an interest is a share from 0 to 1: ${show(op)} needs a number from 0 to 1 (got ${describe(v.value)})`);
  }

  event(v: Json, path: string): void {
    if (typeof v.event !== 'string') this.error(`${path}.event`, `expected a string (got ${describe(v.event)})`);
    else if (v.event === '') this.error(`${path}.event`, 'must not be empty');
    else if (v.event.length > MAX_NAME_LENGTH) this.error(`${path}.event`, `longer than ${MAX_NAME_LENGTH} characters`);

    if ('performed' in v && typeof v.performed !== 'boolean') this.error(`${path}.performed`, `expected true or false (got ${describe(v.performed)})`);
    const performed = v.performed !== false;
    const count = (key: 'atLeast' | 'atMost'): number | undefined => {
      if (!(key in v)) return undefined;
      if (!performed) {
        this.error(`${path}.${key}`, 'not allowed with performed: false');
        return undefined;
      }
      const n = v[key];
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > MAX_COUNT) {
        this.error(`${path}.${key}`, `expected a whole number from 0 to ${MAX_COUNT} (got ${describe(n)})`);
        return undefined;
      }
      return n;
    };
    const atLeast = count('atLeast');
    const atMost = count('atMost');
    if (atMost !== undefined && atMost < (atLeast ?? 1)) {
      this.error(`${path}.atMost`, `must be ≥ atLeast (${atLeast ?? '1 by default'})`);
    }

    if ('within' in v) {
      const s = typeof v.within === 'string' ? durationSeconds(v.within) : undefined;
      if (s === undefined) this.error(`${path}.within`, `expected a duration like 30d: a whole number followed by s, m, h, d or w (got ${describe(v.within)})`);
      else if (s > MAX_WITHIN_SECONDS) this.error(`${path}.within`, 'at most 100 years');
    }

    if ('where' in v) {
      if (!Array.isArray(v.where)) this.error(`${path}.where`, `expected an array of { property, op, value } (got ${describe(v.where)})`);
      else {
        v.where.forEach((f: unknown, i) => {
          const p = `${path}.where[${i}]`;
          this.conditions++;
          if (!isObject(f)) return this.error(p, `expected an object { property, op, value } (got ${describe(f)})`);
          for (const key of Object.keys(f)) if (!FILTER_KEYS.includes(key)) this.error(`${p}.${key}`, `unknown key (expected ${list(FILTER_KEYS)})`);
          this.propertyName(f.property, `${p}.property`);
          this.operation(f, p);
        });
      }
    }

    if ('aggregate' in v) {
      const a = v.aggregate;
      const p = `${path}.aggregate`;
      if (!performed) this.error(p, 'not allowed with performed: false');
      else if (!isObject(a)) this.error(p, `expected an object { fn, property, op, value } (got ${describe(a)})`);
      else {
        for (const key of Object.keys(a)) if (!AGGREGATE_KEYS.includes(key)) this.error(`${p}.${key}`, `unknown key (expected ${list(AGGREGATE_KEYS)})`);
        const fn = this.op(a.fn, `${p}.fn`, AGGREGATE_FUNCTIONS, 'function');
        if ('property' in a || (fn !== undefined && fn !== 'count')) this.propertyName(a.property, `${p}.property`, `is required for ${show(fn)}`);
        this.op(a.op, `${p}.op`, COMPARISONS);
        if (typeof a.value !== 'number' || !Number.isFinite(a.value)) this.error(`${p}.value`, `expected a number (got ${describe(a.value)})`);
        if (atLeast === 0) this.error(`${path}.atLeast`, 'must be at least 1 with an aggregate');
      }
    }
  }
}

/** Every problem of a rule, each with its JSON path; empty when the rule is valid. */
export function validateRule(rule: unknown): RuleError[] {
  const v = new Validator();
  v.rule(rule, 'rule', 1);
  if (v.conditions > MAX_CONDITIONS) v.error('rule', `more than ${MAX_CONDITIONS} conditions (${v.conditions})`);
  return v.errors;
}

/** The rule as a typed `Rule`, or a `RuleValidationError` carrying every problem. */
export function parseRule(rule: unknown): Rule {
  const errors = validateRule(rule);
  if (errors.length) throw new RuleValidationError(errors);
  return rule as Rule;
}

/** Names of the segments a rule refers to, each once, in order of appearance. */
export function referencedSegments(rule: Rule): string[] {
  const seen = new Set<string>();
  const walk = (r: Rule): void => {
    if ('all' in r) r.all.forEach(walk);
    else if ('any' in r) r.any.forEach(walk);
    else if ('not' in r) walk(r.not);
    else if ('segment' in r) seen.add(r.segment);
  };
  walk(rule);
  return [...seen];
}

/**
 * A reference cycle in a graph of segment → segments it refers to, as the path that closes it
 * (`['a', 'b', 'a']`; a self-reference is `['a', 'a']`), or undefined when there is none.
 * Names the graph has no entry for are leaves.
 */
export function findCycle(graph: Map<string, string[]>): string[] | undefined {
  const done = new Set<string>();
  const onPath = new Map<string, number>();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    const at = onPath.get(node);
    if (at !== undefined) return [...path.slice(at), node];
    if (done.has(node)) return undefined;
    onPath.set(node, path.length);
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    onPath.delete(node);
    done.add(node);
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}
