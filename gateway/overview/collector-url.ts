// Where this namespace's collector answers, for its metrics and for the snippet to paste:
// USPA_COLLECTOR_URL when set, else the collector Service (its loopback forward under the local
// runtime, its cluster DNS name in a cluster).
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { COLLECTOR, COLLECTOR_PORT, LOCAL_URL_ANNOTATION } from '../../api/names.ts';

export function collectorUrlResolver(kc: KubeConfig, namespace: string, configured?: string): () => Promise<string | undefined> {
  if (configured) return async () => configured.replace(/\/+$/, '');
  let core: CoreV1Api | undefined;
  return async () => {
    core ??= kc.makeApiClient(CoreV1Api);
    try {
      const svc = await core.readNamespacedService({ name: COLLECTOR, namespace });
      const local = svc.metadata?.annotations?.[LOCAL_URL_ANNOTATION];
      if (local) return local.replace(/\/+$/, '');
      const port = svc.spec?.ports?.[0]?.port ?? COLLECTOR_PORT;
      return `http://${COLLECTOR}.${namespace}.svc:${port}`;
    } catch {
      return undefined;
    }
  };
}
