// An operation is one endpoint, declared once: its path, permission, input schemas, responses and
// handler. The router, the request validation and the OpenAPI document are all made from the same
// declarations, so the served contract cannot drift from what runs.
import type { Request, Response } from 'express';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { Caller } from '../access/keys.ts';
import type { Permission } from '../access/roles.ts';
import { ApiError, type FieldProblem } from './errors.ts';

export type JsonSchema = Record<string, unknown>;
export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** What the audit log records of a call: reads of a person's data, writes, exports. */
export type AuditKind = 'read' | 'write' | 'export';

export interface ResponseSpec {
  description: string;
  /** JSON body schema (application/json). */
  schema?: JsonSchema;
  /** Other content types with their schema (a stream's items for NDJSON, a string for CSV). */
  content?: Record<string, JsonSchema>;
}

export interface CallContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  caller: Caller;
  /** Whether the caller's role sees direct identifiers. */
  identifiers: boolean;
  req: Request;
  res: Response;
  /** What the call was about, for the audit log: ids, never personal data (a profile id, a Segment name). */
  subject(target: string): void;
}

/** A handler returns the JSON body (200 unless status says otherwise), or 'streamed' after writing res itself. */
export type Reply = { status?: number; body: unknown; headers?: Record<string, string> } | 'streamed';

export interface Operation<P = Record<string, string>, Q = Record<string, unknown>, B = unknown> {
  id: string;
  method: Method;
  /** OpenAPI path template: /v1/profiles/{identity}. */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  /** Undefined: any valid key may call it. */
  permission?: Permission;
  audit?: AuditKind;
  /** Object schemas whose properties are the path parameters / query parameters. */
  params?: JsonSchema & { properties: Record<string, JsonSchema> };
  query?: JsonSchema & { properties: Record<string, JsonSchema> };
  body?: JsonSchema;
  responses: Record<number, ResponseSpec>;
  handler(ctx: CallContext<P, Q, B>): Promise<Reply>;
}

/** Keeps an operation's own parameter types while it is put in a list of operations. */
export function operation<P = Record<string, string>, Q = Record<string, unknown>, B = unknown>(op: Operation<P, Q, B>): Operation {
  return op as unknown as Operation;
}

const ajv = new Ajv2020({ allErrors: true, strict: false, coerceTypes: false, useDefaults: true });
addFormats.default(ajv);
// Path and query values arrive as text: coerce them to the declared types before validating.
const coercing = new Ajv2020({ allErrors: true, strict: false, coerceTypes: 'array', useDefaults: true });
addFormats.default(coercing);

export function describe(errors: ErrorObject[] | null | undefined, root: string): FieldProblem[] {
  return (errors ?? []).map((e) => {
    const at = e.instancePath.replace(/^\//, '').replace(/\/(\d+)(?=\/|$)/g, '[$1]').replace(/\//g, '.');
    if (e.keyword === 'required') {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      return { field: [root, at, missing].filter(Boolean).join('.'), message: 'is required' };
    }
    if (e.keyword === 'additionalProperties') {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      return { field: [root, at, extra].filter(Boolean).join('.'), message: 'is not a known field' };
    }
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'enum') message += `: ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
    return { field: [root, at].filter(Boolean).join('.') || root, message };
  });
}

export interface BoundValidators {
  params?: ValidateFunction;
  query?: ValidateFunction;
  body?: ValidateFunction;
}

export function compileValidators(op: Operation): BoundValidators {
  const strict = (s: JsonSchema | undefined) => (s ? { type: 'object', additionalProperties: false, ...s } : undefined);
  // An operation without query parameters refuses any: a misspelt filter must not be ignored silently.
  const params = strict(op.params);
  const query = strict(op.query ?? { properties: {} });
  return {
    ...(params ? { params: coercing.compile(params) } : {}),
    ...(query ? { query: coercing.compile(query) } : {}),
    ...(op.body ? { body: ajv.compile(op.body) } : {}),
  };
}

/** Validates (and coerces) one part of a request in place; a 400 naming every bad field otherwise. */
export function check(validate: ValidateFunction | undefined, value: unknown, root: 'path' | 'query' | 'body'): unknown {
  if (!validate) return value;
  if (validate(value)) return value;
  const problems = describe(validate.errors, root);
  throw new ApiError(400, 'invalid_request', problems.map((p) => `${p.field}: ${p.message}`).join('; '), problems[0]?.field, problems);
}

/** express path (/v1/profiles/:identity) of an OpenAPI path template (/v1/profiles/{identity}). */
export function expressPath(template: string): string {
  return template.replace(/\{(\w+)\}/g, ':$1');
}

// Cursors are opaque to clients; inside, a small JSON object that each operation validates with
// its own schema, so a forged cursor is at worst another valid position.
export function encodeCursor(position: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

const cursorValidators = new WeakMap<JsonSchema, ValidateFunction>();

export function decodeCursor<T>(cursor: string | undefined, schema: JsonSchema, field = 'query.cursor'): T | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  let validate = cursorValidators.get(schema);
  if (!validate) cursorValidators.set(schema, (validate = ajv.compile({ type: 'object', additionalProperties: false, ...schema })));
  let value: unknown;
  try {
    if (cursor.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('not base64url');
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new ApiError(400, 'invalid_request', `${field}: is not a cursor this API returned (pass next_cursor from the previous page as it is)`, field, [{ field, message: 'is not a cursor this API returned' }]);
  }
  if (!validate(value)) throw new ApiError(400, 'invalid_request', `${field}: is not a cursor this API returned (pass next_cursor from the previous page as it is)`, field, [{ field, message: 'is not a cursor this API returned' }]);
  return value as T;
}

/** Shared query parameters. */
export const LIMIT = (max: number, fallback: number): JsonSchema => ({ type: 'integer', minimum: 1, maximum: max, default: fallback, description: `Items per page, 1–${max} (default ${fallback}).` });
export const CURSOR: JsonSchema = { type: 'string', maxLength: 2048, description: 'next_cursor of the previous page.' };
export const NEXT_CURSOR: JsonSchema = { type: ['string', 'null'], description: 'Pass as cursor to get the next page; null on the last page.' };
