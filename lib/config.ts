// Sources and Pipelines as the collector and the pipeline workers see them. Until the operator
// renders them from custom resources, they come from one YAML/JSON file (USPA_CONFIG).
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';

export type SourceType = 'web' | 'server' | 'mobile' | 'webhook' | 'batch';
export type PlanMode = 'dlq' | 'reject' | 'allow';

export interface FieldMapping {
  /** Dotted path into the webhook payload, e.g. "data.object.customer". */
  path?: string;
  /** A constant instead of a path. */
  value?: string | number | boolean;
  /** How to read a time: ISO 8601 (default), unix seconds or unix milliseconds. */
  format?: 'iso' | 'unix' | 'unix_ms';
}

export interface WebhookSpec {
  type: 'track' | 'identify';
  event?: FieldMapping;
  userId?: FieldMapping;
  anonymousId?: FieldMapping;
  messageId?: FieldMapping;
  timestamp?: FieldMapping;
  properties?: Record<string, FieldMapping>;
  traits?: Record<string, FieldMapping>;
}

export interface SourceSpec {
  name: string;
  type: SourceType;
  writeKey?: string;
  writeKeyEnv?: string;
  trackingPlan?: { mode: PlanMode; events: Record<string, object>; unplanned?: PlanMode };
  topic?: { partitions?: number; retentionHours?: number; replicationFactor?: number };
  deadLetter?: { retentionHours?: number };
  rateLimit?: { eventsPerSecond: number; burst?: number };
  consent?: { required: boolean };
  webhook?: WebhookSpec;
}

export interface UrlTopicRule {
  match: string;
  topic: string;
}

export interface PipelineSpec {
  name: string;
  sources: string[];
  enrich?: { geoip?: boolean; userAgent?: boolean; anonymizeIp?: boolean; urlTopics?: UrlTopicRule[] };
  identity?: { keys?: Array<string | { name: string; path: string; limit?: number }>; maxProfilesPerMerge?: number };
  /** Event batches bounded by count and time; profiles rebuilt every profileIntervalMs off the ingest path. */
  batch?: { maxEvents?: number; maxWaitMs?: number; profileIntervalMs?: number };
}

export interface UspaConfig {
  sources: SourceSpec[];
  pipelines: PipelineSpec[];
}

const name = { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 };
const mode = { enum: ['dlq', 'reject', 'allow'] };
const mapping = {
  type: 'object',
  additionalProperties: false,
  properties: { path: { type: 'string', minLength: 1 }, value: { type: ['string', 'number', 'boolean'] }, format: { enum: ['iso', 'unix', 'unix_ms'] } },
  oneOf: [{ required: ['path'] }, { required: ['value'] }],
};

export const CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['sources'],
  properties: {
    sources: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'type'],
        properties: {
          name,
          type: { enum: ['web', 'server', 'mobile', 'webhook', 'batch'] },
          writeKey: { type: 'string', minLength: 16 },
          writeKeyEnv: { type: 'string', pattern: '^[A-Z_][A-Z0-9_]*$' },
          trackingPlan: {
            type: 'object',
            additionalProperties: false,
            required: ['mode'],
            properties: { mode, unplanned: mode, events: { type: 'object', additionalProperties: { type: 'object' } } },
          },
          topic: {
            type: 'object',
            additionalProperties: false,
            properties: { partitions: { type: 'integer', minimum: 1, maximum: 1000 }, retentionHours: { type: 'integer', minimum: 1 }, replicationFactor: { type: 'integer', minimum: 1 } },
          },
          deadLetter: { type: 'object', additionalProperties: false, properties: { retentionHours: { type: 'integer', minimum: 1 } } },
          rateLimit: {
            type: 'object',
            additionalProperties: false,
            required: ['eventsPerSecond'],
            properties: { eventsPerSecond: { type: 'number', exclusiveMinimum: 0 }, burst: { type: 'number', minimum: 1 } },
          },
          consent: { type: 'object', additionalProperties: false, required: ['required'], properties: { required: { type: 'boolean' } } },
          webhook: {
            type: 'object',
            additionalProperties: false,
            required: ['type'],
            properties: {
              type: { enum: ['track', 'identify'] },
              event: mapping,
              userId: mapping,
              anonymousId: mapping,
              messageId: mapping,
              timestamp: mapping,
              properties: { type: 'object', additionalProperties: mapping },
              traits: { type: 'object', additionalProperties: mapping },
            },
          },
        },
      },
    },
    pipelines: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'sources'],
        properties: {
          name,
          sources: { type: 'array', minItems: 1, items: name },
          enrich: {
            type: 'object',
            additionalProperties: false,
            properties: {
              geoip: { type: 'boolean' },
              userAgent: { type: 'boolean' },
              anonymizeIp: { type: 'boolean' },
              urlTopics: {
                type: 'array',
                items: { type: 'object', additionalProperties: false, required: ['match', 'topic'], properties: { match: { type: 'string', pattern: '^/' }, topic: { type: 'string', minLength: 1 } } },
              },
            },
          },
          identity: {
            type: 'object',
            additionalProperties: false,
            properties: {
              keys: {
                type: 'array',
                minItems: 1,
                items: {
                  oneOf: [
                    { type: 'string', minLength: 1 },
                    { type: 'object', additionalProperties: false, required: ['name', 'path'], properties: { name: { type: 'string' }, path: { type: 'string' }, limit: { type: 'integer', minimum: 1 } } },
                  ],
                },
              },
              maxProfilesPerMerge: { type: 'integer', minimum: 1 },
            },
          },
          batch: {
            type: 'object',
            additionalProperties: false,
            properties: {
              maxEvents: { type: 'integer', minimum: 1, maximum: 100000 },
              maxWaitMs: { type: 'integer', minimum: 1, maximum: 60000 },
              profileIntervalMs: { type: 'integer', minimum: 10, maximum: 3600000 },
            },
          },
        },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: false });
const validateConfig = ajv.compile(CONFIG_SCHEMA);

/** "sources[1].trackingPlan.mode: must be equal to one of the allowed values (dlq, reject, allow)" */
export function describeAjvErrors(errors: ErrorObject[] | null | undefined, root = ''): string[] {
  return (errors ?? []).map((e) => {
    const path = (root + e.instancePath.replace(/\/(\d+)/g, '[$1]').replace(/\//g, '.')).replace(/^\./, '') || '(root)';
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'enum') message += ` (${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')})`;
    if (e.keyword === 'additionalProperties') message = `has unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`;
    if (e.keyword === 'required') return `${path === '(root)' ? '' : path + '.'}${(e.params as { missingProperty: string }).missingProperty}: is required`;
    return `${path}: ${message}`;
  });
}

export class ConfigError extends Error {
  constructor(
    readonly where: string,
    readonly problems: string[],
  ) {
    super(`invalid configuration in ${where}:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Pipeline workers read Sources for their topics only: they need no write keys or webhook mappings. */
export interface ConfigOptions {
  /** Default true; false for the pipeline's view of Sources. */
  forCollector?: boolean;
}

/** Validates a parsed config, including the cross-references JSON Schema cannot express. */
export function checkConfig(value: unknown, where: string, env: NodeJS.ProcessEnv = process.env, options: ConfigOptions = {}): UspaConfig {
  if (!validateConfig(value)) throw new ConfigError(where, describeAjvErrors(validateConfig.errors));
  const config = value as unknown as UspaConfig;
  config.pipelines ??= [];
  const problems: string[] = [];
  const names = new Set<string>();
  config.sources.forEach((s, i) => {
    if (names.has(s.name)) problems.push(`sources[${i}].name: "${s.name}" is used twice`);
    names.add(s.name);
    if (options.forCollector !== false && !s.writeKey && !s.writeKeyEnv) problems.push(`sources[${i}]: needs writeKey or writeKeyEnv`);
    if (options.forCollector !== false && s.writeKeyEnv && !env[s.writeKeyEnv]) problems.push(`sources[${i}].writeKeyEnv: the variable ${s.writeKeyEnv} is not set`);
    if (options.forCollector !== false && s.type === 'webhook' && !s.webhook) problems.push(`sources[${i}].webhook: is required for a webhook source`);
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
  });
  if (problems.length) throw new ConfigError(where, problems);
  return config;
}

export function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env, options: ConfigOptions = {}): UspaConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [`cannot read the file: ${(err as Error).message}`]);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    throw new ConfigError(path, [`not valid YAML/JSON: ${(err as Error).message}`]);
  }
  return checkConfig(parsed, path, env, options);
}

export function writeKeyOf(source: SourceSpec, env: NodeJS.ProcessEnv = process.env): string {
  return source.writeKey ?? env[source.writeKeyEnv ?? ''] ?? '';
}
