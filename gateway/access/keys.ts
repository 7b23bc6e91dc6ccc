// Which keys the API accepts: the namespace's ApiKey resources, watched. The API never sees a key
// at rest, only the hash the operator writes into status.keyHash; a request's key is hashed and
// looked up. Deleting an ApiKey (revocation) or its Secret (rotation: a new hash) takes effect as
// soon as the watch delivers the change; expiry is checked on every request.
import { CustomObjectsApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { API_KEY_DEFAULTS, apiKeyHash, apiKeyId, type ApiKey } from '../../api/v1alpha1/index.ts';
import { ResourceInformer } from '../../lib/kubernetes/informer.ts';
import type { Logger } from '../../lib/log.ts';
import { ApiError } from '../http/errors.ts';
import { isRole, type Role } from './roles.ts';

export interface Caller {
  /** The ApiKey resource's name. */
  key: string;
  /** First characters of the key's hash: safe to log and audit. */
  keyId: string;
  role: Role;
  origins: readonly string[];
  rateLimit: { requestsPerSecond: number; burst: number };
}

interface Entry extends Caller {
  expiresAt?: number;
  suspended?: boolean;
}

/** ApiKey → what a request with its key may do; undefined while the operator has not issued it. */
export function entryOf(key: ApiKey): Entry | undefined {
  const hash = key.status?.keyHash;
  if (!hash || !isRole(key.spec?.role)) return undefined;
  const expiresAt = key.spec.expiresAt ? Date.parse(key.spec.expiresAt) : undefined;
  return {
    key: key.metadata!.name!,
    keyId: key.status?.keyId ?? apiKeyId(hash),
    role: key.spec.role,
    origins: key.spec.origins ?? [],
    rateLimit: { ...API_KEY_DEFAULTS.rateLimit, ...key.spec.rateLimit },
    ...(expiresAt !== undefined && !Number.isNaN(expiresAt) ? { expiresAt } : {}),
    ...(key.spec.suspend ? { suspended: true } : {}),
  };
}

export interface KeyLookup {
  /** The caller a presented key belongs to; throws 401 for a missing, unknown or expired key. */
  authenticate(presented: string | undefined, now?: number): Caller;
  /** Every origin some decisions key may be used from (CORS preflights carry no key). */
  allowsOrigin(origin: string): boolean;
  readonly synced: boolean;
}

export class KeyTable implements KeyLookup {
  private readonly byHash = new Map<string, Entry>();
  private readonly hashOfName = new Map<string, string>();
  synced = false;

  /** Keeps the table equal to the given ApiKey (or removes it). */
  update(key: ApiKey, deleted = false): void {
    const name = key.metadata!.name!;
    const previous = this.hashOfName.get(name);
    if (previous) this.byHash.delete(previous);
    this.hashOfName.delete(name);
    const entry = deleted ? undefined : entryOf(key);
    if (!entry) return;
    this.byHash.set(key.status!.keyHash!, entry);
    this.hashOfName.set(name, key.status!.keyHash!);
  }

  authenticate(presented: string | undefined, now = Date.now()): Caller {
    if (!presented) throw new ApiError(401, 'unauthenticated', 'an API key is required: send "Authorization: Bearer <key>" (the key is in the ApiKey\'s Secret)', 'header.authorization', [], { 'WWW-Authenticate': 'Bearer realm="uspa"' });
    const entry = this.byHash.get(apiKeyHash(presented));
    if (!entry) throw new ApiError(401, 'unauthenticated', 'the API key is not valid (unknown, rotated or revoked)', 'header.authorization', [], { 'WWW-Authenticate': 'Bearer realm="uspa", error="invalid_token"' });
    if (entry.expiresAt !== undefined && entry.expiresAt <= now) {
      throw new ApiError(401, 'key_expired', `the API key of ApiKey ${entry.key} expired at ${new Date(entry.expiresAt).toISOString()}`, 'header.authorization', [], { 'WWW-Authenticate': 'Bearer realm="uspa", error="invalid_token"' });
    }
    if (entry.suspended) throw new ApiError(401, 'unauthenticated', `ApiKey ${entry.key} is suspended (spec.suspend)`, 'header.authorization', [], { 'WWW-Authenticate': 'Bearer realm="uspa", error="invalid_token"' });
    const { expiresAt: _expiresAt, suspended: _suspended, ...caller } = entry;
    return caller;
  }

  allowsOrigin(origin: string): boolean {
    for (const e of this.byHash.values()) if (!e.suspended && e.origins.includes(origin)) return true;
    return false;
  }

  get size(): number {
    return this.byHash.size;
  }
}

/** The KeyTable fed by a watch of the namespace's ApiKeys. */
export async function watchKeys(kc: KubeConfig, namespace: string, log: Logger): Promise<{ keys: KeyTable; stop(): Promise<void> }> {
  const keys = new KeyTable();
  const custom = kc.makeApiClient(CustomObjectsApi);
  const informer = new ResourceInformer<ApiKey & KubernetesObject>(kc, {
    name: 'ApiKey',
    path: `/apis/uspa.tech/v1alpha1/namespaces/${namespace}/apikeys`,
    list: () => custom.listNamespacedCustomObject({ group: 'uspa.tech', version: 'v1alpha1', namespace, plural: 'apikeys' }) as never,
    resyncMs: 60_000,
    log,
  });
  informer.onChange((obj, change) => keys.update(obj, change === 'delete'));
  await informer.start();
  keys.synced = true;
  log.info({ keys: keys.size }, 'API keys loaded');
  return { keys, stop: () => informer.stop() };
}
