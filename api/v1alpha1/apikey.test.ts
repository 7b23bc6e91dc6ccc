import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { API_ROLES, ORIGIN, apiKeyCrd, apiKeyHash, apiKeyId, generateApiKey } from './apikey.ts';
import { API, API_KEY_SECRET_KEY, API_PORT, apiKeySecret } from '../names.ts';

test('generateApiKey: uspa_ and 32 random bytes as base64url, never the same twice', () => {
  const a = generateApiKey();
  const b = generateApiKey();
  assert.match(a, /^uspa_[A-Za-z0-9_-]{43}$/);
  assert.equal(Buffer.from(a.slice(5), 'base64url').length, 32);
  assert.notEqual(a, b);
});

test('apiKeyHash is "sha256:" and the lowercase hex SHA-256 of the key string; apiKeyId its first 12 hex characters', () => {
  const key = 'uspa_example';
  const hex = createHash('sha256').update(key).digest('hex');
  assert.equal(apiKeyHash(key), `sha256:${hex}`);
  assert.match(apiKeyHash(generateApiKey()), /^sha256:[0-9a-f]{64}$/);
  assert.notEqual(apiKeyHash('a'), apiKeyHash('b'));
  assert.equal(apiKeyId(apiKeyHash(key)), hex.slice(0, 12));
});

test('names: the gateway and the key Secret', () => {
  assert.deepEqual([API, API_PORT, apiKeySecret('admin'), API_KEY_SECRET_KEY], ['uspa-api', 8081, 'uspa-apikey-admin', 'apiKey']);
});

test('the ApiKey CRD: roles, origins pattern, rate limit bounds and defaults, the CEL rules on origins, printer columns', () => {
  const version = apiKeyCrd.spec.versions[0]!;
  const spec = version.schema.openAPIV3Schema.properties!.spec!;
  assert.deepEqual(apiKeyCrd.spec.names.shortNames, ['ak']);
  assert.equal(apiKeyCrd.spec.names.plural, 'apikeys');
  assert.deepEqual(spec.properties!.role!.enum, [...API_ROLES]);
  assert.deepEqual(spec.required, ['role']);
  assert.equal(spec.properties!.expiresAt!.format, 'date-time');
  const origins = spec.properties!.origins!;
  assert.equal(origins.maxItems, 20);
  const origin = new RegExp(origins.items!.pattern!);
  assert.equal(origins.items!.pattern, ORIGIN);
  for (const ok of ['https://shop.example.com', 'http://localhost:3000', 'https://a-b.example.co.uk:8443']) assert.match(ok, origin);
  for (const bad of ['https://shop.example.com/', 'https://shop.example.com/path', 'shop.example.com', 'ftp://x.example', 'https://*.example.com', 'https://Shop.example.com']) assert.doesNotMatch(bad, origin);
  const rate = spec.properties!.rateLimit!.properties!;
  assert.deepEqual([rate.requestsPerSecond!.minimum, rate.requestsPerSecond!.maximum, rate.requestsPerSecond!.default], [1, 10000, 50]);
  assert.deepEqual([rate.burst!.minimum, rate.burst!.maximum, rate.burst!.default], [1, 100000, 100]);
  assert.equal(spec.properties!.description!.maxLength, 256);
  const rules = spec['x-kubernetes-validations']!;
  assert.ok(rules.some((r) => r.fieldPath === '.origins' && r.reason === 'FieldValueRequired' && /spec\.origins is required when role is decisions/.test(r.message)));
  assert.ok(rules.some((r) => r.fieldPath === '.origins' && r.reason === 'FieldValueForbidden' && /spec\.origins is only allowed when role is decisions/.test(r.message)));
  const status = version.schema.openAPIV3Schema.properties!.status!.properties!;
  for (const field of ['secretName', 'keyHash', 'keyId', 'keyCreatedAt', 'observedGeneration', 'conditions']) assert.ok(status[field], `status.${field}`);
  assert.match(apiKeyHash('x'), new RegExp(status.keyHash!.pattern!));
  assert.match(apiKeyId(apiKeyHash('x')), new RegExp(status.keyId!.pattern!));
  assert.deepEqual(version.additionalPrinterColumns.filter((c) => !c.priority).map((c) => [c.name, c.jsonPath]), [
    ['Role', '.spec.role'],
    ['Expires', '.spec.expiresAt'],
    ['Key', '.status.keyId'],
    ['Ready', '.status.conditions[?(@.type=="Ready")].status'],
    ['Age', '.metadata.creationTimestamp'],
  ]);
});
