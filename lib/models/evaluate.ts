// Offline quality of the item-to-item recommendations, pure and deterministic: how well a model
// trained without a person's latest interactions predicts them, against the obvious baseline.
//
// The split ("last items by time", a per-person temporal hold-out, leave-last-out generalised):
//   - a person is evaluated when they have ≥ 2 distinct items and hash(seed, profile id) falls in
//     the first `profiles` share (default 20% of people; at most maxProfiles, the first in stream
//     order, are scored — the stream is ordered by profile id, so the choice is deterministic);
//   - an evaluated person's distinct items are ordered by their last interaction (`at`; ties by a
//     hash of the item), and the most recent ⌈holdout × items⌉ (default 20%; at least 1, never all)
//     are held out: views and purchases alike, since both are what a recommendation should lead to;
//   - the model (and the popularity baseline) are trained on everything else: every other person's
//     whole basket and the evaluated people's earlier items.
// Scoring, at k (default 10), over the evaluated people:
//   precision@k  hits / k (a list shorter than k still divides by k),
//   recall@k     hits / held-out items,
//   coverage     distinct items recommended to at least one evaluated person / distinct items seen,
// for the model (recommendForBasket on the person's earlier items) and for "most popular" (the
// items in most training baskets). Both leave out every item the person already has in training,
// so neither can score by repeating what the person has seen.
//
// Memory is bounded like training's: baskets stream in one at a time (the similarity builder keeps
// its own bounds), and only the evaluated people (≤ maxProfiles) are held until the end.
import { ItemSimilarityBuilder, capBasket, recommendForBasket, type BasketItem, type ItemSimilarity, type SimilarityOptions } from './recommend.ts';

export interface OfflineOptions {
  /** Recommendations scored per person. Default 10. */
  k?: number;
  /** Seed of the hash that picks the people evaluated (and breaks ties in time). Default 1. */
  seed?: number;
  /** Share of the people (with ≥ 2 items) evaluated. Default 0.2. */
  profiles?: number;
  /** Share of an evaluated person's distinct items held out, most recent first. Default 0.2. */
  holdout?: number;
  /** Most people scored. Default 10,000. */
  maxProfiles?: number;
  /** The model's options (as trained for real). */
  similarity?: SimilarityOptions;
}

export interface OfflineFigures {
  precision: number;
  recall: number;
  coverage: number;
}

export interface OfflineSplit {
  method: 'last-items-by-time';
  /** Share of people evaluated. */
  profiles: number;
  /** Share of an evaluated person's items held out. */
  holdout: number;
  seed: number;
}

export interface OfflineQuality {
  split: OfflineSplit;
  k: number;
  /** null when no one could be evaluated (nobody with two items, or too few people). */
  model: OfflineFigures | null;
  popularity: OfflineFigures | null;
  evaluatedProfiles: number;
  /** Items held out over the evaluated people. */
  heldOutItems: number;
  /** Distinct items seen (the denominator of coverage). */
  items: number;
}

/** A deterministic number in [0, 1) from a text and a seed (FNV-1a, then a murmur3 finalizer). */
export function hashUnit(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

function offlineOptions(options: OfflineOptions): Required<Omit<OfflineOptions, 'similarity'>> & { similarity: SimilarityOptions } {
  const k = options.k ?? 10;
  const profiles = options.profiles ?? 0.2;
  const holdout = options.holdout ?? 0.2;
  if (!Number.isInteger(k) || k < 1) throw new Error(`offline evaluation: k must be a positive integer, got ${k}`);
  if (!(profiles >= 0 && profiles <= 1)) throw new Error(`offline evaluation: profiles must be a share from 0 to 1, got ${profiles}`);
  if (!(holdout > 0 && holdout < 1)) throw new Error(`offline evaluation: holdout must be a share between 0 and 1, got ${holdout}`);
  return { k, seed: options.seed ?? 1, profiles, holdout, maxProfiles: options.maxProfiles ?? 10_000, similarity: options.similarity ?? {} };
}

export interface BasketSplit {
  /** This person's latest items are held out. */
  evaluated: boolean;
  /** What training sees of the person. */
  train: BasketItem[];
  /** The held-out items (empty when not evaluated). */
  test: string[];
}

/** One person's part of the split (see the header): a pure function of the profile id, the basket and the options. */
export function splitBasket(profileId: string, items: readonly BasketItem[], options: OfflineOptions = {}): BasketSplit {
  const o = offlineOptions(options);
  const distinct = capBasket(items, Infinity);
  if (distinct.length < 2 || hashUnit(profileId, o.seed) >= o.profiles) return { evaluated: false, train: [...items], test: [] };
  const tie = new Map(distinct.map((b) => [b.item, hashUnit(`${profileId}\u0000${b.item}`, o.seed)]));
  const byTime = [...distinct].sort((a, b) => (a.at ?? -Infinity) - (b.at ?? -Infinity) || tie.get(a.item)! - tie.get(b.item)! || (a.item < b.item ? -1 : 1));
  const held = Math.min(distinct.length - 1, Math.max(1, Math.ceil(o.holdout * distinct.length)));
  return { evaluated: true, train: byTime.slice(0, byTime.length - held), test: byTime.slice(byTime.length - held).map((b) => b.item) };
}

/**
 * Offline evaluation, streamed: `add` every person's basket once (any order, the same order each
 * run for the same result), then `finish`.
 */
export class OfflineEvaluator {
  private readonly o: ReturnType<typeof offlineOptions>;
  private readonly builder: ItemSimilarityBuilder;
  private readonly popularity = new Map<string, number>();
  private readonly seen = new Set<string>();
  private readonly held: Array<{ train: BasketItem[]; test: string[] }> = [];

  constructor(options: OfflineOptions = {}) {
    this.o = offlineOptions(options);
    this.builder = new ItemSimilarityBuilder(this.o.similarity);
  }

  add(profileId: string, items: readonly BasketItem[]): void {
    for (const b of items) if (b.item) this.seen.add(b.item);
    const split = splitBasket(profileId, items, this.o);
    this.builder.addBasket(split.train);
    for (const b of capBasket(split.train, Infinity)) this.popularity.set(b.item, (this.popularity.get(b.item) ?? 0) + 1);
    if (split.evaluated && this.held.length < this.o.maxProfiles) this.held.push({ train: split.train, test: split.test });
  }

  finish(): OfflineQuality {
    const { k, seed, profiles, holdout } = this.o;
    const split: OfflineSplit = { method: 'last-items-by-time', profiles, holdout, seed };
    const heldOutItems = this.held.reduce((s, h) => s + h.test.length, 0);
    if (this.held.length === 0) return { split, k, model: null, popularity: null, evaluatedProfiles: 0, heldOutItems, items: this.seen.size };
    const similarity: ItemSimilarity = this.builder.build();
    const popular = [...this.popularity].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([item]) => item);
    const model = new Tally(k);
    const baseline = new Tally(k);
    for (const { train, test } of this.held) {
      const has = new Set(train.map((b) => b.item));
      const wanted = new Set(test);
      model.add(
        recommendForBasket(similarity, train, k + has.size)
          .filter((r) => !has.has(r.item))
          .slice(0, k)
          .map((r) => r.item),
        wanted,
      );
      const top: string[] = [];
      for (let i = 0; i < popular.length && top.length < k; i++) if (!has.has(popular[i]!)) top.push(popular[i]!);
      baseline.add(top, wanted);
    }
    return { split, k, model: model.figures(this.seen.size), popularity: baseline.figures(this.seen.size), evaluatedProfiles: this.held.length, heldOutItems, items: this.seen.size };
  }
}

class Tally {
  private precision = 0;
  private recall = 0;
  private people = 0;
  private readonly recommended = new Set<string>();

  constructor(private readonly k: number) {}

  add(list: readonly string[], wanted: ReadonlySet<string>): void {
    let hits = 0;
    for (const item of list) {
      this.recommended.add(item);
      if (wanted.has(item)) hits++;
    }
    this.precision += hits / this.k;
    this.recall += wanted.size ? hits / wanted.size : 0;
    this.people++;
  }

  figures(items: number): OfflineFigures {
    return { precision: round(this.precision / this.people), recall: round(this.recall / this.people), coverage: round(items ? this.recommended.size / items : 0) };
  }
}

/** Four decimals: differences below that are noise at any realistic number of people. */
function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

/** Offline evaluation of a finite stream of baskets (see OfflineEvaluator for a stream read once). */
export function evaluateOffline(baskets: Iterable<{ profile_id: string; items: readonly BasketItem[] }>, options: OfflineOptions = {}): OfflineQuality {
  const evaluator = new OfflineEvaluator(options);
  for (const b of baskets) evaluator.add(b.profile_id, b.items);
  return evaluator.finish();
}
