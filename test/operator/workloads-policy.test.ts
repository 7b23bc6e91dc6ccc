// The chart's workloads: values as the operator applies them (operator/manifests/policy.ts): the
// collector's PodDisruptionBudget, HorizontalPodAutoscaler and Ingress appear on the real API
// server as set, and go again when an operator started without them reconciles (an HPA left behind
// would keep scaling the collector).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AutoscalingV2Api, NetworkingV1Api, PolicyV1Api } from '@kubernetes/client-node';
import { operatorHarness } from '../support/operator.ts';
import { eventually } from '../support/env.ts';
import type { WorkloadPolicy } from '../../operator/manifests/policy.ts';

const POLICY: WorkloadPolicy = {
  collector: {
    podDisruptionBudget: { enabled: true, minAvailable: 1 },
    autoscaling: { enabled: true, minReplicas: 1, maxReplicas: 4, targetCPUUtilizationPercentage: 75 },
    ingress: { enabled: true, className: 'nginx', hosts: ['{namespace}.collect.example.com'], tls: [{ secretName: 'collect-tls', hosts: ['{namespace}.collect.example.com'] }] },
  },
};

test('workloads policy: the collector\'s PDB, HPA and Ingress are applied as set, and deleted once turned off', { timeout: 180_000 }, async (t) => {
  const h = await operatorHarness('policy');
  t.after(() => h.close());
  const namespace = h.namespace;
  const policy = h.kc.makeApiClient(PolicyV1Api);
  const autoscaling = h.kc.makeApiClient(AutoscalingV2Api);
  const networking = h.kc.makeApiClient(NetworkingV1Api);
  const name = 'uspa-collector';
  const found = async <T>(read: () => Promise<T>): Promise<T | undefined> => read().catch((err: { code?: number }) => (err.code === 404 ? undefined : Promise.reject(err)));

  h.settings.workloads = POLICY;
  await h.startOperator();
  await h.apply('apiVersion: uspa.tech/v1alpha1\nkind: Source\nmetadata: {name: web}\nspec: {type: server}\n');
  const hpa = await eventually('the collector HPA', () => found(() => autoscaling.readNamespacedHorizontalPodAutoscaler({ name, namespace })), 60_000);
  assert.deepEqual([hpa.spec?.minReplicas, hpa.spec?.maxReplicas, hpa.spec?.scaleTargetRef.name], [1, 4, name]);
  assert.equal(hpa.spec?.metrics?.[0]?.resource?.target.averageUtilization, 75);
  const pdb = await eventually('the collector PDB', () => found(() => policy.readNamespacedPodDisruptionBudget({ name, namespace })));
  assert.equal(pdb.spec?.minAvailable, 1);
  assert.deepEqual({ ...pdb.spec?.selector?.matchLabels }, { 'app.kubernetes.io/name': name, 'app.kubernetes.io/component': 'collector' });
  const ingress = await eventually('the collector Ingress', () => found(() => networking.readNamespacedIngress({ name, namespace })));
  assert.equal(ingress.spec?.ingressClassName, 'nginx');
  assert.equal(ingress.spec?.rules?.[0]?.host, `${namespace}.collect.example.com`);
  const backend = ingress.spec?.rules?.[0]?.http?.paths[0]?.backend.service;
  assert.deepEqual([backend?.name, backend?.port?.name], [name, 'http']);
  for (const o of [hpa, pdb, ingress]) assert.equal(o.metadata?.ownerReferences?.[0]?.kind, 'Source', 'goes with the last Source');
  const deployment = await h.apps.readNamespacedDeployment({ name, namespace });
  assert.ok(!deployment.metadata?.managedFields?.some((f) => f.manager === 'uspa-operator' && JSON.stringify(f.fieldsV1 ?? {}).includes('"f:replicas"')), 'with an HPA the operator does not own spec.replicas');

  // The chart upgraded with them off: the next operator removes what it no longer renders.
  await h.stopOperator();
  h.settings.workloads = {};
  await h.startOperator();
  await h.apply('apiVersion: uspa.tech/v1alpha1\nkind: Source\nmetadata: {name: web}\nspec: {type: server, rateLimit: {eventsPerSecond: 50}}\n');
  await eventually('the HPA, PDB and Ingress to be deleted', async () => {
    const left = await Promise.all([found(() => autoscaling.readNamespacedHorizontalPodAutoscaler({ name, namespace })), found(() => policy.readNamespacedPodDisruptionBudget({ name, namespace })), found(() => networking.readNamespacedIngress({ name, namespace }))]);
    return left.every((o) => o === undefined);
  }, 60_000);
  const after = await h.apps.readNamespacedDeployment({ name, namespace });
  assert.equal(after.spec?.replicas, 1, 'without an HPA the operator sets the replicas again');
});
