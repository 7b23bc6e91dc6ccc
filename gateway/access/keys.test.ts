import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiKeyHash, type ApiKey } from '../../api/v1alpha1/index.ts';
import { ApiError } from '../http/errors.ts';
import { KeyTable } from './keys.ts';

function apiKey(name: string, key: string, spec: Partial<ApiKey['spec']> = {}): ApiKey {
  return { apiVersion: 'uspa.tech/v1alpha1', kind: 'ApiKey', metadata: { name }, spec: { role: 'reader', ...spec }, status: { keyHash: apiKeyHash(key) } } as ApiKey;
}

function refusal(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  assert.fail('expected a refusal');
}

test('a key is accepted by its hash, with its role, origins and the default rate limit', () => {
  const t = new KeyTable();
  t.update(apiKey('web', 'uspa_a', { role: 'decisions', origins: ['https://shop.example.com'] }));
  const caller = t.authenticate('uspa_a');
  assert.equal(caller.key, 'web');
  assert.equal(caller.role, 'decisions');
  assert.deepEqual(caller.rateLimit, { requestsPerSecond: 50, burst: 100 });
  assert.equal(caller.keyId, apiKeyHash('uspa_a').slice(7, 19));
  assert.ok(t.allowsOrigin('https://shop.example.com'));
  assert.ok(!t.allowsOrigin('https://evil.example.com'));
});

test('missing, unknown, expired and suspended keys are refused with 401 naming the header', () => {
  const t = new KeyTable();
  t.update(apiKey('old', 'uspa_old', { expiresAt: '2026-01-01T00:00:00Z' }));
  t.update(apiKey('paused', 'uspa_p', { suspend: true }));
  assert.equal(refusal(() => t.authenticate(undefined)).status, 401);
  assert.equal(refusal(() => t.authenticate('uspa_nope')).code, 'unauthenticated');
  const expired = refusal(() => t.authenticate('uspa_old', Date.parse('2026-01-01T00:00:01Z')));
  assert.equal(expired.code, 'key_expired');
  assert.equal(expired.field, 'header.authorization');
  assert.equal(t.authenticate('uspa_old', Date.parse('2025-12-31T23:59:59Z')).key, 'old');
  assert.match(refusal(() => t.authenticate('uspa_p')).message, /suspended/);
});

test('rotation replaces the hash, deletion revokes, and no key is remembered by value', () => {
  const t = new KeyTable();
  t.update(apiKey('svc', 'uspa_1'));
  t.update(apiKey('svc', 'uspa_2'));
  assert.equal(refusal(() => t.authenticate('uspa_1')).status, 401);
  assert.equal(t.authenticate('uspa_2').key, 'svc');
  t.update(apiKey('svc', 'uspa_2'), true);
  assert.equal(refusal(() => t.authenticate('uspa_2')).status, 401);
  assert.equal(t.size, 0);
});

test('an ApiKey the operator has not issued yet (no status.keyHash) grants nothing', () => {
  const t = new KeyTable();
  t.update({ ...apiKey('new', 'x'), status: {} } as ApiKey);
  assert.equal(t.size, 0);
});
