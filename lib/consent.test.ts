import assert from 'node:assert/strict';
import { test } from 'node:test';
import { consentGranted, consentStates } from './consent.ts';

test('consentStates lists every category the traits decide, by the rules consentGranted applies', () => {
  const traits = { consent: { marketing: 'granted', analytics: 'maybe', categoryPreferences: { ads: false, analytics: true } }, consent_sms: 'no', consent_: true, plan: 'pro' };
  assert.deepEqual(consentStates(traits), { ads: false, analytics: true, marketing: true, sms: false });
  for (const [category, state] of Object.entries(consentStates(traits))) assert.equal(consentGranted(traits, category), state, category);
  assert.deepEqual(consentStates({ consent: 'yes' }), {});
  assert.deepEqual(consentStates({}), {});
});
