// Source: one application (website, backend, mobile app, third-party webhook, batch import) whose
// events the collector accepts with a write key and writes to the Source's own Kafka topic.
import type { V1ObjectMeta } from '@kubernetes/client-node';
import {
  type API_VERSION,
  type CommonSpec,
  type CommonStatus,
  type SecretKeyRef,
  PURPOSE_PATTERN,
  customResourceDefinition,
  enumOf,
  freeformObject,
  int32,
  map,
  number,
  object,
  required,
  secretKeyRef,
  specSchema,
  statusSchema,
  string,
  boolean,
} from './meta.ts';

export const SOURCE_TYPES = ['web', 'server', 'mobile', 'webhook', 'batch'] as const;
export type SourceType = (typeof SOURCE_TYPES)[number];
export const PLAN_MODES = ['dlq', 'reject', 'allow'] as const;
export type PlanMode = (typeof PLAN_MODES)[number];
export const TIME_FORMATS = ['iso', 'unix', 'unix_ms'] as const;
export const WEBHOOK_EVENT_TYPES = ['track', 'identify'] as const;

/** Where one field of the canonical event comes from in a webhook payload: a path or a constant. */
export interface FieldMapping {
  /** Dotted path into the webhook payload, e.g. "data.object.customer". */
  path?: string;
  /** A constant instead of a path. */
  value?: string;
  /** How to read a time: ISO 8601 (default), unix seconds or unix milliseconds. */
  format?: (typeof TIME_FORMATS)[number];
}

export interface WebhookMapping {
  type: (typeof WEBHOOK_EVENT_TYPES)[number];
  event?: FieldMapping;
  userId?: FieldMapping;
  anonymousId?: FieldMapping;
  messageId?: FieldMapping;
  timestamp?: FieldMapping;
  properties?: Record<string, FieldMapping>;
  traits?: Record<string, FieldMapping>;
}

export interface SourceTopic {
  /** Default 3; can only grow. */
  partitions?: number;
  /** Default 168 (7 days). */
  retentionHours?: number;
  /** Default 1. */
  replicationFactor?: number;
}

export interface SourceDeadLetter {
  /** Default 336 (14 days). */
  retentionHours?: number;
}

export interface TrackingPlan {
  mode: PlanMode;
  unplanned?: PlanMode;
  /** Event name → JSON Schema of its properties. */
  events?: Record<string, Record<string, unknown>>;
}

export interface RateLimit {
  eventsPerSecond: number;
  burst?: number;
}

export interface SourceConsent {
  required: boolean;
  /** Collect only events that grant this purpose (declared by the Pipeline reading the Source). */
  purpose?: string;
  /** What happens to an event without the purpose: dropped (default) or kept anonymized. */
  withoutConsent?: WithoutConsent;
}

export const WITHOUT_CONSENT = ['drop', 'anonymize'] as const;
export type WithoutConsent = (typeof WITHOUT_CONSENT)[number];

export interface SourceSpec extends CommonSpec {
  type: SourceType;
  /** Absent: the operator generates a Secret named `<source>-write-key`. */
  writeKeySecretRef?: SecretKeyRef;
  topic?: SourceTopic;
  deadLetter?: SourceDeadLetter;
  trackingPlan?: TrackingPlan;
  rateLimit?: RateLimit;
  consent?: SourceConsent;
  /** Required when type is webhook, forbidden otherwise. */
  webhook?: WebhookMapping;
}

export interface SourceStatus extends CommonStatus {
  /** Kafka topic the Source's events are written to. */
  topic?: string;
  deadLetterTopic?: string;
  /** Partitions the topic has in Kafka. */
  partitions?: number;
  /** Name of the Secret holding the write key (never the key itself). */
  writeKeySecret?: string;
  /** Collector URL path that accepts this Source's events. */
  endpoint?: string;
}

export interface Source {
  apiVersion: typeof API_VERSION;
  kind: 'Source';
  metadata: V1ObjectMeta;
  spec: SourceSpec;
  status?: SourceStatus;
}

/** Values the API server fills in when a field is omitted (the operator sees them set). */
export const SOURCE_DEFAULTS = {
  writeKeySecretKey: 'writeKey',
  topic: { partitions: 3, retentionHours: 168, replicationFactor: 1 },
  deadLetter: { retentionHours: 336 },
} as const;

const fieldMapping = object<FieldMapping>(
  'Where one field of the event comes from in the webhook payload: set exactly one of path or value.',
  {
    path: string('Dotted path into the JSON payload, e.g. "data.object.customer" or "items.0.sku".', { minLength: 1, maxLength: 512 }),
    value: string('A constant used for every payload, e.g. "Payment Succeeded".', { maxLength: 1024 }),
    format: enumOf('How to read a time (timestamp only): iso (ISO 8601, the default), unix (seconds) or unix_ms (milliseconds).', TIME_FORMATS),
  },
  { validations: [{ rule: 'has(self.path) != has(self.value)', message: 'set exactly one of path or value' }] },
);

const fieldMappings = (what: string) =>
  map(`${what} of the event, by name, each read from the payload or set to a constant. At most 100.`, fieldMapping, { maxProperties: 100 });

const webhook = object<WebhookMapping>(
  'How a third-party payload POSTed to the collector\'s /v1/webhook/<source> becomes an event. Required when type is webhook, not allowed otherwise.',
  {
    type: required(enumOf('Kind of event each payload becomes: track (an action; event is then required) or identify (who someone is; traits).', WEBHOOK_EVENT_TYPES)),
    event: { ...fieldMapping, description: 'Event name, e.g. {path: "type"} or {value: "Payment Succeeded"}. Required for track.' },
    userId: { ...fieldMapping, description: 'Your id of the person, e.g. {path: "data.object.metadata.user_id"}. userId or anonymousId must resolve for every payload.' },
    anonymousId: { ...fieldMapping, description: 'Anonymous id of the person when there is no userId.' },
    messageId: { ...fieldMapping, description: 'Unique id of the payload; the pipeline drops repeats of a messageId, so map the provider\'s event id to make retried deliveries idempotent. Generated when absent.' },
    timestamp: { ...fieldMapping, description: 'When the event happened; set format for unix times. The receive time when absent.' },
    properties: fieldMappings('Properties (track)'),
    traits: fieldMappings('Traits (identify)'),
  },
  { validations: [{ rule: "self.type != 'track' || has(self.event)", message: 'webhook.event is required when webhook.type is track', fieldPath: '.event', reason: 'FieldValueRequired' }] },
);

const sourceSpec = specSchema<SourceSpec>(
  'Desired state of the Source.',
  {
    type: required(enumOf('What sends the events: web (browser, /uspa.js snippet or analytics.js), server (backend SDKs), mobile (app SDKs), webhook (a third-party service POSTing its own payloads, mapped by spec.webhook) or batch (file imports).', SOURCE_TYPES)),
    writeKeySecretRef: secretKeyRef(
      'Secret holding the write key clients authenticate with (HTTP Basic username). Omit it and the operator generates a random key in a Secret named <source>-write-key. The key is never copied into status.',
      SOURCE_DEFAULTS.writeKeySecretKey,
    ),
    topic: object<SourceTopic>(
      'The Kafka topic the collector writes this Source\'s events to. Filled with its defaults when omitted, so the partition count is recorded and can only grow.',
      {
        partitions: int32('Partitions of the topic: the upper bound on a Pipeline\'s parallelism for this Source. Can be raised, never lowered (Kafka cannot remove partitions).', { minimum: 1, maximum: 1000, default: SOURCE_DEFAULTS.topic.partitions }),
        retentionHours: int32('How long Kafka keeps events, in hours (168 = 7 days, 87600 = 10 years): the window in which a Pipeline can be rewound to re-process them.', { minimum: 1, maximum: 87600, default: SOURCE_DEFAULTS.topic.retentionHours }),
        replicationFactor: int32('Copies of each partition in the Kafka cluster; must not exceed the number of brokers. Use 3 in production.', { minimum: 1, maximum: 5, default: SOURCE_DEFAULTS.topic.replicationFactor }),
      },
      {
        default: {},
        validations: [
          {
            rule: '!has(oldSelf.partitions) || (has(self.partitions) && self.partitions >= oldSelf.partitions)',
            message: 'topic.partitions cannot be decreased (Kafka cannot remove partitions)',
            fieldPath: '.partitions',
          },
        ],
      },
    ),
    deadLetter: object<SourceDeadLetter>('The dead-letter topic of this Source: events refused by the tracking plan (mode dlq) or failing in a Pipeline, with the reason.', {
      retentionHours: int32('How long dead letters are kept in Kafka, in hours (336 = 14 days).', { minimum: 1, maximum: 87600, default: SOURCE_DEFAULTS.deadLetter.retentionHours }),
    }),
    trackingPlan: object<TrackingPlan>('The events this Source is expected to send, each with a JSON Schema for its properties, and what happens to events that do not fit. Applies to track events.', {
      mode: required(enumOf('What happens to an event in the plan whose properties fail its schema: dlq (accepted, routed to the dead-letter topic with the errors), reject (HTTP 400 naming the field) or allow (accepted as is).', PLAN_MODES)),
      unplanned: enumOf('What happens to an event whose name is not in the plan: dlq, reject or allow (the default).', PLAN_MODES),
      events: map(
        'Event name → JSON Schema (draft-07, with ajv-formats formats such as email and date-time) of the event\'s properties, e.g. "Order Completed": {type: object, required: [orderId], properties: {orderId: {type: string}}}. At most 500 events.',
        freeformObject('JSON Schema of the event\'s properties.'),
        { maxProperties: 500 },
      ),
    }),
    rateLimit: object<RateLimit>(
      'Cap on events per second the collector accepts for this Source (token bucket); over it, clients get HTTP 429 with Retry-After. No limit when omitted.',
      {
        eventsPerSecond: required(number('Sustained events per second (refill rate of the bucket).', { minimum: 0, exclusiveMinimum: true })),
        burst: number('Bucket size: events accepted at once after a quiet period; at least eventsPerSecond, which is also its default.', { minimum: 1 }),
      },
      { validations: [{ rule: '!has(self.burst) || self.burst >= self.eventsPerSecond', message: 'rateLimit.burst must be at least eventsPerSecond', fieldPath: '.burst' }] },
    ),
    consent: object<SourceConsent>('Consent handling for this Source.', {
      required: required(boolean('When true, the /uspa.js snippet sends and stores nothing (no events, no anonymous id, no cookie) until the visitor has consented.')),
      purpose: string(
        'Collect only events that grant this purpose in context.consent.categoryPreferences (or consent traits sent with them); the others are answered 200 so clients do not retry, not stored, and counted (uspa_collector_events_without_consent_total). Silence is no consent. A purpose the Pipelines reading the Source declare (spec.consent.purposes).',
        { minLength: 1, maxLength: 63, pattern: PURPOSE_PATTERN },
      ),
      withoutConsent: enumOf(
        'With purpose: what happens to an event that does not grant it. drop (the default): not stored. anonymize: stored without the person — userId, anonymousId, previousId, traits, context.traits and the IP removed — so it counts in analytics (event, properties, page, device) but joins no profile.',
        WITHOUT_CONSENT,
      ),
    }, { validations: [{ rule: '!has(self.withoutConsent) || has(self.purpose)', message: 'consent.withoutConsent needs consent.purpose: the purpose events must grant', fieldPath: '.withoutConsent' }] }),
    webhook,
  },
  {
    validations: [
      { rule: "self.type != 'webhook' || has(self.webhook)", message: 'spec.webhook is required when type is webhook', fieldPath: '.webhook', reason: 'FieldValueRequired' },
      { rule: "!has(self.webhook) || self.type == 'webhook'", message: 'spec.webhook is only allowed when type is webhook', fieldPath: '.webhook', reason: 'FieldValueForbidden' },
    ],
  },
);

const sourceStatus = statusSchema<SourceStatus>('Observed state of the Source, written by the operator.', {
  topic: string('Kafka topic the collector writes this Source\'s events to, e.g. uspa.events.web.'),
  deadLetterTopic: string('Kafka topic receiving this Source\'s dead letters.'),
  partitions: int32('Partitions the topic has in Kafka.', { minimum: 0 }),
  writeKeySecret: string('Name of the Secret (same namespace) holding the write key. The key itself never appears in status.'),
  endpoint: string('Collector URL path accepting this Source\'s events, e.g. /v1/batch or /v1/webhook/<source>.'),
});

export const sourceCrd = customResourceDefinition({
  kind: 'Source',
  plural: 'sources',
  singular: 'source',
  shortNames: ['src'],
  description:
    'A Source is one application — website, backend, mobile app, third-party webhook or batch import — whose events the collector accepts (Segment tracking API, authenticated with the Source\'s write key) and writes to the Source\'s own Kafka topic. Pipelines read Sources.',
  spec: sourceSpec,
  status: sourceStatus,
  printerColumns: [
    { name: 'Type', type: 'string', jsonPath: '.spec.type', description: 'What sends the events.' },
    { name: 'Topic', type: 'string', jsonPath: '.status.topic', description: 'Kafka topic of the events.' },
    { name: 'Partitions', type: 'integer', jsonPath: '.status.partitions', description: 'Partitions of the topic in Kafka.' },
    { name: 'Write-Key-Secret', type: 'string', jsonPath: '.status.writeKeySecret', description: 'Secret holding the write key.', priority: 1 },
    { name: 'Dead-Letter-Topic', type: 'string', jsonPath: '.status.deadLetterTopic', description: 'Kafka topic of the dead letters.', priority: 1 },
  ],
});
