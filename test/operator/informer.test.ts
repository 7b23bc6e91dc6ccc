// The informer against the real API server: it restarts after list errors with backoff, re-lists
// when the API server answers 410 Gone to a stale resourceVersion, and resyncs periodically.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CoreV1Api, type V1ConfigMap, type V1ConfigMapList } from '@kubernetes/client-node';
import { createLogger } from '../../lib/log.ts';
import { ResourceInformer } from '../../lib/kubernetes/informer.ts';
import { eventually, unique } from '../support/env.ts';
import { kubeConfig } from '../support/operator.ts';

describe('informer', { timeout: 120_000 }, () => {
  const kc = kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const namespace = unique('inf');
  const log = createLogger('test', 'silent');
  before(async () => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'first' }, data: { a: '1' } } });
  });
  after(async () => {
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  const informer = (list: () => Promise<V1ConfigMapList>, resyncMs?: number) =>
    new ResourceInformer<V1ConfigMap>(kc, { name: 'configmaps', path: `/api/v1/namespaces/${namespace}/configmaps`, list, resyncMs, log });

  test('a failing list is retried with backoff until the cache syncs', async () => {
    let calls = 0;
    const inf = informer(async () => {
      calls++;
      if (calls <= 2) throw new Error('the API server is not there yet');
      return core.listNamespacedConfigMap({ namespace });
    });
    try {
      await inf.start();
      await eventually('the cache to sync after two failures', async () => inf.hasSynced && inf.get('first', namespace) !== undefined, 30_000);
      assert.equal(calls, 3);
    } finally {
      await inf.stop();
    }
  });

  test('a watch from a stale resourceVersion gets 410 Gone from the API server and the informer re-lists', async () => {
    let calls = 0;
    const seen: string[] = [];
    const inf = informer(async () => {
      calls++;
      const list = await core.listNamespacedConfigMap({ namespace });
      // The first list claims a resourceVersion long compacted out of the watch cache.
      return calls === 1 ? { ...list, items: [], metadata: { ...list.metadata, resourceVersion: '1' } } : list;
    });
    inf.onChange((cm) => seen.push(cm.metadata!.name!));
    try {
      await inf.start();
      await eventually('the re-list to fill the cache', async () => inf.get('first', namespace) !== undefined, 30_000);
      assert.ok(calls >= 2, 're-listed');
      assert.ok(seen.includes('first'));
      // And it keeps watching from the new list.
      await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'second' } } });
      await eventually('the watch to deliver a new object', async () => inf.get('second', namespace) !== undefined, 30_000);
    } finally {
      await inf.stop();
    }
  });

  test('resync hands every cached object to the handlers again', async () => {
    const resynced = new Set<string>();
    const inf = informer(() => core.listNamespacedConfigMap({ namespace }), 300);
    inf.onChange((cm, change) => {
      if (change === 'resync') resynced.add(cm.metadata!.name!);
    });
    try {
      await inf.start();
      await eventually('a resync of both ConfigMaps', async () => resynced.has('first') && resynced.has('second'), 10_000);
    } finally {
      await inf.stop();
    }
  });
});
