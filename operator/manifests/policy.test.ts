import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Source } from '../../api/v1alpha1/index.ts';
import { collectorManifests } from './collector.ts';
import { workerManifests } from './workers.ts';
import { WORKLOADS_ENV, workloadPolicyFromEnv, type WorkloadPolicy } from './policy.ts';

const source = (name: string): Source => ({ apiVersion: 'uspa.tech/v1alpha1', kind: 'Source', metadata: { name, namespace: 'shop', uid: `uid-${name}` }, spec: {} }) as Source;
const base = { image: 'registry.example/uspa:1.2.3', topicPrefix: 'uspa', kafkaBrokers: ['k:9092'] };
const worker = { ...base, databasePrefix: 'uspa', clickhouse: { url: 'http://ch:8123', username: 'u', password: 'p' }, temporal: { address: 't:7233', namespace: 'default' } };

const policy: WorkloadPolicy = {
  imagePullPolicy: 'Always',
  imagePullSecrets: [{ name: 'regcred' }],
  podSecurityContext: { runAsNonRoot: true, runAsUser: 1234, seccompProfile: { type: 'RuntimeDefault' } },
  securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
  collector: {
    resources: { requests: { cpu: '250m' } },
    readinessProbe: { periodSeconds: 2 },
    podDisruptionBudget: { enabled: true, minAvailable: 1 },
    autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 7, targetCPUUtilizationPercentage: 60 },
    ingress: { enabled: true, className: 'nginx', annotations: { 'cert-manager.io/cluster-issuer': 'le' }, hosts: ['{namespace}.collect.example.com'], tls: [{ secretName: '{namespace}-collect-tls', hosts: ['{namespace}.collect.example.com'] }] },
  },
  worker: { resources: { limits: { memory: '3Gi' } }, podDisruptionBudget: { enabled: true } },
};

test('without a policy every workload runs restricted: non-root, read-only root, no capabilities, RuntimeDefault seccomp', () => {
  const { deployment, disruptionBudget, autoscaler, ingress } = collectorManifests('shop', [source('web')], base);
  const pod = deployment.spec!.template.spec!;
  assert.equal(pod.securityContext?.runAsNonRoot, true);
  assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault');
  const c = pod.containers[0]!;
  assert.deepEqual(c.securityContext, { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  assert.ok(c.volumeMounts?.some((m) => m.mountPath === '/tmp'), 'a writable /tmp on the read-only root');
  assert.equal(deployment.spec!.replicas, 1);
  assert.equal(pod.imagePullSecrets, undefined);
  assert.deepEqual([disruptionBudget, autoscaler, ingress], [undefined, undefined, undefined]);
});

test('the policy sets pull secrets, security contexts, resources, probes, the PDB, HPA and Ingress of the collector', () => {
  const m = collectorManifests('shop', [source('web')], { ...base, workloads: policy });
  const pod = m.deployment.spec!.template.spec!;
  const c = pod.containers[0]!;
  assert.deepEqual(pod.imagePullSecrets, [{ name: 'regcred' }]);
  assert.equal(c.imagePullPolicy, 'Always');
  assert.equal(pod.securityContext?.runAsUser, 1234);
  assert.deepEqual(c.resources, { requests: { cpu: '250m' } });
  assert.equal(c.readinessProbe?.periodSeconds, 2);
  assert.equal(c.readinessProbe?.failureThreshold, 3, 'timings not given keep their defaults');
  assert.equal(m.deployment.spec!.replicas, undefined, 'the HPA owns the replicas');
  assert.deepEqual(m.disruptionBudget?.spec, { minAvailable: 1, selector: { matchLabels: m.deployment.spec!.selector.matchLabels } });
  assert.equal(m.autoscaler?.spec?.scaleTargetRef.name, m.deployment.metadata!.name);
  assert.deepEqual([m.autoscaler?.spec?.minReplicas, m.autoscaler?.spec?.maxReplicas], [2, 7]);
  assert.equal(JSON.stringify(m.autoscaler?.spec).includes('"averageUtilization":60'), true);
  assert.equal(m.ingress?.spec?.ingressClassName, 'nginx');
  assert.equal(m.ingress?.spec?.rules?.[0]?.host, 'shop.collect.example.com');
  assert.deepEqual(m.ingress?.spec?.rules?.[0]?.http?.paths[0]?.backend.service, { name: m.service.metadata!.name, port: { name: 'http' } });
  assert.deepEqual(m.ingress?.spec?.tls, [{ hosts: ['shop.collect.example.com'], secretName: 'shop-collect-tls' }]);
  assert.equal(m.ingress?.metadata?.annotations?.['cert-manager.io/cluster-issuer'], 'le');
  for (const o of [m.disruptionBudget!, m.autoscaler!, m.ingress!]) assert.deepEqual(o.metadata?.ownerReferences, m.deployment.metadata!.ownerReferences, `${o.kind} goes with the collector`);

  // A collector with nothing to serve stays at 0 replicas, without an HPA scaling it up.
  const idle = collectorManifests('shop', [], { ...base, workloads: policy });
  assert.equal(idle.deployment.spec!.replicas, 0);
  assert.equal(idle.autoscaler, undefined);
});

test('collector.replicas: that many replicas without an autoscaler, each told to drain before it stops', () => {
  const m = collectorManifests('shop', [source('web')], { ...base, workloads: { collector: { replicas: 3 } } });
  assert.equal(m.deployment.spec!.replicas, 3);
  assert.equal(m.autoscaler, undefined);
  const env = m.deployment.spec!.template.spec!.containers[0]!.env!;
  assert.equal(env.find((e) => e.name === 'USPA_DRAIN_DELAY_SECONDS')?.value, '5');
  assert.ok(m.deployment.spec!.template.spec!.terminationGracePeriodSeconds! > 5 + 20, 'the grace period covers the drain delay and the requests in flight');
  assert.equal(collectorManifests('shop', [source('web')], base).deployment.spec!.replicas, 1, 'one by default');
  assert.equal(collectorManifests('shop', [], { ...base, workloads: { collector: { replicas: 3 } } }).deployment.spec!.replicas, 0, 'none with nothing to serve');
  assert.throws(() => workloadPolicyFromEnv(JSON.stringify({ collector: { replicas: 0 } })), /collector\.replicas must be a whole number of at least 1, not 0/);
  assert.throws(() => workloadPolicyFromEnv(JSON.stringify({ collector: { replicas: 1.5 } })), /collector\.replicas/);
});

test('the Temporal workers take the worker policy, not the collector\'s', () => {
  const m = workerManifests('shop', 'segments', [], { ...worker, workloads: policy });
  assert.deepEqual(m.deployment.spec!.template.spec!.containers[0]!.resources, { limits: { memory: '3Gi' } });
  assert.equal(m.deployment.spec!.replicas, 0, 'no autoscaling for workers');
  assert.equal(m.disruptionBudget?.spec?.maxUnavailable, 1, 'a budget that still lets one replica be drained');
  assert.equal(m.disruptionBudget?.spec?.minAvailable, undefined);
});

test(`${WORKLOADS_ENV}: JSON object or nothing; errors name the variable`, () => {
  assert.deepEqual(workloadPolicyFromEnv(undefined), {});
  assert.deepEqual(workloadPolicyFromEnv(JSON.stringify(policy)), policy);
  assert.throws(() => workloadPolicyFromEnv('{nope'), /USPA_WORKLOADS is not JSON/);
  assert.throws(() => workloadPolicyFromEnv('[1]'), /USPA_WORKLOADS must be a JSON object/);
  assert.throws(() => workloadPolicyFromEnv(JSON.stringify({ collector: { autoscaling: { enabled: true, minReplicas: 5, maxReplicas: 2 } } })), /maxReplicas must be at least minReplicas/);
});
