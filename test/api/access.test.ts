// Who may call what, tested for every operation the API serves and every role (read from the
// served OpenAPI document, so a new endpoint is covered the day it is added), and the ways a key
// stops working: revocation, rotation, expiry, suspension; rate limits; browser origins; and
// hostile input in every parameter of every operation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { API_ROLES, apiKeyHash, apiKeyId, generateApiKey } from '../../api/v1alpha1/index.ts';
import { ROLE_PERMISSIONS } from '../../gateway/access/roles.ts';
import { eventually } from '../support/env.ts';
import { kubeConfig } from '../support/operator.ts';
import { startApi, type ApiHarness, type CallResult } from '../support/gateway.ts';

interface DocOperation {
  path: string;
  method: string;
  operationId: string;
  permission?: string;
  parameters: Array<{ name: string; in: 'path' | 'query'; schema: Record<string, unknown> }>;
  hasBody: boolean;
}

function operationsOf(document: Record<string, unknown>): DocOperation[] {
  const out: DocOperation[] = [];
  for (const [path, methods] of Object.entries(document.paths as Record<string, Record<string, Record<string, unknown>>>)) {
    for (const [method, op] of Object.entries(methods)) {
      out.push({ path, method, operationId: op.operationId as string, permission: op['x-uspa-permission'] as string | undefined, parameters: (op.parameters as DocOperation['parameters']) ?? [], hasBody: Boolean(op.requestBody) });
    }
  }
  return out;
}

/** A plausible value for a path parameter, so that a permitted call gets past the router. */
function sample(name: string): string {
  if (name === 'identity') return 'userId:nobody';
  return 'nothing';
}

function fill(path: string, value: (name: string) => string): string {
  return path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(value(name)));
}

const SQL = ["x' OR '1'='1", "'; DROP DATABASE {db}; --", 'userId:x\' UNION SELECT * FROM system.users --', '1) OR (1=1'];

describe('API access', { timeout: 600_000 }, () => {
  let h: ApiHarness;
  let ops: DocOperation[];
  const keys: Record<string, string> = {};
  before(async () => {
    h = await startApi();
    ops = operationsOf(h.document);
    for (const role of API_ROLES) keys[role] = await h.key(role, {}, `role-${role}`);
  });
  after(async () => {
    await h?.close();
  });

  test('the document lists the operations, each with a permission or "any key"', () => {
    assert.ok(ops.length >= 2, `operations served: ${ops.map((o) => o.operationId).join(', ')}`);
    for (const o of ops) assert.ok(o.permission || o.operationId === 'whoami', `${o.operationId} names its permission`);
  });

  test('every role × every operation: 403 exactly where the role lacks the permission', async () => {
    const cells: string[] = [];
    for (const o of ops) {
      for (const role of API_ROLES) {
        const res = await h.call(keys[role], o.method, fill(o.path, sample), o.hasBody ? { body: {} } : {});
        const allowed = !o.permission || (ROLE_PERMISSIONS[role] as readonly string[]).includes(o.permission);
        if (allowed) assert.notEqual(res.status, 403, `${role} may call ${o.method.toUpperCase()} ${o.path}: ${res.text.slice(0, 200)}`);
        else {
          assert.equal(res.status, 403, `${role} must not call ${o.method.toUpperCase()} ${o.path}`);
          assert.equal(res.body.error.code, 'forbidden');
          assert.match(res.body.error.message, new RegExp(`lacks permission ${o.permission}`));
        }
        assert.notEqual(res.status, 401, `${role}'s key is valid`);
        assert.ok(res.status < 500, `${role} ${o.method.toUpperCase()} ${o.path}: ${res.status} ${res.text.slice(0, 200)}`);
        cells.push(`${role}:${o.operationId}:${allowed ? 'allow' : 'deny'}`);
      }
    }
    assert.equal(cells.length, ops.length * API_ROLES.length);
  });

  test('no key, a malformed header, an unknown key: 401 naming header.authorization', async () => {
    const none = await h.call(undefined, 'get', '/v1/whoami');
    assert.equal(none.status, 401);
    assert.equal(none.body.error.field, 'header.authorization');
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
    const basic = await h.call(undefined, 'get', '/v1/whoami', { headers: { Authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } });
    assert.equal(basic.status, 401);
    assert.match(basic.body.error.message, /Bearer <key>/);
    const unknown = await h.call(generateApiKey(), 'get', '/v1/whoami');
    assert.equal(unknown.status, 401);
    assert.equal(unknown.body.error.code, 'unauthenticated');
  });

  test('whoami says which ApiKey and role a key is, never the key', async () => {
    const res = await h.call(keys.analyst, 'get', '/v1/whoami');
    assert.equal(res.status, 200);
    assert.equal(res.body.apiKey, 'role-analyst');
    assert.equal(res.body.role, 'analyst');
    assert.ok(!res.text.includes(keys.analyst!));
    assert.equal(res.body.keyId, apiKeyHash(keys.analyst!).slice(7, 19));
  });

  test('a revoked key (ApiKey deleted) is refused within seconds; a rotated one at once', async () => {
    const key = await h.key('reader', {}, 'revoke-me');
    assert.equal((await h.call(key, 'get', '/v1/whoami')).status, 200);
    const deletedAt = Date.now();
    await h.deleteKey('revoke-me');
    await eventually('the revoked key refused', async () => (await h.call(key, 'get', '/v1/whoami')).status === 401, 10_000);
    console.log(`revocation took effect after ${Date.now() - deletedAt} ms`);

    const first = await h.key('reader', {}, 'rotate-me');
    const second = generateApiKey();
    const custom = kubeConfig().makeApiClient(CustomObjectsApi);
    await custom.patchNamespacedCustomObjectStatus({ group: 'uspa.tech', version: 'v1alpha1', namespace: h.namespace, plural: 'apikeys', name: 'rotate-me', body: [{ op: 'replace', path: '/status/keyHash', value: apiKeyHash(second) }, { op: 'replace', path: '/status/keyId', value: apiKeyId(apiKeyHash(second)) }] }, { headers: { 'Content-Type': 'application/json-patch+json' } } as never);
    await eventually('the new key accepted', async () => (await h.call(second, 'get', '/v1/whoami')).status === 200, 10_000);
    assert.equal((await h.call(first, 'get', '/v1/whoami')).status, 401, 'the old key is refused once the new hash is known');
  });

  test('an expired key is refused from its expiry on, with code key_expired; a suspended one too', async () => {
    const key = await h.key('reader', { expiresAt: new Date(Date.now() + 4_000).toISOString().replace(/\.\d+Z$/, 'Z') }, 'expiring');
    assert.equal((await h.call(key, 'get', '/v1/whoami')).status, 200);
    const expired = await eventually('the key expired', async () => {
      const res = await h.call(key, 'get', '/v1/whoami');
      return res.status === 401 ? res : undefined;
    }, 15_000);
    assert.equal(expired.body.error.code, 'key_expired');

    const paused = await h.key('reader', {}, 'paused');
    const custom = kubeConfig().makeApiClient(CustomObjectsApi);
    await custom.patchNamespacedCustomObject({ group: 'uspa.tech', version: 'v1alpha1', namespace: h.namespace, plural: 'apikeys', name: 'paused', body: [{ op: 'add', path: '/spec/suspend', value: true }] });
    const res = await eventually('the suspended key refused', async () => {
      const r = await h.call(paused, 'get', '/v1/whoami');
      return r.status === 401 ? r : undefined;
    }, 10_000);
    assert.match(res.body.error.message, /suspended/);
  });

  test("over the key's rate limit: 429 with Retry-After, then served again", async () => {
    const key = await h.key('reader', { rateLimit: { requestsPerSecond: 2, burst: 2 } }, 'slow');
    const statuses: number[] = [];
    let limited: CallResult<{ error: { code: string } }> | undefined;
    for (let i = 0; i < 12; i++) {
      const res = await h.call(key, 'get', '/v1/whoami');
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    assert.ok(limited, `some of 12 back-to-back calls are limited: ${statuses.join(',')}`);
    assert.ok(statuses.filter((s) => s === 200).length >= 2, 'the allowance itself is served');
    const retryAfter = Number(limited!.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After ${limited!.headers.get('retry-after')}`);
    assert.equal(limited!.body.error.code, 'rate_limited');
    // Another key is not affected by this one's limit.
    assert.equal((await h.call(keys.reader, 'get', '/v1/whoami')).status, 200);
    await new Promise((r) => setTimeout(r, retryAfter * 1000 + 100));
    assert.equal((await h.call(key, 'get', '/v1/whoami')).status, 200);
  });

  test('browsers: a decisions key works from its origins only; other roles never from a browser', async () => {
    const shop = 'https://shop.example.com';
    const ok = await h.call(keys.decisions, 'get', '/v1/whoami', { headers: { Origin: shop } });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), shop);
    const evil = await h.call(keys.decisions, 'get', '/v1/whoami', { headers: { Origin: 'https://evil.example.com' } });
    assert.equal(evil.status, 403);
    assert.equal(evil.body.error.code, 'origin_not_allowed');
    assert.equal(evil.headers.get('access-control-allow-origin'), null);
    const admin = await h.call(keys.admin, 'get', '/v1/whoami', { headers: { Origin: shop } });
    assert.equal(admin.status, 403);
    assert.match(admin.body.error.message, /must not be used from a browser/);

    const preflight = await fetch(`${h.url}/v1/whoami`, { method: 'OPTIONS', headers: { Origin: shop, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' } });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), shop);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /Authorization/);
    const strange = await fetch(`${h.url}/v1/whoami`, { method: 'OPTIONS', headers: { Origin: 'https://evil.example.com', 'Access-Control-Request-Method': 'GET' } });
    assert.equal(strange.headers.get('access-control-allow-origin'), null);
  });

  test('hostile input in every parameter of every operation: a 4xx in the one shape, nothing changed', async () => {
    // Hundreds of calls in a few seconds: a key whose limit this test is not about.
    const admin = await h.key('admin', { rateLimit: { requestsPerSecond: 10_000, burst: 100_000 } }, 'hostile-admin');
    const before = await h.product.warehouse.query<{ name: string; rows: string }>("SELECT name, toString(total_rows) AS rows FROM system.tables WHERE database = {d:String} AND name NOT IN ('api_audit', 'pipeline_state') ORDER BY name", { d: h.product.database });
    const seen: string[] = [];
    for (const o of ops) {
      for (const p of o.parameters) {
        for (const bad of [...SQL, 'x'.repeat(5000), '\u0000\u0007', '../../etc/passwd']) {
          const path = fill(o.path, (name) => (p.in === 'path' && name === p.name ? bad : sample(name)));
          const query = p.in === 'query' ? { [p.name]: bad } : {};
          const res = await h.call(admin, o.method, path, { query, ...(o.hasBody ? { body: {} } : {}) });
          // A refusal (4xx) or, for a free-text filter, an honest "nothing matches" — never a 5xx.
          assert.ok(res.status < 500, `${o.operationId} ${p.in}.${p.name}=${JSON.stringify(bad.slice(0, 30))}: ${res.status} ${res.text.slice(0, 300)}`);
          if (res.status >= 400) assert.equal(res.body?.error?.status, res.status, `${o.operationId}: the error shape`);
          else assert.ok(p.in === 'query' && (p.schema.type === 'string' || (Array.isArray(p.schema.type) && p.schema.type.includes('string'))) && !p.schema.enum && !p.schema.format, `${o.operationId}: ${p.in}.${p.name}=${JSON.stringify(bad.slice(0, 30))} accepted (${res.status}) although it is not free text`);
          seen.push(`${o.operationId}.${p.name}`);
        }
        if (p.name === 'limit') {
          const res = await h.call(admin, o.method, fill(o.path, sample), { query: { limit: 100_000_000 } });
          assert.equal(res.status, 400, `${o.operationId}: limit 100000000`);
          assert.equal(res.body.error.field, 'query.limit');
        }
        if (p.name === 'cursor') {
          for (const cursor of ['garbage!', Buffer.from('{"offset":"1; DROP TABLE x"}').toString('base64url'), Buffer.from('[1,2]').toString('base64url')]) {
            const res = await h.call(admin, o.method, fill(o.path, sample), { query: { cursor } });
            assert.equal(res.status, 400, `${o.operationId}: cursor ${cursor}`);
            assert.equal(res.body.error.field, 'query.cursor');
          }
        }
      }
      if (o.hasBody) {
        const res = await h.call(admin, o.method, fill(o.path, sample), { raw: '{"name": "x", ' });
        assert.equal(res.status, 400, `${o.operationId}: broken JSON`);
        assert.equal(res.body.error.field, 'body');
      }
    }
    const unknownParam = await h.call(admin, 'get', '/v1/whoami', { query: { "1'; DROP TABLE events --": 'x' } });
    assert.equal(unknownParam.status, 400, 'an unknown query parameter is refused, not ignored');
    const after = await h.product.warehouse.query<{ name: string; rows: string }>("SELECT name, toString(total_rows) AS rows FROM system.tables WHERE database = {d:String} AND name NOT IN ('api_audit', 'pipeline_state') ORDER BY name", { d: h.product.database });
    // The audit log records the calls themselves; every table of data stays as it was.
    assert.deepEqual(after, before, 'no table was created, dropped or written to');
    assert.ok(seen.length > 0);
  });

  test('an unknown endpoint answers 404 in the one error shape', async () => {
    const res = await fetch(`${h.url}/v1/nothing-here`, { headers: { Authorization: `Bearer ${keys.admin}` } });
    assert.equal(res.status, 404);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'not_found');
    assert.match(body.error.message, /openapi\.json/);
  });
});
