// How USPA says what is wrong with an input: one line per problem, naming the field by its path.
import type { ErrorObject } from 'ajv';

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

/** A configuration a process cannot start with: where it came from and every problem in it. */
export class ConfigError extends Error {
  constructor(
    readonly where: string,
    readonly problems: string[],
  ) {
    super(`invalid configuration in ${where}:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}
