import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from './errors.ts';
import { check, compileValidators, decodeCursor, encodeCursor, expressPath, operation } from './operation.ts';

const op = operation({
  id: 't',
  method: 'get',
  path: '/v1/things/{name}',
  summary: 't',
  tag: 't',
  params: { properties: { name: { type: 'string', maxLength: 5 } } },
  query: { properties: { limit: { type: 'integer', minimum: 1, maximum: 10, default: 3 }, kind: { type: 'string', enum: ['a', 'b'] } } },
  responses: { 200: { description: 'ok' } },
  handler: async () => ({ body: {} }),
});

function problem(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  assert.fail('expected a 400');
}

test('query text is coerced to the declared types, defaults filled in', () => {
  const v = compileValidators(op);
  assert.deepEqual(check(v.query, { limit: '7' }, 'query'), { limit: 7 });
  assert.deepEqual(check(v.query, {}, 'query'), { limit: 3 });
});

test('every bad parameter is named with its place: huge page sizes, unknown values, unknown parameters', () => {
  const v = compileValidators(op);
  const err = problem(() => check(v.query, { limit: '100000', kind: 'c', sql: "1' OR 1=1" }, 'query'));
  assert.equal(err.status, 400);
  assert.deepEqual(err.problems.map((p) => p.field).sort(), ['query.kind', 'query.limit', 'query.sql']);
  assert.equal(problem(() => check(v.params, { name: 'toolong' }, 'path')).field, 'path.name');
});

test('cursors round-trip; forged or garbage cursors are a 400 on query.cursor', () => {
  const schema = { required: ['at'], properties: { at: { type: 'string' } } };
  assert.deepEqual(decodeCursor(encodeCursor({ at: 'x' }), schema), { at: 'x' });
  assert.equal(decodeCursor(undefined, schema), undefined);
  for (const bad of ['%%%', encodeCursor({ at: 1 }), encodeCursor({ at: 'x', sql: 'DROP' }), Buffer.from('not json').toString('base64url'), 'A'.repeat(5000)]) {
    assert.equal(problem(() => decodeCursor(bad, schema)).field, 'query.cursor', bad.slice(0, 20));
  }
});

test('OpenAPI path templates become express paths', () => {
  assert.equal(expressPath('/v1/profiles/{identity}/events'), '/v1/profiles/:identity/events');
});
