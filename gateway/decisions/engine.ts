// Decides what one visitor sees in one or several placements: the profile (from the cache kept
// fresh by the pipeline's profile changes and the Segments' entered/exited records), each
// placement's compiled rules, a deterministic bucket, the rendered content. Everything after the
// profile lookup is in memory. A placement that cannot be decided in its budget, or whose template
// fails, gets its fallback; an unknown visitor gets the path everyone without a profile gets.
import { randomUUID } from 'node:crypto';
import { Counter, Histogram, type Registry } from 'prom-client';
import { HOLDOUT_ARM } from '../../api/v1alpha1/personalization.ts';
import type { CatalogItem } from '../../api/catalog.ts';
import { UNKNOWN_VISITOR, type DecisionProfile } from '../../lib/personalization/predicate.ts';
import { choose, render, type CompiledPlacement } from '../../lib/personalization/placement.ts';
import type { ProfileDocument } from '../profiles/document.ts';
import type { ProfileStore } from '../profiles/store.ts';
import type { PlacementTable } from './placements.ts';
import type { DecisionDoc } from './warm.ts';

export interface DecisionRequest {
  /** "type:value", already parsed and normalized. */
  identity: string;
  placements: string[];
  context?: { page?: Record<string, unknown>; item?: string };
}

export interface PlacementResult {
  variant: string | null;
  content: string | null;
  fallback: boolean;
  reason: string;
}

export interface Decision {
  decisionId: string;
  personalized: boolean;
  placements: Record<string, PlacementResult>;
}

/** One placement decided for one visitor: what the exposure event records. */
export interface Exposure {
  decisionId: string;
  identity: string;
  placement: string;
  arm: string;
  reason: string;
  generation: number;
}

export type RecommendedItem = Pick<CatalogItem, 'id' | 'title' | 'category' | 'tags' | 'url' | 'image' | 'price' | 'currency' | 'attributes'> & { score: number };

export interface DecisionDeps {
  placements: PlacementTable;
  /** The profile cache: read when the warm profiles are not (yet) in use. */
  profiles: ProfileStore;
  /** Every profile in memory, once loaded (gateway/decisions/warm.ts). */
  warm?: { readonly ready: boolean; get(identity: string): DecisionDoc | undefined };
  /** Whether the profile may be personalized (the namespace's personalization purpose). */
  consented(doc: DecisionDoc | undefined): boolean;
  /** Items for the templates; absent: none. */
  recommend?(profile: DecisionProfile, doc: DecisionDoc | undefined, placement: CompiledPlacement, context: DecisionRequest['context']): RecommendedItem[];
  /** Loads what recommend needs of a profile; runs within the budget, with the profile lookup. */
  prepare?(doc: DecisionDoc): Promise<void>;
  /** The profile could not be read (the visitor gets the fallbacks). */
  onLookupError?(err: Error): void;
  expose(exposures: Exposure[]): void;
  registry: Registry;
}

/** A profile document of the cache as decisions see it. */
export function decisionDocOf(doc: ProfileDocument): DecisionDoc {
  return { profileId: doc.profileId, identities: doc.identities, profile: decisionProfile(doc), consent: doc.consent, persona: doc.persona?.label ?? null };
}

export function decisionProfile(doc: ProfileDocument): DecisionProfile {
  const time = (iso: string | null) => (iso ? Date.parse(iso) : null);
  const c = doc.computed;
  return {
    traits: Object.fromEntries(Object.entries(doc.traits).map(([k, t]) => [k, t.value])),
    fields: {
      first_seen: time(c.firstSeen),
      last_seen: time(c.lastSeen),
      event_count: c.eventCount,
      lifetime_revenue: c.lifetimeRevenue,
      order_count: c.orderCount,
      last_order_at: time(c.lastOrderAt),
      rfm_recency: c.rfm.recency,
      rfm_frequency: c.rfm.frequency,
      rfm_monetary: c.rfm.monetary,
    },
    eventCounts: c.eventCounts,
    interests: doc.interests ?? {},
    segments: new Set(doc.segments.map((s) => s.segment)),
  };
}

const BUDGET = Symbol('budget');
const UNAVAILABLE = Symbol('unavailable');

export class DecisionEngine {
  private readonly decisions: Counter<'outcome' | 'reason'>;
  private readonly latency: Histogram;

  constructor(private readonly deps: DecisionDeps) {
    this.decisions = new Counter({ name: 'uspa_api_decisions_total', help: 'Placements decided, by outcome (variant, holdout, fallback) and reason (matched, holdout, no match, no consent, budget, profile unavailable, render failed, unknown placement, invalid placement, suspended)', labelNames: ['outcome', 'reason'], registers: [deps.registry] });
    this.latency = new Histogram({ name: 'uspa_api_decision_seconds', help: 'Time to decide one request (all its placements), profile lookup included', buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1], registers: [deps.registry] });
  }

  async decide(req: DecisionRequest): Promise<Decision> {
    const end = this.latency.startTimer();
    const decisionId = randomUUID();
    const placements: Record<string, PlacementResult> = {};
    const known: CompiledPlacement[] = [];
    for (const name of req.placements) {
      const found = this.deps.placements.get(name);
      if ('problem' in found) placements[name] = this.fallbackOf(undefined, found.problem);
      else known.push(found.placement);
    }
    if (known.length === 0) {
      end();
      return { decisionId, personalized: false, placements };
    }
    const budget = Math.max(...known.map((p) => p.budgetMs));
    const doc = await this.lookup(req.identity, budget, known.some((p) => p.recommendations.count > 0));
    if (doc === BUDGET || doc === UNAVAILABLE) {
      for (const p of known) placements[p.name] = this.fallbackOf(p, doc === BUDGET ? 'budget' : 'profile unavailable');
      end();
      return { decisionId, personalized: false, placements };
    }
    const consented = this.deps.consented(doc);
    const profile = doc ? doc.profile : UNKNOWN_VISITOR;
    const exposures: Exposure[] = [];
    for (const p of known) {
      const choice = choose(p, profile, req.identity, consented);
      if (!choice.variant) {
        placements[p.name] = this.fallbackOf(p, choice.reason, profile, doc, req, choice.arm === HOLDOUT_ARM);
      } else {
        try {
          const content = render(choice.variant.template, this.variables(p, choice.variant.name, profile, doc, req));
          placements[p.name] = { variant: choice.variant.name, content, fallback: false, reason: choice.reason };
          this.decisions.inc({ outcome: 'variant', reason: choice.reason });
        } catch (err) {
          this.deps.placements.renderFailed(p.name, choice.variant.name, (err as Error).message);
          placements[p.name] = this.fallbackOf(p, 'render failed', profile, doc, req);
        }
      }
      // Visitors who refused personalization are not measured either.
      if (consented && !p.suspended) exposures.push({ decisionId, identity: req.identity, placement: p.name, arm: placements[p.name]!.fallback ? choice.arm : choice.variant!.name, reason: placements[p.name]!.reason, generation: p.generation });
    }
    if (exposures.length) this.deps.expose(exposures);
    end();
    return { decisionId, personalized: consented, placements };
  }

  /** The profile, undefined for an unknown visitor, or BUDGET when the lookup outlasts the budget (it goes on and warms the cache). */
  private async lookup(identity: string, budgetMs: number, recommendations: boolean): Promise<DecisionDoc | undefined | typeof BUDGET | typeof UNAVAILABLE> {
    const warm = this.deps.warm?.ready ? this.deps.warm : undefined;
    // The warm profiles answer at once. A profile's recommendation signals not in memory yet are
    // loaded for its next decision; this one recommends from interests and popularity.
    if (warm) {
      const doc = warm.get(identity);
      if (doc && recommendations) this.deps.prepare?.(doc).catch(() => undefined);
      return doc;
    }
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<typeof BUDGET>((resolve) => (timer = setTimeout(() => resolve(BUDGET), budgetMs)));
    const load = (async () => {
      const id = await this.deps.profiles.resolve(identity);
      const found = id ? await this.deps.profiles.load(id) : undefined;
      const doc = found ? decisionDocOf(found) : undefined;
      // Without a profile's own signals, recommendations still come from interests and popularity.
      if (doc && recommendations && this.deps.prepare) await this.deps.prepare(doc).catch(() => undefined);
      return doc;
    })();
    try {
      return await Promise.race([load, deadline]);
    } catch (err) {
      this.deps.onLookupError?.(err as Error);
      return UNAVAILABLE;
    } finally {
      clearTimeout(timer);
      load.catch(() => undefined);
    }
  }

  private variables(p: CompiledPlacement, variant: string | null, profile: DecisionProfile, doc: DecisionDoc | undefined, req: DecisionRequest): Record<string, unknown> {
    const recommendations = p.recommendations.count > 0 && this.deps.recommend ? this.deps.recommend(profile, doc, p, req.context) : [];
    return {
      traits: profile.traits,
      interests: profile.interests,
      segments: [...profile.segments],
      persona: doc?.persona ?? null,
      recommendations,
      placement: p.name,
      variant,
      visitor: { known: doc !== undefined },
    };
  }

  private fallbackOf(p: CompiledPlacement | undefined, reason: string, profile?: DecisionProfile, doc?: DecisionDoc, req?: DecisionRequest, holdout = false): PlacementResult {
    this.decisions.inc({ outcome: holdout ? 'holdout' : 'fallback', reason });
    if (!p) return { variant: null, content: null, fallback: true, reason };
    let content: string | null = null;
    try {
      // The fallback of a visitor without consent, or whose profile was not read, knows nothing about them.
      const personal = profile && req && reason !== 'no consent';
      content = render(p.fallback, personal ? this.variables(p, null, profile, doc, req) : this.variables(p, null, UNKNOWN_VISITOR, undefined, { identity: '', placements: [] }));
    } catch (err) {
      this.deps.placements.renderFailed(p.name, 'fallback', (err as Error).message);
    }
    return { variant: holdout ? HOLDOUT_ARM : null, content, fallback: true, reason };
  }
}
