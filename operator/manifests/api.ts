// A namespace's Pipelines → its one API gateway (`uspa api`): the ConfigMap (the Pipelines and the
// Sources they read, as the pipeline workers read them), the ClickHouse credentials Secret, a
// ServiceAccount with a Role limited to what the gateway serves, the Deployment and the Service.
import type { V1ConfigMap, V1Deployment, V1PodDisruptionBudget, V1Role, V1RoleBinding, V1Secret, V1Service, V1ServiceAccount } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { Pipeline, Source } from '../../api/v1alpha1/index.ts';
import { pipelineSourceView, workloadPipeline, type WorkloadConfig } from '../../api/workload.ts';
import { ownerRef } from '../../lib/kubernetes/apply.ts';
import { API, API_PORT, COLLECTOR, database, topicPrefix, writeKeySecret } from '../../api/names.ts';
import { clickhouseAccess, companions, deployment, hashOf, labelsFor, workloadRbac, type WorkloadInput } from './workload.ts';
import { engineAccess } from './engines.ts';
import type { PipelineSettings } from './pipeline.ts';

export interface ApiManifests {
  configMap: V1ConfigMap;
  secret: V1Secret;
  account: V1ServiceAccount;
  role: V1Role;
  binding: V1RoleBinding;
  deployment: V1Deployment;
  service: V1Service;
  disruptionBudget?: V1PodDisruptionBudget;
  /** Its copy of the engines' TLS files and SASL credentials, when they need them. */
  engineSecret?: V1Secret;
}

/** The in-cluster URL of a namespace's gateway (Pipeline status.apiUrl). */
export function apiUrl(namespace: string): string {
  return `http://${API}.${namespace}.svc:${API_PORT}`;
}

/**
 * The gateway for the given live Pipelines (at least one; those being deleted left out by the
 * caller) and the namespace's Sources. Every Pipeline owns it, so it goes with the last one; a
 * Pipeline whose Sources are not all there is left out of the configuration, as the collector leaves
 * out a Source without a write key, so that it cannot keep the gateway from starting.
 */
export function apiManifests(namespace: string, pipelines: Pipeline[], sources: Source[], settings: PipelineSettings): ApiManifests {
  const byName = (a: { metadata: { name?: string } }, b: { metadata: { name?: string } }) => a.metadata.name!.localeCompare(b.metadata.name!);
  const owned = [...pipelines].sort(byName);
  const available = new Map(sources.map((s) => [s.metadata.name!, s]));
  const served = owned.filter((p) => p.spec.sources.every((s) => available.has(s)));
  const read = [...new Set(served.flatMap((p) => p.spec.sources))].sort().map((s) => available.get(s)!);
  // No write keys, as for the pipeline workers: the gateway reads Sources for their topics only.
  const config: WorkloadConfig = { sources: read.map(pipelineSourceView), pipelines: served.map(workloadPipeline) };
  const configText = `# Rendered by the USPA operator from the Pipelines in namespace ${namespace}.\n${stringify(config)}`;
  const owners = owned.map((p) => ownerRef(p, false));
  const labels = labelsFor(API, 'api');
  const metadata = { name: API, namespace, labels, ownerReferences: owners };
  const clickhouse = clickhouseAccess(API, namespace, labels, owners, settings.clickhouse);
  const env = [
    { name: 'KAFKA_BROKERS', value: settings.kafkaBrokers.join(',') },
    { name: 'USPA_TOPIC_PREFIX', value: topicPrefix(settings.topicPrefix, namespace) },
    { name: 'USPA_DATABASE', value: database(settings.databasePrefix, namespace) },
    { name: 'USPA_DATABASE_PREFIX', value: settings.databasePrefix },
    { name: 'USPA_NAMESPACE', value: namespace },
    // The Pipeline whose topics and tables the gateway addresses by default: the first by name.
    { name: 'USPA_PIPELINE', value: owned[0]?.metadata.name ?? '' },
    ...clickhouse.env,
  ];
  const access = engineAccess(API, namespace, labels, owners, ['kafka', 'clickhouse'], settings.engines);
  const workload: WorkloadInput = {
    access,
    name: API,
    namespace,
    component: 'api',
    owners,
    replicas: owned.length > 0 ? 1 : 0,
    image: settings.image,
    args: ['api'],
    port: API_PORT,
    env,
    configMap: API,
    configHash: hashOf(configText, JSON.stringify(env), clickhouse.hash),
    // It reads ApiKeys and serves Segments and Activations: an account of its own (apiRole).
    serviceAccount: API,
    policy: settings.workloads,
    kind: 'api',
  };
  return {
    configMap: { apiVersion: 'v1', kind: 'ConfigMap', metadata, data: { 'config.yaml': configText } },
    secret: clickhouse.secret,
    ...workloadRbac(API, namespace, labels, owners, apiRole(read.map((s) => s.spec.writeKeySecretRef?.name ?? writeKeySecret(s.metadata.name!)))),
    deployment: deployment(workload),
    service: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata,
      spec: { selector: { 'app.kubernetes.io/name': API, 'app.kubernetes.io/component': 'api' }, ports: [{ name: 'http', port: API_PORT, targetPort: 'http', protocol: 'TCP' }] },
    },
    // One replica, no autoscaler: only the budget.
    disruptionBudget: companions(workload).disruptionBudget,
    engineSecret: access.secret,
  };
}

/**
 * What the gateway may do in its namespace: read ApiKeys (it checks presented keys against their
 * status.keyHash, so it never needs their Secrets), Pipelines, Sources and Personalizations;
 * manage Segments and Activations for its clients; make, read and withdraw PrivacyRequests, and
 * mark an access export downloaded (an annotation: the API server refuses any change of a
 * request's spec). Of Secrets only its Sources' write keys, by name (the dashboard shows them to
 * admins in the snippet); of Services only the collector's (its address, for its metrics).
 */
export function apiRole(writeKeySecrets: string[] = []): V1Role['rules'] {
  return [
    ...(writeKeySecrets.length ? [{ apiGroups: [''], resources: ['secrets'], resourceNames: [...new Set(writeKeySecrets)].sort(), verbs: ['get'] }] : []),
    { apiGroups: [''], resources: ['services'], resourceNames: [COLLECTOR], verbs: ['get'] },
    { apiGroups: ['uspa.tech'], resources: ['apikeys', 'pipelines', 'sources'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: ['uspa.tech'], resources: ['segments', 'activations'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
    { apiGroups: ['uspa.tech'], resources: ['privacyrequests'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
    // Placements are decided from the watched resources; the API reports what it loaded (status.workers).
    { apiGroups: ['uspa.tech'], resources: ['personalizations'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: ['uspa.tech'], resources: ['personalizations/status'], verbs: ['patch'] },
  ];
}
