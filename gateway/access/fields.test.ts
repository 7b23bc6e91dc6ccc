import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REDACTED, redactIdentity, redactJson } from './fields.ts';

test('direct identifiers are redacted at any depth; other traits stay, and the paths are listed', () => {
  const redacted: string[] = [];
  const out = redactJson({ email: 'ada@example.com', plan: 'pro', address: { street: 'Main St 1', city: 'Paris' }, contacts: [{ phone_number: '+331' }], firstName: 'Ada', consent: { marketing: true } }, redacted);
  assert.deepEqual(out, { email: REDACTED, plan: 'pro', address: REDACTED, contacts: [{ phone_number: REDACTED }], firstName: REDACTED, consent: { marketing: true } });
  assert.deepEqual(redacted.sort(), ['address', 'contacts[0].phone_number', 'email', 'firstName']);
});

test('empty identifier values are left as they are (nothing to hide)', () => {
  assert.deepEqual(redactJson({ email: '', phone: null }), { email: '', phone: null });
});

test('email and phone identities are redacted; pseudonymous ids are not', () => {
  assert.equal(redactIdentity('email:ada@example.com'), `email:${REDACTED}`);
  assert.equal(redactIdentity('phone:+33123'), `phone:${REDACTED}`);
  assert.equal(redactIdentity('userId:u-1'), 'userId:u-1');
  assert.equal(redactIdentity('anonymousId:a-1'), 'anonymousId:a-1');
});
