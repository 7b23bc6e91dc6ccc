// The parts every USPA workload shares: labels, the config volume, probes, the config hash that
// rolls pods when their configuration changes.
import { createHash } from 'node:crypto';
import type { V1Container, V1Deployment, V1EnvVar, V1HorizontalPodAutoscaler, V1OwnerReference, V1PodDisruptionBudget, V1Role, V1RoleBinding, V1Secret, V1ServiceAccount } from '@kubernetes/client-node';
import { PART_OF, clickhouseSecret } from '../../api/names.ts';
import type { EngineAccess } from './engines.ts';
import { DEFAULT_CONTAINER_SECURITY, DEFAULT_POD_SECURITY, DEFAULT_RESOURCES, autoscaler, disruptionBudget, probe, type WorkloadComponent, type WorkloadPolicy } from './policy.ts';

export const CONFIG_DIR = '/etc/uspa';
export const CONFIG_FILE = `${CONFIG_DIR}/config.yaml`;

export function hashOf(...parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 16);
}

export interface WorkloadInput {
  name: string;
  namespace: string;
  component: string;
  owners: V1OwnerReference[];
  replicas: number;
  image: string;
  args: string[];
  port: number;
  env: V1Container['env'];
  /** Mounted at /etc/uspa (USPA_CONFIG points at its config.yaml); workers configured by env alone have none. */
  configMap?: string;
  serviceAccount?: string;
  /** Changes when anything the pods read at start changes: a new hash rolls the pods. */
  configHash: string;
  /** A resource's own (a Pipeline's spec.resources): wins over the policy's. */
  resources?: V1Container['resources'];
  extraLabels?: Record<string, string>;
  /** The installation's policy for these pods (chart values `workloads:`), and which of its components this is. */
  policy?: WorkloadPolicy;
  kind?: WorkloadComponent;
  /** TLS files and SASL credentials of the engines it uses (engines.ts). */
  access?: EngineAccess;
}

/**
 * A workload's ClickHouse credentials: a Secret of its own (`<workload>-clickhouse`), the env that
 * reads it by reference (the password never appears in the Deployment), and a hash of them that
 * rolls the pods when they change.
 */
export function clickhouseAccess(workload: string, namespace: string, labels: Record<string, string>, owners: V1OwnerReference[], clickhouse: { url: string; username: string; password: string }): { secret: V1Secret; env: V1EnvVar[]; hash: string } {
  const name = clickhouseSecret(workload);
  const keys = ['CLICKHOUSE_URL', 'CLICKHOUSE_USER', 'CLICKHOUSE_PASSWORD'];
  return {
    secret: { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace, labels, ownerReferences: owners }, type: 'Opaque', stringData: { CLICKHOUSE_URL: clickhouse.url, CLICKHOUSE_USER: clickhouse.username, CLICKHOUSE_PASSWORD: clickhouse.password } },
    env: keys.map((key) => ({ name: key, valueFrom: { secretKeyRef: { name, key } } })),
    hash: hashOf(clickhouse.url, clickhouse.username, clickhouse.password),
  };
}

/** A ServiceAccount of a workload's own, with a Role of these rules bound to it, all named `name`. */
export function workloadRbac(name: string, namespace: string, labels: Record<string, string>, owners: V1OwnerReference[], rules: V1Role['rules']): { account: V1ServiceAccount; role: V1Role; binding: V1RoleBinding } {
  const metadata = { name, namespace, labels, ownerReferences: owners };
  return {
    account: { apiVersion: 'v1', kind: 'ServiceAccount', metadata },
    role: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata, rules },
    binding: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name }, subjects: [{ kind: 'ServiceAccount', name, namespace }] },
  };
}

export function labelsFor(name: string, component: string, extra: Record<string, string> = {}): Record<string, string> {
  return { 'app.kubernetes.io/name': name, 'app.kubernetes.io/component': component, ...PART_OF, ...extra };
}

export function deployment(w: WorkloadInput): V1Deployment {
  const selector = { 'app.kubernetes.io/name': w.name, 'app.kubernetes.io/component': w.component };
  const labels = labelsFor(w.name, w.component, w.extraLabels);
  const policy = w.policy ?? {};
  const own = w.kind ? policy[w.kind] : undefined;
  // With an autoscaler the HPA owns spec.replicas; a Deployment scaled to 0 (nothing to serve) stays at 0.
  const scaled = Boolean(own?.autoscaling?.enabled) && w.replicas > 0;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: w.name, namespace: w.namespace, labels, ownerReferences: w.owners },
    spec: {
      ...(scaled ? {} : { replicas: w.replicas }),
      selector: { matchLabels: selector },
      // A new pod must be ready before an old one stops: configuration changes never drop traffic.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels, annotations: { ...policy.podAnnotations, 'uspa.tech/config-hash': w.access ? hashOf(w.configHash, w.access.hash) : w.configHash } },
        spec: {
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 30,
          securityContext: policy.podSecurityContext ?? DEFAULT_POD_SECURITY,
          ...(policy.imagePullSecrets?.length ? { imagePullSecrets: policy.imagePullSecrets } : {}),
          containers: [
            {
              name: w.component,
              image: w.image,
              ...(policy.imagePullPolicy ? { imagePullPolicy: policy.imagePullPolicy } : {}),
              args: w.args,
              ports: [{ name: 'http', containerPort: w.port }],
              env: [{ name: 'PORT', value: String(w.port) }, { name: 'HOST', value: '0.0.0.0' }, ...(w.configMap ? [{ name: 'USPA_CONFIG', value: CONFIG_FILE }] : []), ...(w.env ?? []), ...(w.access?.env ?? [])],
              volumeMounts: [...(w.configMap ? [{ name: 'config', mountPath: CONFIG_DIR, readOnly: true }] : []), ...(w.access?.mounts ?? []), { name: 'tmp', mountPath: '/tmp' }],
              readinessProbe: probe('/readyz', { periodSeconds: 5, failureThreshold: 3 }, own?.readinessProbe),
              livenessProbe: probe('/healthz', { periodSeconds: 10, failureThreshold: 6, initialDelaySeconds: 10 }, own?.livenessProbe),
              resources: w.resources ?? own?.resources ?? DEFAULT_RESOURCES,
              securityContext: policy.securityContext ?? DEFAULT_CONTAINER_SECURITY,
            },
          ],
          // The root filesystem is read-only: node writes its temporary files here.
          volumes: [...(w.configMap ? [{ name: 'config', configMap: { name: w.configMap } }] : []), ...(w.access?.volumes ?? []), { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
          ...(policy.nodeSelector && Object.keys(policy.nodeSelector).length ? { nodeSelector: policy.nodeSelector } : {}),
          ...(policy.tolerations?.length ? { tolerations: policy.tolerations } : {}),
          ...(policy.affinity && Object.keys(policy.affinity).length ? { affinity: policy.affinity } : {}),
          ...(w.serviceAccount ? { serviceAccountName: w.serviceAccount } : { automountServiceAccountToken: false }),
        },
      },
    },
  };
}

/** The Deployment's PodDisruptionBudget and HorizontalPodAutoscaler, when the policy asks for them. */
export function companions(w: WorkloadInput): { disruptionBudget?: V1PodDisruptionBudget; autoscaler?: V1HorizontalPodAutoscaler } {
  const own = w.kind ? w.policy?.[w.kind] : undefined;
  const target = { name: w.name, namespace: w.namespace, labels: labelsFor(w.name, w.component, w.extraLabels), selector: { 'app.kubernetes.io/name': w.name, 'app.kubernetes.io/component': w.component }, owners: w.owners };
  return { disruptionBudget: disruptionBudget(target, own), autoscaler: w.replicas > 0 ? autoscaler(target, own) : undefined };
}

/**
 * The fresher of the Deployment the apply just returned and the one in the cache: right after an
 * apply the cache can still hold the previous generation with its finished rollout.
 */
export function freshest(applied: V1Deployment | undefined, cached: V1Deployment | undefined): V1Deployment | undefined {
  if (!applied) return cached;
  if (!cached) return applied;
  return (cached.metadata?.generation ?? 0) > (applied.metadata?.generation ?? 0) ? cached : applied;
}

/**
 * A Deployment is available when its rollout is complete, as `kubectl rollout status` judges it:
 * every desired replica runs the current template and is available, and no replica of an older
 * template is left (while one is, it may still be the one answering — e.g. a collector without a
 * Source's new write key).
 */
export function deploymentAvailable(d: V1Deployment | undefined): { available: boolean; ready: number; desired: number } {
  const desired = d?.spec?.replicas ?? 1;
  const ready = d?.status?.readyReplicas ?? 0;
  const updated = d?.status?.updatedReplicas ?? 0;
  const current = (d?.status?.observedGeneration ?? 0) >= (d?.metadata?.generation ?? 1) && updated >= desired && (d?.status?.replicas ?? 0) <= updated;
  return { available: current && ready >= desired && (d?.status?.availableReplicas ?? 0) >= desired, ready, desired };
}
