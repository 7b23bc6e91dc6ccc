import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../http/errors.ts';
import { identityTypes, parseIdentity } from './identity.ts';

const TYPES = ['userId', 'email', 'phone', 'deviceId', 'anonymousId'];

function refusal(text: string): ApiError {
  try {
    parseIdentity(text, TYPES);
  } catch (err) {
    assert.ok(err instanceof ApiError);
    return err;
  }
  assert.fail(`${JSON.stringify(text)} was accepted`);
}

test('parseIdentity splits at the first colon and normalizes like the pipeline', () => {
  assert.deepEqual(parseIdentity('userId:u-1', TYPES), { type: 'userId', value: 'u-1', identity: 'userId:u-1' });
  assert.deepEqual(parseIdentity('anonymousId:a:b:c', TYPES), { type: 'anonymousId', value: 'a:b:c', identity: 'anonymousId:a:b:c' });
  assert.equal(parseIdentity('email:Ada@Example.COM', TYPES).identity, 'email:ada@example.com');
  assert.equal(parseIdentity('phone:+1 (555) 010-0000', TYPES).identity, 'phone:+15550100000');
  assert.equal(parseIdentity(`userId:${'x'.repeat(1024)}`, TYPES).value.length, 1024);
});

test('parseIdentity refuses what cannot be an identity, naming path.identity and the known types', () => {
  for (const bad of ['u-1', ':u-1', 'userId:', 'userId:  ', `userId:${'x'.repeat(1025)}`, 'userId:a\u0000b', 'userId:a\nb', 'userId:a\u009bb', 'crm:1', "userId' OR 1=1 --:x", 'USERID:u-1']) {
    const err = refusal(bad);
    assert.equal(err.status, 400, bad);
    assert.equal(err.field, 'path.identity', bad);
  }
  assert.match(refusal('crm:1').message, /unknown identity type "crm".*userId, email, phone, deviceId, anonymousId/);
});

test('identityTypes is the union of the Pipelines\' keys, the built-ins without a Pipeline', () => {
  assert.deepEqual(identityTypes({ pipelines: [] }), TYPES);
  assert.deepEqual(
    identityTypes({ pipelines: [{ name: 'a', sources: [], identity: { keys: [{ name: 'userId' }, { name: 'crm', path: 'traits.crmId' }] } }, { name: 'b', sources: [], identity: { keys: [{ name: 'email' }, { name: 'crm', path: 'traits.crm' }] } }] }),
    ['userId', 'crm', 'email'],
  );
  assert.deepEqual(identityTypes({ pipelines: [{ name: 'a', sources: [] }] }), TYPES);
});
