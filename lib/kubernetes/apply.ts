// Server-side apply with one fixed field manager: the operator states the whole desired object
// every time; the API server merges, tracks ownership per field and leaves others' fields alone.
import { KubernetesObjectApi, PatchStrategy, type KubeConfig, type KubernetesObject, type V1OwnerReference } from '@kubernetes/client-node';

export const FIELD_MANAGER = 'uspa-operator';
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': FIELD_MANAGER };

export class Applier {
  readonly objects: KubernetesObjectApi;

  constructor(kc: KubeConfig) {
    this.objects = KubernetesObjectApi.makeApiClient(kc);
  }

  async apply<T extends KubernetesObject>(desired: T): Promise<T> {
    return this.objects.patch(desired, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  }

  /** Deletes if present; a 404 is success (idempotent). */
  async deleteIfExists(obj: KubernetesObject): Promise<void> {
    try {
      await this.objects.delete(obj);
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
    }
  }
}

export interface Owner {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; uid?: string };
}

/** An owner reference: garbage collection deletes the object when all its owners are gone. */
export function ownerRef(owner: Owner, controller = true): V1OwnerReference {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name!, uid: owner.metadata.uid!, controller, blockOwnerDeletion: true };
}

export function isNotFound(err: unknown): boolean {
  return (err as { code?: number }).code === 404;
}

/** The message of a Kubernetes API error, without the headers and the request dump. */
export function apiMessage(err: unknown): string {
  const e = err as { body?: unknown; message?: string };
  try {
    const body = typeof e.body === 'string' ? JSON.parse(e.body) : e.body;
    if (body && typeof body === 'object' && 'message' in body) return String((body as { message: unknown }).message);
  } catch {
    // not JSON: fall through
  }
  return (e.message ?? String(err)).split('\n')[0]!;
}
