// Ready means live for realtime Segments: the pipeline worker reports (status.workers, component
// "pipeline") the generation of the definition it evaluates, and the Segment is Ready only then —
// so an identify sent the moment it is Ready is evaluated and its entry published. A changed rule
// bumps the generation and Ready waits for the worker again. Its status.size follows the live
// members between batch runs. The operator, the local runtime and
// the pipeline worker (its own ServiceAccount) run for real; the worker is paused (SIGSTOP) while
// a generation is applied, so "not Ready until the worker reports" is seen, not raced.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { eventually, unique } from '../support/env.ts';
import { SOURCE_AND_PIPELINE } from '../support/manifests.ts';
import { kubectl, operatorHarness, type OperatorHarness } from '../support/operator.ts';
import type { LocalRuntime } from '../../stack/runtime/kubelet.ts';

interface Reported {
  metadata: { generation: number };
  status?: { workers?: Array<{ component: string; generation: number; state: string }>; conditions?: Array<{ type: string; status: string; reason: string; message: string; observedGeneration?: number }> };
}

const segment = (plan: string) => `apiVersion: uspa.tech/v1alpha1
kind: Segment
metadata: { name: pro }
spec: { mode: realtime, rule: { trait: plan, op: eq, value: ${plan} } }
`;

describe('a realtime Segment is Ready only once the pipeline worker evaluates its current generation', { timeout: 400_000 }, () => {
  let h: OperatorHarness;
  let runtime: LocalRuntime;
  let consumer: ReturnType<Kafka['consumer']>;
  const changes: Array<{ segment: string; profileId: string; change: string; origin: string }> = [];
  before(async () => {
    h = await operatorHarness('rt-ready');
    await h.startOperator();
    runtime = await h.startRuntime();
    await h.apply(SOURCE_AND_PIPELINE);
    await h.ready('sources', 'web', undefined, 120_000);
    await h.ready('pipelines', 'main', undefined, 120_000);
    consumer = new Kafka({ clientId: 'uspa-tests', brokers: h.settings.kafkaBrokers, logLevel: logLevel.NOTHING }).consumer({ groupId: unique('g') });
    await consumer.connect();
    await consumer.subscribe({ topics: [`${h.settings.topicPrefix}.${h.namespace}.segment-changes`], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void changes.push(JSON.parse(String(message.value))) });
  });
  after(async () => {
    await consumer?.disconnect();
    await h?.close();
  });

  const pipelineProcess = async () => {
    const pods = await h.core.listNamespacedPod({ namespace: h.namespace, labelSelector: 'app.kubernetes.io/name=uspa-pipeline-main' });
    const pod = pods.items.find((p) => !p.metadata!.deletionTimestamp)!;
    const pid = runtime.processOf(h.namespace, pod.metadata!.name!)?.pid;
    assert.ok(pid, 'the pipeline worker runs as a local process');
    return pid;
  };
  const readyOf = (s: Reported) => s.status?.conditions?.find((c) => c.type === 'Ready');
  const identify = async (userId: string, plan: string) => {
    const writeKey = Buffer.from((await h.core.readNamespacedSecret({ name: 'web-write-key', namespace: h.namespace })).data!.writeKey!, 'base64').toString();
    const res = await fetch(`${runtime.serviceUrl(h.namespace, 'uspa-collector')}/v1/identify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}` },
      body: JSON.stringify({ userId, traits: { plan } }),
    });
    assert.equal(res.status, 200, await res.text());
  };

  /** Applies the rule with the worker paused: the operator judges the new generation, and it may not be Ready; then the worker goes on. */
  const applyWhileWorkerPaused = async (plan: string, generation: number) => {
    const pid = await pipelineProcess();
    process.kill(pid, 'SIGSTOP');
    try {
      await h.apply(segment(plan));
      const judged = await eventually(`Ready judged for generation ${generation}`, async () => {
        const s = await h.get<Reported>('segments', 'pro');
        const c = readyOf(s);
        return s.metadata.generation === generation && c?.observedGeneration === generation && c;
      }, 60_000);
      assert.equal(judged.status, 'False', `Ready before the worker evaluates generation ${generation}: ${judged.reason} ${judged.message}`);
      assert.equal(judged.reason, 'WaitingForWorker');
      assert.match(judged.message, new RegExp(`waiting for the pipeline worker to load generation ${generation}`));
      // Longer than the worker's reload interval: it would have reported by now if it could; it cannot, and Ready waits.
      await new Promise((r) => setTimeout(r, 7_000));
      assert.equal(readyOf(await h.get<Reported>('segments', 'pro'))?.status, 'False', 'still not Ready while the worker is paused');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await h.ready('segments', 'pro', undefined, 60_000);
    const live = await h.get<Reported>('segments', 'pro');
    assert.deepEqual(live.status?.workers?.map((w) => [w.component, w.state, w.generation]), [['pipeline', 'Live', generation]], 'Ready once the worker reported the generation it evaluates');
  };

  test('not Ready until the worker reports generation 1; the moment it is Ready, an identify that makes a profile enter is published as an entry', async () => {
    await applyWhileWorkerPaused('pro', 1);
    const t0 = Date.now();
    await identify('u-ada', 'pro');
    const entry = await eventually('the entry on the segment-changes topic', async () => changes.find((c) => c.segment === 'pro' && c.change === 'entered'), 30_000);
    assert.equal(entry.origin, 'realtime');
    console.log(`entry published ${Date.now() - t0} ms after the identify sent at Ready`);
  });

  test('a changed rule bumps the generation: Ready waits for the worker again, then the new rule is the one evaluated', async () => {
    await applyWhileWorkerPaused('enterprise', 2);
    const before = changes.length;
    await identify('u-cy', 'enterprise');
    await identify('u-bo', 'pro');
    await eventually('the entry of the profile the new rule selects', async () => changes.slice(before).some((c) => c.segment === 'pro' && c.change === 'entered'), 30_000);
    await new Promise((r) => setTimeout(r, 3_000)); // room for a wrong entry (the old rule's) to arrive
    assert.equal(changes.slice(before).filter((c) => c.change === 'entered').length, 1, 'only the enterprise profile entered: the old rule is not evaluated');
  });

  test('its status.size follows the live members, without waiting for a batch run', async () => {
    type Sized = Reported & { status?: { size?: number; version?: number } };
    const liveCount = async () => Number((await h.warehouse.query<{ n: string }>('SELECT countIf(m = 1) AS n FROM (SELECT profile_id, argMax(member, changed_at) AS m FROM {db}.segment_live WHERE segment = {k:String} GROUP BY profile_id)', { k: `${h.namespace}/pro` }))[0]?.n ?? 0);
    // The run the rule change triggered has finished: the version stands still.
    const settled = await eventually('the triggered batch run done', async () => {
      const a = await h.get<Sized>('segments', 'pro');
      await new Promise((r) => setTimeout(r, 3_000));
      const b = await h.get<Sized>('segments', 'pro');
      return a.status?.version !== undefined && a.status.version === b.status?.version && b;
    }, 60_000);
    const members = await liveCount();
    await identify('u-dee', 'enterprise');
    await eventually('the entry is live', async () => (await liveCount()) === members + 1, 30_000);
    const after = await eventually('status.size follows it', async () => {
      const s = await h.get<Sized>('segments', 'pro');
      return s.status?.size === members + 1 && s;
    }, 40_000);
    assert.equal(after.status?.version, settled.status?.version, 'no batch run made this size: the schedule runs hourly');
  });

  test('the pipeline worker\'s account may report on its namespace\'s Segments, and only that', async () => {
    const as = `--as=system:serviceaccount:${h.namespace}:uspa-pipeline-main`;
    const can = async (verb: string, resource: string, ...extra: string[]) => (await kubectl(['auth', 'can-i', verb, resource, '-n', h.namespace, as, ...extra]).catch((err: Error) => err.message)).trim().endsWith('yes');
    assert.equal(await can('patch', 'segments.uspa.tech/pro', '--subresource=status'), true);
    assert.equal(await can('patch', 'segments.uspa.tech/pro'), false, 'not its spec');
    assert.equal(await can('get', 'segments.uspa.tech'), false, 'it reads definitions from ClickHouse, not the API');
    assert.equal(await can('patch', 'segments.uspa.tech/pro', '--subresource=status', '-n', 'default'), false, 'not another namespace');
  });
});
