// ApiKey → the Secret holding its key (generated once, never overwritten: deleting the Secret
// rotates the key) and the key's hash in status, which the API gateway checks presented keys
// against. Nothing external: the Secret is owned by the ApiKey and goes with it, so no finalizer.
import type { V1Secret } from '@kubernetes/client-node';
import { type ApiKey, type ApiKeyStatus, apiKeyHash, apiKeyId, generateApiKey } from '../../api/v1alpha1/index.ts';
import { API_KEY_SECRET_KEY, PART_OF, apiKeySecret } from '../../api/names.ts';
import { type OperatorContext, SECRET_RECHECK_MS, isDeleting } from '../context.ts';
import { ownerRef } from '../../lib/kubernetes/apply.ts';
import { conditionOf, setConditions, verdict } from '../machinery/conditions.ts';
import type { Reconciler, Request, Result } from '../machinery/controller.ts';

/**
 * The operator may not watch Secrets (its RBAC reads them by name only), so a deleted key Secret
 * is noticed by reading it again this often: a rotation takes effect within seconds.
 */
export const KEY_RECHECK_MS = SECRET_RECHECK_MS;

const rfc3339 = (d: Date | string | undefined) => (d ? new Date(d).toISOString().replace(/\.\d+Z$/, 'Z') : undefined);

export class ApiKeyReconciler implements Reconciler {
  readonly kind = 'ApiKey';

  constructor(
    private readonly ctx: OperatorContext,
    private readonly now: () => number = Date.now,
  ) {}

  async reconcile({ namespace, name }: Request): Promise<Result | void> {
    const { ctx } = this;
    const key = ctx.caches.apikeys.get(name, namespace);
    if (!key || isDeleting(key)) return; // its Secret goes with it (owner reference)
    const secretName = key.spec.secretName ?? apiKeySecret(name);
    const status: ApiKeyStatus = { ...key.status, observedGeneration: key.metadata.generation, secretName };
    const secret = (await ctx.readSecret(namespace, secretName)) ?? (await this.issue(key, secretName));
    const encoded = secret?.data?.[API_KEY_SECRET_KEY];
    if (!encoded) {
      await this.write(key, status, 'degraded', 'SecretKeyMissing', `Secret ${secretName} has no key "${API_KEY_SECRET_KEY}": delete it and the operator generates a new key`);
      return { requeueAfterMs: KEY_RECHECK_MS };
    }
    const hash = apiKeyHash(Buffer.from(encoded, 'base64').toString('utf8'));
    const before = key.status?.keyHash;
    status.keyHash = hash;
    status.keyId = apiKeyId(hash);
    status.keyCreatedAt = rfc3339(secret.metadata?.creationTimestamp);

    const expires = key.spec.expiresAt ? Date.parse(key.spec.expiresAt) : undefined;
    const left = expires === undefined ? undefined : expires - this.now();
    const where = `key ${status.keyId} in Secret ${secretName}`;
    let changed: boolean;
    if (key.spec.suspend) {
      changed = await this.write(key, status, 'disabled', 'Suspended', `${where}: suspended, the gateway refuses it until spec.suspend is false`);
    } else if (left !== undefined && left <= 0) {
      changed = await this.write(key, status, 'degraded', 'Expired', `${where} expired at ${key.spec.expiresAt}: the gateway refuses it; set a later spec.expiresAt or delete the ApiKey`);
    } else if (!ctx.caches.pipelines.list(namespace).some((p) => !isDeleting(p))) {
      // Ready all the same: the key is valid, and works as soon as a Pipeline starts the gateway.
      changed = await this.write(key, status, 'ready', 'NoApi', `${where} issued; no API runs in namespace ${namespace} yet: it starts with the namespace's first Pipeline, and the key works then`);
    } else {
      changed = await this.write(key, status, 'ready', 'KeyIssued', `${where} issued for role ${key.spec.role}`);
    }
    // Events name the key by its id only, after the status that records it was written.
    if (changed && before !== hash) {
      if (before) ctx.events.normal(key, 'KeyRotated', `issued a new key ${status.keyId} in Secret ${secretName}; key ${apiKeyId(before)} no longer works`);
      else ctx.events.normal(key, 'KeyIssued', `issued key ${status.keyId} in Secret ${secretName}`);
    }
    // Looked at again to notice a deleted Secret, and at the instant the key expires.
    return { requeueAfterMs: left !== undefined && left > 0 ? Math.min(KEY_RECHECK_MS, left + 1) : KEY_RECHECK_MS };
  }

  /** Creates the Secret with a new key; never replaces one that exists (another reconcile's or the user's). */
  private async issue(key: ApiKey, secretName: string): Promise<V1Secret | undefined> {
    const namespace = key.metadata.namespace!;
    try {
      return await this.ctx.core.createNamespacedSecret({
        namespace,
        body: {
          metadata: { name: secretName, namespace, labels: { ...PART_OF, 'app.kubernetes.io/component': 'apikey', 'uspa.tech/apikey': key.metadata.name! }, ownerReferences: [ownerRef(key)] },
          type: 'Opaque',
          stringData: { [API_KEY_SECRET_KEY]: generateApiKey() },
        },
      });
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw err;
      return this.ctx.readSecret(namespace, secretName);
    }
  }

  /** Conditions and status in one write; true when anything changed. A Warning Event when Ready turns to a failure. */
  private async write(key: ApiKey, status: ApiKeyStatus, state: 'ready' | 'degraded' | 'disabled', reason: string, message: string): Promise<boolean> {
    const previous = conditionOf(key.status?.conditions, 'Ready')?.reason;
    // Disabled on purpose (suspended): not Ready, and nothing is wrong.
    const conditions = state === 'disabled' ? verdict('ready', reason, message).map((c) => (c.type === 'Ready' ? { ...c, status: 'False' as const } : c)) : verdict(state, reason, message);
    status.conditions = setConditions(key.status?.conditions, conditions, key.metadata.generation ?? 0);
    const changed = await this.ctx.writeStatus(key, status);
    if (changed && state === 'degraded' && previous !== reason) this.ctx.events.warning(key, reason, message);
    return changed;
  }
}
