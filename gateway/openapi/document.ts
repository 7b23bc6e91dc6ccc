// The OpenAPI 3.1 document, made from the operations the router serves (never written by hand).
import { ERROR_SCHEMA } from '../http/errors.ts';
import type { JsonSchema, Operation } from '../http/operation.ts';
import { ROLES, ROLE_PERMISSIONS, PERMISSIONS } from '../access/roles.ts';

export const API_VERSION = '1.0.0';

const STANDARD_ERRORS: Record<number, string> = {
  400: 'A parameter or the body is invalid; error.field names it.',
  401: 'No key, an unknown, rotated or revoked key, or an expired one.',
  403: "The key's role lacks the permission, or the request's Origin is not one of the key's origins.",
  429: "Over the key's rate limit; Retry-After says when to retry.",
  503: 'An engine the API needs is unavailable; retry.',
};

function errorResponse(description: string) {
  return { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
}

function parameters(where: 'path' | 'query', schema: Operation['params']) {
  if (!schema) return [];
  const required = new Set((schema.required as string[] | undefined) ?? []);
  return Object.entries(schema.properties).map(([name, s]) => {
    const { description, ...rest } = s as JsonSchema & { description?: string };
    return { name, in: where, required: where === 'path' || required.has(name), ...(description ? { description } : {}), schema: rest };
  });
}

export function openApiDocument(operations: readonly Operation[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const roles = ROLES.filter((r) => !op.permission || ROLE_PERMISSIONS[r].includes(op.permission));
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(op.responses)) {
      const content: Record<string, unknown> = {};
      if (r.schema) content['application/json'] = { schema: r.schema };
      for (const [type, schema] of Object.entries(r.content ?? {})) content[type] = { schema };
      responses[status] = { description: r.description, ...(Object.keys(content).length ? { content } : {}) };
    }
    for (const [status, description] of Object.entries(STANDARD_ERRORS)) responses[status] ??= errorResponse(description);
    if (op.params?.properties && Object.keys(op.params.properties).length) responses['404'] ??= errorResponse('Not found.');
    (paths[op.path] ??= {})[op.method] = {
      operationId: op.id,
      summary: op.summary,
      description: `${op.description ? `${op.description}\n\n` : ''}${op.permission ? `Permission \`${op.permission}\` (${PERMISSIONS[op.permission]}): roles ${roles.join(', ')}.` : 'Any valid key.'}`,
      tags: [op.tag],
      ...(op.permission ? { 'x-uspa-permission': op.permission } : {}),
      'x-uspa-roles': roles,
      ...(op.audit ? { 'x-uspa-audit': op.audit } : {}),
      parameters: [...parameters('path', op.params), ...parameters('query', op.query)],
      ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: op.body }, ...(op.method === 'patch' ? { 'application/merge-patch+json': { schema: op.body } } : {}) } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'USPA API',
      version: API_VERSION,
      description: 'Read customer data from USPA and manage Segments and Activations. Authenticate with an ApiKey\'s key: `Authorization: Bearer <key>`.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: '/' }],
    security: [{ apiKey: [] }],
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: "The key in the ApiKey's Secret (data key apiKey)." } },
      schemas: { Error: ERROR_SCHEMA },
    },
    paths,
  };
}
