// Pipeline: the worker that consumes some Sources' topics, validates, enriches and resolves identity,
// and writes events and profiles to ClickHouse.
import type { V1ObjectMeta } from '@kubernetes/client-node';
import {
  PURPOSE_PATTERN,
  type API_VERSION,
  type CommonSpec,
  type CommonStatus,
  array,
  boolean,
  customResourceDefinition,
  dateTime,
  DURATION,
  int32,
  int64,
  map,
  nameRef,
  number,
  object,
  required,
  specSchema,
  statusSchema,
  string,
  enumOf,
} from './meta.ts';

export interface UrlTopicRule {
  /** Path glob: "*" one segment (or part of one), "**" any depth. */
  match: string;
  topic: string;
}

export interface PipelineEnrich {
  geoip?: boolean;
  userAgent?: boolean;
  anonymizeIp?: boolean;
  urlTopics?: UrlTopicRule[];
}

export interface IdentityKeySpec {
  name: string;
  /** Dotted path into the event; optional for the built-in keys. */
  path?: string;
  limit?: number;
}

export interface PipelineIdentity {
  /** Absent: the built-in keys userId, email, phone, deviceId, anonymousId. */
  keys?: IdentityKeySpec[];
  maxProfilesPerMerge?: number;
}

export interface PipelineBatch {
  maxEvents?: number;
  maxWaitMs?: number;
  profileIntervalMs?: number;
}

/** core/v1 ResourceRequirements (limits and requests only). */
export interface ResourceRequirements {
  limits?: Record<string, string | number>;
  requests?: Record<string, string | number>;
}

export interface PipelineSpec extends CommonSpec {
  sources: string[];
  replicas?: number;
  enrich?: PipelineEnrich;
  identity?: PipelineIdentity;
  batch?: PipelineBatch;
  resources?: ResourceRequirements;
  /** How long stored events are kept, by event time: a duration ("730d") or "forever". */
  retention?: string;
  consent?: PipelineConsent;
  models?: PipelineModels;
}

/** How the namespace's predictive models are trained (retrained daily by the models worker). */
export interface PipelineModels {
  personas?: PersonasModelSpec;
}

/** kmeans: a few personas covering everyone (k by silhouette); dbscan: dense groups, possibly niche, and the rest as noise. */
export const PERSONA_ALGORITHMS = ['kmeans', 'dbscan'] as const;
export type PersonaAlgorithm = (typeof PERSONA_ALGORITHMS)[number];

export interface PersonasModelSpec {
  algorithm?: PersonaAlgorithm;
  /** DBSCAN neighbourhood radius, in standardized feature units. */
  eps?: number;
  /** DBSCAN: profiles (itself included) within eps that make a profile the core of a group. */
  minPoints?: number;
}

/** The purposes people consent to (or not) in this Pipeline's events: recorded per person, enforced where data is used. */
export interface PipelineConsent {
  purposes: ConsentPurpose[];
}

export interface ConsentPurpose {
  /** As events name it in context.consent.categoryPreferences (e.g. analytics, marketing). */
  name: string;
  description?: string;
}


export interface PipelineStatus extends CommonStatus {
  replicas?: number;
  readyReplicas?: number;
  /** Events in the Sources' topics not yet processed. */
  consumerLag?: number;
  lagUpdatedAt?: string;
  /** ClickHouse schema migration applied. */
  schemaVersion?: number;
  /** Name of the worker Deployment. */
  deployment?: string;
  /** Re-enrichment of stored events after the enrichment rules changed. */
  backfill?: PipelineBackfill;
  /** The retention in force on the namespace's events table ("730d", "forever"). */
  retention?: string;
  /** Who the workers connect to ClickHouse as. */
  clickhouse?: PipelineClickHouse;
  /** In-cluster URL of the namespace's API gateway (Service uspa-api). */
  apiUrl?: string;
}

export interface PipelineClickHouse {
  user: string;
  isolation: 'NamespaceUser' | 'Shared';
}

export interface PipelineBackfill {
  /** Hash of the enrichment rules the history is being (or was) re-enriched with. */
  revision: string;
  workflowId: string;
  state: 'Running' | 'Completed' | 'Failed';
  processed?: number;
  total?: number;
}

export interface Pipeline {
  apiVersion: typeof API_VERSION;
  kind: 'Pipeline';
  metadata: V1ObjectMeta;
  spec: PipelineSpec;
  status?: PipelineStatus;
}

/** The identity keys a Pipeline may name without a path: their path and per-profile limit. */
export const BUILTIN_IDENTITY_KEYS = ['userId', 'email', 'phone', 'deviceId', 'anonymousId'] as const;

/** An identity key as the pipeline resolves it: where to read it and how many values a profile may hold. */
export interface IdentityKey {
  name: string;
  path: string;
  /** Most distinct values one profile may hold; undefined: unlimited. */
  limit?: number;
}

/** The built-in keys, highest priority first: the first identity of an event names its profile when it founds one. */
export const DEFAULT_IDENTITY_KEYS: readonly IdentityKey[] = [
  { name: 'userId', path: 'userId', limit: 1 },
  { name: 'email', path: 'traits.email', limit: 5 }, // also context.traits.email
  { name: 'phone', path: 'traits.phone', limit: 5 }, // also context.traits.phone
  { name: 'deviceId', path: 'context.device.id' },
  { name: 'anonymousId', path: 'anonymousId' },
];

/**
 * An identity value as the identity graph stores it. Matching is exact, so the same person must not
 * split on spelling: e-mail is case-insensitive in practice, and phone numbers arrive with
 * arbitrary punctuation. Whoever looks an identity up normalizes it the same way.
 */
export function normalizeIdentityValue(keyName: string, value: string): string {
  if (/email/i.test(keyName)) return value.toLowerCase();
  if (/phone/i.test(keyName)) return value.replace(/[\s().-]/g, '');
  return value;
}

/** Values the API server fills in when a field is omitted (the operator sees them set). */
export const PIPELINE_DEFAULTS = {
  replicas: 1,
  enrich: { geoip: true, userAgent: true, anonymizeIp: false },
  identity: { maxProfilesPerMerge: 10 },
  batch: { maxEvents: 5000, maxWaitMs: 1000, profileIntervalMs: 1000 },
  retention: '730d',
  models: { personas: { algorithm: 'kmeans', eps: 1, minPoints: 10 } },
} as const;

// The pattern controller-gen gives resource.Quantity.
const QUANTITY = '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';
const quantities = (description: string) =>
  map(description, { anyOf: [{ type: 'integer' }, { type: 'string' }], pattern: QUANTITY, 'x-kubernetes-int-or-string': true });

const pipelineSpec = specSchema<PipelineSpec>('Desired state of the Pipeline.', {
  sources: required(
    array('Names of the Sources (same namespace) whose events this Pipeline processes. Each event is processed by every Pipeline that lists its Source. 1 to 50 names, no repeats.', nameRef('Name of a Source.'), {
      minItems: 1,
      maxItems: 50,
      'x-kubernetes-list-type': 'set',
    }),
  ),
  replicas: int32(
    'Worker pods: 1 runs the Pipeline, 0 stops it (events wait in Kafka). At most one worker per Pipeline until identity resolution is shared between workers; scale out by splitting Sources across Pipelines.',
    { minimum: 0, maximum: 1, default: PIPELINE_DEFAULTS.replicas },
  ),
  enrich: object<PipelineEnrich>('Enrichment added to each event before it is stored.', {
    geoip: boolean('Add country, region and city from the client IP (geoip-lite database bundled with the worker).', { default: PIPELINE_DEFAULTS.enrich.geoip }),
    userAgent: boolean('Add device, OS and browser parsed from the user agent.', { default: PIPELINE_DEFAULTS.enrich.userAgent }),
    anonymizeIp: boolean('Store the IP anonymized — IPv4 with its last octet zeroed, IPv6 keeping only its first 48 bits. Geo lookup still uses the full address.', { default: PIPELINE_DEFAULTS.enrich.anonymizeIp }),
    urlTopics: array(
      'Page topics from the URL path: every rule whose match fits the path adds its topic to the event (page.topics), in rule order, without repeats. At most 200 rules.',
      object<UrlTopicRule>('One URL → topic rule.', {
        match: required(string('Path glob starting with "/": "*" matches one path segment or part of one (e.g. "/p-*"), "**" any depth including none, e.g. "/blog/**".', { pattern: '^/', maxLength: 1024 })),
        topic: required(string('Topic added to matching page views, e.g. "blog".', { minLength: 1, maxLength: 256 })),
      }),
      { maxItems: 200 },
    ),
  }),
  identity: object<PipelineIdentity>('Identity resolution: which event fields identify a person, and how far profiles may merge.', {
    keys: array(
      'Identity keys in priority order (the first is the strongest). Omit to use the built-in keys: userId (limit 1), email (5), phone (5), deviceId, anonymousId. 1 to 20 keys, unique by name.',
      object<IdentityKeySpec>(
        'One identity key.',
        {
          name: required(string('Name of the key, e.g. "email" or "customerNumber". The built-in names userId, email, phone, deviceId and anonymousId may omit path.', { minLength: 1, maxLength: 63, pattern: '^[A-Za-z][A-Za-z0-9_]*$' })),
          path: string('Dotted path of the value in the event, e.g. "traits.email" (also read from context.traits.email) or "context.device.id". Required unless name is a built-in key.', { minLength: 1, maxLength: 256, pattern: '^[A-Za-z0-9_$-]+(\\.[A-Za-z0-9_$-]+)*$' }),
          limit: int32('Most distinct values of this key one profile may hold: a merge that would exceed it is refused and recorded. Unlimited when omitted (the built-in keys keep their limits).', { minimum: 1 }),
        },
        {
          validations: [
            {
              rule: `has(self.path) || self.name in [${BUILTIN_IDENTITY_KEYS.map((k) => `'${k}'`).join(', ')}]`,
              message: `identity key path is required unless name is one of ${BUILTIN_IDENTITY_KEYS.join(', ')}`,
              fieldPath: '.path',
              reason: 'FieldValueRequired',
            },
            // The identity graph's own key for an alias's previousId not seen yet (workers/pipeline/identity.ts).
            { rule: "self.name != 'previousId'", message: 'identity key name previousId is reserved: it holds alias previousIds not seen yet', fieldPath: '.name', reason: 'FieldValueInvalid' },
          ],
        },
      ),
      { minItems: 1, maxItems: 20, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
    ),
    maxProfilesPerMerge: int32('Most profiles one identify or alias may merge into one; a larger merge is refused and recorded (it usually means a shared device or a bad key).', { minimum: 1, default: PIPELINE_DEFAULTS.identity.maxProfilesPerMerge }),
  }),
  batch: object<PipelineBatch>('How the worker batches writes to ClickHouse: a batch is written when it holds maxEvents or has waited maxWaitMs, whichever comes first. Kafka offsets are committed only after ClickHouse accepted the batch.', {
    maxEvents: int32('Most events per ClickHouse insert.', { minimum: 1, maximum: 100000, default: PIPELINE_DEFAULTS.batch.maxEvents }),
    maxWaitMs: int32('Longest an event waits in a batch before it is written, in milliseconds: the floor on end-to-end latency.', { minimum: 1, maximum: 60000, default: PIPELINE_DEFAULTS.batch.maxWaitMs }),
    profileIntervalMs: int32('How often changed profiles are rebuilt from events, in milliseconds (off the ingest path).', { minimum: 10, maximum: 3600000, default: PIPELINE_DEFAULTS.batch.profileIntervalMs }),
  }),
  retention: string(
    'How long stored events are kept, by event time (a ClickHouse TTL on the events table, applied to events already stored too): a duration such as "730d" (2 years, the default) or "90d" (units ms, s, m, h, d), or "forever". The Pipelines of a namespace share its events table, which keeps events as long as the longest retention among them (forever if one says forever); status.retention shows what is in force.',
    { maxLength: 32, pattern: `^forever$|${DURATION}`, default: PIPELINE_DEFAULTS.retention },
  ),
  consent: object<PipelineConsent>(
    'Consent per purpose. The purposes declared here are recorded for each person from the events (context.consent.categoryPreferences, Segment\'s consent spec, and consent traits): every change is kept in the consent_history table, the newest state is the profile\'s trait consent_<purpose>. A Source may require one for collection (spec.consent.purpose); Activations send only with theirs (spec.consent.category).',
    {
      purposes: required(
        array(
          'The purposes, e.g. analytics, marketing, personalization. Statements about other purposes are not recorded.',
          object<ConsentPurpose>('One purpose.', {
            name: required(string('As events name it in context.consent.categoryPreferences, e.g. marketing.', { minLength: 1, maxLength: 63, pattern: PURPOSE_PATTERN })),
            description: string('What it is for, as people are told (shown with their consent).', { maxLength: 256 }),
          }),
          { minItems: 1, maxItems: 32, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
        ),
      ),
    },
  ),
  models: object<PipelineModels>('How the namespace\'s predictive models are trained (the models worker retrains them daily).', {
    personas: object<PersonasModelSpec>(
      'The persona model, whose label every profile gets as its trait persona. Both algorithms cluster the same behaviour features (RFM scores, logged revenue, order and event counts, top-category shares), each standardized to mean 0 and standard deviation 1.',
      {
        algorithm: enumOf(
          'kmeans: a few personas that cover every profile, their number chosen by silhouette. dbscan: density-based groups, which finds niche groups K-Means folds into bigger personas and needs no number of personas; profiles in no dense group get the persona "noise".',
          PERSONA_ALGORITHMS,
          { default: PIPELINE_DEFAULTS.models.personas.algorithm },
        ),
        eps: number('dbscan only: the neighbourhood radius, in standardized feature units (1 = one standard deviation of a feature). Larger joins more profiles into fewer, broader groups.', {
          minimum: 0,
          exclusiveMinimum: true,
          maximum: 100,
          default: PIPELINE_DEFAULTS.models.personas.eps,
        }),
        minPoints: int32('dbscan only: how many profiles (itself included) within eps make a profile the core of a group: the smallest group worth a persona.', {
          minimum: 1,
          maximum: 100000,
          default: PIPELINE_DEFAULTS.models.personas.minPoints,
        }),
      },
    ),
  }),
  resources: object<ResourceRequirements>('CPU and memory of the worker container, as in a Pod\'s resources (e.g. requests: {cpu: 250m, memory: 512Mi}). Unset by default.', {
    limits: quantities('Most compute resources the worker may use, e.g. memory: 1Gi.'),
    requests: quantities('Compute resources reserved for the worker, e.g. cpu: 250m.'),
  }),
});

const pipelineStatus = statusSchema<PipelineStatus>('Observed state of the Pipeline, written by the operator.', {
  replicas: int32('Worker pods that exist.', { minimum: 0 }),
  readyReplicas: int32('Worker pods that are ready.', { minimum: 0 }),
  consumerLag: int64('Events in the Sources\' topics not yet processed, summed over partitions, as of lagUpdatedAt.', { minimum: 0 }),
  lagUpdatedAt: dateTime('When consumerLag was measured.'),
  schemaVersion: int32('Version of the ClickHouse schema migrations applied for this Pipeline.', { minimum: 0 }),
  deployment: string('Name of the worker Deployment (same namespace).'),
  backfill: object<PipelineBackfill>('Re-enrichment of the events already stored, started when spec.enrich changes (a Temporal workflow; resumable after a crash).', {
    revision: required(string('Hash of the enrichment rules the history is re-enriched with.')),
    workflowId: required(string('Id of the Temporal workflow doing it.')),
    state: required(enumOf('Running, Completed or Failed.', ['Running', 'Completed', 'Failed'])),
    processed: int64('Events re-enriched so far.', { minimum: 0 }),
    total: int64('Events to re-enrich, as counted when the backfill started.', { minimum: 0 }),
  }),
  retention: string('Retention in force on the namespace\'s events table ("730d", "forever"): the longest spec.retention of the namespace\'s Pipelines.'),
  apiUrl: string('In-cluster URL of the namespace\'s API gateway (Service uspa-api), which runs while the namespace has a Pipeline; clients authenticate with an ApiKey.'),
  clickhouse: object<PipelineClickHouse>('Who the namespace\'s workers connect to ClickHouse as.', {
    user: required(string('The ClickHouse user.')),
    isolation: required(
      enumOf(
        'NamespaceUser: a user of the namespace\'s own that can reach only its database (password in Secret uspa-clickhouse; deleting it rotates the password). Shared: the operator\'s own credentials, because the installation says its ClickHouse cannot enforce users (Helm clickhouse.namespaceUsers: false, as in the local stack); every namespace can then read every other\'s database.',
        ['NamespaceUser', 'Shared'],
      ),
    ),
  }),
});

export const pipelineCrd = customResourceDefinition({
  kind: 'Pipeline',
  plural: 'pipelines',
  singular: 'pipeline',
  shortNames: ['pl'],
  description:
    'A Pipeline processes the events of some Sources into ClickHouse: a worker consumes their Kafka topics, validates, enriches (geo, user agent, URL topics), resolves identity into one profile per person, and writes events and profiles in batches.',
  spec: pipelineSpec,
  status: pipelineStatus,
  printerColumns: [
    { name: 'Sources', type: 'string', jsonPath: '.spec.sources', description: 'Sources processed.' },
    { name: 'Ready-Replicas', type: 'integer', jsonPath: '.status.readyReplicas', description: 'Worker pods ready.' },
    { name: 'Lag', type: 'integer', jsonPath: '.status.consumerLag', description: 'Events not yet processed.' },
    { name: 'Retention', type: 'string', jsonPath: '.status.retention', description: 'How long stored events are kept (the events table\'s TTL).' },
    { name: 'Schema', type: 'integer', jsonPath: '.status.schemaVersion', description: 'ClickHouse schema version applied.', priority: 1 },
  ],
});
