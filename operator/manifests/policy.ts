// How the installation wants the pods the operator runs (collector, pipeline and Temporal
// workers, API gateway): image pull settings, security contexts, resources, probe timings, PodDisruptionBudgets,
// the collector's HorizontalPodAutoscaler and Ingress. The Helm chart's `workloads:` values reach
// the operator as JSON in USPA_WORKLOADS (settings.ts); these pure functions apply them.
import type {
  V1Affinity,
  V1HorizontalPodAutoscaler,
  V1Ingress,
  V1LocalObjectReference,
  V1OwnerReference,
  V1PodDisruptionBudget,
  V1PodSecurityContext,
  V1Probe,
  V1ResourceRequirements,
  V1SecurityContext,
  V1Toleration,
} from '@kubernetes/client-node';

export const WORKLOADS_ENV = 'USPA_WORKLOADS';

/** What the policy distinguishes: the collector, a Pipeline's worker, the Temporal workers, the API gateway. */
export type WorkloadComponent = 'collector' | 'pipeline' | 'worker' | 'api';

export interface ProbeTimings {
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}

export interface ComponentPolicy {
  resources?: V1ResourceRequirements;
  readinessProbe?: ProbeTimings;
  livenessProbe?: ProbeTimings;
  /** One per Deployment; maxUnavailable 1 lets a single replica be drained, minAvailable does not. */
  podDisruptionBudget?: { enabled: boolean; minAvailable?: number | string; maxUnavailable?: number | string };
  /** Collector only: how many replicas without an autoscaler (default 1); they share each Source's rate limit. */
  replicas?: number;
  /** Collector only: the HPA then owns spec.replicas. */
  autoscaling?: { enabled: boolean; minReplicas?: number; maxReplicas: number; targetCPUUtilizationPercentage?: number; targetMemoryUtilizationPercentage?: number };
  /** Collector only; `{namespace}` in a host or TLS secret name becomes the collector's namespace. */
  ingress?: { enabled: boolean; className?: string; annotations?: Record<string, string>; hosts: string[]; path?: string; tls?: Array<{ secretName?: string; hosts: string[] }> };
}

export interface WorkloadPolicy {
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  imagePullSecrets?: V1LocalObjectReference[];
  podSecurityContext?: V1PodSecurityContext;
  securityContext?: V1SecurityContext;
  podAnnotations?: Record<string, string>;
  nodeSelector?: Record<string, string>;
  tolerations?: V1Toleration[];
  affinity?: V1Affinity;
  collector?: ComponentPolicy;
  pipeline?: ComponentPolicy;
  worker?: ComponentPolicy;
  api?: ComponentPolicy;
}

/** What every pod gets without a policy: the "restricted" Pod Security Standard, as the image's user. */
export const DEFAULT_POD_SECURITY: V1PodSecurityContext = { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } };
export const DEFAULT_CONTAINER_SECURITY: V1SecurityContext = { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } };
export const DEFAULT_RESOURCES: V1ResourceRequirements = { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } };

/** USPA_WORKLOADS → the policy; absent means the defaults, malformed fails the operator's start naming the variable. */
export function workloadPolicyFromEnv(text: string | undefined): WorkloadPolicy {
  if (!text?.trim()) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${WORKLOADS_ENV} is not JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${WORKLOADS_ENV} must be a JSON object`);
  const policy = parsed as WorkloadPolicy;
  const replicas = policy.collector?.replicas;
  if (replicas !== undefined && !(Number.isInteger(replicas) && replicas >= 1)) throw new Error(`${WORKLOADS_ENV}: collector.replicas must be a whole number of at least 1, not ${JSON.stringify(replicas)}`);
  const hpa = policy.collector?.autoscaling;
  if (hpa?.enabled && !(hpa.maxReplicas >= (hpa.minReplicas ?? 1))) throw new Error(`${WORKLOADS_ENV}: collector.autoscaling.maxReplicas must be at least minReplicas`);
  return policy;
}

export function probe(path: string, defaults: ProbeTimings, timings: ProbeTimings = {}): V1Probe {
  return { httpGet: { path, port: 'http' }, ...defaults, ...timings };
}

interface Target {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  selector: Record<string, string>;
  owners: V1OwnerReference[];
}

export function disruptionBudget(t: Target, policy: ComponentPolicy | undefined): V1PodDisruptionBudget | undefined {
  const pdb = policy?.podDisruptionBudget;
  if (!pdb?.enabled) return undefined;
  const budget = pdb.minAvailable !== undefined ? { minAvailable: pdb.minAvailable } : { maxUnavailable: pdb.maxUnavailable ?? 1 };
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: t.name, namespace: t.namespace, labels: t.labels, ownerReferences: t.owners },
    spec: { ...budget, selector: { matchLabels: t.selector } },
  };
}

export function autoscaler(t: Target, policy: ComponentPolicy | undefined): V1HorizontalPodAutoscaler | undefined {
  const hpa = policy?.autoscaling;
  if (!hpa?.enabled) return undefined;
  const utilization = (name: 'cpu' | 'memory', averageUtilization: number | undefined) => (averageUtilization ? [{ type: 'Resource', resource: { name, target: { type: 'Utilization', averageUtilization } } }] : []);
  const metrics = [...utilization('cpu', hpa.targetCPUUtilizationPercentage ?? (hpa.targetMemoryUtilizationPercentage ? undefined : 80)), ...utilization('memory', hpa.targetMemoryUtilizationPercentage)];
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: t.name, namespace: t.namespace, labels: t.labels, ownerReferences: t.owners },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: t.name }, minReplicas: hpa.minReplicas ?? 1, maxReplicas: hpa.maxReplicas, metrics },
  } as V1HorizontalPodAutoscaler;
}

/** The collector's Ingress to its Service's port `http`; `{namespace}` in hosts and TLS secret names is filled in. */
export function ingress(t: Target, service: string, policy: ComponentPolicy | undefined): V1Ingress | undefined {
  const ing = policy?.ingress;
  if (!ing?.enabled || ing.hosts.length === 0) return undefined;
  const fill = (s: string) => s.replaceAll('{namespace}', t.namespace);
  const backend = { service: { name: service, port: { name: 'http' } } };
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: t.name, namespace: t.namespace, labels: t.labels, ownerReferences: t.owners, ...(ing.annotations && Object.keys(ing.annotations).length ? { annotations: ing.annotations } : {}) },
    spec: {
      ...(ing.className ? { ingressClassName: ing.className } : {}),
      rules: ing.hosts.map((h) => ({ host: fill(h), http: { paths: [{ path: ing.path ?? '/', pathType: 'Prefix', backend }] } })),
      ...(ing.tls?.length ? { tls: ing.tls.map((x) => ({ hosts: x.hosts.map(fill), ...(x.secretName ? { secretName: fill(x.secretName) } : {}) })) } : {}),
    },
  };
}
