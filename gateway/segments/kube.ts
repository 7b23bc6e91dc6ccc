// The namespace's Segment resources, read from the Kubernetes API as the API's ServiceAccount
// (get/list on segments): the spec is what people wrote, the status what the operator saw.
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, VERSION, type Segment } from '../../api/v1alpha1/index.ts';
import { isNotFound } from '../../lib/kubernetes/apply.ts';
import { ApiError } from '../http/errors.ts';

export interface SegmentPage {
  items: Segment[];
  /** The Kubernetes list's continue token; undefined on the last page. */
  next?: string;
}

export class SegmentReader {
  private readonly custom: CustomObjectsApi;

  constructor(
    kc: KubeConfig,
    private readonly namespace: string,
  ) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  /** One page in name order; `token` is a previous page's continue token. */
  async list(limit: number, token?: string): Promise<SegmentPage> {
    try {
      const list = (await this.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.namespace, plural: 'segments', limit, ...(token ? { _continue: token } : {}) })) as { items: Segment[]; metadata?: { continue?: string } };
      return { items: list.items, ...(list.metadata?.continue ? { next: list.metadata.continue } : {}) };
    } catch (err) {
      const code = (err as { code?: number }).code;
      // A token the API server does not take (forged) or no longer has (410: compacted away).
      if (token && (code === 400 || code === 410)) throw new ApiError(400, 'invalid_request', 'query.cursor: has expired or is not a cursor this API returned; list again from the first page', 'query.cursor', [{ field: 'query.cursor', message: 'has expired or is not a cursor this API returned' }]);
      throw unavailable(err);
    }
  }

  async get(name: string): Promise<Segment | undefined> {
    try {
      return (await this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.namespace, plural: 'segments', name })) as Segment;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw unavailable(err);
    }
  }
}

/** The API server not answering is the client's retry, not our bug. */
function unavailable(err: unknown): unknown {
  if ((err as { code?: number }).code !== undefined && (err as { code: number }).code < 500) return err;
  return new ApiError(503, 'unavailable', 'the Kubernetes API does not answer; retry');
}
