// The installation's webhook address policy, from the Helm value to the activations worker: the
// chart passes activations.webhookPrivateAddresses to the operator (deny unless set, a wrong value
// refused by the schema), the operator reads it and hands it to each namespace's activations worker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { WEBHOOK_ADDRESS_ENV } from '../../api/activation-destinations.ts';
import { workerManifests } from '../../operator/manifests/workers.ts';
import { settingsFromEnv } from '../../operator/settings.ts';

const CHART = fileURLToPath(new URL('../../helm/uspa', import.meta.url));
const ENGINES = ['--set', 'kafka.brokers=kafka:9092', '--set', 'clickhouse.url=http://clickhouse:8123', '--set', 'temporal.address=temporal:7233'];

function helmTemplate(extra: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.env.USPA_HELM || 'helm', ['template', 'uspa', CHART, '--kube-version', '1.34.0', ...ENGINES, ...extra], { maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: stdout + stderr }));
  });
}

async function operatorEnv(extra: string[]): Promise<string | undefined> {
  const { code, out } = await helmTemplate(extra);
  assert.equal(code, 0, out);
  const deployment = parseAllDocuments(out).map((d) => d.toJS()).find((o) => o?.kind === 'Deployment');
  return deployment.spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === WEBHOOK_ADDRESS_ENV)?.value;
}

test('the chart: deny by default, the value when set, anything else refused', { timeout: 60_000 }, async () => {
  assert.equal(await operatorEnv([]), 'deny');
  assert.equal(await operatorEnv(['--set', 'activations.webhookPrivateAddresses=loopback']), 'loopback');
  const wrong = await helmTemplate(['--set', 'activations.webhookPrivateAddresses=yes']);
  assert.equal(wrong.code, 1);
  assert.match(wrong.out, /webhookPrivateAddresses.*value must be one of 'deny', 'loopback', 'allow'/);
});

test('the operator reads it and passes it to the activations worker only', () => {
  const env = { KAFKA_BROKERS: 'k:9092', CLICKHOUSE_URL: 'http://ch:8123', TEMPORAL_ADDRESS: 't:7233' };
  assert.equal(settingsFromEnv(env).webhookAddresses, 'deny');
  const settings = settingsFromEnv({ ...env, [WEBHOOK_ADDRESS_ENV]: 'loopback' });
  assert.throws(() => settingsFromEnv({ ...env, [WEBHOOK_ADDRESS_ENV]: 'on' }), /USPA_WEBHOOK_PRIVATE_ADDRESSES is "on"/);
  const envOf = (kind: 'activations' | 'segments') => workerManifests('shop', kind, [], settings).deployment.spec!.template.spec!.containers[0]!.env!;
  assert.equal(envOf('activations').find((e) => e.name === WEBHOOK_ADDRESS_ENV)?.value, 'loopback');
  assert.equal(envOf('segments').find((e) => e.name === WEBHOOK_ADDRESS_ENV), undefined);
});
