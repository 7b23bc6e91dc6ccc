// The chart's RBAC is least privilege, asked of the real API server: `kubectl auth can-i` for what
// the operator's ServiceAccount must and must not do, then the operator itself runs with a token of
// that ServiceAccount (leader election included) and reconciles every kind without a Forbidden.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '../../lib/log.ts';
import { startOperator } from '../../operator/main.ts';
import { eventually, unique } from '../support/env.ts';
import { kubectl, operatorHarness, type OperatorHarness } from '../support/operator.ts';

const yaml = String.raw;
const CHART = fileURLToPath(new URL('../../helm/uspa', import.meta.url));
const HELM = process.env.USPA_HELM || 'helm';
const KUBECTL = process.env.USPA_KUBECTL || 'kubectl';

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { maxBuffer: 16 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: unknown }).code) || 1 : 0, stdout, out: `${stdout}${stderr}` }));
  });
}

describe('the chart\'s RBAC', { timeout: 300_000 }, () => {
  let h: OperatorHarness;
  const release = unique('rbac');
  const system = `${release}-system`;
  const sa = `system:serviceaccount:${system}:uspa-operator`;
  // The answer is stdout's "yes" or "no"; stderr may add a warning (e.g. "not namespace scoped").
  const canI = async (...args: string[]) => (await run(KUBECTL, ['auth', 'can-i', ...args, `--as=${sa}`])).stdout.trim();

  before(async () => {
    h = await operatorHarness('rbac'); // the tenant namespace, and the CRDs installed
    // Unreachable engines on purpose: nothing runs the chart's own pods (no kubelet); only its RBAC matters here.
    const installed = await run(HELM, [
      'install', release, CHART, '--namespace', system, '--create-namespace', '--skip-crds', '--wait=false',
      '--set', 'kafka.brokers=kafka.invalid:9092', '--set', 'clickhouse.url=http://clickhouse.invalid:8123', '--set', 'temporal.address=temporal.invalid:7233',
    ]);
    assert.equal(installed.code, 0, installed.out);
    // The RBAC authorizer sees new bindings through its informers: allow it a moment.
    await eventually('the ClusterRoleBinding to take effect', async () => (await canI('watch', 'sources.uspa.tech', '--all-namespaces')) === 'yes', 30_000);
  });
  after(async () => {
    await h?.close();
    await run(HELM, ['uninstall', release, '--namespace', system, '--wait=false']);
    await run(KUBECTL, ['delete', 'namespace', system, '--ignore-not-found', '--wait=false']);
  });

  test('kubectl auth can-i: what the operator must do is allowed, and nothing else asked is', async () => {
    const ns = h.namespace;
    const must: string[][] = [
      ['watch', 'pipelines.uspa.tech', '--all-namespaces'],
      ['patch', 'sources.uspa.tech', '--subresource=status', '-n', ns],
      ['update', 'segments.uspa.tech', '--subresource=finalizers', '-n', ns],
      ['watch', 'deployments.apps', '--all-namespaces'],
      ['patch', 'deployments.apps', '-n', ns],
      ['create', 'configmaps', '-n', ns],
      ['get', 'secrets', '-n', ns],
      ['create', 'secrets', '-n', ns],
      ['patch', 'secrets', '-n', ns],
      ['create', 'roles.rbac.authorization.k8s.io', '-n', ns],
      ['watch', 'apikeys.uspa.tech', '--all-namespaces'],
      ['patch', 'apikeys.uspa.tech', '--subresource=status', '-n', ns],
      ['watch', 'privacyrequests.uspa.tech', '--all-namespaces'],
      ['patch', 'privacyrequests.uspa.tech', '--subresource=status', '-n', ns],
      // Granted to the API gateway's Role, so the operator must hold it.
      ['create', 'segments.uspa.tech', '-n', ns],
      ['create', 'privacyrequests.uspa.tech', '-n', ns],
      ['create', 'events', '-n', ns],
      ['create', 'leases.coordination.k8s.io', '-n', system],
      ['update', 'leases.coordination.k8s.io/uspa-operator', '-n', system],
    ];
    const mustNot: string[][] = [
      ['list', 'secrets', '--all-namespaces'],
      ['watch', 'secrets', '--all-namespaces'],
      ['list', 'secrets', '-n', 'kube-system'],
      ['list', 'secrets', '-n', ns],
      ['delete', 'secrets', '-n', ns],
      ['create', 'sources.uspa.tech', '-n', ns],
      ['delete', 'pipelines.uspa.tech', '-n', ns],
      ['create', 'apikeys.uspa.tech', '-n', ns],
      ['delete', 'apikeys.uspa.tech', '-n', ns],
      ['update', 'customresourcedefinitions.apiextensions.k8s.io'],
      ['delete', 'customresourcedefinitions.apiextensions.k8s.io'],
      ['create', 'pods', '-n', ns],
      ['create', 'pods/exec', '-n', ns],
      ['delete', 'deployments.apps', '-n', ns],
      ['delete', 'namespaces'],
      ['delete', 'nodes'],
      ['create', 'clusterroles.rbac.authorization.k8s.io'],
      ['create', 'clusterrolebindings.rbac.authorization.k8s.io'],
      ['escalate', 'roles.rbac.authorization.k8s.io', '-n', ns],
      ['bind', 'roles.rbac.authorization.k8s.io', '-n', ns],
      ['impersonate', 'serviceaccounts', '-n', ns],
      ['create', 'serviceaccounts', '--subresource=token', '-n', ns],
      ['list', 'leases.coordination.k8s.io', '-n', system],
      ['update', 'leases.coordination.k8s.io/other', '-n', system],
      ['get', 'leases.coordination.k8s.io/other', '-n', system],
      ['delete', 'leases.coordination.k8s.io/uspa-operator', '-n', system],
      ['delete', 'configmaps', '-n', ns],
      ['delete', 'services', '-n', ns],
      ['delete', 'serviceaccounts', '-n', ns],
      ['delete', 'roles.rbac.authorization.k8s.io', '-n', ns],
      ['delete', 'events', '-n', ns],
      ['get', 'leases.coordination.k8s.io', '-n', 'kube-system'],
      ['create', 'events.events.k8s.io', '-n', ns],
    ];
    const wrong: string[] = [];
    for (const args of must) if ((await canI(...args)) !== 'yes') wrong.push(`must be allowed: ${args.join(' ')}`);
    for (const args of mustNot) if ((await canI(...args)) !== 'no') wrong.push(`must be refused: ${args.join(' ')}`);
    assert.deepEqual(wrong, [], `kubectl auth can-i … --as=${sa}`);
  });

  test('the operator runs as that ServiceAccount: every kind reconciles, a missing Secret heals, no Forbidden', async () => {
    const token = (await kubectl(['create', 'token', 'uspa-operator', '-n', system, '--duration=1h'])).trim();
    const admin = h.kc.getCurrentCluster()!;
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'local', server: admin.server, caData: admin.caData, caFile: admin.caFile, skipTLSVerify: admin.skipTLSVerify }],
      users: [{ name: 'operator', token }],
      contexts: [{ name: 'operator', cluster: 'local', user: 'operator' }],
      currentContext: 'operator',
    });
    const logs: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        logs.push(String(chunk));
        done();
      },
    });
    h.operator = await startOperator({ settings: { ...h.settings, leaderElection: true, namespace: system, identity: `rbac-${release}` }, kubeConfig: kc, log: createLogger('operator', 'debug', sink) });
    await h.operator.leading;

    await h.apply(yaml`
apiVersion: uspa.tech/v1alpha1
kind: Source
metadata: { name: web }
spec: { type: web }
---
apiVersion: uspa.tech/v1alpha1
kind: Source
metadata: { name: app }
spec:
  type: mobile
  writeKeySecretRef: { name: app-credentials, key: key }
---
apiVersion: uspa.tech/v1alpha1
kind: Pipeline
metadata: { name: main }
spec: { sources: [web] }
---
apiVersion: uspa.tech/v1alpha1
kind: Segment
metadata: { name: buyers }
spec: { rule: { event: Order Completed, atLeast: 1 } }
---
apiVersion: uspa.tech/v1alpha1
kind: Activation
metadata: { name: sync }
spec:
  segment: buyers
  trigger: { type: schedule, schedule: { interval: 1h } }
  destination: { type: kafka, kafka: { topic: ${h.settings.topicPrefix}.${h.namespace}.out.audience-sync } }
---
apiVersion: uspa.tech/v1alpha1
kind: ApiKey
metadata: { name: admin }
spec: { role: admin }
`);
    await h.ready('sources', 'web', 'CollectorNotAvailable');
    await h.ready('sources', 'app', 'SecretNotFound');
    // No Secret is watched: the Source finds its Secret when it looks again.
    await h.core.createNamespacedSecret({ namespace: h.namespace, body: { metadata: { name: 'app-credentials' }, stringData: { key: 'k'.repeat(32) } } });
    await h.ready('sources', 'app', 'CollectorNotAvailable', 30_000);
    await h.ready('pipelines', 'main', 'WorkersNotReady', 90_000);
    await h.ready('segments', 'buyers', undefined, 90_000);
    await h.ready('activations', 'sync', 'WaitingForWorker', 90_000); // no worker runs here
    await h.ready('apikeys', 'admin', 'KeyIssued', 60_000);
    // What the operator applied as that ServiceAccount: workers, the activations worker's RBAC, the Lease.
    await h.apps.readNamespacedDeployment({ name: 'uspa-pipeline-main', namespace: h.namespace });
    await kubectl(['get', 'role,rolebinding,serviceaccount', 'uspa-worker-activations', '-n', h.namespace]);
    await eventually('the API gateway and its RBAC', () => kubectl(['get', 'role,rolebinding,serviceaccount,deployment,service', 'uspa-api', '-n', h.namespace]).catch(() => undefined), 30_000);
    await kubectl(['get', 'lease', 'uspa-operator', '-n', system]);
    // Deletion as that ServiceAccount: the finalizer deletes the Source's topics and lets it go.
    const appTopic = `${h.settings.topicPrefix}.${h.namespace}.events.app`;
    assert.ok((await h.kafka.listTopics()).includes(appTopic));
    await kubectl(['delete', 'source', 'app', '-n', h.namespace, '--wait=true', '--timeout=60s']);
    assert.ok(!(await h.kafka.listTopics()).includes(appTopic), 'the Source\'s topic outlived it');
    assert.deepEqual(logs.filter((l) => /forbidden/i.test(l)), [], 'the operator was refused something');
  });
});
