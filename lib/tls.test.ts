import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTlsDir } from './tls.ts';
import { kafkaSecurityFromEnv } from './kafka.ts';
import { clickhouseSettingsFromEnv } from './clickhouse.ts';
import { temporalTlsFromEnv } from './temporal-worker.ts';

const dirWith = (files: Record<string, string>) => {
  const dir = mkdtempSync(join(tmpdir(), 'uspa-tls-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
};

test('readTlsDir: the files of a mounted TLS Secret, each optional; a half client pair or a missing directory names the variable', () => {
  assert.equal(readTlsDir(undefined, 'X_TLS_DIR'), undefined);
  const all = readTlsDir(dirWith({ 'ca.crt': 'CA', 'tls.crt': 'CERT', 'tls.key': 'KEY' }), 'X_TLS_DIR')!;
  assert.deepEqual([all.ca?.toString(), all.cert?.toString(), all.key?.toString()], ['CA', 'CERT', 'KEY']);
  assert.deepEqual(readTlsDir(dirWith({ 'ca.crt': 'CA' }), 'X_TLS_DIR'), { ca: Buffer.from('CA'), cert: undefined, key: undefined });
  assert.throws(() => readTlsDir(dirWith({ 'tls.crt': 'CERT' }), 'X_TLS_DIR'), /X_TLS_DIR=.*needs both tls\.crt and tls\.key/);
  assert.throws(() => readTlsDir('/nonexistent/uspa', 'X_TLS_DIR'), /X_TLS_DIR=\/nonexistent\/uspa: no such directory/);
});

test('each engine reads its TLS and credentials from env; without them, plaintext as before', () => {
  assert.deepEqual(kafkaSecurityFromEnv({}), {});
  assert.deepEqual(kafkaSecurityFromEnv({ KAFKA_TLS: 'true' }), { ssl: {} }, 'TLS with the system CAs');
  const dir = dirWith({ 'ca.crt': 'CA', 'tls.crt': 'CERT', 'tls.key': 'KEY' });
  const kafka = kafkaSecurityFromEnv({ KAFKA_TLS_DIR: dir, KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' });
  assert.equal(kafka.ssl?.ca?.toString(), 'CA');
  assert.deepEqual(kafka.sasl, { mechanism: 'scram-sha-512', username: 'u', password: 'p' });
  assert.throws(() => kafkaSecurityFromEnv({ KAFKA_SASL_MECHANISM: 'gssapi', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }), /KAFKA_SASL_MECHANISM=gssapi: choose plain, scram-sha-256, scram-sha-512/);
  assert.throws(() => kafkaSecurityFromEnv({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u' }), /needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/);

  assert.equal(clickhouseSettingsFromEnv({ CLICKHOUSE_URL: 'https://ch:8443' }).tls, undefined);
  assert.equal(clickhouseSettingsFromEnv({ CLICKHOUSE_URL: 'https://ch:8443', CLICKHOUSE_TLS_DIR: dir }).tls?.ca?.toString(), 'CA');

  assert.equal(temporalTlsFromEnv({}), undefined);
  assert.deepEqual(temporalTlsFromEnv({ TEMPORAL_TLS: 'true' }), {});
  const mtls = temporalTlsFromEnv({ TEMPORAL_TLS_DIR: dir, TEMPORAL_TLS_SERVER_NAME: 'ns.tmprl.cloud' })!;
  assert.equal(mtls.serverNameOverride, 'ns.tmprl.cloud');
  assert.equal(mtls.serverRootCACertificate?.toString(), 'CA');
  assert.deepEqual([mtls.clientCertPair?.crt.toString(), mtls.clientCertPair?.key.toString()], ['CERT', 'KEY']);
});
