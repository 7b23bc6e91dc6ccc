// ClickHouse over https and Temporal over TLS and mTLS, the way USPA's processes connect when the
// chart names TLS Secrets: CLICKHOUSE_TLS_DIR / TEMPORAL_TLS_DIR pointing at ca.crt, tls.crt,
// tls.key. The stack's engines speak plaintext, so a TLS-terminating proxy (a CA and certificates
// made here with openssl) stands in front of the real ClickHouse and Temporal. Kafka is not covered:
// its brokers advertise their own addresses, which a proxy in front cannot stand for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type TLSSocket } from 'node:tls';
import { Connection } from '@temporalio/client';
import { Warehouse, clickhouseSettingsFromEnv } from '../../lib/clickhouse.ts';
import { temporalTlsFromEnv } from '../../lib/temporal-worker.ts';
import { required } from '../support/env.ts';

/** A CA, a server certificate for 127.0.0.1 and a client certificate, as TLS Secret directories. */
function certificates(): { root: string; server: { key: Buffer; cert: Buffer; ca: Buffer }; clientDir: string; caOnlyDir: string } {
  const root = mkdtempSync(join(tmpdir(), 'uspa-tls-'));
  const ssl = (args: string[]) => execFileSync('openssl', args, { cwd: root, stdio: 'pipe' });
  ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=uspa-test-ca']);
  for (const [name, cn, ext] of [['server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1'], ['client', 'uspa-client', 'extendedKeyUsage=clientAuth']] as const) {
    ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    writeFileSync(join(root, `${name}.ext`), `${ext}\n`);
    ssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`]);
  }
  // The Secret layouts the chart mounts: with and without a client certificate.
  const clientDir = join(root, 'client-secret');
  const caOnlyDir = join(root, 'ca-secret');
  mkdirSync(clientDir);
  mkdirSync(caOnlyDir);
  copyFileSync(join(root, 'ca.crt'), join(clientDir, 'ca.crt'));
  copyFileSync(join(root, 'client.crt'), join(clientDir, 'tls.crt'));
  copyFileSync(join(root, 'client.key'), join(clientDir, 'tls.key'));
  copyFileSync(join(root, 'ca.crt'), join(caOnlyDir, 'ca.crt'));
  return { root, server: { key: readFileSync(join(root, 'server.key')), cert: readFileSync(join(root, 'server.crt')), ca: readFileSync(join(root, 'ca.crt')) }, clientDir, caOnlyDir };
}

/** TLS in front of a plaintext host:port; with mutual, only clients with a certificate of the CA get through. */
async function tlsProxy(target: string, server: { key: Buffer; cert: Buffer; ca: Buffer }, options: { mutual?: boolean; alpn?: string[] } = {}): Promise<{ port: number; close(): Promise<void> }> {
  const url = new URL(target.includes('://') ? target : `tcp://${target}`);
  const open = new Set<{ destroy(): void }>();
  const proxy = createServer({ key: server.key, cert: server.cert, ca: server.ca, requestCert: Boolean(options.mutual), rejectUnauthorized: Boolean(options.mutual), ALPNProtocols: options.alpn }, (socket: TLSSocket) => {
    const upstream = connect(Number(url.port), url.hostname);
    open.add(socket).add(upstream);
    socket.pipe(upstream).pipe(socket);
    const end = () => { socket.destroy(); upstream.destroy(); };
    socket.on('error', end);
    upstream.on('error', end);
  });
  proxy.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    port: (proxy.address() as AddressInfo).port,
    // Kept-alive client connections would hold close() open for minutes.
    close: () => new Promise((resolve) => {
      proxy.close(() => resolve());
      for (const s of open) s.destroy();
    }),
  };
}

test('ClickHouse over https with CLICKHOUSE_TLS_DIR; without the CA the certificate is refused', { timeout: 60_000 }, async (t) => {
  const url = required('CLICKHOUSE_URL');
  const certs = certificates();
  const proxy = await tlsProxy(url, certs.server);
  t.after(async () => {
    await proxy.close();
    rmSync(certs.root, { recursive: true, force: true });
  });
  const env = { ...process.env, CLICKHOUSE_URL: `https://127.0.0.1:${proxy.port}` };
  const trusted = new Warehouse(clickhouseSettingsFromEnv({ ...env, CLICKHOUSE_TLS_DIR: certs.caOnlyDir }));
  t.after(() => trusted.close());
  assert.deepEqual(await trusted.query<{ one: number }>('SELECT 1 AS one'), [{ one: 1 }]);

  const untrusted = new Warehouse(clickhouseSettingsFromEnv(env));
  t.after(() => untrusted.close());
  await assert.rejects(untrusted.query('SELECT 1'), /self[- ]signed|unable to verify|certificate/i);
});

test('Temporal over TLS and mTLS with TEMPORAL_TLS_DIR; a client without its certificate is refused', { timeout: 60_000 }, async (t) => {
  const address = required('TEMPORAL_ADDRESS');
  const certs = certificates();
  const proxy = await tlsProxy(address, certs.server, { mutual: true, alpn: ['h2'] });
  t.after(async () => {
    await proxy.close();
    rmSync(certs.root, { recursive: true, force: true });
  });
  const at = `127.0.0.1:${proxy.port}`;
  const connection = await Connection.connect({ address: at, tls: temporalTlsFromEnv({ TEMPORAL_TLS_DIR: certs.clientDir }), connectTimeout: 10_000 });
  t.after(() => connection.close());
  const info = await connection.workflowService.getSystemInfo({});
  assert.ok(info.serverVersion, 'the server answered through mTLS');

  // The CA alone (TLS without a client certificate) is not enough for a server that wants one.
  await assert.rejects(
    Connection.connect({ address: at, tls: temporalTlsFromEnv({ TEMPORAL_TLS_DIR: certs.caOnlyDir }), connectTimeout: 3_000 }).then(async (c) => {
      try {
        await c.withDeadline(Date.now() + 3_000, () => c.workflowService.getSystemInfo({}));
      } finally {
        await c.close();
      }
    }),
  );
});
