// One controller per kind: a work queue of namespace/name keys fed by informers, drained by a few
// workers that call the kind's reconciler. A key is never reconciled by two workers at once; an
// error re-queues it with per-key exponential backoff; success may ask to be looked at again later.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../../lib/log.ts';
import { apiMessage } from '../../lib/kubernetes/apply.ts';
import { WorkQueue } from './queue.ts';

export interface Request {
  namespace: string;
  name: string;
}

export interface Result {
  /** Reconcile again after this long even if nothing changes (e.g. to refresh consumer lag). */
  requeueAfterMs?: number;
}

export interface Reconciler {
  readonly kind: string;
  reconcile(request: Request): Promise<Result | void>;
}

export interface ControllerMetrics {
  reconciles: Counter<'kind' | 'result'>;
  duration: Histogram<'kind'>;
  depth: Gauge<'kind'>;
}

export function controllerMetrics(registry: Registry): ControllerMetrics {
  return {
    reconciles: new Counter({ name: 'uspa_operator_reconciles_total', help: 'Reconciles by kind and result (success, error, requeue)', labelNames: ['kind', 'result'], registers: [registry] }),
    duration: new Histogram({ name: 'uspa_operator_reconcile_seconds', help: 'Reconcile duration by kind', labelNames: ['kind'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] }),
    depth: new Gauge({ name: 'uspa_operator_queue_depth', help: 'Keys waiting in the work queue by kind', labelNames: ['kind'], registers: [registry] }),
  };
}

export class Controller {
  readonly queue = new WorkQueue();
  private running: Promise<void>[] = [];

  constructor(
    private readonly reconciler: Reconciler,
    private readonly metrics: ControllerMetrics,
    private readonly log: Logger,
    private readonly workers = 2,
  ) {}

  get kind(): string {
    return this.reconciler.kind;
  }

  enqueue(namespace: string | undefined, name: string | undefined): void {
    if (!name) return;
    this.queue.add(`${namespace ?? ''}/${name}`);
    this.metrics.depth.set({ kind: this.kind }, this.queue.depth);
  }

  start(): void {
    for (let i = 0; i < this.workers; i++) this.running.push(this.work());
  }

  /** Stops handing out keys and waits for reconciles in flight to finish. */
  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all(this.running);
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      this.metrics.depth.set({ kind: this.kind }, this.queue.depth);
      const [namespace, name] = key.split('/') as [string, string];
      const end = this.metrics.duration.startTimer({ kind: this.kind });
      try {
        const result = await this.reconciler.reconcile({ namespace, name });
        this.queue.forget(key);
        if (result?.requeueAfterMs) this.queue.addAfter(key, result.requeueAfterMs);
        this.metrics.reconciles.inc({ kind: this.kind, result: result?.requeueAfterMs ? 'requeue' : 'success' });
      } catch (err) {
        const retryInMs = Math.round(this.queue.addRateLimited(key));
        this.metrics.reconciles.inc({ kind: this.kind, result: 'error' });
        this.log.warn({ kind: this.kind, namespace, name, err: apiMessage(err), retryInMs, failures: this.queue.failuresOf(key) }, 'reconcile failed; will retry');
      } finally {
        end();
        this.queue.done(key);
      }
    }
  }
}
