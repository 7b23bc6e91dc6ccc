// The Segment rule editor's model: rows of conditions joined by all/any, to and from the rule
// language (lib/segments/rules.ts), and the API's field errors mapped back to a row's field.
// Rules the rows cannot show (nesting, where-filters, aggregates) are edited as JSON.

export const KINDS = ['trait', 'profile', 'event', 'interest', 'segment'] as const;
export type Kind = (typeof KINDS)[number];
export const OPERATORS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'contains', 'exists', 'between'] as const;
export const INTEREST_OPERATORS = ['gt', 'gte', 'lt', 'lte', 'between', 'exists'] as const;
export const PROFILE_FIELDS = ['lifetime_revenue', 'order_count', 'event_count', 'first_seen', 'last_seen', 'last_order_at', 'rfm_recency', 'rfm_frequency', 'rfm_monetary'] as const;

export interface Row {
  kind: Kind;
  /** trait path, profile field, event name, interest key or segment name */
  subject: string;
  op: string;
  /** as typed: numbers, true/false and comma lists are read from it */
  value: string;
  /** events: did (true) or did not perform */
  performed: boolean;
  atLeast: string;
  within: string;
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function emptyRow(kind: Kind = 'trait'): Row {
  return { kind, subject: '', op: kind === 'interest' ? 'gte' : 'eq', value: '', performed: true, atLeast: '1', within: '30d' };
}

/** A typed value as JSON: numbers and booleans as such, `in` and `between` as lists. */
export function readValue(text: string, op: string): Json {
  const one = (t: string): Json => {
    const s = t.trim();
    if (s === 'true' || s === 'false') return s === 'true';
    if (s !== '' && Number.isFinite(Number(s))) return Number(s);
    return s;
  };
  if (op === 'in' || op === 'between') return text.split(',').map(one);
  return one(text);
}

function showValue(v: unknown): string {
  if (Array.isArray(v)) return v.map(String).join(', ');
  return v === undefined ? '' : String(v);
}

export function rowToCondition(r: Row): Json {
  switch (r.kind) {
    case 'segment':
      return { segment: r.subject.trim() };
    case 'event': {
      const c: Record<string, Json> = { event: r.subject.trim() };
      if (!r.performed) c.performed = false;
      else if (r.atLeast.trim() !== '' && r.atLeast.trim() !== '1') c.atLeast = readValue(r.atLeast, 'eq');
      if (r.within.trim()) c.within = r.within.trim();
      return c;
    }
    default: {
      const c: Record<string, Json> = { [r.kind]: r.subject.trim(), op: r.op };
      if (r.op !== 'exists') c.value = readValue(r.value, r.op);
      return c;
    }
  }
}

export function rowsToRule(join: 'all' | 'any', rows: Row[]): Json {
  if (rows.length === 1) return rowToCondition(rows[0]!);
  return { [join]: rows.map(rowToCondition) };
}

function conditionToRow(c: unknown): Row | undefined {
  if (!c || typeof c !== 'object' || Array.isArray(c)) return undefined;
  const o = c as Record<string, unknown>;
  if (typeof o.segment === 'string' && Object.keys(o).length === 1) return { ...emptyRow('segment'), subject: o.segment };
  if (typeof o.event === 'string') {
    if (o.where !== undefined || o.aggregate !== undefined || o.atMost !== undefined) return undefined;
    return { ...emptyRow('event'), subject: o.event, performed: o.performed !== false, atLeast: o.atLeast === undefined ? '1' : String(o.atLeast), within: typeof o.within === 'string' ? o.within : '' };
  }
  for (const kind of ['trait', 'profile', 'interest'] as const) {
    if (typeof o[kind] === 'string' && typeof o.op === 'string') return { ...emptyRow(kind), subject: o[kind] as string, op: o.op, value: showValue(o.value) };
  }
  return undefined;
}

/** The rows a rule is made of, or undefined when it needs the JSON editor. */
export function ruleToRows(rule: unknown): { join: 'all' | 'any'; rows: Row[] } | undefined {
  if (rule && typeof rule === 'object' && !Array.isArray(rule)) {
    const o = rule as Record<string, unknown>;
    for (const join of ['all', 'any'] as const) {
      if (Array.isArray(o[join]) && Object.keys(o).length === 1) {
        const rows = (o[join] as unknown[]).map(conditionToRow);
        return rows.every(Boolean) && rows.length > 0 ? { join, rows: rows as Row[] } : undefined;
      }
    }
    const row = conditionToRow(rule);
    if (row) return { join: 'all', rows: [row] };
  }
  return undefined;
}

/** Where an API field error belongs: a row's field, the name, or the rule as a whole. */
export function placeError(field: string | undefined, rowCount: number): { row: number; field: string } | { at: 'name' | 'rule' | 'other' } {
  if (!field) return { at: 'other' };
  if (field === 'body.name') return { at: 'name' };
  const m = /^body\.spec\.rule(?:\.(?:all|any)\[(\d+)\])?(?:\.([A-Za-z]+))?/.exec(field);
  if (!m) return { at: 'other' };
  if (m[1] !== undefined) return { row: Number(m[1]), field: m[2] ?? 'subject' };
  if (rowCount === 1 && m[2]) return { row: 0, field: m[2] };
  return { at: 'rule' };
}

/** The row field a rule-language key is shown in. */
export function rowField(key: string): keyof Row {
  if (['trait', 'profile', 'event', 'interest', 'segment'].includes(key)) return 'subject';
  if (key === 'op' || key === 'value' || key === 'within' || key === 'atLeast' || key === 'performed') return key;
  return 'subject';
}

/** The JSON merge patch (RFC 7386) that turns `from` into `to`: keys `to` lacks are set to null. */
export function mergePatchTo(from: unknown, to: unknown): unknown {
  const isObject = (v: unknown): v is Record<string, unknown> => Boolean(v) && typeof v === 'object' && !Array.isArray(v);
  if (!isObject(from) || !isObject(to)) return to;
  const patch: Record<string, unknown> = {};
  for (const k of Object.keys(from)) if (!(k in to)) patch[k] = null;
  for (const [k, v] of Object.entries(to)) patch[k] = k in from ? mergePatchTo(from[k], v) : v;
  return patch;
}
