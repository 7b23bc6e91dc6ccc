// A Pipeline that cannot make progress says so: Degraded with reason Stalled and the cause, a
// Warning Event, and the operator's uspa_operator_pipeline_stalled metric — whether the worker can
// report it (status.workers) or not (its committed offsets stay put while events wait) — and
// Ready again once it moves. The operator, the local runtime and the pipeline worker run for real.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { reportStatus } from '../../lib/kubernetes/report.ts';
import { eventually } from '../support/env.ts';
import { SOURCE_AND_PIPELINE } from '../support/manifests.ts';
import { kubectl, operatorHarness, type OperatorHarness } from '../support/operator.ts';
import type { LocalRuntime } from '../../stack/runtime/kubelet.ts';

describe('a stalled Pipeline', { timeout: 400_000 }, () => {
  let h: OperatorHarness;
  let runtime: LocalRuntime;
  before(async () => {
    h = await operatorHarness('stall');
    h.settings.stallAfterMs = 4_000;
    await h.startOperator();
    runtime = await h.startRuntime();
    await h.apply(SOURCE_AND_PIPELINE);
    await h.ready('sources', 'web', undefined, 120_000);
    await h.ready('pipelines', 'main', undefined, 120_000);
  });
  after(async () => h?.close());

  /** The pipeline worker's identity, as its pod gets it: a token of its ServiceAccount. */
  const workerKubeConfig = async () => {
    const token = (await kubectl(['create', 'token', 'uspa-pipeline-main', '-n', h.namespace, '--duration=10m'])).trim();
    const cluster = h.kc.getCurrentCluster()!;
    const kc = new KubeConfig();
    kc.loadFromOptions({ clusters: [{ ...cluster, name: 'local' }], users: [{ name: 'pipeline', token }], contexts: [{ name: 'pipeline', cluster: 'local', user: 'pipeline' }], currentContext: 'pipeline' });
    return kc;
  };
  const condition = async (type: string) => (await h.get('pipelines', 'main')).status?.conditions?.find((c) => c.type === type);
  const metric = async () => {
    const text = await (await fetch(`http://127.0.0.1:${h.operator!.port}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('uspa_operator_pipeline_stalled{') && l.includes(`namespace="${h.namespace}"`) && l.includes('pipeline="main"'));
    return line ? Number(line.split(' ').pop()) : undefined;
  };
  const warnings = async (reason: string) =>
    (await h.core.listNamespacedEvent({ namespace: h.namespace })).items.filter((e) => e.involvedObject.kind === 'Pipeline' && e.involvedObject.name === 'main' && e.type === 'Warning' && e.reason === reason);
  const track = async (messageId: string) => {
    const writeKey = Buffer.from((await h.core.readNamespacedSecret({ name: 'web-write-key', namespace: h.namespace })).data!.writeKey!, 'base64').toString();
    const res = await fetch(`${runtime.serviceUrl(h.namespace, 'uspa-collector')}/v1/track`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}` },
      body: JSON.stringify({ messageId, userId: 'u-1', event: 'Signed Up' }),
    });
    assert.equal(res.status, 200, await res.text());
  };

  test('a worker that stops consuming while events wait (it cannot even report) turns the Pipeline Degraded/Stalled with an Event and the metric; Ready again once it moves', async () => {
    // The worker itself reports the generation it consumes for (its own account, USPA_PIPELINE_GENERATION).
    const generation = (await h.get<{ metadata: { generation: number } }>('pipelines', 'main')).metadata.generation;
    await eventually('the pipeline worker reports itself Live', async () => ((await h.get('pipelines', 'main')).status?.workers as Array<{ component: string; state: string; generation: number }> | undefined)?.some((w) => w.component === 'pipeline' && w.state === 'Live' && w.generation === generation), 30_000);
    const pods = await h.core.listNamespacedPod({ namespace: h.namespace, labelSelector: 'app.kubernetes.io/name=uspa-pipeline-main' });
    const pod = pods.items.find((p) => !p.metadata!.deletionTimestamp)!;
    const proc = runtime.processOf(h.namespace, pod.metadata!.name!)!;
    assert.ok(proc?.pid, 'the pipeline worker runs as a local process');
    process.kill(proc.pid!, 'SIGSTOP');
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    try {
      for (const id of ids) await track(id);
      const ready = await h.ready('pipelines', 'main', 'Stalled', 90_000);
      assert.equal(ready.status, 'False');
      assert.match(ready.message, /^no progress since \S+: [1-9]\d* events wait and the committed offsets have not moved/);
      const degraded = await condition('Degraded');
      assert.equal(degraded?.status, 'True');
      assert.equal(degraded?.reason, 'Stalled');
      assert.equal(degraded?.observedGeneration, (await h.get<{ metadata: { generation: number } }>('pipelines', 'main')).metadata.generation);
      await eventually('a Warning Event Stalled', async () => (await warnings('Stalled')).length > 0, 10_000);
      assert.equal(await metric(), 1);
    } finally {
      process.kill(proc.pid!, 'SIGCONT');
    }
    const back = await h.ready('pipelines', 'main', undefined, 120_000);
    assert.equal(back.reason, 'Reconciled');
    assert.equal((await condition('Degraded'))?.status, 'False');
    assert.equal(await metric(), 0);
    await eventually('the waiting events in ClickHouse', async () => Number((await h.warehouse.query<{ n: string }>('SELECT uniqExact(message_id) AS n FROM {db}.events WHERE message_id IN {ids:Array(String)}', { ids }))[0]!.n) === ids.length, 60_000);
  });

  test('a stall the worker reports, as its own ServiceAccount, is Degraded with its cause (the operator\'s own status writes keep the report); a Live report makes it Ready again', async () => {
    const target = { kind: 'Pipeline' as const, namespace: h.namespace, name: 'main' };
    const worker = await workerKubeConfig();
    const generation = (await h.get<{ metadata: { generation: number } }>('pipelines', 'main')).metadata.generation;
    const cause = 'Code: 252. DB::Exception: Too many partitions for single INSERT block (more than 100)';
    await reportStatus(worker, target, { component: 'pipeline', generation, state: 'Stalled', reason: 'ClickHouseError', message: cause });
    const ready = await h.ready('pipelines', 'main', 'Stalled', 30_000);
    assert.equal(ready.status, 'False');
    assert.ok(ready.message.endsWith(`ClickHouseError: ${cause}`), ready.message);
    await eventually('a Warning Event with the cause', async () => (await warnings('Stalled')).some((e) => e.message!.includes(cause)), 10_000);
    // The operator wrote Degraded after the report landed: the report is still there.
    const workers = (await h.get('pipelines', 'main')).status?.workers as Array<{ component: string; state: string; reason: string }>;
    assert.deepEqual(workers.map((w) => [w.component, w.state, w.reason]), [['pipeline', 'Stalled', 'ClickHouseError']]);
    assert.equal(await metric(), 1);

    await reportStatus(worker, target, { component: 'pipeline', generation, state: 'Live' });
    const back = await h.ready('pipelines', 'main', undefined, 30_000);
    assert.equal(back.reason, 'Reconciled');
    assert.equal(await metric(), 0);
  });

  test('the pipeline worker\'s account may read its Pipeline and report on it, and nothing more', async () => {
    const as = `--as=system:serviceaccount:${h.namespace}:uspa-pipeline-main`;
    const can = async (verb: string, resource: string, ...extra: string[]) => (await kubectl(['auth', 'can-i', verb, resource, '-n', h.namespace, as, ...extra]).catch((err: Error) => err.message)).trim().endsWith('yes');
    assert.equal(await can('get', 'pipelines.uspa.tech/main'), true);
    assert.equal(await can('patch', 'pipelines.uspa.tech/main', '--subresource=status'), true);
    assert.equal(await can('patch', 'pipelines.uspa.tech/main'), false, 'not its spec');
    assert.equal(await can('patch', 'pipelines.uspa.tech/other', '--subresource=status'), false, 'not another Pipeline');
    assert.equal(await can('get', 'secrets'), false);
    assert.equal(await can('patch', 'activations.uspa.tech'), false);
    const pod = (await h.core.listNamespacedPod({ namespace: h.namespace, labelSelector: 'app.kubernetes.io/name=uspa-pipeline-main' })).items.find((p) => !p.metadata!.deletionTimestamp)!;
    assert.equal(pod.spec!.serviceAccountName, 'uspa-pipeline-main');
  });
});
