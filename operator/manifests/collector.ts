// Source[] → the one collector per namespace that serves them all: its ConfigMap (the Sources as
// the collector reads them), Deployment and Service. Write keys reach the pods only as Secret refs.
import type { V1ConfigMap, V1Deployment, V1EnvVar, V1HorizontalPodAutoscaler, V1Ingress, V1PodDisruptionBudget, V1Secret, V1Service } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { Source } from '../../api/v1alpha1/index.ts';
import { workloadSource, type WorkloadConfig } from '../../api/workload.ts';
import { ownerRef } from '../../lib/kubernetes/apply.ts';
import { COLLECTOR, COLLECTOR_PORT, topicPrefix, writeKeyEnv, writeKeySecret } from '../../api/names.ts';
import { companions, deployment, hashOf, labelsFor, type WorkloadInput } from './workload.ts';
import { ingress, type WorkloadPolicy } from './policy.ts';
import { engineAccess, type EngineSecurity } from './engines.ts';


/** Well within the Pods' 30 s grace period, which must also cover the requests in flight. */
export const COLLECTOR_DRAIN_DELAY_SECONDS = 5;

export interface CollectorSettings {
  image: string;
  topicPrefix: string;
  kafkaBrokers: string[];
  workloads?: WorkloadPolicy;
  engines?: EngineSecurity;
}

export function secretRefOf(s: Source): { name: string; key: string } {
  return { name: s.spec.writeKeySecretRef?.name ?? writeKeySecret(s.metadata.name!), key: s.spec.writeKeySecretRef?.key ?? 'writeKey' };
}

/** The collector's objects for the given Sources (those being deleted or suspended left out by the caller). */
export interface CollectorManifests {
  configMap: V1ConfigMap;
  deployment: V1Deployment;
  service: V1Service;
  disruptionBudget?: V1PodDisruptionBudget;
  autoscaler?: V1HorizontalPodAutoscaler;
  ingress?: V1Ingress;
  /** Its copy of Kafka's TLS files and SASL credentials, when Kafka needs them. */
  engineSecret?: V1Secret;
}

export function collectorManifests(namespace: string, sources: Source[], settings: CollectorSettings): CollectorManifests {
  const sorted = [...sources].sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!));
  const config: WorkloadConfig = { sources: sorted.map((s) => workloadSource(s, writeKeyEnv(s.metadata.name!))), pipelines: [] };
  const configText = `# Rendered by the USPA operator from the Sources in namespace ${namespace}.\n${stringify(config)}`;
  // Every Source owns the shared collector: it goes away (garbage collection) with the last one.
  const owners = sorted.map((s) => ownerRef(s, false));
  const env: V1EnvVar[] = [
    { name: 'KAFKA_BROKERS', value: settings.kafkaBrokers.join(',') },
    { name: 'USPA_TOPIC_PREFIX', value: topicPrefix(settings.topicPrefix, namespace) },
    // A stopping replica keeps answering this long after it reports not ready, while the Service's endpoints drop it.
    { name: 'USPA_DRAIN_DELAY_SECONDS', value: String(COLLECTOR_DRAIN_DELAY_SECONDS) },
    ...sorted.map((s) => ({ name: writeKeyEnv(s.metadata.name!), valueFrom: { secretKeyRef: secretRefOf(s) } })),
  ];
  const configMap: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: COLLECTOR, namespace, labels: labelsFor(COLLECTOR, 'collector'), ownerReferences: owners },
    data: { 'config.yaml': configText },
  };
  const service: V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: COLLECTOR, namespace, labels: labelsFor(COLLECTOR, 'collector'), ownerReferences: owners },
    spec: { selector: { 'app.kubernetes.io/name': COLLECTOR, 'app.kubernetes.io/component': 'collector' }, ports: [{ name: 'http', port: COLLECTOR_PORT, targetPort: 'http', protocol: 'TCP' }] },
  };
  const access = engineAccess(COLLECTOR, namespace, labelsFor(COLLECTOR, 'collector'), owners, ['kafka'], settings.engines);
  const workload: WorkloadInput = {
    access,
    name: COLLECTOR,
    namespace,
    component: 'collector',
    owners,
    replicas: sorted.length > 0 ? (settings.workloads?.collector?.replicas ?? 1) : 0,
    image: settings.image,
    args: ['collector'],
    port: COLLECTOR_PORT,
    env,
    configMap: COLLECTOR,
    // The Secret refs are part of the env, so the hash covers which Secret holds each key (the keys themselves roll nothing).
    configHash: hashOf(configText, JSON.stringify(env)),
    policy: settings.workloads,
    kind: 'collector',
  };
  const target = { name: COLLECTOR, namespace, labels: labelsFor(COLLECTOR, 'collector'), selector: {}, owners };
  return { configMap, service, deployment: deployment(workload), ...companions(workload), ingress: ingress(target, COLLECTOR, settings.workloads?.collector), engineSecret: access.secret };
}
