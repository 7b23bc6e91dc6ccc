// Leader election on a coordination.k8s.io Lease, as client-go's leaderelection does it: the
// holder renews every retryPeriod; a candidate takes over once the lease has not changed for
// leaseDuration by its own clock (so clock skew between replicas does not matter).
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../lib/log.ts';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  log: Logger;
}

export class LeaderElector {
  private readonly api: CustomObjectsApi;
  private readonly leaseMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;
  private observed?: { record: string; at: number };
  private leading = false;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private lastRenew = 0;

  constructor(
    kc: KubeConfig,
    private readonly options: LeaderElectionOptions,
  ) {
    // Through the untyped client: the typed Lease model serializes MicroTime with 3 digits, which
    // the API server refuses (it wants 6).
    this.api = kc.makeApiClient(CustomObjectsApi);
    this.leaseMs = options.leaseDurationMs ?? 13_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 9_000;
    this.retryMs = options.retryPeriodMs ?? 2_000;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Resolves once this replica leads; onLost is called if it ever stops leading (then exit). */
  async acquire(onLost: () => void): Promise<void> {
    for (;;) {
      if (this.stopped) throw new Error('leader election stopped');
      if (await this.tryAcquireOrRenew()) break;
      await new Promise((r) => setTimeout(r, this.retryMs * (1 + Math.random() * 0.2)));
    }
    this.leading = true;
    this.lastRenew = Date.now();
    this.options.log.info({ lease: `${this.options.namespace}/${this.options.name}`, identity: this.options.identity }, 'became leader');
    const renew = async () => {
      if (this.stopped) return;
      const ok = await this.tryAcquireOrRenew();
      if (ok) this.lastRenew = Date.now();
      else if (Date.now() - this.lastRenew > this.renewDeadlineMs) {
        this.leading = false;
        this.options.log.error({ lease: this.options.name }, 'lost leadership (could not renew the lease in time)');
        onLost();
        return;
      }
      this.timer = setTimeout(() => void renew(), this.retryMs);
    };
    this.timer = setTimeout(() => void renew(), this.retryMs);
  }

  /** Stops renewing and, when leading, hands the lease back so a standby takes over at once. */
  async release(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    // A renewal still in flight when the stop came can move the lease's resourceVersion under us
    // (409): read it again and release that, a few times.
    for (let attempt = 1; ; attempt++) {
      try {
        const lease = await this.read();
        if (lease.spec?.holderIdentity !== this.options.identity) return;
        lease.spec = { ...lease.spec, holderIdentity: undefined, leaseDurationSeconds: 1, renewTime: microTime(new Date()) };
        await this.replace(lease);
        this.options.log.info({ lease: this.options.name }, 'released leadership');
        return;
      } catch (err) {
        if ((err as { code?: number }).code === 409 && attempt < 5) continue;
        this.options.log.warn({ err: String(err) }, 'could not release the lease; a standby takes over when it expires');
        return;
      }
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.options;
    const now = new Date();
    let lease: Lease;
    try {
      lease = await this.read();
    } catch (err) {
      if ((err as { code?: number }).code !== 404) return this.failed(err);
      try {
        await this.api.createNamespacedCustomObject({
          ...LEASES,
          namespace,
          body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: { holderIdentity: identity, leaseDurationSeconds: Math.ceil(this.leaseMs / 1000), acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 } },
        });
        return true;
      } catch (e) {
        return this.failed(e);
      }
    }
    const spec = lease.spec ?? {};
    const record = `${spec.holderIdentity}|${String(spec.renewTime)}|${spec.leaseDurationSeconds}`;
    if (this.observed?.record !== record) this.observed = { record, at: Date.now() };
    const holder = spec.holderIdentity;
    const durationMs = (spec.leaseDurationSeconds ?? Math.ceil(this.leaseMs / 1000)) * 1000;
    if (holder && holder !== identity && Date.now() - this.observed.at < durationMs) return false;
    const takingOver = holder !== identity;
    lease.spec = {
      ...spec,
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.leaseMs / 1000),
      renewTime: microTime(now),
      acquireTime: takingOver ? microTime(now) : spec.acquireTime,
      leaseTransitions: (spec.leaseTransitions ?? 0) + (takingOver && holder ? 1 : 0),
    };
    // Released meanwhile (a stop during this renewal's read): do not take the lease back.
    if (this.stopped) return false;
    try {
      // replace carries the resourceVersion we read: two candidates cannot both win.
      await this.replace(lease);
      return true;
    } catch (err) {
      return this.failed(err);
    }
  }

  private async read(): Promise<Lease> {
    return (await this.api.getNamespacedCustomObject({ ...LEASES, namespace: this.options.namespace, name: this.options.name })) as Lease;
  }

  private async replace(lease: Lease): Promise<void> {
    await this.api.replaceNamespacedCustomObject({ ...LEASES, namespace: this.options.namespace, name: this.options.name, body: lease });
  }

  private failed(err: unknown): false {
    const code = (err as { code?: number }).code;
    if (code !== 409 && this.leading) this.options.log.warn({ err: String((err as Error)?.message ?? err) }, 'lease update failed');
    return false;
  }
}

const LEASES = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases' };

interface Lease {
  metadata?: { name?: string; resourceVersion?: string };
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}

/** MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
