// The Temporal workers of a namespace: one Deployment per task queue (segments, activations,
// models), configured by env, with the ClickHouse credentials in a Secret of their own.
import type { V1Deployment, V1OwnerReference, V1PodDisruptionBudget, V1Role, V1RoleBinding, V1Secret, V1ServiceAccount } from '@kubernetes/client-node';
import { PRIVACY_SIGNING_KEY_ENV, PRIVACY_SIGNING_SECRET, PRIVACY_SIGNING_SECRET_KEY, database, pipelineWorkload, topicPrefix, workerWorkload, type WorkerKind, DEFAULT_CONSENT_ENV } from '../../api/names.ts';
import { WEBHOOK_ADDRESS_ENV, type WebhookAddressPolicy } from '../../api/activation-destinations.ts';
import { clickhouseAccess, companions, deployment, hashOf, labelsFor, workloadRbac, type WorkloadInput } from './workload.ts';
import { engineAccess } from './engines.ts';
import type { PipelineSettings } from './pipeline.ts';

export const WORKER_PORT = 9465;

export interface WorkerSettings extends PipelineSettings {
  temporal: { address: string; namespace: string };
  /** The activations worker checks every webhook and SMTP connection against it (default deny). */
  webhookAddresses?: WebhookAddressPolicy;
  /** activations: the category an Activation without its own sends with (the namespace declares marketing). */
  defaultConsentCategory?: string;
}

export function workerManifests(namespace: string, kind: WorkerKind, owners: V1OwnerReference[], settings: WorkerSettings): { secret: V1Secret; deployment: V1Deployment; disruptionBudget?: V1PodDisruptionBudget; engineSecret?: V1Secret } {
  const name = workerWorkload(kind);
  const labels = labelsFor(name, `worker-${kind}`);
  const clickhouse = clickhouseAccess(name, namespace, labels, owners, settings.clickhouse);
  const env = [
    { name: 'USPA_NAMESPACE', value: namespace },
    { name: 'TEMPORAL_ADDRESS', value: settings.temporal.address },
    { name: 'TEMPORAL_NAMESPACE', value: settings.temporal.namespace },
    { name: 'KAFKA_BROKERS', value: settings.kafkaBrokers.join(',') },
    { name: 'USPA_TOPIC_PREFIX', value: topicPrefix(settings.topicPrefix, namespace) },
    { name: 'USPA_DATABASE', value: database(settings.databasePrefix, namespace) },
    ...clickhouse.env,
    ...(kind === 'activations' ? [{ name: WEBHOOK_ADDRESS_ENV, value: settings.webhookAddresses ?? 'deny' }] : []),
    ...(kind === 'activations' && settings.defaultConsentCategory ? [{ name: DEFAULT_CONSENT_ENV, value: settings.defaultConsentCategory }] : []),
    // The receipt signing key, from the Secret the operator makes once per namespace.
    ...(kind === 'privacy' ? [{ name: PRIVACY_SIGNING_KEY_ENV, valueFrom: { secretKeyRef: { name: PRIVACY_SIGNING_SECRET, key: PRIVACY_SIGNING_SECRET_KEY } } }] : []),
  ];
  const access = engineAccess(name, namespace, labels, owners, ['kafka', 'clickhouse', 'temporal'], settings.engines);
  const workload: WorkloadInput = {
    access,
    name,
    namespace,
    component: `worker-${kind}`,
    owners,
    replicas: owners.length > 0 ? 1 : 0,
    image: settings.image,
    args: ['worker', kind],
    port: WORKER_PORT,
    env,
    configHash: hashOf(JSON.stringify(env), clickhouse.hash),
    // The activations worker reads Activations and their Secrets: it gets an account of its own.
    serviceAccount: kind === 'activations' ? name : undefined,
    policy: settings.workloads,
    kind: 'worker',
  };
  return {
    secret: clickhouse.secret,
    deployment: deployment(workload),
    disruptionBudget: companions(workload).disruptionBudget,
    engineSecret: access.secret,
  };
}

/** What the activations worker may do in its namespace: read Activations and Secrets, report on Activations, nothing else. */
export function activationsWorkerRbac(namespace: string, owners: V1OwnerReference[]): { account: V1ServiceAccount; role: V1Role; binding: V1RoleBinding } {
  const name = workerWorkload('activations');
  return workloadRbac(name, namespace, labelsFor(name, 'worker-activations'), owners, [
    { apiGroups: ['uspa.tech'], resources: ['activations', 'segments'], verbs: ['get', 'list', 'watch'] },
    // It reports each Activation's loaded generation (status.workers, server-side apply).
    { apiGroups: ['uspa.tech'], resources: ['activations/status'], verbs: ['patch'] },
    { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
  ]);
}

/**
 * What a Pipeline's worker may do: read its own Pipeline and report on it (status.workers:
 * stalled or live), and report on the realtime Segments of its namespace it evaluates, nothing
 * else — its account and Role are named after its Deployment and limited to that one Pipeline by
 * resourceNames (Segments come and go: their status, and only that, for any of the namespace).
 */
export function pipelineWorkerRbac(namespace: string, pipeline: string, owners: V1OwnerReference[]): { account: V1ServiceAccount; role: V1Role; binding: V1RoleBinding } {
  const name = pipelineWorkload(pipeline);
  return workloadRbac(name, namespace, labelsFor(name, 'pipeline', { 'uspa.tech/pipeline': pipeline }), owners, [
    { apiGroups: ['uspa.tech'], resources: ['pipelines'], resourceNames: [pipeline], verbs: ['get'] },
    { apiGroups: ['uspa.tech'], resources: ['pipelines/status'], resourceNames: [pipeline], verbs: ['patch'] },
    // Server-side apply of its own status.workers entry: no read needed.
    { apiGroups: ['uspa.tech'], resources: ['segments/status'], verbs: ['patch'] },
  ]);
}
