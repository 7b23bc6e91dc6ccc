// Each namespace's ClickHouse user. Where the engine can store users (a ClickHouse server with a
// writable user directory), the namespace's workers reach only its database and deleting the
// namespace's Secret rotates the password. The local stack's embedded engine cannot store users
// (README): there the operator must say so — Degraded with ClickHouse's refusal, never falling back
// to the shared credentials, and no password in status, Events or logs — and the shared mode must
// say Shared in status.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Warehouse } from '../../lib/clickhouse.ts';
import { tenantUserStatements } from '../../operator/manifests/tenancy.ts';
import { eventually } from '../support/env.ts';
import { SOURCE_AND_PIPELINE } from '../support/manifests.ts';
import { kubectl, operatorHarness, type OperatorHarness } from '../support/operator.ts';

async function secretText(h: OperatorHarness, name: string, key: string): Promise<string | undefined> {
  const s = await h.core.readNamespacedSecret({ name, namespace: h.namespace }).catch(() => undefined);
  const v = s?.data?.[key];
  return v === undefined ? undefined : Buffer.from(v, 'base64').toString();
}

describe('ClickHouse users: one per namespace', { timeout: 300_000 }, () => {
  let h: OperatorHarness;
  let canStoreUsers = false;
  before(async () => {
    h = await operatorHarness('tenancy');
    const directories = await h.warehouse.query<{ type: string }>('SELECT type FROM system.user_directories');
    canStoreUsers = directories.some((d) => d.type !== 'users_xml');
    h.settings.namespaceUsers = true;
    await h.startOperator();
    await h.apply(SOURCE_AND_PIPELINE);
  });
  after(async () => h?.close());

  test('the namespace gets a user of its own, never the operator\'s credentials', async () => {
    const user = h.warehouse.database;
    await eventually('the namespace Secret', async () => secretText(h, 'uspa-clickhouse', 'password'));
    assert.equal(await secretText(h, 'uspa-clickhouse', 'username'), user);
    const password = (await secretText(h, 'uspa-clickhouse', 'password'))!;
    assert.ok(password.length >= 40);

    if (!canStoreUsers) {
      // The embedded engine refuses CREATE USER: the Pipeline says so, and no workload gets the shared credentials.
      const c = await h.ready('pipelines', 'main', 'ClickHouseError');
      assert.match(c.message, new RegExp(`ClickHouse user ${user}: .*(privileges|access storage)`));
      assert.equal(await secretText(h, 'uspa-pipeline-main-clickhouse', 'CLICKHOUSE_PASSWORD'), undefined, 'a workload got credentials');
      const shown = JSON.stringify(await h.get('pipelines', 'main')) + (await kubectl(['get', 'events', '-n', h.namespace, '-o', 'json'])) + h.logs.join('');
      assert.ok(!shown.includes(password), 'the namespace password leaked');
      // Deleting the Secret makes a new password (rotation), still refused the same way.
      await h.core.deleteNamespacedSecret({ name: 'uspa-clickhouse', namespace: h.namespace });
      await eventually('a new password', async () => {
        const next = await secretText(h, 'uspa-clickhouse', 'password');
        return next !== undefined && next !== password;
      }, 30_000);
      return;
    }

    // A ClickHouse that stores users: the workers' Secret holds the namespace's user, which reaches its database only.
    await eventually('the workers\' Secret with the namespace user', async () => (await secretText(h, 'uspa-pipeline-main-clickhouse', 'CLICKHOUSE_USER')) === user);
    assert.equal(await secretText(h, 'uspa-pipeline-main-clickhouse', 'CLICKHOUSE_PASSWORD'), password);
    const status = await h.get('pipelines', 'main');
    assert.deepEqual(status.status!.clickhouse, { user, isolation: 'NamespaceUser' });
    const other = `${h.warehouse.database}_other`;
    await h.warehouse.command(`CREATE DATABASE IF NOT EXISTS ${other}`);
    await h.warehouse.command(`CREATE TABLE IF NOT EXISTS ${other}.secrets (x String) ENGINE = MergeTree ORDER BY x`);
    const tenant = new Warehouse({ url: h.settings.clickhouse.url, username: user, password, database: user });
    try {
      assert.deepEqual(await tenant.query('SELECT count() AS n FROM {db}.events'), [{ n: '0' }]);
      await assert.rejects(tenant.query(`SELECT count() FROM ${other}.secrets`), /ACCESS_DENIED|Not enough privileges/);
    } finally {
      await tenant.close();
      await h.warehouse.command(`DROP DATABASE IF EXISTS ${other}`);
    }
    // Rotation: a deleted Secret gets a new password; the old one stops working, the workers get the new one.
    await h.core.deleteNamespacedSecret({ name: 'uspa-clickhouse', namespace: h.namespace });
    const rotated = await eventually('the workers\' Secret with a new password', async () => {
      const next = await secretText(h, 'uspa-pipeline-main-clickhouse', 'CLICKHOUSE_PASSWORD');
      return next !== undefined && next !== password ? next : undefined;
    }, 30_000);
    const old = new Warehouse({ url: h.settings.clickhouse.url, username: user, password, database: user });
    const fresh = new Warehouse({ url: h.settings.clickhouse.url, username: user, password: rotated, database: user });
    try {
      await assert.rejects(old.query('SELECT 1'), /AUTHENTICATION_FAILED|password is incorrect/);
      assert.deepEqual(await fresh.query('SELECT 1 AS one'), [{ one: 1 }]);
    } finally {
      await old.close();
      await fresh.close();
    }
  });

  test('the statements are ClickHouse SQL: its own parser (formatQuery) reads each as meant, a hostile user name as one identifier', async () => {
    const formatted = async (sql: string) => (await h.warehouse.query<{ f: string }>('SELECT formatQuery({q:String}) AS f', { q: sql }))[0]!.f;
    const [create, alter, grant] = await Promise.all(tenantUserStatements('uspa_shop', 'pw', 'uspa_shop').map(formatted));
    assert.match(create!, /^CREATE USER IF NOT EXISTS uspa_shop IDENTIFIED WITH sha256_hash BY '[0-9a-f]{64}' DEFAULT DATABASE uspa_shop$/);
    assert.match(alter!, /^ALTER USER uspa_shop IDENTIFIED WITH sha256_hash BY '[0-9a-f]{64}' DEFAULT DATABASE uspa_shop$/);
    assert.equal(grant, 'GRANT ALL ON uspa_shop.* TO uspa_shop');
    assert.equal(await formatted(tenantUserStatements('x` ON *.* TO `y', 'pw', 'db')[2]!), 'GRANT ALL ON db.* TO `x\\` ON *.* TO \\`y`');
  });

  test('shared credentials (an engine that cannot enforce users) are stated in status', async () => {
    await h.stopOperator();
    h.settings.namespaceUsers = false;
    await h.startOperator();
    await eventually('status.clickhouse Shared', async () => {
      const c = (await h.get('pipelines', 'main')).status!.clickhouse as { user: string; isolation: string } | undefined;
      return c?.isolation === 'Shared' && c.user === h.settings.clickhouse.username;
    });
    await eventually('the workers\' Secret with the operator\'s user', async () => (await secretText(h, 'uspa-pipeline-main-clickhouse', 'CLICKHOUSE_USER')) === h.settings.clickhouse.username);
  });
});
