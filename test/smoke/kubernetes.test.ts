import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppsV1Api, ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, Watch, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { eventually, required, unique } from '../support/env.ts';

const GROUP = 'smoke.uspa.tech';
const PLURAL = 'smoketests';

function kubeConfig(): KubeConfig {
  required('KUBECONFIG');
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

const crd: V1CustomResourceDefinition = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${PLURAL}.${GROUP}` },
  spec: {
    group: GROUP,
    scope: 'Namespaced',
    names: { plural: PLURAL, singular: 'smoketest', kind: 'SmokeTest' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', required: ['size'], properties: { size: { type: 'integer', minimum: 1 } } },
              status: { type: 'object', x_kubernetes_preserve_unknown_fields: true },
            },
          },
        },
      },
    ],
  },
};

test('kubernetes: CRD install, custom resource create + watch, owned Deployment garbage-collected with its owner', { timeout: 180_000 }, async (t) => {
  const kc = kubeConfig();
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const namespace = unique('smoke');

  await ext.createCustomResourceDefinition({ body: crd }).catch((err: { code?: number }) => {
    if (err.code !== 409) throw err;
  });
  await eventually('the CRD to be Established', async () => {
    const current = await ext.readCustomResourceDefinition({ name: `${PLURAL}.${GROUP}` });
    return current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
  });
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  t.after(() => core.deleteNamespace({ name: namespace }).catch(() => undefined));

  // Established can precede the discovery of the new resource; list until it is served.
  await eventually('the custom resource to be served', async () => {
    await custom.listNamespacedCustomObject({ group: GROUP, version: 'v1', namespace, plural: PLURAL });
    return true;
  });
  // Watch before creating, as a controller's informer would.
  const events: Array<{ type: string; name: string; size: number }> = [];
  const watch = await new Watch(kc).watch(
    `/apis/${GROUP}/v1/namespaces/${namespace}/${PLURAL}`,
    {},
    (type: string, obj: { metadata: { name: string }; spec: { size: number } }) => events.push({ type, name: obj.metadata.name, size: obj.spec.size }),
    () => undefined,
  );
  t.after(() => watch.abort());

  // Schema validation is the apiserver's, not ours: an invalid spec is refused with a field path.
  await assert.rejects(
    custom.createNamespacedCustomObject({ group: GROUP, version: 'v1', namespace, plural: PLURAL, body: { apiVersion: `${GROUP}/v1`, kind: 'SmokeTest', metadata: { name: 'bad' }, spec: { size: 0 } } }),
    (err: { code?: number; body?: string }) => err.code === 422 && String(err.body).includes('spec.size'),
  );

  const owner = (await custom.createNamespacedCustomObject({
    group: GROUP, version: 'v1', namespace, plural: PLURAL,
    body: { apiVersion: `${GROUP}/v1`, kind: 'SmokeTest', metadata: { name: 'owner' }, spec: { size: 1 } },
  })) as { metadata: { uid: string; name: string } };
  await custom.patchNamespacedCustomObject({
    group: GROUP, version: 'v1', namespace, plural: PLURAL, name: 'owner',
    body: [{ op: 'replace', path: '/spec/size', value: 2 }],
  });
  await eventually('ADDED and MODIFIED watch events', async () => events.some((e) => e.type === 'ADDED' && e.name === 'owner') && events.some((e) => e.type === 'MODIFIED' && e.size === 2));

  const labels = { app: 'smoke-owned' };
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: {
        name: 'owned',
        ownerReferences: [{ apiVersion: `${GROUP}/v1`, kind: 'SmokeTest', name: 'owner', uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true }],
      },
      spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'example.invalid/none:1' }] } } },
    },
  });
  // The controller-manager's deployment controller is running: it creates the ReplicaSet.
  await eventually('a ReplicaSet for the Deployment', async () => (await apps.listNamespacedReplicaSet({ namespace })).items.length > 0);

  await custom.deleteNamespacedCustomObject({ group: GROUP, version: 'v1', namespace, plural: PLURAL, name: 'owner' });
  await eventually('the garbage collector to delete the owned Deployment', async () => {
    try {
      await apps.readNamespacedDeployment({ name: 'owned', namespace });
      return false;
    } catch (err) {
      return (err as { code?: number }).code === 404;
    }
  }, 90_000);
  await eventually('the DELETED watch event', async () => events.some((e) => e.type === 'DELETED' && e.name === 'owner'));
});
