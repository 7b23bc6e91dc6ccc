// Maps a third-party webhook payload into a Segment-shaped body by the Source's declared mapping.
import type { FieldMapping, WebhookMapping } from '../api/v1alpha1/index.ts';
import type { FieldError } from './tracking-api.ts';

export type Mapped = { ok: true; type: 'track' | 'identify'; body: Record<string, unknown> } | { ok: false; errors: FieldError[] };

export function readPath(payload: unknown, path: string): unknown {
  let node: unknown = payload;
  for (const part of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = Array.isArray(node) && /^\d+$/.test(part) ? node[Number(part)] : (node as Record<string, unknown>)[part];
  }
  return node;
}

function resolve(mapping: FieldMapping, payload: unknown, field: string, errors: FieldError[]): unknown {
  const raw = mapping.value !== undefined ? mapping.value : readPath(payload, mapping.path ?? '');
  if (raw === undefined || mapping.format === undefined || mapping.format === 'iso') return raw;
  const n = typeof raw === 'string' ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isFinite(n)) {
    errors.push({ path: mapping.path ?? field, message: `must be a ${mapping.format === 'unix' ? 'unix time in seconds' : 'unix time in milliseconds'} (mapped to ${field})` });
    return undefined;
  }
  return new Date(mapping.format === 'unix' ? n * 1000 : n).toISOString();
}

export function mapWebhook(spec: WebhookMapping, payload: unknown): Mapped {
  const errors: FieldError[] = [];
  const body: Record<string, unknown> = {};
  for (const field of ['event', 'userId', 'anonymousId', 'messageId', 'timestamp'] as const) {
    const mapping = spec[field];
    if (!mapping) continue;
    const value = resolve(mapping, payload, field, errors);
    if (value === undefined && mapping.path) {
      if (field === 'event' || field === 'userId' || field === 'anonymousId') continue; // normalizeEvent reports what is required
    }
    if (value !== undefined) body[field] = typeof value === 'number' && field !== 'timestamp' ? String(value) : value;
  }
  for (const group of ['properties', 'traits'] as const) {
    const fields = spec[group];
    if (!fields) continue;
    const out: Record<string, unknown> = {};
    for (const [name, mapping] of Object.entries(fields)) {
      const value = resolve(mapping, payload, `${group}.${name}`, errors);
      if (value !== undefined) out[name] = value;
    }
    body[group] = out;
  }
  return errors.length ? { ok: false, errors } : { ok: true, type: spec.type, body };
}
