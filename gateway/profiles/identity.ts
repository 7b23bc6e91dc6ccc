// A path identity ("userId:u-1", "email:ada@example.com") checked against the namespace's
// Pipelines' identity keys before any lookup, so a typo is a 400 naming the known types, not a 404.
import { normalizeIdentityValue } from '../../api/v1alpha1/pipeline.ts';
import { resolveIdentityKeys, type WorkloadConfig } from '../../api/workload.ts';
import { invalid } from '../http/errors.ts';

export interface ParsedIdentity {
  type: string;
  value: string;
  /** "type:value" as the identities table holds it (normalized like the pipeline does). */
  identity: string;
}

export const MAX_IDENTITY_VALUE = 1024;

/** The identity key names of every Pipeline of the namespace (the built-ins when there is none). */
export function identityTypes(config: Pick<WorkloadConfig, 'pipelines'>): string[] {
  const pipelines = config.pipelines.length ? config.pipelines : [{ name: '', sources: [] }];
  return [...new Set(pipelines.flatMap((p) => resolveIdentityKeys(p.identity?.keys).map((k) => k.name)))];
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export function parseIdentity(text: string, types: readonly string[], field = 'path.identity'): ParsedIdentity {
  const known = `the known types are ${types.join(', ')}`;
  const colon = text.indexOf(':');
  if (colon <= 0) throw invalid(field, `must be "type:value", e.g. userId:u-1 (${known})`);
  const type = text.slice(0, colon);
  let value = text.slice(colon + 1).trim();
  if (!types.includes(type)) throw invalid(field, `unknown identity type "${type.slice(0, 64)}": ${known}`);
  if (value === '') throw invalid(field, `the value after "${type}:" is empty`);
  if (value.length > MAX_IDENTITY_VALUE) throw invalid(field, `the value is longer than ${MAX_IDENTITY_VALUE} characters`);
  if (CONTROL.test(value)) throw invalid(field, 'the value contains control characters');
  value = normalizeIdentityValue(type, value);
  return { type, value, identity: `${type}:${value}` };
}
