// Compiles a Segment rule into one ClickHouse query returning the profile ids of its members.
//
// Every value from the rule (trait paths and values, event names, property names, durations,
// counts, segment keys) travels as a ClickHouse query parameter ({p0:String}, {p1:Float64} …);
// identifiers and functions come only from the allow-lists below, so the SQL text never contains
// anything the rule's author wrote. `display` is the same SQL with the values inlined (quoted) for
// status and logs.
//
// Shape: SELECT profile_id FROM {db}.profiles FINAL WHERE deleted = 0 AND <condition>, where
//   trait / profile conditions   are expressions on the profile row (JSONExtract* on traits),
//   event conditions             are profile_id [NOT] IN (events of the window, grouped per identity,
//                                joined to the identity's current profile, grouped per profile),
//   segment references           are profile_id IN (members of the latest computed version),
// so ClickHouse builds each event/segment set once and filters profiles in one pass.
import {
  durationSeconds,
  isNamespace,
  isoDate,
  parseRule,
  PROFILE_FIELDS,
  propertyPath,
  segmentKey,
  type Comparison,
  type EventCondition,
  type InterestCondition,
  type Operator,
  type ProfileCondition,
  type PropertyFilter,
  type Rule,
  type Scalar,
  type Value,
} from './rules.ts';
import { interestKey } from '../../api/catalog.ts';


export interface CompileOptions {
  /** Namespace of the Segment resource: `{ segment: "x" }` refers to `<namespace>/x`. */
  namespace: string;
  /** The time event windows end at: the server's clock (default) or a fixed instant. */
  now?: 'now64(3)' | Date;
}

export interface CompiledSegment {
  /** `SELECT profile_id FROM …` with `{db}` for the database and query parameters for every value. */
  sql: string;
  params: Record<string, unknown>;
  /** `sql` with the parameter values inlined as quoted literals, for status and logs. */
  display: string;
}

const DATETIME = "DateTime64(3, 'UTC')";
type ParamType = 'String' | 'Float64' | 'UInt64' | 'UInt8' | 'Array(String)' | 'Array(Float64)' | 'Array(UInt8)' | typeof DATETIME;

/** Query parameters, one per distinct (type, value). */
class Params {
  readonly values: Record<string, unknown> = {};
  readonly types = new Map<string, ParamType>();
  private readonly byValue = new Map<string, string>();

  add(type: ParamType, value: unknown): string {
    const key = `${type}\u0000${JSON.stringify(value)}`;
    let name = this.byValue.get(key);
    if (name === undefined) {
      name = `p${this.byValue.size}`;
      this.byValue.set(key, name);
      this.values[name] = value;
      this.types.set(name, type);
    }
    return `{${name}:${type}}`;
  }
}

const SQL_OPS: Record<Comparison, string> = { eq: '=', neq: '!=', gt: '>', gte: '>=', lt: '<', lte: '<=' };

/** The profile columns a `{ profile: … }` condition may read: the allow-list is the only source of identifiers. */
const PROFILE_COLUMNS: Record<keyof typeof PROFILE_FIELDS, string> = {
  first_seen: 'first_seen',
  last_seen: 'last_seen',
  event_count: 'event_count',
  lifetime_revenue: 'lifetime_revenue',
  order_count: 'order_count',
  last_order_at: 'last_order_at',
  rfm_recency: 'rfm_recency',
  rfm_frequency: 'rfm_frequency',
  rfm_monetary: 'rfm_monetary',
};

const indent = (text: string, by = '  ') => text.split('\n').map((l) => by + l).join('\n');
const parens = (text: string) => (text.includes('\n') ? `(\n${indent(text)}\n)` : `(${text})`);

class Compiler {
  readonly params = new Params();
  private readonly now: string;

  constructor(private readonly namespace: string, now: 'now64(3)' | Date) {
    this.now = now === 'now64(3)' ? 'now64(3)' : this.params.add(DATETIME, dateTimeText(now));
  }

  rule(r: Rule): string {
    if ('all' in r) return this.combine(r.all, 'AND');
    if ('any' in r) return this.combine(r.any, 'OR');
    if ('not' in r) return `NOT ${parens(this.rule(r.not))}`;
    if ('trait' in r) return this.json('traits', r.trait.split('.'), r.op, r.value);
    if ('profile' in r) return this.profile(r);
    if ('event' in r) return this.event(r);
    if ('segment' in r) return this.segment(r.segment);
    if ('interest' in r) return this.interest(r);
    throw new Error('unreachable: the rule was validated');
  }

  private combine(rules: Rule[], op: 'AND' | 'OR'): string {
    if (rules.length === 1) return this.rule(rules[0]!);
    return parens(rules.map((r) => this.rule(r)).join(`\n${op} `));
  }

  /** A condition on a value inside a JSON column (a trait, or an event property). */
  private json(column: 'traits' | 'properties', path: string[], op: Operator, value: Value | undefined): string {
    const args = [column, ...path.map((k) => this.params.add('String', k))].join(', ');
    const type = `JSONType(${args})`;
    const str = `JSONExtractString(${args})`;
    const isString = `${type} = 'String'`;
    const num = `multiIf(${type} IN ('Int64', 'UInt64', 'Double'), JSONExtractFloat(${args}), ${isString}, toFloat64OrNull(${str}), NULL)`;
    const date = `if(${isString} AND match(${str}, '^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'), parseDateTime64BestEffortOrNull(${str}, 3, 'UTC'), NULL)`;
    const exists = `${type} != 'Null'`;

    const eq = (v: Scalar): string => {
      if (typeof v === 'string') return `(${isString} AND ${str} = ${this.params.add('String', v)})`;
      if (typeof v === 'boolean') return `(${type} = 'Bool' AND JSONExtractBool(${args}) = ${this.params.add('UInt8', v ? 1 : 0)})`;
      return `ifNull(${num} = ${this.params.add('Float64', v)}, 0)`;
    };
    const ordered = (v: Scalar): [string, string] => {
      if (typeof v === 'number') return [num, this.params.add('Float64', v)];
      return [date, this.params.add(DATETIME, isoDate(String(v)))];
    };

    switch (op) {
      case 'eq':
        return eq(value as Scalar);
      case 'neq':
        return `(${exists} AND NOT ${eq(value as Scalar)})`;
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte': {
        const [left, right] = ordered(value as Scalar);
        return `ifNull(${left} ${SQL_OPS[op]} ${right}, 0)`;
      }
      case 'between': {
        const [low, high] = value as [Scalar, Scalar];
        const [left, lo] = ordered(low);
        const [, hi] = ordered(high);
        return `ifNull(${left} BETWEEN ${lo} AND ${hi}, 0)`;
      }
      case 'in': {
        const values = value as Scalar[];
        const strings = values.filter((v): v is string => typeof v === 'string');
        const numbers = values.filter((v): v is number => typeof v === 'number');
        const booleans = values.filter((v): v is boolean => typeof v === 'boolean');
        const parts: string[] = [];
        if (strings.length) parts.push(`(${isString} AND ${str} IN ${this.params.add('Array(String)', unique(strings))})`);
        if (numbers.length) parts.push(`ifNull(${num} IN ${this.params.add('Array(Float64)', unique(numbers))}, 0)`);
        if (booleans.length) parts.push(`(${type} = 'Bool' AND JSONExtractBool(${args}) IN ${this.params.add('Array(UInt8)', unique(booleans.map((b) => (b ? 1 : 0))))})`);
        return parts.length === 1 ? parts[0]! : `(${parts.join(' OR ')})`;
      }
      case 'contains': {
        const needle = this.params.add('String', value);
        return `multiIf(${isString}, position(${str}, ${needle}) > 0, ${type} = 'Array', has(JSONExtract(${args}, 'Array(Nullable(String))'), ${needle}), 0)`;
      }
      case 'exists':
        return value === false ? `${type} = 'Null'` : exists;
    }
  }

  private interest(c: InterestCondition): string {
    const key = this.params.add('String', interestKey(c.interest));
    const has = `mapContains(interests, ${key})`;
    if (c.op === 'exists') return c.value === false ? `NOT ${has}` : has;
    if (c.op === 'between') {
      const [low, high] = c.value as [number, number];
      return `(${has} AND interests[${key}] BETWEEN ${this.params.add('Float64', low)} AND ${this.params.add('Float64', high)})`;
    }
    return `(${has} AND interests[${key}] ${SQL_OPS[c.op]} ${this.params.add('Float64', c.value as number)})`;
  }

  private profile(c: ProfileCondition): string {
    const column = PROFILE_COLUMNS[c.profile];
    const kind = PROFILE_FIELDS[c.profile];
    if (c.op === 'exists') return c.value === false ? `${column} IS NULL` : `${column} IS NOT NULL`;
    const param = (v: Scalar) => (kind === 'number' ? this.params.add('Float64', v) : this.params.add(DATETIME, isoDate(String(v))));
    let expression: string;
    if (c.op === 'in') expression = `toFloat64(${column}) IN ${this.params.add('Array(Float64)', unique(c.value as number[]))}`;
    else if (c.op === 'between') {
      const [low, high] = c.value as [Scalar, Scalar];
      expression = `(${column} BETWEEN ${param(low)} AND ${param(high)})`;
    } else if (c.op in SQL_OPS) expression = `${column} ${SQL_OPS[c.op as Comparison]} ${param(c.value as Scalar)}`;
    else throw new Error(`unreachable: operator ${c.op} on a profile field was validated`);
    return kind === 'nullable-date' ? `ifNull(${expression}, 0)` : expression;
  }

  private event(c: EventCondition): string {
    const filters = [`event = ${this.params.add('String', c.event)}`];
    if (c.within !== undefined) {
      filters.push(`timestamp >= ${this.now} - toIntervalSecond(${this.params.add('UInt64', durationSeconds(c.within))})`);
      filters.push(`timestamp <= ${this.now}`);
    }
    for (const f of c.where ?? []) filters.push(this.filter(f));
    const where = filters.join('\n  AND ');

    // Profiles with at least one such event: no counting, so no deduplication needed.
    const performedBy = () =>
      `SELECT m.profile_id\nFROM {db}.identities AS m FINAL\nWHERE m.identity IN (\n${indent(`SELECT identity\nFROM {db}.events\nWHERE ${where}`)}\n)`;

    if (c.performed === false) return `profile_id NOT IN (\n${indent(performedBy())}\n)`;

    const atLeast = c.atLeast ?? 1;
    const aggregate = c.aggregate;
    if (atLeast === 0) {
      // "at most N times, including never": the complement of "more than N times".
      if (c.atMost === undefined) return '1';
      return `profile_id NOT IN (\n${indent(this.counted(where, [`sum(e.n) > ${this.params.add('UInt64', c.atMost)}`]))}\n)`;
    }
    if (atLeast === 1 && c.atMost === undefined && !aggregate) return `profile_id IN (\n${indent(performedBy())}\n)`;

    const having: string[] = [];
    if (atLeast > 1) having.push(`sum(e.n) >= ${this.params.add('UInt64', atLeast)}`);
    if (c.atMost !== undefined) having.push(`sum(e.n) <= ${this.params.add('UInt64', c.atMost)}`);
    let value: string | undefined;
    const partials: string[] = [];
    if (aggregate) {
      let measure: string;
      if (aggregate.property === undefined) measure = 'sum(e.n)';
      else {
        const args = ['properties', ...propertyPath(aggregate.property).map((k) => this.params.add('String', k))].join(', ');
        if (aggregate.fn === 'count') {
          // Events that have the property at all.
          value = `JSONType(${args}) != 'Null'`;
          partials.push('countIf(v) AS c');
          measure = 'sum(e.c)';
        } else {
          // Numbers, and numeric strings; events without a numeric value are left out.
          value = `multiIf(JSONType(${args}) IN ('Int64', 'UInt64', 'Double'), JSONExtractFloat(${args}), JSONType(${args}) = 'String', toFloat64OrNull(JSONExtractString(${args})), NULL)`;
          const byFn = {
            sum: { partials: ['sum(v) AS s'], measure: 'ifNull(sum(e.s), 0)' },
            avg: { partials: ['sum(v) AS s', 'count(v) AS c'], measure: 'sum(e.s) / sum(e.c)' },
            min: { partials: ['min(v) AS lo'], measure: 'min(e.lo)' },
            max: { partials: ['max(v) AS hi'], measure: 'max(e.hi)' },
          }[aggregate.fn];
          partials.push(...byFn.partials);
          measure = byFn.measure;
        }
      }
      having.push(`ifNull(${measure} ${SQL_OPS[aggregate.op]} ${this.params.add('Float64', aggregate.value)}, 0)`);
    }
    if (having.length === 0) having.push('sum(e.n) >= 1');
    return `profile_id IN (\n${indent(this.counted(where, having, value, partials))}\n)`;
  }

  /** Profiles grouped by their matching events, once per event (FINAL folds re-delivered copies). */
  private counted(where: string, having: string[], value?: string, partials: string[] = []): string {
    const perIdentity = [
      `SELECT identity, ${['count() AS n', ...partials].join(', ')}`,
      `FROM (`,
      indent(`SELECT identity${value !== undefined ? `, ${value} AS v` : ''}\nFROM {db}.events FINAL\nWHERE ${where}`),
      `)`,
      `GROUP BY identity`,
    ].join('\n');
    return [
      'SELECT m.profile_id',
      `FROM (\n${indent(perIdentity)}\n) AS e`,
      'INNER JOIN {db}.identities AS m FINAL ON m.identity = e.identity',
      'GROUP BY m.profile_id',
      `HAVING ${having.join(' AND ')}`,
    ].join('\n');
  }

  private filter(f: PropertyFilter): string {
    return this.json('properties', propertyPath(f.property), f.op, f.value);
  }

  private segment(name: string): string {
    const key = this.params.add('String', segmentKey(this.namespace, name));
    return `profile_id IN (\n${indent(
      `SELECT profile_id\nFROM {db}.segment_members\nWHERE segment = ${key}\n  AND version = (SELECT max(version) FROM {db}.segment_versions WHERE segment = ${key})`,
    )}\n)`;
  }
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

function dateTimeText(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new Error('compileSegment: options.now is an invalid Date');
  return d.toISOString().replace('T', ' ').replace('Z', '');
}

/** A ClickHouse string literal; braces are escaped so `{db}` or `{p0:String}` in a value stay text. */
export function quoteString(s: string): string {
  let out = "'";
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === "'") out += "\\'";
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (ch === '{' || ch === '}' || code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0').toUpperCase()}`;
    else out += ch;
  }
  return `${out}'`;
}

function literal(type: ParamType, value: unknown): string {
  if (Array.isArray(value)) {
    const element = type.slice('Array('.length, -1) as ParamType;
    return `[${value.map((v) => literal(element, v)).join(', ')}]`;
  }
  if (type === DATETIME) return `toDateTime64(${quoteString(String(value))}, 3, 'UTC')`;
  if (type === 'String') return quoteString(String(value));
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`unreachable: a ${type} parameter is not a finite number`);
  return String(value);
}

/** The SQL with each `{pN:Type}` replaced by its value as a literal. */
function inline(sql: string, params: Params): string {
  return sql.replace(/\{(p[0-9]+):[^{}]+\}/g, (whole, name: string) => {
    const type = params.types.get(name);
    if (type === undefined) return whole;
    return literal(type, params.values[name]);
  });
}

/**
 * The query for a segment's members: `SELECT profile_id` of current (non-deleted) profiles matching
 * the rule. The rule is validated again (a `RuleValidationError` lists every problem).
 */
export function compileSegment(rule: Rule, options: CompileOptions): CompiledSegment {
  const valid = parseRule(rule);
  if (!isNamespace(options.namespace)) throw new Error(`compileSegment: ${JSON.stringify(options.namespace)} is not a Kubernetes namespace name`);
  const compiler = new Compiler(options.namespace, options.now ?? 'now64(3)');
  const condition = compiler.rule(valid);
  const sql = ['SELECT profile_id', 'FROM {db}.profiles FINAL', 'WHERE deleted = 0', `  AND ${indent(condition).trimStart()}`].join('\n');
  return { sql, params: { ...compiler.params.values }, display: inline(sql, compiler.params) };
}
