import assert from 'node:assert/strict';
import { test } from 'node:test';
import { signingKeyFromEnv } from './signing-key.ts';

test('the worker refuses to start without a signing key of 32 bytes or more, and never prints it', () => {
  assert.throws(() => signingKeyFromEnv({}), /USPA_PRIVACY_SIGNING_KEY: not set; .*Secret uspa-privacy-signing-key/);
  assert.throws(() => signingKeyFromEnv({ USPA_PRIVACY_SIGNING_KEY: 'short-secret' }), (err: Error) => /12 bytes, at least 32 needed/.test(err.message) && !err.message.includes('short-secret'));
  assert.equal(signingKeyFromEnv({ USPA_PRIVACY_SIGNING_KEY: 'k'.repeat(32) }), 'k'.repeat(32));
});
