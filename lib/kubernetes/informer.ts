// An informer per watched resource: client-node's ListWatch lists, then watches from the list's
// resourceVersion and re-lists on 410 Gone. This adds what controller-runtime adds on top: a
// restart with jittered exponential backoff after any other error, a periodic resync, and a way
// to wait until the cache has synced before any reconcile reads it.
import { makeInformer, type KubeConfig, type KubernetesObject, type ListPromise } from '@kubernetes/client-node';
import type { Logger } from '../log.ts';

export type ChangeKind = 'add' | 'update' | 'delete' | 'resync';

export interface InformerOptions<T extends KubernetesObject> {
  /** For logs and metrics, e.g. "Deployment". */
  name: string;
  /** The watch path, e.g. /apis/apps/v1/deployments. */
  path: string;
  list: ListPromise<T>;
  labelSelector?: string;
  /** Every resyncMs every cached object is handed to the handlers again (level-triggered safety net). */
  resyncMs?: number;
  log: Logger;
}

export class ResourceInformer<T extends KubernetesObject> {
  private readonly inner;
  private readonly handlers: Array<(obj: T, change: ChangeKind) => void> = [];
  private failures = 0;
  private stopped = true;
  private resyncTimer?: NodeJS.Timeout;
  private restartTimer?: NodeJS.Timeout;

  constructor(
    kc: KubeConfig,
    private readonly options: InformerOptions<T>,
  ) {
    // makeInformer builds a ListWatch, which also knows the resourceVersion it has synced to.
    // client-node's ListWatch starts its watch after the list returns without looking whether it was
    // stopped meanwhile: a list that ends after stop() would open a watch nobody closes (and keep the
    // process alive). A list finishing after stop() fails instead, which ends that round.
    const list: ListPromise<T> = async () => {
      const result = await options.list();
      if (this.stopped) throw new Error(`${options.name} informer stopped`);
      return result;
    };
    this.inner = makeInformer<T>(kc, options.path, list, options.labelSelector) as ReturnType<typeof makeInformer<T>> & { latestResourceVersion(): string };
    this.inner.on('add', (o) => this.emit(o, 'add'));
    this.inner.on('update', (o) => this.emit(o, 'update'));
    this.inner.on('delete', (o) => this.emit(o, 'delete'));
    this.inner.on('error', (err) => this.restartLater(err));
  }

  onChange(handler: (obj: T, change: ChangeKind) => void): void {
    this.handlers.push(handler);
  }

  get hasSynced(): boolean {
    return this.inner.latestResourceVersion() !== '';
  }

  get(name: string, namespace?: string): T | undefined {
    return this.inner.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.inner.list(namespace);
  }

  /** Starts listing and watching; resolves once the first list has filled the cache. */
  async start(signal?: AbortSignal): Promise<void> {
    this.stopped = false;
    await this.inner.start();
    while (!this.hasSynced) {
      if (this.stopped || signal?.aborted) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (this.options.resyncMs) {
      this.resyncTimer = setInterval(() => {
        for (const o of this.inner.list()) this.emit(o, 'resync');
        void this.checkFresh();
      }, this.options.resyncMs);
    }
  }

  /**
   * A watch can stall without an error (the connection stays open, no event comes): at each resync
   * the cache is compared with a fresh list, and an object still differing a moment later (not
   * an event on its way) restarts the list and watch, whose new list brings the cache up to date.
   */
  private async checkFresh(): Promise<void> {
    const key = (o: KubernetesObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
    const stale = async (): Promise<string | undefined> => {
      const listed = ((await this.options.list()) as { items?: T[] }).items ?? [];
      const cached = new Map(this.inner.list().map((o) => [key(o), o.metadata?.resourceVersion]));
      for (const o of listed) if (cached.get(key(o)) !== o.metadata?.resourceVersion) return key(o);
      if (cached.size > listed.length) return 'an object deleted';
      return undefined;
    };
    try {
      if (this.stopped || !(await stale())) return;
      await new Promise((r) => setTimeout(r, 2_000));
      const behind = this.stopped ? undefined : await stale();
      if (!behind) return;
      this.options.log.warn({ informer: this.options.name, object: behind }, 'the watch fell behind the API server: listing and watching again');
      void this.inner.start();
    } catch (err) {
      this.options.log.warn({ informer: this.options.name, err: String((err as Error)?.message ?? err) }, 'could not compare the cache with the API server; next resync');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.resyncTimer);
    clearTimeout(this.restartTimer);
    await this.inner.stop();
    // A watch request already on its way when stop() ran is only known to ListWatch once it is
    // open: abort that one too, a moment later.
    setTimeout(() => void this.inner.stop(), 2_000).unref();
  }

  private emit(obj: T, change: ChangeKind): void {
    if (change !== 'resync') this.failures = 0;
    for (const h of this.handlers) h(obj, change);
  }

  private restartLater(err: unknown): void {
    if (this.stopped) return;
    const delay = Math.min(500 * 2 ** this.failures, 30_000) * (0.5 + Math.random());
    this.failures++;
    this.options.log.warn({ informer: this.options.name, err: String((err as Error)?.message ?? err), retryInMs: Math.round(delay) }, 'watch failed; restarting');
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      if (!this.stopped) void this.inner.start();
    }, delay);
  }
}
