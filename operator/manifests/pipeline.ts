// Pipeline → its worker Deployment, its ConfigMap (the Pipeline and the Sources it reads, as the
// worker reads them) and the Secret with its ClickHouse credentials.
import type { V1ConfigMap, V1Deployment, V1HorizontalPodAutoscaler, V1PodDisruptionBudget, V1Secret } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { Pipeline, Source } from '../../api/v1alpha1/index.ts';
import { pipelineSourceView, workloadPipeline, type WorkloadConfig } from '../../api/workload.ts';
import { ownerRef } from '../../lib/kubernetes/apply.ts';
import { database, pipelineWorkload, topicPrefix } from '../../api/names.ts';
import { clickhouseAccess, companions, deployment, hashOf, labelsFor, type WorkloadInput } from './workload.ts';
import type { WorkloadPolicy } from './policy.ts';
import { engineAccess, type EngineSecurity } from './engines.ts';

export const PIPELINE_PORT = 9464;

export interface PipelineSettings {
  image: string;
  topicPrefix: string;
  databasePrefix: string;
  kafkaBrokers: string[];
  clickhouse: { url: string; username: string; password: string };
  workloads?: WorkloadPolicy;
  engines?: EngineSecurity;
}

export function pipelineManifests(namespace: string, p: Pipeline, sources: Source[], settings: PipelineSettings): { configMap: V1ConfigMap; secret: V1Secret; deployment: V1Deployment; disruptionBudget?: V1PodDisruptionBudget; autoscaler?: V1HorizontalPodAutoscaler; engineSecret?: V1Secret } {
  const name = pipelineWorkload(p.metadata.name!);
  const owners = [ownerRef(p)];
  // The workers read Sources for their topics only: no write keys, and a change to a Source's
  // tracking plan or rate limit does not restart them.
  const config: WorkloadConfig = { sources: sources.map(pipelineSourceView), pipelines: [workloadPipeline(p)] };
  const configText = `# Rendered by the USPA operator from Pipeline ${namespace}/${p.metadata.name}.\n${stringify(config)}`;
  const labels = labelsFor(name, 'pipeline', { 'uspa.tech/pipeline': p.metadata.name! });
  const clickhouse = clickhouseAccess(name, namespace, labels, owners, settings.clickhouse);
  const env = [
    { name: 'KAFKA_BROKERS', value: settings.kafkaBrokers.join(',') },
    { name: 'USPA_TOPIC_PREFIX', value: topicPrefix(settings.topicPrefix, namespace) },
    { name: 'USPA_DATABASE', value: database(settings.databasePrefix, namespace) },
    { name: 'USPA_PIPELINE', value: p.metadata.name! },
    { name: 'USPA_NAMESPACE', value: namespace },
    // The generation the worker reports loaded (status.workers): a new spec rolls the worker, as a Deployment's rollout follows its template.
    { name: 'USPA_PIPELINE_GENERATION', value: String(p.metadata.generation ?? 0) },
    ...clickhouse.env,
  ];
  const access = engineAccess(name, namespace, labels, owners, ['kafka', 'clickhouse'], settings.engines);
  const workload: WorkloadInput = {
    access,
    name,
    namespace,
    component: 'pipeline',
    owners,
    replicas: p.spec.suspend ? 0 : (p.spec.replicas ?? 1),
    image: settings.image,
    args: ['pipeline'],
    port: PIPELINE_PORT,
    env,
    configMap: name,
    configHash: hashOf(configText, JSON.stringify(env), clickhouse.hash),
    resources: p.spec.resources as never,
    extraLabels: { 'uspa.tech/pipeline': p.metadata.name! },
    // Its own account (operator/manifests/workers.ts pipelineWorkerRbac): it reports on its Pipeline's status.
    serviceAccount: name,
    policy: settings.workloads,
    kind: 'pipeline',
  };
  return {
    secret: clickhouse.secret,
    configMap: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels, ownerReferences: owners }, data: { 'config.yaml': configText } },
    deployment: deployment(workload),
    // A Pipeline's replicas are its spec's: no autoscaler, only the budget.
    disruptionBudget: companions(workload).disruptionBudget,
    engineSecret: access.secret,
  };
}
