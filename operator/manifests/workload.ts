// The parts every USPA workload shares: labels, the config volume, probes, the config hash that
// rolls pods when their configuration changes.
import { createHash } from 'node:crypto';
import type { V1Container, V1Deployment, V1OwnerReference } from '@kubernetes/client-node';
import { PART_OF } from '../../api/names.ts';

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
  resources?: V1Container['resources'];
  extraLabels?: Record<string, string>;
}

export function labelsFor(name: string, component: string, extra: Record<string, string> = {}): Record<string, string> {
  return { 'app.kubernetes.io/name': name, 'app.kubernetes.io/component': component, ...PART_OF, ...extra };
}

export function deployment(w: WorkloadInput): V1Deployment {
  const selector = { 'app.kubernetes.io/name': w.name, 'app.kubernetes.io/component': w.component };
  const labels = labelsFor(w.name, w.component, w.extraLabels);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: w.name, namespace: w.namespace, labels, ownerReferences: w.owners },
    spec: {
      replicas: w.replicas,
      selector: { matchLabels: selector },
      // A new pod must be ready before an old one stops: configuration changes never drop traffic.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels, annotations: { 'uspa.tech/config-hash': w.configHash } },
        spec: {
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 30,
          securityContext: { runAsNonRoot: true, runAsUser: 10001, fsGroup: 10001 },
          containers: [
            {
              name: w.component,
              image: w.image,
              args: w.args,
              ports: [{ name: 'http', containerPort: w.port }],
              env: [{ name: 'PORT', value: String(w.port) }, { name: 'HOST', value: '0.0.0.0' }, ...(w.configMap ? [{ name: 'USPA_CONFIG', value: CONFIG_FILE }] : []), ...(w.env ?? [])],
              volumeMounts: w.configMap ? [{ name: 'config', mountPath: CONFIG_DIR, readOnly: true }] : [],
              readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 5, failureThreshold: 3 },
              livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10, failureThreshold: 6, initialDelaySeconds: 10 },
              resources: w.resources ?? { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
            },
          ],
          volumes: w.configMap ? [{ name: 'config', configMap: { name: w.configMap } }] : [],
          ...(w.serviceAccount ? { serviceAccountName: w.serviceAccount } : { automountServiceAccountToken: false }),
        },
      },
    },
  };
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
