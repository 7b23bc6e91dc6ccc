// ApiKeys and the API gateway against the real API server: the key generated into its Secret and
// only its hash in status, rotation by deleting the Secret, expiry, the CEL rules on origins, the
// key never in logs, Events or status; the namespace's uspa-api workload while it has a Pipeline.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GROUP, VERSION, apiKeyHash, apiKeyId } from '../../api/v1alpha1/index.ts';
import { eventually } from '../support/env.ts';
import { SOURCE_AND_PIPELINE } from '../support/manifests.ts';
import { kubectl, operatorHarness, type OperatorHarness } from '../support/operator.ts';

const yaml = String.raw;

describe('ApiKey', { timeout: 300_000 }, () => {
  let h: OperatorHarness;
  /** Every key the operator generated here: none may appear anywhere but in its Secret. */
  const seen = new Set<string>();
  before(async () => {
    h = await operatorHarness('apikey');
    await h.startOperator();
  });
  after(async () => h?.close());

  const keyOf = async (secret: string) => {
    const s = await h.core.readNamespacedSecret({ name: secret, namespace: h.namespace });
    const key = Buffer.from(s.data!.apiKey!, 'base64').toString();
    seen.add(key);
    return { key, secret: s };
  };
  const status = async (name: string) => (await h.get('apikeys', name)).status as Record<string, string> & { conditions?: Array<{ type: string; status: string; reason: string; message: string }> };
  const absent = async (read: () => Promise<unknown>) => read().then(() => false, (err: { code?: number }) => err.code === 404);
  const events = async (reason: string) => (await kubectl(['get', 'events', '-n', h.namespace, '--field-selector', `reason=${reason}`, '-o', 'json'])) as string;

  test('the API server refuses decisions without origins, origins on another role, a malformed origin and an unknown role, naming the field', async () => {
    const create = (name: string, spec: object) => h.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: h.namespace, plural: 'apikeys', body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'ApiKey', metadata: { name }, spec } });
    const refused = async (spec: object, pattern: RegExp) => {
      const err = await create('refused', spec).then(
        () => undefined,
        (e: { body?: unknown; message?: string }) => (JSON.parse(String(e.body ?? '{}')) as { message?: string }).message ?? String(e.message),
      );
      assert.ok(err, `accepted: ${JSON.stringify(spec)}`);
      assert.match(err, pattern);
    };
    await refused({ role: 'decisions' }, /spec\.origins: Required value: spec\.origins is required when role is decisions/);
    await refused({ role: 'admin', origins: ['https://shop.example.com'] }, /spec\.origins: Forbidden: spec\.origins is only allowed when role is decisions/);
    await refused({ role: 'decisions', origins: ['https://shop.example.com/cart'] }, /spec\.origins\[0\]: Invalid value/);
    await refused({ role: 'decisions', origins: [] }, /spec\.origins/);
    await refused({ role: 'root' }, /spec\.role: Unsupported value: "root"/);
    await refused({ role: 'admin', rateLimit: { requestsPerSecond: 0 } }, /spec\.rateLimit\.requestsPerSecond/);
    // The accepted form, with the rate limit's defaults filled in.
    const ok = (await create('storefront', { role: 'decisions', origins: ['https://shop.example.com', 'http://localhost:3000'] })) as { spec: { rateLimit: unknown } };
    assert.deepEqual(ok.spec.rateLimit, { requestsPerSecond: 50, burst: 100 });
  });

  test('a key is generated into its Secret; status has its hash, id and Secret; without a Pipeline it says no API runs yet', async () => {
    await h.apply(yaml`
apiVersion: uspa.tech/v1alpha1
kind: ApiKey
metadata: { name: admin }
spec: { role: admin, description: The first administrator }
`);
    const c = await h.ready('apikeys', 'admin', 'NoApi');
    assert.equal(c.status, 'True', 'the key is valid; it works once a Pipeline starts the gateway');
    assert.match(c.message, /no API runs in namespace/);
    const { key, secret } = await keyOf('uspa-apikey-admin');
    assert.match(key, /^uspa_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(secret.metadata!.ownerReferences!.map((o) => [o.kind, o.name, o.controller]), [['ApiKey', 'admin', true]], 'goes with its ApiKey');
    const s = await status('admin');
    assert.equal(s.keyHash, apiKeyHash(key));
    assert.equal(s.keyId, apiKeyId(apiKeyHash(key)));
    assert.equal(s.secretName, 'uspa-apikey-admin');
    assert.ok(Date.parse(s.keyCreatedAt!) > 0);
    assert.match(await events('KeyIssued'), new RegExp(`issued key ${s.keyId}`));
    const out = await kubectl(['get', 'ak', 'admin', '-n', h.namespace]);
    assert.match(out, /ROLE\s+EXPIRES\s+KEY\s+READY\s+AGE/);
    assert.match(out, new RegExp(`admin\\s+admin\\s+${s.keyId}\\s+True`), 'no expiry: EXPIRES is empty');
  });

  test('an existing Secret named by spec.secretName is used as it is, never overwritten', async () => {
    const mine = 'uspa_my-own-key-that-the-operator-must-keep-0123456789';
    seen.add(mine);
    await h.core.createNamespacedSecret({ namespace: h.namespace, body: { metadata: { name: 'ci-key' }, stringData: { apiKey: mine } } });
    await h.apply(yaml`
apiVersion: uspa.tech/v1alpha1
kind: ApiKey
metadata: { name: ci }
spec: { role: reader, secretName: ci-key }
`);
    await h.ready('apikeys', 'ci', 'NoApi');
    assert.equal((await status('ci')).keyHash, apiKeyHash(mine));
    assert.equal((await keyOf('ci-key')).key, mine);
  });

  test('deleting the Secret rotates the key within seconds: a new key, a new hash, a KeyRotated Event', async () => {
    const before = await keyOf('uspa-apikey-admin');
    const hashBefore = (await status('admin')).keyHash;
    await h.core.deleteNamespacedSecret({ name: 'uspa-apikey-admin', namespace: h.namespace });
    const started = Date.now();
    const after = await eventually('a new key Secret', async () => {
      const s = await keyOf('uspa-apikey-admin').catch(() => undefined);
      return s && s.key !== before.key ? s : undefined;
    }, 20_000);
    await eventually('status to carry the new hash', async () => (await status('admin')).keyHash === apiKeyHash(after.key), 20_000);
    assert.ok(Date.now() - started < 20_000);
    assert.notEqual(apiKeyHash(after.key), hashBefore);
    assert.match(await events('KeyRotated'), new RegExp(`new key ${apiKeyId(apiKeyHash(after.key))}`));
  });

  test('a key past spec.expiresAt is Ready=False with reason Expired, at the instant it expires', async () => {
    const at = new Date(Date.now() + 6_000).toISOString().replace(/\.\d+Z$/, 'Z');
    await h.apply(yaml`
apiVersion: uspa.tech/v1alpha1
kind: ApiKey
metadata: { name: short }
spec: { role: analyst, expiresAt: "${at}" }
`);
    await h.ready('apikeys', 'short', 'NoApi');
    await keyOf('uspa-apikey-short');
    const c = await h.ready('apikeys', 'short', 'Expired', 30_000);
    assert.equal(c.status, 'False');
    assert.ok(Date.now() >= Date.parse(at));
    assert.match(c.message, new RegExp(`expired at ${at}`));
    await kubectl(['patch', 'apikey', 'short', '-n', h.namespace, '--type=merge', '-p', JSON.stringify({ spec: { expiresAt: '2099-01-01T00:00:00Z' } })]);
    await h.ready('apikeys', 'short', 'NoApi');
  });

  test('a namespace with a Pipeline gets the uspa-api Deployment, Service, ConfigMap and RBAC; Pipeline status.apiUrl; keys are KeyIssued', async () => {
    await h.apply(SOURCE_AND_PIPELINE);
    const d = await eventually('the uspa-api Deployment', () => h.apps.readNamespacedDeployment({ name: 'uspa-api', namespace: h.namespace }).catch(() => undefined));
    const c = d.spec!.template.spec!.containers[0]!;
    assert.deepEqual(c.args, ['api']);
    const env = Object.fromEntries(c.env!.map((e) => [e.name, e.value ?? e.valueFrom]));
    assert.deepEqual([env.USPA_PIPELINE, env.USPA_NAMESPACE, env.USPA_DATABASE, env.USPA_TOPIC_PREFIX, env.USPA_CONFIG], ['main', h.namespace, h.warehouse.database, `${h.settings.topicPrefix}.${h.namespace}`, '/etc/uspa/config.yaml']);
    assert.equal(JSON.stringify(env.CLICKHOUSE_PASSWORD), JSON.stringify({ secretKeyRef: { key: 'CLICKHOUSE_PASSWORD', name: 'uspa-api-clickhouse' } }));
    assert.equal(d.spec!.template.spec!.serviceAccountName, 'uspa-api');
    const service = await h.core.readNamespacedService({ name: 'uspa-api', namespace: h.namespace });
    assert.deepEqual(service.spec!.ports!.map((p) => [p.name, p.port]), [['http', 8081]]);
    const config = await h.core.readNamespacedConfigMap({ name: 'uspa-api', namespace: h.namespace });
    assert.match(config.data!['config.yaml']!, /name: main/);
    await h.core.readNamespacedServiceAccount({ name: 'uspa-api', namespace: h.namespace });
    const role = JSON.parse(await kubectl(['get', 'role', 'uspa-api', '-n', h.namespace, '-o', 'json'])) as { rules: Array<{ resources: string[]; verbs: string[] }> };
    assert.ok(role.rules.some((r) => r.resources.includes('apikeys') && r.verbs.includes('watch')));
    assert.ok(role.rules.some((r) => r.resources.includes('segments') && r.verbs.includes('delete')));
    // Of Secrets, only its Sources' write keys, by name (the dashboard shows them to admins); never an ApiKey's.
    assert.deepEqual(role.rules.filter((r) => r.resources.includes('secrets')), [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['web-write-key'], verbs: ['get'] }]);
    await kubectl(['get', 'rolebinding', 'uspa-api', '-n', h.namespace]);
    // The gateway's account can read ApiKeys and no Secret but its Sources' write keys, asked of the API server.
    const as = `--as=system:serviceaccount:${h.namespace}:uspa-api`;
    await eventually('the RoleBinding to take effect', async () => (await kubectl(['auth', 'can-i', 'watch', 'apikeys.uspa.tech', '-n', h.namespace, as]).catch(() => 'no')).trim() === 'yes', 30_000);
    assert.equal((await kubectl(['auth', 'can-i', 'get', 'secrets', '-n', h.namespace, as]).catch(() => 'no\n')).trim(), 'no');
    assert.equal((await kubectl(['auth', 'can-i', 'get', 'secrets/uspa-apikey-short', '-n', h.namespace, as]).catch(() => 'no\n')).trim(), 'no', 'not an ApiKey\'s Secret');
    assert.equal((await kubectl(['auth', 'can-i', 'list', 'secrets', '-n', h.namespace, as]).catch(() => 'no\n')).trim(), 'no');
    assert.equal((await kubectl(['auth', 'can-i', 'get', 'secrets/web-write-key', '-n', h.namespace, as]).catch(() => 'no\n')).trim(), 'yes', 'its Source\'s write key');
    for (const o of [d, service, config]) assert.deepEqual(o.metadata!.ownerReferences!.map((r) => [r.kind, r.name, r.controller]), [['Pipeline', 'main', false]]);
    await eventually('Pipeline status.apiUrl', async () => (await h.get('pipelines', 'main')).status?.apiUrl === `http://uspa-api.${h.namespace}.svc:8081`);
    const c2 = await h.ready('apikeys', 'admin', 'KeyIssued');
    assert.match(c2.message, /issued for role admin/);
  });

  test('the keys never appear in status, operator logs or Events', async () => {
    const list = await kubectl(['get', 'apikeys', '-n', h.namespace, '-o', 'json']);
    for (const k of (JSON.parse(list) as { items: Array<{ status: { secretName: string } }> }).items) await keyOf(k.status.secretName);
    assert.ok(seen.size >= 5);
    const all = await kubectl(['get', 'events', '-n', h.namespace, '-o', 'json']);
    for (const key of seen) {
      for (const [where, text] of [['ApiKeys', list], ['Events', all], ['operator logs', h.logs.join('')]] as const) assert.ok(!text.includes(key), `a key leaked into ${where}`);
    }
  });

  test('deleting the last Pipeline removes the gateway; the ApiKeys say no API runs again', async () => {
    assert.equal(await absent(() => h.apps.readNamespacedDeployment({ name: 'uspa-api', namespace: h.namespace })), false, 'the gateway runs before');
    await kubectl(['delete', 'pipeline', 'main', '-n', h.namespace, '--wait=true', '--timeout=60s']);
    await eventually('the uspa-api Deployment, Service and ConfigMap to be garbage-collected', async () => {
      const gone = await Promise.all([
        absent(() => h.apps.readNamespacedDeployment({ name: 'uspa-api', namespace: h.namespace })),
        absent(() => h.core.readNamespacedService({ name: 'uspa-api', namespace: h.namespace })),
        absent(() => h.core.readNamespacedConfigMap({ name: 'uspa-api', namespace: h.namespace })),
      ]);
      return gone.every(Boolean);
    }, 60_000);
    await h.ready('apikeys', 'admin', 'NoApi');
  });
});
