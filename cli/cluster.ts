// Reads what the data commands need from the cluster the kubeconfig points at: a namespace's
// Pipelines, Sources and their worker Deployments. Failures become messages saying what to do.
import { ApiException, AppsV1Api, CustomObjectsApi, KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import { GROUP, VERSION, type Pipeline, type Source } from '../api/v1alpha1/index.ts';
import { ResolveError, type NamespaceObjects } from './resolve.ts';
import { apiMessage } from '../lib/kubernetes/apply.ts';

const LOCAL_HINT = 'for the local stack: eval "$(npm run -s uspa -- stack env)"';

export function loadKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromDefault();
  } catch (err) {
    throw new ResolveError(`cannot read the kubeconfig${process.env.KUBECONFIG ? ` ${process.env.KUBECONFIG}` : ''} (${(err as Error).message}); point KUBECONFIG at your cluster's — ${LOCAL_HINT}`);
  }
  return kc;
}

/** Like kubectl: the current context's namespace, else `default`. */
export function contextNamespace(kc: KubeConfig): string {
  return kc.getContextObject(kc.getCurrentContext())?.namespace || 'default';
}

function explain(kc: KubeConfig, what: string, err: unknown): Error {
  const server = kc.getCurrentCluster()?.server ?? '(no cluster in the kubeconfig)';
  if (err instanceof ApiException) {
    if (err.code === 404) return new ResolveError(`the cluster at ${server} does not serve ${what} (${GROUP}/${VERSION}): USPA's CRDs are not installed; install them with the chart (helm install uspa helm/uspa) or run npm run local`);
    if (err.code === 401 || err.code === 403) return new ResolveError(`the cluster at ${server} refused to list ${what} (HTTP ${err.code}); check your kubeconfig user's permissions: kubectl auth can-i list ${what}`);
    return new ResolveError(`the cluster at ${server} answered HTTP ${err.code} listing ${what}: ${apiMessage(err).slice(0, 300)}`);
  }
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return new ResolveError(`cannot reach the Kubernetes API server at ${server} (${cause?.code ?? cause?.message ?? (err as Error).message}); point KUBECONFIG at your cluster — ${LOCAL_HINT}`);
}

/** The namespace's Pipelines and Sources, and the worker Deployments their status names. */
export async function readNamespace(kc: KubeConfig, namespace: string): Promise<NamespaceObjects> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const apps = kc.makeApiClient(AppsV1Api);
  const list = async <T>(plural: string): Promise<T[]> => {
    try {
      return ((await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural })) as { items: T[] }).items;
    } catch (err) {
      throw explain(kc, `${plural}.${GROUP}`, err);
    }
  };
  const [pipelines, sources] = await Promise.all([list<Pipeline>('pipelines'), list<Source>('sources')]);
  const named = [...new Set(pipelines.map((p) => p.status?.deployment).filter((d): d is string => Boolean(d)))];
  const deployments = await Promise.all(
    named.map(async (name): Promise<V1Deployment | undefined> => {
      try {
        return await apps.readNamespacedDeployment({ name, namespace });
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        throw explain(kc, 'deployments.apps', err);
      }
    }),
  );
  return { namespace, pipelines, sources, deployments: deployments.filter((d): d is V1Deployment => Boolean(d)) };
}
