// The configuration the collector and the pipeline workers read at start (their ConfigMap's
// config.yaml, or a file given by USPA_CONFIG): the Sources and Pipelines they serve, as the CRD
// types of api/v1alpha1 with their names. Its JSON Schema is derived from the CRDs' own OpenAPI
// schemas, so a field added to a kind is known here without a second edit.
import { Ajv, type ValidateFunction } from 'ajv';
import { ConfigError, describeAjvErrors } from './problems.ts';
import {
  DEFAULT_IDENTITY_KEYS,
  nameRef,
  pipelineCrd,
  sourceCrd,
  type CommonSpec,
  type CustomResourceDefinition,
  type IdentityKey,
  type IdentityKeySpec,
  type JSONSchemaProps,
  type Pipeline,
  type PipelineSpec,
  type Source,
  type SourceSpec,
} from './v1alpha1/index.ts';

/** A Source as a workload sees it. The write key comes by value (hand-written files, tests) or by env var (rendered by the operator from the Source's Secret). */
export interface WorkloadSource extends Omit<SourceSpec, keyof CommonSpec | 'writeKeySecretRef'> {
  name: string;
  writeKey?: string;
  writeKeyEnv?: string;
}

/** A Pipeline as its workers see it: what to process and how; replicas and resources are the Deployment's business. */
export interface WorkloadPipeline extends Omit<PipelineSpec, keyof CommonSpec | 'replicas' | 'resources'> {
  name: string;
}

export interface WorkloadConfig {
  sources: WorkloadSource[];
  pipelines: WorkloadPipeline[];
}

/** The Source fields the pipeline reads (topics only): a tracking plan or rate limit change does not restart it. */
export type PipelineSourceView = Pick<WorkloadSource, 'name' | 'type' | 'topic' | 'deadLetter'>;

// ---------------------------------------------------------------------------------------------------
// From the custom resources (what the operator renders)

export function workloadSource(s: Source, writeKeyEnv: string): WorkloadSource {
  const { suspend, writeKeySecretRef, ...spec } = s.spec;
  return { name: s.metadata.name!, ...spec, writeKeyEnv };
}

export function pipelineSourceView(s: Source): PipelineSourceView {
  const { type, topic, deadLetter } = s.spec;
  return { name: s.metadata.name!, type, ...(topic ? { topic } : {}), ...(deadLetter ? { deadLetter } : {}) };
}

export function workloadPipeline(p: Pipeline): WorkloadPipeline {
  const { suspend, replicas, resources, ...spec } = p.spec;
  return { name: p.metadata.name!, ...spec };
}

/** A Pipeline's identity keys with their paths: the built-in keys by name, or as given. */
export function resolveIdentityKeys(keys: readonly IdentityKeySpec[] | undefined, where = 'identity.keys'): readonly IdentityKey[] {
  if (!keys) return DEFAULT_IDENTITY_KEYS;
  return keys.map((k, i) => {
    const builtin = DEFAULT_IDENTITY_KEYS.find((d) => d.name === k.name);
    const path = k.path ?? builtin?.path;
    if (!path) throw new ConfigError(where, [`${where}[${i}].path: is required for "${k.name}", which is not a built-in key (${DEFAULT_IDENTITY_KEYS.map((d) => d.name).join(', ')})`]);
    const limit = k.limit ?? (k.path ? undefined : builtin?.limit);
    return { name: k.name, path, ...(limit ? { limit } : {}) };
  });
}

// ---------------------------------------------------------------------------------------------------
// The schema, derived from the CRDs

function specOf(crd: CustomResourceDefinition): JSONSchemaProps {
  const spec = crd.spec.versions[0]!.schema.openAPIV3Schema.properties?.spec;
  if (!spec) throw new Error(`${crd.metadata.name}: no spec schema`);
  return spec;
}

/**
 * OpenAPI v3 (as the API server reads it) → JSON Schema (as ajv reads it): boolean exclusive
 * bounds become numbers, Kubernetes extensions and OpenAPI-only formats go, and objects with
 * declared properties refuse unknown fields as `kubectl apply` (strict field validation) does.
 */
export function toJsonSchema(s: JSONSchemaProps): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(s)) {
    if (key.startsWith('x-kubernetes-') || key === 'description' || key === 'default') continue;
    if (key === 'format' && ['int32', 'int64', 'float', 'double', 'byte'].includes(String(value))) continue;
    if (key === 'properties') out.properties = Object.fromEntries(Object.entries(value as Record<string, JSONSchemaProps>).map(([k, v]) => [k, toJsonSchema(v)]));
    else if (key === 'items' || key === 'additionalProperties') out[key] = toJsonSchema(value as JSONSchemaProps);
    else if (key === 'anyOf') out.anyOf = (value as JSONSchemaProps[]).map(toJsonSchema);
    else out[key] = value;
  }
  for (const [bound, exclusive] of [['minimum', 'exclusiveMinimum'], ['maximum', 'exclusiveMaximum']] as const) {
    if (s[exclusive] === true) {
      out[exclusive] = s[bound];
      delete out[bound];
    } else delete out[exclusive];
  }
  if (s.type === 'object' && s.properties && !s.additionalProperties && !s['x-kubernetes-preserve-unknown-fields']) out.additionalProperties = false;
  // Free-form (a Segment's rule) said explicitly, so clients typed from the API's document accept any field.
  if (s['x-kubernetes-preserve-unknown-fields'] && s.additionalProperties === undefined) out.additionalProperties = true;
  return out;
}

function named(spec: JSONSchemaProps, drop: readonly string[], extra: Record<string, JSONSchemaProps> = {}): Record<string, unknown> {
  const properties = Object.fromEntries(Object.entries(spec.properties ?? {}).filter(([k]) => !drop.includes(k)));
  return toJsonSchema({ ...spec, properties: { name: nameRef('Name of the resource.'), ...properties, ...extra }, required: ['name', ...(spec.required ?? [])] });
}

export const WORKLOAD_CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['sources'],
  properties: {
    sources: {
      type: 'array',
      items: named(specOf(sourceCrd), ['suspend', 'writeKeySecretRef'], {
        writeKey: { type: 'string', minLength: 16 },
        writeKeyEnv: { type: 'string', pattern: '^[A-Z_][A-Z0-9_]*$' },
      }),
    },
    pipelines: { type: 'array', items: named(specOf(pipelineCrd), ['suspend', 'replicas', 'resources']) },
  },
};

const ajv = new Ajv({ allErrors: true, strict: false });
// Compiled on first use: the operator renders configurations and never reads one.
let validateWorkload: ValidateFunction | undefined;

export interface CheckOptions {
  /** Default true; false for the pipeline's view of Sources, which needs no write keys or webhook mappings. */
  forCollector?: boolean;
}

/** Validates a parsed configuration, including the cross-references and CEL rules JSON Schema cannot express. */
export function checkWorkloadConfig(value: unknown, where: string, env: NodeJS.ProcessEnv = {}, options: CheckOptions = {}): WorkloadConfig {
  validateWorkload ??= ajv.compile(WORKLOAD_CONFIG_SCHEMA);
  if (!validateWorkload(value)) throw new ConfigError(where, describeAjvErrors(validateWorkload.errors));
  const config = value as unknown as WorkloadConfig;
  config.pipelines ??= [];
  const forCollector = options.forCollector !== false;
  const problems: string[] = [];
  const names = new Set<string>();
  config.sources.forEach((s, i) => {
    if (names.has(s.name)) problems.push(`sources[${i}].name: "${s.name}" is used twice`);
    names.add(s.name);
    if (forCollector && !s.writeKey && !s.writeKeyEnv) problems.push(`sources[${i}]: needs writeKey or writeKeyEnv`);
    if (forCollector && s.writeKeyEnv && !env[s.writeKeyEnv]) problems.push(`sources[${i}].writeKeyEnv: the variable ${s.writeKeyEnv} is not set`);
    if (forCollector && s.type === 'webhook' && !s.webhook) problems.push(`sources[${i}].webhook: is required for a webhook source`);
    for (const [event, schema] of Object.entries(s.trackingPlan?.events ?? {})) {
      try {
        ajv.compile(schema);
      } catch (err) {
        problems.push(`sources[${i}].trackingPlan.events["${event}"]: not a valid JSON Schema (${(err as Error).message})`);
      }
    }
  });
  config.pipelines.forEach((p, i) => {
    p.sources.forEach((s, j) => {
      if (!names.has(s)) problems.push(`pipelines[${i}].sources[${j}]: no source named "${s}"`);
    });
    try {
      resolveIdentityKeys(p.identity?.keys, `pipelines[${i}].identity.keys`);
    } catch (err) {
      problems.push(...(err as ConfigError).problems);
    }
  });
  if (problems.length) throw new ConfigError(where, problems);
  return config;
}

/** The write key of a Source: given by value, or read from its env var. */
export function writeKeyOf(source: WorkloadSource, env: NodeJS.ProcessEnv): string {
  return source.writeKey ?? env[source.writeKeyEnv ?? ''] ?? '';
}
