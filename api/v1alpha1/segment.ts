// Segment: an audience — the profiles matching a rule over traits, profile columns, events and other
// Segments — computed in ClickHouse on a schedule (batch) or as events arrive (realtime).
import type { V1ObjectMeta } from '@kubernetes/client-node';
import {
  type API_VERSION,
  type CommonSpec,
  type CommonStatus,
  array,
  cron,
  customResourceDefinition,
  dateTime,
  duration,
  enumOf,
  freeformObject,
  int64,
  nameRef,
  object,
  required,
  specSchema,
  statusSchema,
  string,
} from './meta.ts';

export const SEGMENT_MODES = ['batch', 'realtime'] as const;
export type SegmentMode = (typeof SEGMENT_MODES)[number];

export interface SegmentRefresh {
  /** The operator uses 1h when neither interval nor cron is set. */
  interval?: string;
  cron?: string;
}

export interface SegmentSpec extends CommonSpec {
  description?: string;
  /** Untyped as the API server stores it; lib/segments/rules.ts validates and parses it. */
  rule: Record<string, unknown>;
  mode?: SegmentMode;
  refresh?: SegmentRefresh;
}

export interface SegmentStatus extends CommonStatus {
  size?: number;
  lastComputedAt?: string;
  version?: number;
  compiledQuery?: string;
  /** Temporal schedule id. */
  schedule?: string;
  /** Segments this rule references, directly. */
  dependsOn?: string[];
}

export interface Segment {
  apiVersion: typeof API_VERSION;
  kind: 'Segment';
  metadata: V1ObjectMeta;
  spec: SegmentSpec;
  status?: SegmentStatus;
}

/** Defaults: `mode` is filled in by the API server; `refreshInterval` by the operator (see refresh). */
export const SEGMENT_DEFAULTS = { mode: 'batch', refreshInterval: '1h' } as const;

const RULE_GRAMMAR = [
  'Who is in the Segment, as a rule tree checked by the operator (errors are reported on the Ready condition with the rule path, e.g. rule.all[1].op). A rule is one of:',
  '{all: [rule, ...]} (every rule), {any: [rule, ...]} (at least one), {not: rule};',
  '{trait: "plan", op: "eq", value: "pro"} (a profile trait, dotted path);',
  '{profile: "lifetime_revenue", op: "gte", value: 100} (a built-in profile column);',
  '{event: "Order Completed", atLeast: 1, atMost: 5, within: "30d", where: [{property: "category", op: "eq", value: "shoes"}], aggregate: {fn: "sum", property: "revenue", op: "gt", value: 100}}',
  '(performed events; performed: false for "did not");',
  '{segment: "other"} (members of another Segment in this namespace; cycles are refused);',
  '{interest: "shoes", op: "gte", value: 0.6} (the recency-weighted share of the profile\'s interactions about a category word, tag or page topic, 0 to 1; ops gt, gte, lt, lte, between, exists).',
  'op is one of eq, neq, gt, gte, lt, lte, in, contains, exists, between.',
].join(' ');

const segmentSpec = specSchema<SegmentSpec>('Desired state of the Segment.', {
  description: string('What this audience is for, for the people reading it. Not used by the operator.', { maxLength: 1024 }),
  rule: required(freeformObject(RULE_GRAMMAR)),
  mode: enumOf(
    'How membership is computed: batch (recomputed in ClickHouse on the refresh schedule) or realtime (updated as events arrive).',
    SEGMENT_MODES,
    { default: SEGMENT_DEFAULTS.mode },
  ),
  refresh: object<SegmentRefresh>(
    'When the Segment is recomputed in full: set interval or cron, not both. Every hour when omitted.',
    {
      interval: duration('Time between recomputations, e.g. "15m"; "1h" when neither interval nor cron is set.'),
      cron: cron('Recompute on this cron schedule instead of an interval.'),
    },
    { validations: [{ rule: '!(has(self.interval) && has(self.cron))', message: 'set either refresh.interval or refresh.cron, not both' }] },
  ),
});

const segmentStatus = statusSchema<SegmentStatus>('Observed state of the Segment, written by the operator.', {
  size: int64('Profiles in the Segment at lastComputedAt.', { minimum: 0 }),
  lastComputedAt: dateTime('When membership was last computed.'),
  version: int64('Computation counter; membership rows in ClickHouse carry it, and {segment: ...} rules read the latest.', { minimum: 0 }),
  compiledQuery: string('The ClickHouse SQL the rule compiled to, for debugging.'),
  schedule: string('Id of the Temporal schedule that recomputes the Segment.'),
  dependsOn: array('Segments this rule references directly, by name (same namespace).', nameRef('Name of a Segment.'), { maxItems: 256, 'x-kubernetes-list-type': 'set' }),
});

export const segmentCrd = customResourceDefinition({
  kind: 'Segment',
  plural: 'segments',
  singular: 'segment',
  shortNames: ['seg'],
  description:
    'A Segment is an audience: the profiles matching a rule over traits, profile columns, events and other Segments, computed in ClickHouse on a schedule (batch) or as events arrive (realtime). Activations send to Segments.',
  spec: segmentSpec,
  status: segmentStatus,
  printerColumns: [
    { name: 'Mode', type: 'string', jsonPath: '.spec.mode', description: 'batch or realtime.' },
    { name: 'Size', type: 'integer', jsonPath: '.status.size', description: 'Profiles in the Segment.' },
    { name: 'Last-Computed', type: 'date', jsonPath: '.status.lastComputedAt', description: 'When membership was last computed.' },
    { name: 'Schedule', type: 'string', jsonPath: '.status.schedule', description: 'Temporal schedule id.', priority: 1 },
  ],
});
