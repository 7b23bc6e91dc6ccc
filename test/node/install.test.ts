// @serial: builds the image and runs every USPA component in containers on the node at once
// USPA as a platform engineer installs it: the image built by `npm run image`, imported into the
// node's containerd (no registry), `helm install` of helm/uspa against the stack's engines, and
// the whole path in containers on a real kubelet — the operator, then the collector, pipeline and
// Temporal workers it creates from the custom resources. An event sent to the collector's Service
// reaches ClickHouse, and a campaign fires a webhook. Needs the stack's node (`uspa stack up --node`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { database } from '../../api/names.ts';
import { Warehouse } from '../../lib/clickhouse.ts';
import { repoRoot } from '../../stack/paths.ts';
import { NODE_NETWORK, NODE_TAINT } from '../../stack/engines/node/config.ts';
import { webhookReceiver } from '../activations/support.ts';
import { eventually, unique } from '../support/env.ts';
import { kubectl } from '../support/operator.ts';

const HELM = process.env.USPA_HELM ?? 'helm';
const VERSION = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

function run(cmd: string, args: string[], timeout = 30 * 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: repoRoot, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr || err.message}\n${stdout.slice(-4000)}`));
      else resolve(stdout);
    });
  });
}

const seconds = (since: number) => Math.round((Date.now() - since) / 100) / 10;

test('node: helm install runs every component in containers on a real kubelet; an event reaches ClickHouse and a campaign fires', { timeout: 40 * 60_000 }, async (t) => {
  if (!process.env.USPA_NODE) {
    // CI runs as root and always has the node: a missing one there is a failure, not a skip.
    if (process.env.CI) assert.fail('the stack runs no node: `npm test` starts it with --node as root on Linux (USPA_STACK_NODE=0 leaves it out)');
    t.skip('the stack runs no node: start it with `uspa stack up --node` (root on Linux)');
    return;
  }
  const figures: Record<string, number | string> = {};

  // 1. The image, by the project's own daemonless build, into the node's containerd.
  let started = Date.now();
  const built = await run('bash', ['scripts/image.sh']);
  const archive = built.match(/^archive\s+(\S+)/m)?.[1];
  assert.ok(archive, `scripts/image.sh printed no "archive <path>" line:\n${built.slice(-2000)}`);
  figures.imageBuildSeconds = seconds(started);
  figures.imageSize = built.match(/^image\s+\S+ \(([^;]+);/m)?.[1] ?? 'unknown';
  started = Date.now();
  await run('ctr', ['--address', process.env.USPA_NODE_CONTAINERD!, '--namespace', 'k8s.io', 'images', 'import', archive]);
  figures.imageImportSeconds = seconds(started);

  // 2. helm install, as the README says, against the engines as Pods reach them.
  const ns = unique('e2e-node');
  const release = 'uspa';
  const hook = await webhookReceiver(() => 200, NODE_NETWORK.gateway);
  t.after(async () => {
    await hook.close();
    if (process.env.USPA_KEEP_E2E) return;
    await run(HELM, ['uninstall', release, '--namespace', ns, '--wait', '--timeout', '5m']).catch(() => undefined);
    await kubectl(['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
  });
  const onNode = { tolerations: [{ key: NODE_TAINT.key, operator: 'Exists', effect: NODE_TAINT.effect }] };
  const values = join(tmpdir(), `${ns}-values.json`);
  writeFileSync(values, JSON.stringify({
    image: { repository: 'localhost/uspa', tag: VERSION, pullPolicy: 'Never' },
    kafka: { brokers: [process.env.USPA_POD_KAFKA_BROKERS] },
    clickhouse: { url: process.env.USPA_POD_CLICKHOUSE_URL, user: process.env.CLICKHOUSE_USER ?? 'default', password: process.env.CLICKHOUSE_PASSWORD ?? '', namespaceUsers: false },
    temporal: { address: process.env.USPA_POD_TEMPORAL_ADDRESS },
    activations: { webhookPrivateAddresses: 'allow' },
    replicas: 1,
    ...onNode,
    workloads: onNode,
    tests: { namespace: ns, source: 'web' },
  }));
  started = Date.now();
  await run(HELM, ['install', release, join(repoRoot, 'helm', 'uspa'), '--namespace', ns, '--create-namespace', '--values', values, '--wait', '--timeout', '10m']);
  figures.helmInstallSeconds = seconds(started);
  const operator = JSON.parse(await kubectl(['-n', ns, 'get', 'pods', '-l', 'app.kubernetes.io/component=operator', '-o', 'json'])) as { items: Array<{ spec: { nodeName: string; containers: Array<{ image: string }> }; status: { containerStatuses?: Array<{ containerID?: string }> } }> };
  assert.ok(operator.items.length > 0, 'the operator runs');
  for (const pod of operator.items) {
    assert.equal(pod.spec.nodeName, process.env.USPA_NODE, 'the operator runs on the real node');
    assert.match(pod.status.containerStatuses?.[0]?.containerID ?? '', /^containerd:\/\//, 'in a container of containerd');
    assert.equal(pod.spec.containers[0]?.image, `localhost/uspa:${VERSION}`);
  }
  // kubectl logs and exec go through the API server to the kubelet (its client certificate).
  const operatorLog = await eventually('the operator\'s log through kubectl logs', async () => {
    const text = await kubectl(['-n', ns, 'logs', 'deploy/uspa-operator']).catch(() => '');
    return text.includes('caches synced') ? text : undefined;
  }, 120_000);
  assert.match(operatorLog, /"component":"operator"/);
  assert.equal((await kubectl(['-n', ns, 'exec', 'deploy/uspa-operator', '--', 'node', '-e', 'console.log(process.getuid())'])).trim(), '65532', 'kubectl exec runs in the container, as the image\'s user');

  // 3. What the operator runs: a Source, a Pipeline, a Segment and an Activation.
  started = Date.now();
  await kubectl(['-n', ns, 'apply', '-f', '-'], `
apiVersion: uspa.tech/v1alpha1
kind: Source
metadata: {name: web}
spec: {type: server}
---
apiVersion: uspa.tech/v1alpha1
kind: Pipeline
metadata: {name: main}
spec: {sources: [web]}
---
apiVersion: uspa.tech/v1alpha1
kind: Activation
metadata: {name: welcome}
spec:
  trigger: {type: event, event: {name: Signed Up}}
  destination:
    type: webhook
    webhook: {url: "${hook.url}"}
  template:
    body: '{"messageId": {{ event.messageId | json }}}'
---
apiVersion: uspa.tech/v1alpha1
kind: ApiKey
metadata: {name: admin}
spec: {role: admin}
`);
  for (const kind of ['sources.uspa.tech/web', 'pipelines.uspa.tech/main', 'activations.uspa.tech/welcome', 'apikeys.uspa.tech/admin']) {
    await kubectl(['-n', ns, 'wait', kind, '--for=condition=Ready', '--timeout=600s']);
  }
  const deployments = JSON.parse(await kubectl(['-n', ns, 'get', 'deployments', '-o', 'json'])) as { items: Array<{ metadata: { name: string }; status: { availableReplicas?: number } }> };
  const names = deployments.items.map((d) => d.metadata.name).sort();
  for (const want of ['collector', 'uspa-api', 'pipeline-main', 'worker-activations', 'worker-enrichment', 'worker-models']) {
    assert.ok(names.some((n) => n.includes(want)), `a ${want} Deployment runs (got ${names.join(', ')})`);
  }
  await eventually('every Deployment available', async () => {
    const d = JSON.parse(await kubectl(['-n', ns, 'get', 'deployments', '-o', 'json'])) as typeof deployments;
    return d.items.every((x) => (x.status.availableReplicas ?? 0) > 0) || undefined;
  }, 600_000);
  figures.componentsReadySeconds = seconds(started);
  const pods = JSON.parse(await kubectl(['-n', ns, 'get', 'pods', '-o', 'json'])) as typeof operator;
  for (const pod of pods.items) {
    assert.equal(pod.spec.nodeName, process.env.USPA_NODE, 'every Pod runs on the node');
    assert.equal(pod.spec.containers[0]?.image, `localhost/uspa:${VERSION}`, 'every component runs the one image');
  }

  // 4. One event through the collector's Service (its ClusterIP, programmed by kube-proxy).
  const service = JSON.parse(await kubectl(['-n', ns, 'get', 'services', '-o', 'json'])) as { items: Array<{ metadata: { name: string }; spec: { clusterIP: string; ports: Array<{ port: number }> } }> };
  const collector = service.items.find((s) => s.metadata.name.includes('collector'));
  assert.ok(collector, `a collector Service exists (got ${service.items.map((s) => s.metadata.name).join(', ')})`);
  const writeKey = Buffer.from(JSON.parse(await kubectl(['-n', ns, 'get', 'secret', 'web-write-key', '-o', 'json'])).data.writeKey as string, 'base64').toString('utf8');
  const userId = unique('u');
  started = Date.now();
  const res = await fetch(`http://${collector.spec.clusterIP}:${collector.spec.ports[0]!.port}/v1/track`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}` },
    body: JSON.stringify({ userId, event: 'Signed Up', messageId: `${userId}-1` }),
  });
  assert.equal(res.status, 200, await res.text());
  const ch = new Warehouse({ url: process.env.CLICKHOUSE_URL!, username: process.env.CLICKHOUSE_USER ?? 'default', password: process.env.CLICKHOUSE_PASSWORD ?? '', database: database('uspa', ns) });
  t.after(() => ch.close());
  const stored = await eventually('the event in ClickHouse', async () => {
    const rows = await ch.query<{ event: string }>(`SELECT event FROM {db}.events WHERE user_id = {u:String}`, { u: userId }).catch(() => []);
    return rows.length > 0 ? rows : undefined;
  }, 120_000);
  assert.deepEqual(stored.map((r) => r.event), ['Signed Up']);
  figures.eventToClickHouseSeconds = seconds(started);

  // The API, in its container, reads the person back through its Service with the ApiKey's key.
  const api = service.items.find((s) => s.metadata.name === 'uspa-api');
  assert.ok(api, 'the API Service exists');
  const key = Buffer.from(JSON.parse(await kubectl(['-n', ns, 'get', 'secret', 'uspa-apikey-admin', '-o', 'json'])).data.apiKey as string, 'base64').toString('utf8');
  const profile = await eventually('the profile through the API', async () => {
    const r = await fetch(`http://${api.spec.clusterIP}:${api.spec.ports[0]!.port}/v1/profiles/${encodeURIComponent(`userId:${userId}`)}`, { headers: { authorization: `Bearer ${key}` } });
    return r.status === 200 ? ((await r.json()) as { identities: string[] }) : undefined;
  }, 120_000);
  assert.ok(profile.identities.includes(`userId:${userId}`), JSON.stringify(profile));
  figures.eventToApiSeconds = seconds(started);

  // 5. The campaign fires: the activations worker, in its container, calls the webhook.
  const delivered = await eventually('the webhook call', async () => (hook.requests.length > 0 ? hook.requests[0] : undefined), 180_000);
  assert.deepEqual(JSON.parse(delivered.body), { messageId: `${userId}-1` });
  figures.eventToWebhookSeconds = seconds(started);

  // 6. The chart's own `helm test`: its Pod sends an event to the collector's Service by DNS name
  // (CoreDNS) and reads it back from ClickHouse.
  started = Date.now();
  const tested = await run(HELM, ['test', release, '--namespace', ns, '--logs', '--timeout', '5m']);
  assert.match(tested, /Phase:\s+Succeeded/, tested);
  figures.helmTestSeconds = seconds(started);
  console.log(`node install figures: ${JSON.stringify(figures)}`);
});
