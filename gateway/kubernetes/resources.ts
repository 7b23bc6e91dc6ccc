// The namespace's custom resources as the API's ServiceAccount sees them: reads, and writes under
// the field manager "uspa-api", so kubectl, GitOps and the API edit the same objects and
// managedFields says who set what.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { API_VERSION, GROUP, VERSION } from '../../api/v1alpha1/index.ts';

export const FIELD_MANAGER = 'uspa-api';

export interface CustomResource<S = Record<string, unknown>, T = Record<string, unknown>> extends KubernetesObject {
  spec: S;
  status?: T;
}

export interface ResourcePage<R> {
  items: R[];
  /** The API server's continue token; undefined on the last page. */
  continue?: string;
}

export class CustomResources<R extends CustomResource<unknown, unknown> = CustomResource> {
  private readonly api: CustomObjectsApi;

  constructor(
    kc: KubeConfig,
    readonly namespace: string,
    readonly kind: string,
    readonly plural: string,
  ) {
    this.api = kc.makeApiClient(CustomObjectsApi);
  }

  private get where() {
    return { group: GROUP, version: VERSION, namespace: this.namespace, plural: this.plural };
  }

  async list(limit?: number, token?: string): Promise<ResourcePage<R>> {
    const list = (await this.api.listNamespacedCustomObject({ ...this.where, ...(limit ? { limit } : {}), ...(token ? { _continue: token } : {}) })) as { items: R[]; metadata?: { _continue?: string; continue?: string } };
    const next = list.metadata?.continue ?? list.metadata?._continue;
    return { items: list.items, ...(next ? { continue: next } : {}) };
  }

  async get(name: string): Promise<R> {
    return (await this.api.getNamespacedCustomObject({ ...this.where, name })) as R;
  }

  async create(name: string, spec: unknown): Promise<R> {
    const body = { apiVersion: API_VERSION, kind: this.kind, metadata: { name, namespace: this.namespace }, spec };
    return (await this.api.createNamespacedCustomObject({ ...this.where, body, fieldManager: FIELD_MANAGER, fieldValidation: 'Strict' })) as R;
  }

  /** Replaces the spec of `current` (its metadata kept), at resourceVersion `resourceVersion`. */
  async replace(current: R, spec: unknown, resourceVersion: string): Promise<R> {
    const body = { apiVersion: API_VERSION, kind: this.kind, metadata: { ...current.metadata, resourceVersion }, spec };
    return (await this.api.replaceNamespacedCustomObject({ ...this.where, name: current.metadata!.name!, body, fieldManager: FIELD_MANAGER, fieldValidation: 'Strict' })) as R;
  }

  /** A JSON merge patch (RFC 7386) of the object, refused with 409 unless it is at resourceVersion. */
  async mergePatch(name: string, patch: Record<string, unknown>, resourceVersion: string): Promise<R> {
    const body = { ...patch, metadata: { ...(patch.metadata as Record<string, unknown> | undefined), resourceVersion } };
    return (await this.api.patchNamespacedCustomObject({ ...this.where, name, body, fieldManager: FIELD_MANAGER, fieldValidation: 'Strict' }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch))) as R;
  }

  async delete(name: string): Promise<void> {
    await this.api.deleteNamespacedCustomObject({ ...this.where, name });
  }
}

/** RFC 7386: objects merge key by key, null removes a key, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
