// Item-to-item recommendations, pure: cosine similarity of items over the people who interacted
// with them (a view weighs `viewWeight`, a purchase `purchaseWeight`), top N neighbours per item,
// and top N items per person (similar to what they interacted with, minus what they bought).
//
// Memory is bounded by items and item pairs, not by people: baskets stream in one at a time
// (capped at maxItemsPerPerson), pairs seen fewer than minCoOccurrence times are dropped, and when
// the pair table exceeds maxPairs the pairs seen once so far are pruned (deterministic for a
// deterministic input order). Scores of a person are computed from the finished similarity, one
// basket at a time, so the caller can stream people twice instead of holding them.

export interface BasketItem {
  item: string;
  /** Bought at least once (else only viewed). */
  purchased: boolean;
  /** Interactions (views + purchases); ranks items when a basket is capped. Default 1. */
  count?: number;
  /** The person's last interaction with the item (ms since the epoch): what a time split of offline evaluation orders by. */
  at?: number;
}

export interface SimilarityOptions {
  /** Default 1. */
  viewWeight?: number;
  /** Default 3. */
  purchaseWeight?: number;
  /** Items of one person beyond this are ignored (purchases first, then most interacted). Default 50. */
  maxItemsPerPerson?: number;
  /** Pairs co-occurring in fewer baskets are not neighbours. Default 2. */
  minCoOccurrence?: number;
  /** Size of the pair table that triggers pruning of pairs seen once. Default 5,000,000. */
  maxPairs?: number;
  /** Neighbours kept per item. Default 20. */
  neighbours?: number;
}

export interface Neighbour {
  item: string;
  score: number;
  /** Baskets holding both items. */
  together: number;
}

export interface ItemSimilarity {
  /** Per item, its neighbours best first (score, then item id). Items without neighbours are absent. */
  neighbours: Map<string, Neighbour[]>;
  /** Distinct items seen. */
  items: number;
  /** Distinct item pairs kept (co-occurring ≥ minCoOccurrence times). */
  pairs: number;
  /** Baskets seen (people with at least one item). */
  baskets: number;
  /** Times the pair table was pruned (0 = exact). */
  prunes: number;
  options: Required<SimilarityOptions>;
}

const PAIR_BASE = 2 ** 26; // item indices < 2^26 (67M items), so a pair key a·2^26 + b < 2^53

export function similarityOptions(options: SimilarityOptions = {}): Required<SimilarityOptions> {
  return {
    viewWeight: options.viewWeight ?? 1,
    purchaseWeight: options.purchaseWeight ?? 3,
    maxItemsPerPerson: options.maxItemsPerPerson ?? 50,
    minCoOccurrence: options.minCoOccurrence ?? 2,
    maxPairs: options.maxPairs ?? 5_000_000,
    neighbours: options.neighbours ?? 20,
  };
}

/** The items of one basket that count: de-duplicated, purchases first, then most interacted, then by id. */
export function capBasket(basket: readonly BasketItem[], max: number): BasketItem[] {
  const merged = new Map<string, BasketItem>();
  for (const b of basket) {
    if (!b.item) continue;
    const seen = merged.get(b.item);
    if (!seen) {
      merged.set(b.item, { ...b, count: b.count ?? 1 });
      continue;
    }
    const merge: BasketItem = { item: b.item, purchased: seen.purchased || b.purchased, count: (seen.count ?? 1) + (b.count ?? 1) };
    if (seen.at !== undefined || b.at !== undefined) merge.at = Math.max(seen.at ?? -Infinity, b.at ?? -Infinity);
    merged.set(b.item, merge);
  }
  return [...merged.values()]
    .sort((a, b) => Number(b.purchased) - Number(a.purchased) || (b.count ?? 1) - (a.count ?? 1) || (a.item < b.item ? -1 : a.item > b.item ? 1 : 0))
    .slice(0, max);
}

export class ItemSimilarityBuilder {
  readonly options: Required<SimilarityOptions>;
  private readonly index = new Map<string, number>();
  private readonly names: string[] = [];
  private norms: number[] = [];
  /** pair key → slot in dots/counts */
  private readonly slots = new Map<number, number>();
  private dots: number[] = [];
  private counts: number[] = [];
  private baskets = 0;
  private prunes = 0;

  constructor(options: SimilarityOptions = {}) {
    this.options = similarityOptions(options);
  }

  private weight(b: BasketItem): number {
    return b.purchased ? this.options.purchaseWeight : this.options.viewWeight;
  }

  private indexOf(item: string): number {
    let i = this.index.get(item);
    if (i === undefined) {
      i = this.names.length;
      if (i >= PAIR_BASE) throw new Error(`recommendations: more than ${PAIR_BASE} distinct items`);
      this.index.set(item, i);
      this.names.push(item);
      this.norms.push(0);
    }
    return i;
  }

  /** One person's interactions. */
  addBasket(basket: readonly BasketItem[]): void {
    const items = capBasket(basket, this.options.maxItemsPerPerson);
    if (items.length === 0) return;
    this.baskets++;
    const ids = items.map((b) => this.indexOf(b.item));
    const weights = items.map((b) => this.weight(b));
    for (let x = 0; x < ids.length; x++) {
      this.norms[ids[x]!] = this.norms[ids[x]!]! + weights[x]! * weights[x]!;
      for (let y = x + 1; y < ids.length; y++) {
        const a = Math.min(ids[x]!, ids[y]!);
        const b = Math.max(ids[x]!, ids[y]!);
        const key = a * PAIR_BASE + b;
        let slot = this.slots.get(key);
        if (slot === undefined) {
          slot = this.dots.length;
          this.slots.set(key, slot);
          this.dots.push(0);
          this.counts.push(0);
        }
        this.dots[slot] = this.dots[slot]! + weights[x]! * weights[y]!;
        this.counts[slot] = this.counts[slot]! + 1;
      }
    }
    if (this.slots.size > this.options.maxPairs) this.prune();
  }

  /** Drops the pairs seen once so far: lossy, bounded. */
  private prune(): void {
    this.prunes++;
    const dots: number[] = [];
    const counts: number[] = [];
    for (const [key, slot] of [...this.slots]) {
      if (this.counts[slot]! <= 1) this.slots.delete(key);
      else {
        this.slots.set(key, dots.length);
        dots.push(this.dots[slot]!);
        counts.push(this.counts[slot]!);
      }
    }
    this.dots = dots;
    this.counts = counts;
  }

  build(): ItemSimilarity {
    const { minCoOccurrence, neighbours: keep } = this.options;
    const lists = new Map<number, Neighbour[]>();
    let pairs = 0;
    for (const [key, slot] of this.slots) {
      const together = this.counts[slot]!;
      if (together < minCoOccurrence) continue;
      const a = Math.floor(key / PAIR_BASE);
      const b = key - a * PAIR_BASE;
      const score = this.dots[slot]! / Math.sqrt(this.norms[a]! * this.norms[b]!);
      pairs++;
      for (const [from, to] of [[a, b], [b, a]] as const) {
        let list = lists.get(from);
        if (!list) lists.set(from, (list = []));
        list.push({ item: this.names[to]!, score, together });
      }
    }
    const neighbours = new Map<string, Neighbour[]>();
    for (const i of [...lists.keys()].sort((x, y) => (this.names[x]! < this.names[y]! ? -1 : 1))) {
      neighbours.set(this.names[i]!, lists.get(i)!.sort(byScore).slice(0, keep));
    }
    return { neighbours, items: this.names.length, pairs, baskets: this.baskets, prunes: this.prunes, options: this.options };
  }
}

function byScore(a: { item: string; score: number }, b: { item: string; score: number }): number {
  return b.score - a.score || (a.item < b.item ? -1 : a.item > b.item ? 1 : 0);
}

/** Item-to-item similarity of a set of baskets (one per person). */
export function itemSimilarity(baskets: Iterable<readonly BasketItem[]>, options: SimilarityOptions = {}): ItemSimilarity {
  const builder = new ItemSimilarityBuilder(options);
  for (const b of baskets) builder.addBasket(b);
  return builder.build();
}

/** The top N neighbours of an item. */
export function similarItems(similarity: ItemSimilarity, item: string, topN: number): Neighbour[] {
  return (similarity.neighbours.get(item) ?? []).slice(0, topN);
}

export interface Recommendation {
  item: string;
  score: number;
}

/**
 * Items for one person: Σ over their items i of weight(i) · similarity(i, j), for every neighbour j
 * of their items, without the items they bought; best N first.
 */
export function recommendForBasket(similarity: ItemSimilarity, basket: readonly BasketItem[], topN: number): Recommendation[] {
  const items = capBasket(basket, similarity.options.maxItemsPerPerson);
  const bought = new Set(basket.filter((b) => b.purchased).map((b) => b.item));
  const scores = new Map<string, number>();
  for (const b of items) {
    const w = b.purchased ? similarity.options.purchaseWeight : similarity.options.viewWeight;
    for (const n of similarity.neighbours.get(b.item) ?? []) {
      if (bought.has(n.item)) continue;
      scores.set(n.item, (scores.get(n.item) ?? 0) + w * n.score);
    }
  }
  return [...scores].map(([item, score]) => ({ item, score })).sort(byScore).slice(0, topN);
}
