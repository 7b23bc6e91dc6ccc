// `uspa check roundtrip` (what the chart's helm test runs): it finds a Source's write key and its
// namespace's database in the cluster as the operator recorded them, sends one event to the
// collector and reads it back from ClickHouse. Real collector and pipeline (in-process), Kafka,
// ClickHouse and API server; the Kubernetes objects are written as the operator would write them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../../api/v1alpha1/index.ts';
import { startProduct } from '../support/product.ts';
import { required, unique } from '../support/env.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function uspa(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('node', ['bin/uspa.js', ...args], { cwd: ROOT, env, timeout: 90_000 }, (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }));
  });
}

test('uspa check roundtrip: an event to the collector, read back from ClickHouse; a stopped pipeline fails it', { timeout: 180_000 }, async (t) => {
  required('KUBECONFIG');
  const product = await startProduct({ sources: [{ name: 'web', type: 'web' }] });
  t.after(() => product.close());
  const { name: source, writeKey } = product.sources.web!;
  const namespace = unique('check');
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  t.after(() => core.deleteNamespace({ name: namespace }).catch(() => undefined));

  // What the operator leaves behind: the write-key Secret, the worker Deployment with its database, statuses naming both.
  await core.createNamespacedSecret({ namespace, body: { metadata: { name: `${source}-write-key` }, stringData: { writeKey } } });
  await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: 'uspa-pipeline-main' },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'p' } },
        template: { metadata: { labels: { app: 'p' } }, spec: { containers: [{ name: 'pipeline', image: 'uspa', env: [{ name: 'USPA_DATABASE', value: product.database }, { name: 'USPA_TOPIC_PREFIX', value: 'x' }] }] } },
      },
    },
  });
  const create = async (plural: string, kind: string, name: string, spec: object, status: object) => {
    await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural, body: { apiVersion: `${GROUP}/${VERSION}`, kind, metadata: { name }, spec } });
    await custom.patchNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace, plural, name, body: { status } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  };
  await create('sources', 'Source', source, { type: 'web' }, { writeKeySecret: `${source}-write-key` });
  await create('pipelines', 'Pipeline', 'main', { sources: [source] }, { deployment: 'uspa-pipeline-main' });

  const env = { ...process.env, LOG_LEVEL: 'warn' };
  const ok = await uspa(['check', 'roundtrip', '-n', namespace, '--source', source, '--url', product.url, '--timeout', '60'], env);
  assert.equal(ok.code, 0, `${ok.stdout}${ok.stderr}`);
  assert.match(ok.stdout, /sent uspa-check-[0-9a-f-]+ to .*\/v1\/track \(HTTP 200/);
  const id = /read (uspa-check-[0-9a-f-]+) back from ClickHouse/.exec(ok.stdout)?.[1];
  assert.ok(id, ok.stdout);
  const rows = await product.rows<{ event: string; source: string }>('SELECT event, source FROM {db}.events WHERE message_id = {id:String}', { id });
  assert.deepEqual(rows, [{ event: 'USPA Roundtrip Check', source }]);
  assert.ok(!ok.stdout.includes(writeKey) && !ok.stderr.includes(writeKey), 'the write key was printed');

  // Accepted but never stored: the check fails after its timeout, saying where to look.
  await product.stopPipeline();
  const stalled = await uspa(['check', 'roundtrip', '-n', namespace, '--source', source, '--url', product.url, '--timeout', '4'], env);
  assert.equal(stalled.code, 1, `${stalled.stdout}${stalled.stderr}`);
  assert.match(stalled.stdout, /was accepted but has not reached \S+\.events within 4 s; kubectl describe pipelines -n /);

  // A Source that does not exist: a message, not a stack trace.
  const missing = await uspa(['check', 'roundtrip', '-n', namespace, '--source', 'nope', '--url', product.url], env);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, new RegExp(`namespace ${namespace} has no Source nope`));
});
