// A Segment rule compiled to an in-memory predicate over one profile, for decisions made on the
// request path. Same semantics as the ClickHouse compiler (lib/segments/compile.ts): every operator
// but `exists` is false on an absent or null value, numbers match numeric strings, ordered ISO dates
// compare as instants. What needs the event log (a time window, property filters, aggregates) is not
// evaluable here: `decisionRuleErrors` refuses it and says to put it in a Segment.
import { interestKey } from '../../api/catalog.ts';
import { isoDate, PROFILE_FIELDS, validateRule, type EventCondition, type InterestCondition, type Operator, type ProfileCondition, type Rule, type RuleError, type Scalar, type TraitCondition, type Value } from '../segments/rules.ts';

/** What a decision knows of a visitor (an unknown visitor: everything empty). */
export interface DecisionProfile {
  traits: Record<string, unknown>;
  /** Built-in profile columns: numbers, and dates as epoch milliseconds (null: never). */
  fields: Partial<Record<keyof typeof PROFILE_FIELDS, number | null>>;
  eventCounts: Record<string, number>;
  interests: Record<string, number>;
  segments: ReadonlySet<string>;
}

export const UNKNOWN_VISITOR: DecisionProfile = { traits: {}, fields: {}, eventCounts: {}, interests: {}, segments: new Set() };

export type Predicate = (p: DecisionProfile) => boolean;

/** validateRule, plus what cannot be decided in memory, each at its path. */
export function decisionRuleErrors(rule: unknown, root = 'rule'): RuleError[] {
  const errors = validateRule(rule).map((e) => ({ ...e, path: e.path.replace(/^rule/, root) }));
  if (errors.length) return errors;
  const walk = (r: Rule, path: string): void => {
    if ('all' in r) r.all.forEach((c, i) => walk(c, `${path}.all[${i}]`));
    else if ('any' in r) r.any.forEach((c, i) => walk(c, `${path}.any[${i}]`));
    else if ('not' in r) walk(r.not, `${path}.not`);
    else if ('event' in r) {
      for (const key of ['within', 'where', 'aggregate'] as const) {
        if (r[key] !== undefined) errors.push({ path: `${path}.${key}`, message: `decisions are made in memory from the profile's event counts: "${key}" needs the event log — define a Segment with this condition and use {segment: <its name>}` });
      }
    }
  };
  walk(rule as Rule, root);
  return errors;
}

const toNumber = (v: unknown): number | undefined => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
};
const toInstant = (v: unknown): number | undefined => {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(v)) return undefined;
  const text = v.replace(' ', 'T');
  const t = Date.parse(/[Zz]$|[+-]\d{2}:?\d{2}$/.test(text) || text.length <= 10 ? text : `${text}Z`);
  return Number.isNaN(t) ? undefined : t;
};
const instantOf = (iso: string): number => Date.parse(`${isoDate(iso)!.replace(' ', 'T')}Z`);

function at(traits: Record<string, unknown>, path: readonly string[]): unknown {
  let v: unknown = traits;
  for (const k of path) {
    if (!v || typeof v !== 'object' || Array.isArray(v) || !Object.prototype.hasOwnProperty.call(v, k)) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

function compare(op: 'gt' | 'gte' | 'lt' | 'lte', a: number, b: number): boolean {
  return op === 'gt' ? a > b : op === 'gte' ? a >= b : op === 'lt' ? a < b : a <= b;
}

/** A condition on a JSON value (a trait). */
function valueTest(op: Operator, value: Value | undefined): (v: unknown) => boolean {
  const present = (v: unknown) => v !== undefined && v !== null;
  const equals = (want: Scalar) => (v: unknown) => (typeof want === 'number' ? toNumber(v) === want : v === want);
  const ordered = (want: Scalar): [(v: unknown) => number | undefined, number] => (typeof want === 'number' ? [toNumber, want] : [toInstant, instantOf(String(want))]);
  switch (op) {
    case 'eq':
      return equals(value as Scalar);
    case 'neq': {
      const eq = equals(value as Scalar);
      return (v) => present(v) && !eq(v);
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const [read, want] = ordered(value as Scalar);
      return (v) => {
        const x = read(v);
        return x !== undefined && compare(op, x, want);
      };
    }
    case 'between': {
      const [low, high] = value as [Scalar, Scalar];
      const [read, lo] = ordered(low);
      const [, hi] = ordered(high);
      return (v) => {
        const x = read(v);
        return x !== undefined && x >= lo && x <= hi;
      };
    }
    case 'in': {
      const tests = (value as Scalar[]).map(equals);
      return (v) => tests.some((t) => t(v));
    }
    case 'contains': {
      const needle = value as string;
      return (v) => (typeof v === 'string' ? v.includes(needle) : Array.isArray(v) ? v.includes(needle) : false);
    }
    case 'exists':
      return value === false ? (v) => !present(v) : present;
  }
}

function trait(c: TraitCondition): Predicate {
  const path = c.trait.split('.');
  const test = valueTest(c.op, c.value);
  return (p) => test(at(p.traits, path));
}

function profileField(c: ProfileCondition): Predicate {
  const kind = PROFILE_FIELDS[c.profile];
  const read = (p: DecisionProfile) => p.fields[c.profile] ?? null;
  if (c.op === 'exists') return c.value === false ? (p) => read(p) === null : (p) => read(p) !== null;
  const want = (v: Scalar) => (kind === 'number' ? (v as number) : instantOf(String(v)));
  if (c.op === 'in') {
    const set = new Set(c.value as number[]);
    return (p) => set.has(read(p) as number);
  }
  if (c.op === 'between') {
    const [lo, hi] = (c.value as [Scalar, Scalar]).map(want) as [number, number];
    return (p) => {
      const x = read(p);
      return x !== null && x >= lo && x <= hi;
    };
  }
  const w = want(c.value as Scalar);
  if (c.op === 'eq') return (p) => read(p) === w;
  if (c.op === 'neq') return (p) => read(p) !== null && read(p) !== w;
  const op = c.op as 'gt' | 'gte' | 'lt' | 'lte';
  return (p) => {
    const x = read(p);
    return x !== null && compare(op, x, w);
  };
}

function interest(c: InterestCondition): Predicate {
  const key = interestKey(c.interest);
  const read = (p: DecisionProfile) => (Object.prototype.hasOwnProperty.call(p.interests, key) ? p.interests[key] : undefined);
  if (c.op === 'exists') return c.value === false ? (p) => read(p) === undefined : (p) => read(p) !== undefined;
  if (c.op === 'between') {
    const [lo, hi] = c.value as [number, number];
    return (p) => {
      const x = read(p);
      return x !== undefined && x >= lo && x <= hi;
    };
  }
  const op = c.op;
  const w = c.value as number;
  return (p) => {
    const x = read(p);
    return x !== undefined && compare(op, x, w);
  };
}

function eventCount(c: EventCondition): Predicate {
  const count = (p: DecisionProfile) => p.eventCounts[c.event] ?? 0;
  if (c.performed === false) return (p) => count(p) === 0;
  const atLeast = c.atLeast ?? 1;
  const atMost = c.atMost ?? Infinity;
  return (p) => {
    const n = count(p);
    return n >= atLeast && n <= atMost;
  };
}

/** The predicate of a rule that passed decisionRuleErrors. */
export function compilePredicate(rule: Rule): Predicate {
  if ('all' in rule) {
    const parts = rule.all.map(compilePredicate);
    return (p) => parts.every((f) => f(p));
  }
  if ('any' in rule) {
    const parts = rule.any.map(compilePredicate);
    return (p) => parts.some((f) => f(p));
  }
  if ('not' in rule) {
    const inner = compilePredicate(rule.not);
    return (p) => !inner(p);
  }
  if ('trait' in rule) return trait(rule);
  if ('profile' in rule) return profileField(rule);
  if ('interest' in rule) return interest(rule);
  if ('segment' in rule) {
    const name = rule.segment;
    return (p) => p.segments.has(name);
  }
  return eventCount(rule);
}
