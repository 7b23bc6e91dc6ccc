// The collector's view of its Sources: write key → source, with its compiled tracking plan and rate limiter.
import { createHash, timingSafeEqual } from 'node:crypto';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { describeAjvErrors } from '../api/problems.ts';
import type { PlanMode } from '../api/v1alpha1/index.ts';
import { writeKeyOf, type WorkloadConfig, type WorkloadSource } from '../api/workload.ts';
import { topicNames } from '../lib/kafka.ts';
import type { CanonicalEvent } from '../api/event.ts';

export interface PlanVerdict {
  mode: PlanMode;
  errors: string[];
}

export class CollectorSource {
  readonly topic: string;
  private readonly plan = new Map<string, ValidateFunction>();
  private readonly limiter?: RateLimiterMemory;

  constructor(
    readonly spec: WorkloadSource,
    ajv: Ajv,
    topic: string,
    /** The SHA-256 of the write key (hex): identifies the Source in derived message ids without revealing the key. */
    readonly keyDigest: string,
  ) {
    this.topic = topic;
    for (const [event, schema] of Object.entries(spec.trackingPlan?.events ?? {})) this.plan.set(event, ajv.compile(schema));
    if (spec.rateLimit) {
      const perSecond = spec.rateLimit.eventsPerSecond;
      // Tokens refill continuously; `burst` (default one second's worth) is the bucket size.
      this.limiter = new RateLimiterMemory({ points: Math.ceil(spec.rateLimit.burst ?? perSecond), duration: Math.max(1, Math.ceil((spec.rateLimit.burst ?? perSecond) / perSecond)) });
    }
  }

  get name(): string {
    return this.spec.name;
  }

  /** Checks one event against the tracking plan; errors name the offending fields. */
  checkPlan(event: CanonicalEvent): PlanVerdict | undefined {
    const plan = this.spec.trackingPlan;
    if (!plan || event.type !== 'track' || !event.event) return undefined;
    const validate = this.plan.get(event.event);
    if (!validate) {
      const unplanned = plan.unplanned ?? 'allow';
      return unplanned === 'allow' ? undefined : { mode: unplanned, errors: [`event: "${event.event}" is not in the tracking plan of source ${this.name}`] };
    }
    if (validate(event.properties)) return undefined;
    return { mode: plan.mode, errors: describeAjvErrors(validate.errors, 'properties') };
  }

  /**
   * This replica's part of the limit (0–1], when several collectors share it (rate-shares.ts): the
   * window's points become that fraction of the burst.
   */
  setShare(share: number): void {
    if (!this.limiter || !this.spec.rateLimit) return;
    const burst = this.spec.rateLimit.burst ?? this.spec.rateLimit.eventsPerSecond;
    this.limiter.points = Math.max(1, Math.ceil(burst * Math.min(1, Math.max(0, share))));
  }

  /** Takes `count` events from the rate limit; returns the seconds to wait when over it. */
  async admit(count: number): Promise<number | undefined> {
    if (!this.limiter) return undefined;
    try {
      await this.limiter.consume('all', count);
      return undefined;
    } catch (res) {
      if (res instanceof RateLimiterRes) return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
      throw res;
    }
  }
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

export class SourceRegistry {
  private readonly byDigest = new Map<string, { digest: Buffer; source: CollectorSource }>();
  readonly byName = new Map<string, CollectorSource>();

  constructor(config: WorkloadConfig, env: NodeJS.ProcessEnv = process.env) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats.default(ajv);
    for (const spec of config.sources) {
      const d = digest(writeKeyOf(spec, env));
      const source = new CollectorSource(spec, ajv, topicNames(env).source(spec.name), d.toString('hex'));
      this.byDigest.set(d.toString('hex'), { digest: d, source });
      this.byName.set(spec.name, source);
    }
  }

  /** Looks a write key up by its digest and compares in constant time, so timing reveals nothing. */
  byWriteKey(writeKey: string): CollectorSource | undefined {
    const d = digest(writeKey);
    const hit = this.byDigest.get(d.toString('hex'));
    return hit && timingSafeEqual(hit.digest, d) ? hit.source : undefined;
  }

  get all(): CollectorSource[] {
    return [...this.byName.values()];
  }
}
