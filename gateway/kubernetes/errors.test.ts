import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../http/errors.ts';
import { fromKubernetes, kubernetesStatus, staleVersion } from './errors.ts';

// Refusals as the API server sends them (bodies copied from a real kube-apiserver), thrown the way
// @kubernetes/client-node throws them: an ApiException with code and the body as text.
const refusal = (code: number, body: object) => Object.assign(new Error(`HTTP-Code: ${code}`), { code, body: JSON.stringify(body) });

test('a CEL refusal (422 Invalid) → 400 with a problem per cause, its field under body.', () => {
  const err = fromKubernetes(
    refusal(422, {
      kind: 'Status', status: 'Failure', reason: 'Invalid', code: 422,
      message: 'Segment.uspa.tech "s1" is invalid: spec.refresh: Invalid value: "object": set either refresh.interval or refresh.cron, not both',
      details: { name: 's1', kind: 'Segment', causes: [{ reason: 'FieldValueInvalid', message: 'Invalid value: "object": set either refresh.interval or refresh.cron, not both', field: 'spec.refresh' }, { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.rule' }, { reason: 'FieldValueRequired', message: 'Required value: spec.trigger.event is required when trigger.type is event', field: 'spec.trigger.event' }] },
    }),
    'Segment s1',
  );
  assert.ok(err instanceof ApiError);
  assert.equal(err.status, 400);
  assert.deepEqual(err.body.error.problems, [
    { field: 'body.spec.refresh', message: 'set either refresh.interval or refresh.cron, not both' },
    { field: 'body.spec.rule', message: 'Required value' },
    { field: 'body.spec.trigger.event', message: 'spec.trigger.event is required when trigger.type is event' },
  ]);
  assert.equal(err.body.error.field, 'body.spec.refresh');
  assert.equal(err.body.error.code, 'invalid_request');
});

test('a 400 without causes blames the body with the server\'s message', () => {
  const err = fromKubernetes(refusal(400, { kind: 'Status', reason: 'BadRequest', code: 400, message: 'strict decoding error: unknown field "spec.x"' }), 'Segment s') as ApiError;
  assert.deepEqual(err.body.error.problems, [{ field: 'body', message: 'strict decoding error: unknown field "spec.x"' }]);
});

test('409 AlreadyExists names body.name; 409 Conflict names body.resourceVersion; 404 → not_found', () => {
  const exists = fromKubernetes(refusal(409, { reason: 'AlreadyExists', code: 409, message: 'segments.uspa.tech "s2" already exists' }), 'Segment s2') as ApiError;
  assert.deepEqual([exists.status, exists.code, exists.field], [409, 'conflict', 'body.name']);
  const modified = fromKubernetes(refusal(409, { reason: 'Conflict', code: 409, message: 'the object has been modified' }), 'Segment s2') as ApiError;
  assert.deepEqual([modified.status, modified.code, modified.field], [409, 'conflict', 'body.resourceVersion']);
  const missing = fromKubernetes(refusal(404, { reason: 'NotFound', code: 404, message: 'not found' }), 'Activation a') as ApiError;
  assert.deepEqual([missing.status, missing.code, missing.message], [404, 'not_found', 'Activation a does not exist']);
});

test('no answer or a 5xx → 503; a 403 of the API\'s own ServiceAccount stays an internal error (logged, 500)', () => {
  const down = fromKubernetes(Object.assign(new Error('connect ECONNREFUSED'), {}), 'Segment s') as ApiError;
  assert.deepEqual([down.status, down.code], [503, 'unavailable']);
  const forbidden = refusal(403, { reason: 'Forbidden', code: 403, message: 'cannot create segments' });
  const passed = fromKubernetes(forbidden, 'Segment s');
  assert.equal(passed, forbidden);
  assert.ok(!(passed instanceof ApiError));
  assert.equal(kubernetesStatus(forbidden), 403);
  assert.equal(kubernetesStatus(new Error('x')), undefined);
});

test('an ApiError passes through; a stale resourceVersion names the current one', () => {
  const own = new ApiError(400, 'invalid_request', 'x');
  assert.equal(fromKubernetes(own, 'w'), own);
  const stale = staleVersion('Segment s', '5', '9');
  assert.equal(stale.status, 409);
  assert.match(stale.body.error.problems![0]!.message, /^is 5, but Segment s is at resourceVersion 9/);
});
