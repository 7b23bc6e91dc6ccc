// What the worker reads from Kubernetes: the namespace's Activations (a watched cache — the spec
// is the source of truth at send time) and the Secrets they refer to (read when sending, cached
// briefly, never logged).
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type KubernetesListObject } from '@kubernetes/client-node';
import type { Logger } from '../../lib/log.ts';
import { GROUP, VERSION, type Activation, type SecretKeyRef } from '../../api/v1alpha1/index.ts';
import { ResourceInformer } from '../../lib/kubernetes/informer.ts';

export interface ActivationLookup {
  /** The Activation as last seen by the watch; undefined when it does not exist (or was deleted). */
  get(name: string): Activation | undefined;
  list(): readonly Activation[];
  /** Resolves once the cache holds the first full list. */
  ready(): Promise<void>;
}

/** The namespace's Activations, listed and watched (restarted with backoff after errors). */
export class ActivationCache implements ActivationLookup {
  readonly informer: ResourceInformer<Activation>;
  private started?: Promise<void>;

  constructor(
    kc: KubeConfig,
    readonly namespace: string,
    log: Logger,
  ) {
    const api = kc.makeApiClient(CustomObjectsApi);
    this.informer = new ResourceInformer<Activation>(kc, {
      name: 'activations',
      path: `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/activations`,
      list: () => api.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'activations' }) as Promise<KubernetesListObject<Activation>>,
      resyncMs: 300_000,
      log,
    });
  }

  start(): Promise<void> {
    this.started ??= this.informer.start();
    return this.started;
  }

  ready(): Promise<void> {
    return this.start();
  }

  get(name: string): Activation | undefined {
    const a = this.informer.get(name, this.namespace);
    return a && !a.metadata.deletionTimestamp ? a : undefined;
  }

  list(): readonly Activation[] {
    return this.informer.list(this.namespace).filter((a) => !a.metadata.deletionTimestamp);
  }

  onDelete(handler: (a: Activation) => void): void {
    this.informer.onChange((a, change) => {
      if (change === 'delete' || (change === 'update' && a.metadata.deletionTimestamp)) handler(a);
    });
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }
}

export interface SecretLookup {
  /** The value of the Secret's key; `where` names the field that refers to it, for the error. */
  value(ref: SecretKeyRef, defaultKey: string, where: string): Promise<string>;
}

export class SecretNotUsable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretNotUsable';
  }
}

/** Reads Secrets of one namespace with a short cache (a rotated Secret is used within ttlMs). */
export class SecretReader implements SecretLookup {
  private readonly core: CoreV1Api;
  private readonly cache = new Map<string, { data: Record<string, string>; at: number }>();

  constructor(
    kc: KubeConfig,
    readonly namespace: string,
    private readonly ttlMs = 10_000,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async value(ref: SecretKeyRef, defaultKey: string, where: string): Promise<string> {
    const key = ref.key ?? defaultKey;
    let entry = this.cache.get(ref.name);
    if (!entry || Date.now() - entry.at > this.ttlMs) {
      try {
        const secret = await this.core.readNamespacedSecret({ name: ref.name, namespace: this.namespace });
        entry = { data: secret.data ?? {}, at: Date.now() };
      } catch (err) {
        const code = (err as { code?: number }).code;
        if (code === 404) throw new SecretNotUsable(`${where}: Secret "${ref.name}" not found in namespace ${this.namespace}`);
        throw new Error(`${where}: could not read Secret "${ref.name}" (${code ?? (err as Error).message})`);
      }
      this.cache.set(ref.name, entry);
    }
    const encoded = entry.data[key];
    if (encoded === undefined) throw new SecretNotUsable(`${where}: Secret "${ref.name}" has no key "${key}"`);
    return Buffer.from(encoded, 'base64').toString('utf8');
  }
}
