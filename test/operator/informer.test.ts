// The informer against the real API server: it restarts after list errors with backoff, re-lists
// when the API server answers 410 Gone to a stale resourceVersion, and resyncs periodically.
// Each test creates the objects it reads, so any one of them can run alone.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CoreV1Api, type CoreV1Event, type CoreV1EventList, type KubernetesObject, type ListPromise, type V1ConfigMap, type V1ConfigMapList } from '@kubernetes/client-node';
import { createLogger } from '../../lib/log.ts';
import { ResourceInformer } from '../../lib/kubernetes/informer.ts';
import { eventually, unique } from '../support/env.ts';
import { kubeConfig } from '../support/operator.ts';
import { compactEtcd, localEtcd } from '../support/stack.ts';

describe('informer', { timeout: 120_000 }, () => {
  const kc = kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const namespace = unique('inf');
  const log = createLogger('test', 'silent');
  before(async () => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });
  after(async () => {
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  const informer = <T extends KubernetesObject>(resource: string, list: ListPromise<T>, resyncMs?: number) =>
    new ResourceInformer<T>(kc, { name: resource, path: `/api/v1/namespaces/${namespace}/${resource}`, list, resyncMs, log });
  const configMap = (name: string) => core.createNamespacedConfigMap({ namespace, body: { metadata: { name }, data: { a: '1' } } });
  const event = (name: string) => {
    const now = new Date();
    return core.createNamespacedEvent({
      namespace,
      body: {
        metadata: { name },
        involvedObject: { apiVersion: 'v1', kind: 'ConfigMap', name: 'anything', namespace },
        reason: 'Tested',
        message: `event ${name}`,
        type: 'Normal',
        source: { component: 'uspa-informer-test' },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    });
  };

  test('a failing list is retried with backoff until the cache syncs', async () => {
    await configMap('retried');
    let calls = 0;
    const inf = informer<V1ConfigMap>('configmaps', async (): Promise<V1ConfigMapList> => {
      calls++;
      if (calls <= 2) throw new Error('the API server is not there yet');
      return core.listNamespacedConfigMap({ namespace });
    });
    try {
      await inf.start();
      await eventually('the cache to sync after two failures', async () => inf.hasSynced && inf.get('retried', namespace) !== undefined, 30_000);
      assert.equal(calls, 3);
    } finally {
      await inf.stop();
    }
  });

  test('a watch from a compacted resourceVersion gets 410 Gone from the API server and the informer re-lists', async () => {
    // Events are the kind the API server watches straight from etcd (it keeps no watch cache of
    // them), so a watch from a revision etcd has compacted away is refused with 410 Gone. Compact
    // now rather than count on the API server's own compaction (every 5 minutes), which a fresh
    // stack has not done yet. (A cluster of its own, via KUBECONFIG, has compacted revision 1 long ago.)
    await event('before');
    const etcd = localEtcd();
    if (etcd) await compactEtcd(etcd);
    let calls = 0;
    const seen: string[] = [];
    const inf = informer<CoreV1Event>('events', async (): Promise<CoreV1EventList> => {
      calls++;
      const list = await core.listNamespacedEvent({ namespace });
      // The first list claims a resourceVersion whose history is gone.
      return calls === 1 ? { ...list, items: [], metadata: { ...list.metadata, resourceVersion: '1' } } : list;
    });
    inf.onChange((e, change) => seen.push(`${change} ${e.metadata!.name!}`));
    try {
      await inf.start();
      await eventually('the re-list to fill the cache', async () => inf.get('before', namespace) !== undefined, 30_000);
      assert.equal(calls, 2, 'one re-list after the 410');
      // And it keeps watching from the new list.
      await event('after');
      await eventually('the watch to deliver a new object', async () => inf.get('after', namespace) !== undefined, 30_000);
      assert.equal(calls, 2, 'the watch from the second list goes on without another list');
      assert.deepEqual(seen, ['add before', 'add after']);
    } finally {
      await inf.stop();
    }
  });

  test('resync hands every cached object to the handlers again', async () => {
    await configMap('resync-a');
    await configMap('resync-b');
    const resynced = new Set<string>();
    const inf = informer<V1ConfigMap>('configmaps', () => core.listNamespacedConfigMap({ namespace }), 300);
    inf.onChange((cm, change) => {
      if (change === 'resync') resynced.add(cm.metadata!.name!);
    });
    try {
      await inf.start();
      await eventually('a resync of both ConfigMaps', async () => resynced.has('resync-a') && resynced.has('resync-b'), 10_000);
    } finally {
      await inf.stop();
    }
  });
});
