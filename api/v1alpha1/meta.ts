// The pieces every USPA custom resource shares: the API group, the OpenAPI v3 schema builders the
// kinds are written with, conditions, references and the CRD envelope.
//
// Schemas are written in the wire form the API server reads (`default`, `enum`,
// `x-kubernetes-validations`), not in @kubernetes/client-node's model form (`_default`, `_enum`,
// `x_kubernetes_validations`), so crds/*.yaml is a plain dump of these objects.
//
// The builders tie each schema to its TypeScript interface: `object<T>()` requires exactly the keys
// of T, a schema type that matches each field's TypeScript type, and `required()` around exactly the
// fields T does not mark optional. A field added to an interface but not to its schema (or the other
// way round), or given another type or optionality, does not type-check. Enum values are `as const`
// arrays from which the TypeScript unions are derived.

export const GROUP = 'uspa.tech';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}` as const;
/** The category `kubectl get uspa` lists. */
export const CATEGORY = 'uspa';

// ---------------------------------------------------------------------------------------------------
// Wire types (apiextensions.k8s.io/v1)

export type SchemaType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';

/** One `x-kubernetes-validations` entry: a CEL rule evaluated by the API server. */
export interface ValidationRule {
  rule: string;
  message: string;
  /** Relative JSON path (e.g. `.webhook`) of the field the error is reported on. */
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

export interface JSONSchemaProps {
  type?: SchemaType;
  description?: string;
  format?: string;
  default?: unknown;
  enum?: readonly (string | number | boolean)[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  items?: JSONSchemaProps;
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps;
  required?: string[];
  anyOf?: JSONSchemaProps[];
  'x-kubernetes-preserve-unknown-fields'?: true;
  'x-kubernetes-int-or-string'?: true;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'granular' | 'atomic';
  'x-kubernetes-validations'?: ValidationRule[];
}

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description: string;
  /** 0: shown by `kubectl get`; 1: only with `-o wide`. */
  priority?: 0 | 1;
  format?: string;
}

/**
 * A CustomResourceDefinition in its JSON/YAML form: the same shape as client-node's
 * V1CustomResourceDefinition once serialized. (To hand it to ApiextensionsV1Api, convert it with
 * `ObjectSerializer.deserialize(crd, 'V1CustomResourceDefinition')`; kubectl and server-side apply
 * of the YAML take it as is.)
 */
export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string };
  spec: {
    group: string;
    scope: 'Namespaced';
    names: { kind: string; listKind: string; plural: string; singular: string; shortNames: string[]; categories: string[] };
    versions: Array<{
      name: string;
      served: boolean;
      storage: boolean;
      schema: { openAPIV3Schema: JSONSchemaProps };
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
    }>;
  };
}

// ---------------------------------------------------------------------------------------------------
// Schema builders

/** A schema whose `type` is known, so `object<T>()` can check it against T's field types. */
export type Schema<K extends SchemaType> = JSONSchemaProps & { type: K };
/** Marks a property as required (listed in its object's `required`). */
export interface RequiredField<S extends JSONSchemaProps = JSONSchemaProps> {
  readonly required: true;
  readonly schema: S;
}

type SchemaFor<V> = unknown extends V
  ? JSONSchemaProps // unknown: any JSON value
  : [V] extends [string]
    ? Schema<'string'>
    : [V] extends [number]
      ? Schema<'integer' | 'number'>
      : [V] extends [boolean]
        ? Schema<'boolean'>
        : [V] extends [readonly unknown[]]
          ? Schema<'array'>
          : [V] extends [object]
            ? Schema<'object'>
            : JSONSchemaProps;
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
type IsOptional<T, K extends keyof T> = {} extends Pick<T, K> ? true : false;
/** The property schemas of an object schema for T: every key of T, required exactly where T requires it. */
export type Fields<T> = {
  [K in keyof T]-?: IsOptional<T, K> extends true ? SchemaFor<Exclude<T[K], undefined>> : RequiredField<SchemaFor<T[K]>>;
};

type Options = Omit<JSONSchemaProps, 'type' | 'description' | 'properties' | 'required' | 'items' | 'additionalProperties'>;
type Validations = { validations?: ValidationRule[] };

export function required<S extends JSONSchemaProps>(schema: S): RequiredField<S> {
  return { required: true, schema };
}

function withValidations<S extends JSONSchemaProps>(schema: S, validations: ValidationRule[] | undefined): S {
  return validations?.length ? { ...schema, 'x-kubernetes-validations': validations } : schema;
}

export function object<T>(description: string, fields: Fields<T>, options: Options & Validations = {}): Schema<'object'> {
  const { validations, ...rest } = options;
  const properties: Record<string, JSONSchemaProps> = {};
  const requiredKeys: string[] = [];
  for (const [key, field] of Object.entries(fields) as Array<[string, JSONSchemaProps | RequiredField]>) {
    if (isRequiredField(field)) {
      requiredKeys.push(key);
      properties[key] = field.schema;
    } else {
      properties[key] = field;
    }
  }
  const schema: Schema<'object'> = { description, type: 'object', ...rest, properties };
  if (requiredKeys.length) schema.required = requiredKeys;
  return withValidations(schema, validations);
}

function isRequiredField(field: JSONSchemaProps | RequiredField): field is RequiredField {
  return (field as RequiredField).required === true && 'schema' in field;
}

/**
 * `kubectl explain` shows a field's description and enum values, but not its default or bounds:
 * append them, so that what the API server enforces is what the reader sees.
 */
function explained(description: string, options: Options): string {
  const facts: string[] = [];
  if (options.exclusiveMinimum && options.minimum !== undefined) facts.push(`greater than ${options.minimum}`);
  else if (options.minimum !== undefined && options.minimum !== 0) facts.push(`minimum ${options.minimum}`);
  if (options.maximum !== undefined) facts.push(`maximum ${options.maximum}`);
  if (options.default !== undefined) facts.push(`default ${typeof options.default === 'string' ? JSON.stringify(options.default) : String(options.default)}`);
  if (!facts.length) return description;
  const text = facts.join(', ');
  return `${description} ${text[0]!.toUpperCase()}${text.slice(1)}.`;
}

export function string(description: string, options: Options & Validations = {}): Schema<'string'> {
  const { validations, ...rest } = options;
  return withValidations({ description: explained(description, rest), type: 'string', ...rest }, validations);
}

/** A string restricted to `values`; declare the TypeScript union from the same array. */
export function enumOf(description: string, values: readonly string[], options: Options = {}): Schema<'string'> {
  return { description: explained(description, options), type: 'string', enum: [...values], ...options };
}

export function int32(description: string, options: Options = {}): Schema<'integer'> {
  return { description: explained(description, options), type: 'integer', format: 'int32', ...options };
}

export function int64(description: string, options: Options = {}): Schema<'integer'> {
  return { description: explained(description, options), type: 'integer', format: 'int64', ...options };
}

export function number(description: string, options: Options = {}): Schema<'number'> {
  return { description: explained(description, options), type: 'number', ...options };
}

export function boolean(description: string, options: Options = {}): Schema<'boolean'> {
  return { description: explained(description, options), type: 'boolean', ...options };
}

export function dateTime(description: string): Schema<'string'> {
  return { description, type: 'string', format: 'date-time' };
}

export function array(description: string, items: JSONSchemaProps, options: Options & Validations = {}): Schema<'array'> {
  const { validations, ...rest } = options;
  return withValidations({ description, type: 'array', ...rest, items }, validations);
}

/** A JSON object with arbitrary keys, each value described by `values`. */
export function map(description: string, values: JSONSchemaProps, options: Options = {}): Schema<'object'> {
  return { description, type: 'object', ...options, additionalProperties: values };
}

/** A JSON object whose content the API server keeps as is; the operator validates it. */
export function freeformObject(description: string, options: Options = {}): Schema<'object'> {
  return { description, type: 'object', ...options, 'x-kubernetes-preserve-unknown-fields': true };
}

/** Any JSON value: string, number, boolean, list or object. */
export function anyValue(description: string): JSONSchemaProps {
  return { description, 'x-kubernetes-preserve-unknown-fields': true };
}

// ---------------------------------------------------------------------------------------------------
// Shared field schemas

export const DNS1123_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

/** A consent purpose's name: how Segment's consent spec and our traits (consent_<purpose>) name it. */
export const PURPOSE_PATTERN = '^[A-Za-z][A-Za-z0-9_-]{0,62}$';
export const DNS1123_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
export const DURATION = '^([0-9]+(ms|s|m|h|d))+$';

/** The name of another USPA resource in the same namespace: a DNS-1123 label. */
export function nameRef(description: string): Schema<'string'> {
  return string(description, { minLength: 1, maxLength: 63, pattern: DNS1123_LABEL });
}

/** A duration such as "30s", "15m", "1h30m" or "7d" (units ms, s, m, h, d). */
export function duration(description: string, options: Options = {}): Schema<'string'> {
  return string(`${description} A duration such as "30m", "1h30m" or "7d" (units: ms, s, m, h, d).`, { maxLength: 32, pattern: DURATION, ...options });
}

/** A cron expression: five fields, or a @-descriptor, optionally preceded by CRON_TZ=<zone>. */
export function cron(description: string): Schema<'string'> {
  return string(
    `${description} Five fields (minute hour day-of-month month day-of-week, e.g. "0 9 * * 1-5") or a descriptor (@hourly, @daily, @weekly, @monthly, @yearly), optionally preceded by "CRON_TZ=<IANA zone> "; evaluated in UTC otherwise.`,
    { maxLength: 128, pattern: '^(CRON_TZ=[^ ]+ +)?(@(yearly|annually|monthly|weekly|daily|hourly)|([^ ]+ +){4}[^ ]+)$' },
  );
}

/** A key of a Secret in the resource's namespace. */
export interface SecretKeyRef {
  /** Name of the Secret. */
  name: string;
  /** Key within the Secret's data. */
  key?: string;
}

/** Schema of a SecretKeyRef whose `key` defaults to `defaultKey`. */
export function secretKeyRef(description: string, defaultKey: string): Schema<'object'> {
  return object<SecretKeyRef>(description, {
    name: required(string('Name of the Secret, in the same namespace as this resource.', { minLength: 1, maxLength: 253, pattern: DNS1123_SUBDOMAIN })),
    key: string("Key within the Secret's data.", { minLength: 1, maxLength: 253, pattern: '^[-._a-zA-Z0-9]+$', default: defaultKey }),
  });
}

// ---------------------------------------------------------------------------------------------------
// Conditions and the fields every kind shares

export type ConditionStatus = 'True' | 'False' | 'Unknown';
/** Ready: doing its job. Progressing: converging on a new spec. Degraded: running, but something is wrong. */
export type ConditionType = 'Ready' | 'Progressing' | 'Degraded';

/** The shape of metav1.Condition. */
export interface Condition {
  /** Ready, Progressing or Degraded. */
  type: string;
  status: ConditionStatus;
  /** CamelCase machine-readable cause, e.g. "TopicCreated", "KafkaUnavailable". */
  reason: string;
  /** Human-readable details; may be empty. */
  message: string;
  /** RFC 3339 time the status last changed. */
  lastTransitionTime: string;
  /** metadata.generation the condition was computed from. */
  observedGeneration?: number;
}

export const conditionSchema = object<Condition>('One aspect of the resource\'s state, in the form of metav1.Condition.', {
  type: required(string('Condition type: Ready (the resource does its job), Progressing (the operator is converging on a new spec) or Degraded (running, but something is wrong).', { minLength: 1, maxLength: 316, pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$' })),
  status: required(enumOf('Status of the condition: True, False or Unknown.', ['True', 'False', 'Unknown'])),
  reason: required(string('CamelCase machine-readable cause of the last transition, e.g. TopicCreated or KafkaUnavailable.', { minLength: 1, maxLength: 1024, pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$' })),
  message: required(string('Human-readable details of the last transition; may be empty.', { maxLength: 32768 })),
  lastTransitionTime: required(dateTime('Time the condition last changed from one status to another.')),
  observedGeneration: int64('metadata.generation the condition was computed from; older than metadata.generation means the condition is stale.', { minimum: 0 }),
});

export const conditionsSchema = array(
  'Current state of the resource: Ready, Progressing and Degraded, one entry per type. `kubectl wait --for=condition=Ready` reads these.',
  conditionSchema,
  { maxItems: 16, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] },
);

/** Fields every spec has. */
export interface CommonSpec {
  /** Stop reconciling and pause the resource's work; it is kept, nothing is deleted. */
  suspend?: boolean;
}

/** Live: the worker carries out the generation it names. Stalled: it runs but cannot make progress. */
export const WORKER_STATES = ['Live', 'Stalled'] as const;
export type WorkerState = (typeof WORKER_STATES)[number];

/**
 * What one worker reports about the resource, written by that worker (server-side apply under its
 * own field manager, one list entry per component) and folded by the operator into Ready and
 * Degraded — as a Deployment's rollout is reported by its controller, not assumed.
 */
export interface WorkerReport {
  /** The reporting worker, e.g. activations, pipeline, collector. */
  component: string;
  /** metadata.generation the worker has loaded and carries out. */
  generation: number;
  state: WorkerState;
  /** CamelCase cause when Stalled, e.g. ClickHouseError. */
  reason?: string;
  /** Human-readable details (the failing cause when Stalled). */
  message?: string;
  /** RFC 3339 time the state last changed. */
  since: string;
}

export const workerReportSchema = object<WorkerReport>('What one worker has loaded and whether it makes progress, written by that worker.', {
  component: required(string('The reporting worker, e.g. activations, pipeline or collector.', { minLength: 1, maxLength: 63, pattern: DNS1123_LABEL })),
  generation: required(int64('metadata.generation the worker has loaded; the resource is Ready only once this reaches metadata.generation.', { minimum: 0 })),
  state: required(enumOf('Live: the worker carries out this generation. Stalled: it runs but cannot make progress (see reason and message).', WORKER_STATES)),
  reason: string('CamelCase cause when Stalled.', { maxLength: 1024 }),
  message: string('Human-readable details; the failing cause when Stalled.', { maxLength: 32768 }),
  since: required(dateTime('Time the state last changed.')),
});

/** Fields every status has. */
export interface CommonStatus {
  /** metadata.generation the operator last acted on. */
  observedGeneration?: number;
  conditions?: Condition[];
  /** Reports of the workers that carry the resource out (each written by that worker). */
  workers?: WorkerReport[];
}

export function specSchema<S extends CommonSpec>(description: string, fields: Fields<Omit<S, keyof CommonSpec>>, options: Options & Validations = {}): Schema<'object'> {
  const common: Fields<CommonSpec> = {
    suspend: boolean('Pause this resource: the operator stops its work (consumers, schedules, sends) but deletes nothing. Set back to false to resume.', { default: false }),
  };
  return object<S>(description, { ...fields, ...common } as unknown as Fields<S>, options);
}

export function statusSchema<S extends CommonStatus>(description: string, fields: Fields<Omit<S, keyof CommonStatus>>): Schema<'object'> {
  const common: Fields<CommonStatus> = {
    observedGeneration: int64('metadata.generation the operator last acted on. When it is behind metadata.generation, the status describes an older spec.', { minimum: 0 }),
    conditions: conditionsSchema,
    workers: array('What each worker carrying out this resource has loaded, written by that worker; the operator reads it into Ready and Degraded.', workerReportSchema, {
      maxItems: 16,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['component'],
    }),
  };
  return object<S>(description, { ...fields, ...common } as unknown as Fields<S>);
}

// ---------------------------------------------------------------------------------------------------
// The CRD envelope

const READY_COLUMN: PrinterColumn = {
  name: 'Ready',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
  description: 'Status of the Ready condition: True, False or Unknown.',
};
const AGE_COLUMN: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Time since the resource was created.' };

export interface KindDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  /** What the kind is, shown by `kubectl explain <kind>`. */
  description: string;
  spec: Schema<'object'>;
  status: Schema<'object'>;
  /** Columns between NAME and READY/AGE (Ready and Age are appended). */
  printerColumns: PrinterColumn[];
}

/** The root of a kind's schema; the API server itself validates apiVersion, kind and metadata. */
interface RootFields {
  apiVersion?: string;
  kind?: string;
  metadata?: object;
  spec: object;
  status?: object;
}

export function customResourceDefinition(def: KindDefinition): CustomResourceDefinition {
  const root = object<RootFields>(
    `${def.description} Its name must be a DNS-1123 label (lowercase letters, digits and "-", at most 63 characters), so other resources can refer to it.`,
    {
      apiVersion: string('Versioned schema of this representation of an object: uspa.tech/v1alpha1.'),
      kind: string(`Kind of this object: ${def.kind}.`),
      // The API server allows nothing but `type: object` here (not even a description).
      metadata: { type: 'object' },
      spec: required(def.spec),
      status: def.status,
    },
    {
      validations: [
        {
          rule: `self.metadata.name.size() <= 63 && self.metadata.name.matches('${DNS1123_LABEL}')`,
          message: 'metadata.name must be a DNS-1123 label (lowercase letters, digits and "-", at most 63 characters) so other resources can refer to it',
        },
      ],
    },
  );
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${def.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: { kind: def.kind, listKind: `${def.kind}List`, plural: def.plural, singular: def.singular, shortNames: def.shortNames, categories: [CATEGORY] },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: root },
          subresources: { status: {} },
          additionalPrinterColumns: [...def.printerColumns.filter((c) => !c.priority), READY_COLUMN, AGE_COLUMN, ...def.printerColumns.filter((c) => c.priority)],
        },
      ],
    },
  };
}
