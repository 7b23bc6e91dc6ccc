// `uspa local --demo`: a small sports shop's data, so that every page of the dashboard has
// something to show. examples/demo.yaml adds the shop's Segments, a campaign and a placement; the
// catalog goes through the API; two weeks of visitors go through the collector's tracking API, the
// way the shop's website (Source web) and its backend (Source backend) would send them.
//
// The events are made by pure functions (demoCatalog, demoEvents, demoBatches, demoTrickle): the
// same seed and clock give the same events, and cli/demo.test.ts checks them without engines.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection, ScheduleOverlapPolicy } from '@temporalio/client';
import { modelSchedule, segmentSchedule, topicNames, topicPrefix } from '../api/names.ts';
import { HOLDOUT_ARM } from '../api/v1alpha1/personalization.ts';
import { LIMITS } from '../collector/tracking-api.ts';
import { connectKafka, ensureTopics, kafkaSettingsFromEnv } from '../lib/kafka.ts';
import { createLogger } from '../lib/log.ts';
import { createRng } from '../lib/models/kmeans.ts';
import { bucketOf } from '../lib/personalization/placement.ts';
import { repoRoot } from '../stack/paths.ts';

export const DEMO_FILE = join('examples', 'demo.yaml');
/** The placement of examples/demo.yaml whose exposures the history holds. */
export const DEMO_PLACEMENT = 'home-banner';
/** The output topic (its last part) the demo's campaign writes to: examples/demo.yaml names it for namespace default. */
export const DEMO_OUTPUT = 'demo-campaigns';
/** Set on the Pipeline once the history is loaded, so that running the demo again does not load it twice. */
export const SEEDED_ANNOTATION = 'uspa.tech/demo-seeded';
export const DEMO_DAYS = 14;
export const DEFAULT_VISITORS = 3000;
export const DEFAULT_SEED = 42;
/** What one request to /v1/batch may hold here: fewer events than the collector allows, so a refusal names a small batch. */
export const BATCH_EVENTS = 100;
export const BATCH_BYTES = LIMITS.batchBytes;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** The newest history event is this old, so the history never overlaps the live events. */
const HISTORY_END_MS = 5 * MINUTE;
/** Share of visitors whose last visit falls in the last hour of the history. */
const RECENT_SHARE = 0.08;

// ---------------------------------------------------------------------------------------------
// The catalog

export interface DemoItem {
  id: string;
  title: string;
  category: string[];
  price: number;
  currency: string;
  tags: string[];
  url: string;
  image: string;
  available: boolean;
  attributes: Record<string, string | number | boolean>;
}

interface Department {
  path: [string, string];
  slug: string;
  prices: [number, number];
  names: string[];
}

const DEPARTMENTS: Department[] = [
  { path: ['Shoes', 'Running'], slug: 'running', prices: [79, 219], names: ['Aurora Road Runner', 'Tempo Racer 3', 'Cloudline Trainer', 'Pace Setter Lite', 'Marathon Pro Carbon', 'Stride Daily', 'Swift Track Spike', 'Nimbus Glide', 'Harbor Tempo', 'Sprint Elite'] },
  { path: ['Shoes', 'Casual'], slug: 'casual', prices: [49, 149], names: ['Canvas Low Classic', 'Suede Chukka', 'Leather City Sneaker', 'Weekend Slip-On', 'Retro Court', 'Knit Everyday', 'Soft Loafer', 'High-Top Canvas', 'Deck Boat Shoe', 'Minimal White'] },
  { path: ['Apparel', 'Jackets'], slug: 'jackets', prices: [89, 349], names: ['Storm Shell', 'Down Puffer', 'Rain Parka', 'Trail Softshell', 'Denim Trucker', 'Fleece Zip', 'Packable Windbreaker', 'Insulated Vest', 'Wool Overshirt', 'Classic Bomber'] },
  { path: ['Apparel', 'Tops'], slug: 'tops', prices: [19, 89], names: ['Merino Tee', 'Tech Running Tee', 'Organic Cotton Tee', 'Linen Shirt', 'Oxford Button-Down', 'Waffle Henley', 'Heavyweight Hoodie', 'Crewneck Sweat', 'Pique Polo', 'Long-Sleeve Base Layer'] },
  { path: ['Accessories', 'Bags'], slug: 'bags', prices: [25, 189], names: ['Commuter Backpack 20L', 'Weekender Duffel', 'Sling Bag', 'Laptop Messenger', 'Hydration Pack', 'Canvas Tote', 'Travel Roller', 'Camera Bag', 'Dry Bag 10L', 'Belt Pouch'] },
  { path: ['Outdoor', 'Camping'], slug: 'camping', prices: [19, 399], names: ['Ultralight Tent 2P', 'Down Sleeping Bag', 'Mini Camp Stove', 'Trekking Poles', 'Headlamp 400', 'Insulated Bottle', 'Folding Camp Chair', 'Sleeping Pad', 'Water Filter', 'Titanium Cookset'] },
];
const BRANDS = ['Northwind', 'Kestrel', 'Ridgeback', 'Lumen'];
const COLOURS = ['black', 'white', 'navy', 'olive', 'red', 'grey', 'sand', 'blue'];

const slugOf = (title: string) => title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

/** The shop's 60 products: 10 in each of 6 departments; a few new, on sale, best sellers; two discontinued. */
export function demoCatalog(): DemoItem[] {
  return DEPARTMENTS.flatMap((d, di) =>
    d.names.map((title, i): DemoItem => {
      const [low, high] = d.prices;
      // Spread over the department's range, ending in .95 or .00 like shop prices do.
      const price = Math.round(low + ((high - low) * ((i * 7 + di * 3) % 10)) / 9) - (i % 2 ? 0.05 : 0);
      const tags = [i === 0 || i === 5 ? 'new' : '', i === 2 || i === 7 ? 'sale' : '', i === 1 || i === 4 ? 'bestseller' : '', di % 3 === 0 && i === 9 ? 'discontinued' : ''].filter(Boolean);
      const slug = slugOf(title);
      return {
        id: `sku-${d.slug}-${String(i + 1).padStart(2, '0')}`,
        title,
        category: [...d.path],
        price: Number(price.toFixed(2)),
        currency: 'EUR',
        tags,
        url: `/p/${slug}`,
        image: `/images/${slug}.jpg`,
        available: !tags.includes('discontinued'),
        attributes: { brand: BRANDS[(i + di) % BRANDS.length]!, colour: COLOURS[(i * 3 + di) % COLOURS.length]! },
      };
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// The people and their events

export type DemoSource = 'web' | 'backend';

/** One call of the tracking API: a batch item (type and fields as Segment's HTTP API has them). */
export type DemoPayload = Record<string, unknown> & { type: string; messageId: string };

export interface DemoEvent {
  source: DemoSource;
  /** history: the past 14 days; invalid: meant for the dead-letter topics; live: no timestamp, the collector's clock says when. */
  phase: 'history' | 'invalid' | 'live';
  payload: DemoPayload;
}

export interface DemoData {
  events: DemoEvent[];
  visitors: number;
  /** Visitors who identified (signed up or logged in). */
  identified: number;
  orders: number;
  revenue: number;
}

export interface DemoOptions {
  /** The clock the history ends at (epoch ms). */
  now: number;
  visitors?: number;
  seed?: number;
}

const COUNTRIES: Array<{ code: string; weight: number; ipBlocks: string[]; locale: string }> = [
  // Address blocks the bundled geoip data places in the country, so the geo enrichment has something to find.
  { code: 'DE', weight: 30, ipBlocks: ['91.64', '91.65', '91.66'], locale: 'de-DE' },
  { code: 'US', weight: 18, ipBlocks: ['73.1', '73.2', '73.3'], locale: 'en-US' },
  { code: 'FR', weight: 10, ipBlocks: ['78.193', '78.194'], locale: 'fr-FR' },
  { code: 'GB', weight: 10, ipBlocks: ['86.129', '86.130'], locale: 'en-GB' },
  { code: 'AT', weight: 8, ipBlocks: ['84.113', '84.114'], locale: 'de-AT' },
  { code: 'CH', weight: 7, ipBlocks: ['83.77', '83.78'], locale: 'de-CH' },
  { code: 'NL', weight: 9, ipBlocks: ['77.161', '77.162'], locale: 'nl-NL' },
  { code: 'ES', weight: 8, ipBlocks: ['88.1', '88.2'], locale: 'es-ES' },
];
const USER_AGENTS: Array<[string, number]> = [
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 28],
  ['Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1', 26],
  ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36', 18],
  ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15', 16],
  ['Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0', 7],
  ['Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1', 5],
];
const FIRST_NAMES = ['Ada', 'Ben', 'Clara', 'David', 'Elif', 'Felix', 'Greta', 'Hugo', 'Ines', 'Jonas', 'Klara', 'Luca', 'Mia', 'Noah', 'Olivia', 'Paul', 'Quinn', 'Rosa', 'Sami', 'Tara', 'Uma', 'Viktor', 'Wen', 'Xavier', 'Yara', 'Zoe', 'Amir', 'Bea', 'Chen', 'Dana', 'Emil', 'Fatima', 'Gustav', 'Hana', 'Ivo', 'Julia', 'Karim', 'Lena', 'Marek', 'Nora'];
const LAST_NAMES = ['Schmidt', 'Müller', 'Martin', 'Smith', 'García', 'de Vries', 'Rossi', 'Novak', 'Jansen', 'Dubois', 'Berger', 'Keller', 'Brown', 'López', 'Weber', 'Fischer', 'Bernard', 'Jones', 'Huber', 'Meier', 'Bakker', 'Moreau', 'Taylor', 'Wagner', 'Fernández', 'Visser', 'Lambert', 'Wilson', 'Hofmann', 'Schneider'];
const REFERRERS: Array<[string, number]> = [['', 40], ['https://www.google.com/', 30], ['https://www.instagram.com/', 10], ['https://newsletter.example.com/weekly', 8], ['https://www.bing.com/', 5], ['https://duckduckgo.com/', 7]];
/** Relative traffic per hour of the day (UTC), busiest in the evening. */
const HOUR_WEIGHTS = [2, 1, 1, 1, 1, 1, 2, 3, 4, 5, 5, 5, 6, 6, 5, 5, 5, 6, 7, 8, 8, 7, 5, 3];
const SHOP = 'https://shop.example.com';
const WEB_LIBRARY = { name: 'analytics.js', version: '4.1.0' };
const BACKEND_LIBRARY = { name: 'shop-backend', version: '2.3.1' };
const IDENTIFY_SHARE = 0.3;
const PRO_SHARE = 0.25;
const NEWSLETTER_SHARE = 0.45;

type Rng = () => number;

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
function weighted<T>(rng: Rng, xs: ReadonlyArray<readonly [T, number]>): T {
  let point = rng() * xs.reduce((n, [, w]) => n + w, 0);
  for (const [x, w] of xs) {
    point -= w;
    if (point < 0) return x;
  }
  return xs.at(-1)![0];
}
const between = (rng: Rng, low: number, high: number) => low + rng() * (high - low);
const hex = (rng: Rng, n: number) => Array.from({ length: n }, () => Math.floor(rng() * 16).toString(16)).join('');
/** A seed per visitor (or tick): the visitors do not depend on one another, so each is the same whatever the count. */
const mix = (seed: number, i: number, salt = 0) => (Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b) ^ Math.imul(salt + 7, 0xc2b2ae35)) >>> 0;
const money = (x: number) => Math.round(x * 100) / 100;
const iso = (ms: number) => new Date(ms).toISOString();

interface Visitor {
  index: number;
  anonymousId: string;
  userId: string;
  /** Signs up or logs in at some point. */
  identifies: boolean;
  country: (typeof COUNTRIES)[number];
  ip: string;
  userAgent: string;
  firstName: string;
  lastName: string;
  email: string;
  plan: 'free' | 'pro';
  newsletter: boolean;
  /** Departments they mostly look at: the first most of the time. */
  likes: [number, number];
  /** 0–1: how much they browse, add and buy. */
  intent: number;
}

/** Visitor i of a seed: who they are, decided by their own random stream. */
function visitorOf(seed: number, i: number): Visitor {
  const rng = createRng(mix(seed, i));
  const anonymousId = `${hex(rng, 8)}-${hex(rng, 4)}-4${hex(rng, 3)}-${pick(rng, ['8', '9', 'a', 'b'])}${hex(rng, 3)}-${hex(rng, 12)}`;
  const country = weighted(rng, COUNTRIES.map((c) => [c, c.weight] as const));
  const ip = `${pick(rng, country.ipBlocks)}.${Math.floor(rng() * 256)}.${1 + Math.floor(rng() * 254)}`;
  const firstName = pick(rng, FIRST_NAMES);
  const lastName = pick(rng, LAST_NAMES);
  // Running is the shop's biggest department.
  const first = weighted(rng, DEPARTMENTS.map((_, d) => [d, d === 0 ? 3 : 1] as const));
  const second = (first + 1 + Math.floor(rng() * (DEPARTMENTS.length - 1))) % DEPARTMENTS.length;
  const identifies = rng() < IDENTIFY_SHARE;
  return {
    index: i,
    anonymousId,
    userId: `u-${100001 + i}`,
    identifies,
    country,
    ip,
    userAgent: weighted(rng, USER_AGENTS),
    firstName,
    lastName,
    email: `${firstName}.${lastName}.${i + 1}@example.com`.normalize('NFD').replace(/[^\x20-\x7e]/g, '').replace(/\s+/g, '').toLowerCase(),
    plan: rng() < PRO_SHARE ? 'pro' : 'free',
    newsletter: rng() < NEWSLETTER_SHARE,
    likes: [first, second],
    intent: identifies ? between(rng, 0.35, 1) : rng() ** 1.5,
  };
}

/** A time in [from, to) whose hour of day follows HOUR_WEIGHTS. */
function busyTime(rng: Rng, from: number, to: number): number {
  const max = Math.max(...HOUR_WEIGHTS);
  for (let attempt = 0; attempt < 50; attempt++) {
    const t = from + rng() * (to - from);
    if (rng() * max < HOUR_WEIGHTS[new Date(t).getUTCHours()]!) return t;
  }
  return from + rng() * (to - from);
}

/** Builds one visitor's events, in time order. */
class Journey {
  readonly events: DemoEvent[] = [];
  orders = 0;
  revenue = 0;
  private readonly times: number[] = [];
  private n = 0;
  private known = false;
  private spent = 0;
  private t = 0;

  constructor(
    private readonly v: Visitor,
    private readonly rng: Rng,
    private readonly catalog: DemoItem[],
    private readonly ids: string,
  ) {}

  at(t: number): void {
    this.t = t;
  }

  /** A visitor whose identify is already in the history: their events carry their userId. */
  markKnown(): void {
    this.known = true;
  }

  private wait(lowS: number, highS: number): number {
    this.t += Math.round(between(this.rng, lowS, highS) * 1000);
    return this.t;
  }

  private push(source: DemoSource, payload: Omit<DemoPayload, 'messageId'>, live: boolean): void {
    const messageId = `${this.ids}-${++this.n}`;
    this.events.push({ source, phase: live ? 'live' : 'history', payload: { ...payload, messageId } as DemoPayload });
    this.times.push(this.t);
  }

  /** Moves the events since `from` (an index) back so the last is at `end` at the latest. */
  fit(from: number, end: number): void {
    const over = this.t - end;
    if (over <= 0) return;
    for (let i = from; i < this.times.length; i++) this.times[i]! -= over;
    this.t = end;
  }

  /** The history's events with their timestamps (live ones have none: the collector dates them). */
  finish(): DemoEvent[] {
    return this.events.map((e, i) => (e.phase === 'live' ? e : { ...e, payload: { ...e.payload, timestamp: iso(this.times[i]!) } }));
  }

  private who(): Record<string, string> {
    return this.known ? { anonymousId: this.v.anonymousId, userId: this.v.userId } : { anonymousId: this.v.anonymousId };
  }

  private webContext(page: { path: string; title: string; referrer?: string }): Record<string, unknown> {
    return {
      page: { path: page.path, url: `${SHOP}${page.path}`, title: page.title, referrer: page.referrer ?? '' },
      userAgent: this.v.userAgent,
      locale: this.v.country.locale,
      ip: this.v.ip,
      library: WEB_LIBRARY,
    };
  }

  private page(path: string, title: string, live: boolean, referrer?: string): Record<string, unknown> {
    const context = this.webContext({ path, title, referrer });
    this.push('web', { type: 'page', ...this.who(), name: title, properties: { path, url: `${SHOP}${path}`, title, referrer: referrer ?? '' }, context }, live);
    return context;
  }

  private productProperties(item: DemoItem): Record<string, unknown> {
    return { product_id: item.id, sku: item.id, name: item.title, category: item.category.join(' > '), brand: item.attributes.brand!, price: item.price, currency: item.currency, url: `${SHOP}${item.url}`, image_url: `${SHOP}${item.image}` };
  }

  private chooseItem(): DemoItem {
    const r = this.rng();
    const department = r < 0.6 ? this.v.likes[0] : r < 0.85 ? this.v.likes[1] : Math.floor(this.rng() * DEPARTMENTS.length);
    // Within a department the first items sell best.
    const i = Math.min(9, Math.floor(this.rng() ** 1.6 * 10));
    return this.catalog[department * 10 + i]!;
  }

  /** The home-page banner as the API would have decided it (examples/demo.yaml's home-banner), recorded as its exposure. */
  private exposure(context: Record<string, unknown>, live: boolean): void {
    const identity = this.known ? `userId:${this.v.userId}` : `anonymousId:${this.v.anonymousId}`;
    let arm: string;
    if (bucketOf('holdout', DEMO_PLACEMENT, identity) * 100 < 10) arm = HOLDOUT_ARM;
    else if (this.spent > 250) arm = 'vip';
    else if (this.known && this.v.newsletter) arm = 'newsletter-deal';
    else if (this.v.likes[0] === 0) arm = 'running-picks';
    else arm = 'everyone';
    this.push('web', {
      type: 'track',
      ...this.who(),
      event: 'Personalization Exposed',
      properties: { placement: DEMO_PLACEMENT, variant: arm, decision_id: `${this.ids}-d${this.n + 1}`, reason: arm === HOLDOUT_ARM ? 'holdout' : 'matched', generation: 1 },
      context: { ...context, library: { name: 'uspa-api' } },
    }, live);
  }

  private identify(live: boolean, context: Record<string, unknown>): void {
    const v = this.v;
    this.known = true;
    this.wait(20, 90);
    this.push('web', { type: 'identify', ...this.who(), traits: { email: v.email, name: `${v.firstName} ${v.lastName}`, first_name: v.firstName, last_name: v.lastName, country: v.country.code, newsletter: v.newsletter, plan: 'free' }, context }, live);
    this.wait(0.2, 1.5);
    this.push('backend', { type: 'track', userId: v.userId, event: 'Signed Up', properties: { method: this.rng() < 0.7 ? 'email' : 'google', plan: 'free' }, context: { library: BACKEND_LIBRARY } }, live);
    if (v.newsletter) {
      this.wait(2, 20);
      this.push('web', { type: 'track', ...this.who(), event: 'Newsletter Subscribed', properties: { list: 'weekly' }, context }, live);
    }
  }

  private upgrade(live: boolean): void {
    this.push('backend', { type: 'identify', userId: this.v.userId, traits: { email: this.v.email, plan: 'pro' }, context: { library: BACKEND_LIBRARY } }, live);
    this.wait(0.1, 1);
    this.push('backend', { type: 'track', userId: this.v.userId, event: 'Plan Upgraded', properties: { from: 'free', to: 'pro', price: 9.99, currency: 'EUR' }, context: { library: BACKEND_LIBRARY } }, live);
  }

  private order(cart: DemoItem[], context: Record<string, unknown>, live: boolean): void {
    const lines = [...new Map(cart.map((i) => [i.id, i])).values()].map((item) => ({ item, quantity: cart.filter((c) => c.id === item.id).length }));
    const subtotal = money(lines.reduce((s, l) => s + l.item.price * l.quantity, 0));
    const shipping = subtotal >= 50 ? 0 : 4.95;
    const revenue = money(subtotal + shipping);
    const orderId = `ord-${this.ids.replace(/^demo-/, '')}-${this.n + 1}`;
    const properties = {
      order_id: orderId,
      revenue,
      subtotal,
      shipping,
      tax: money(revenue - revenue / 1.19),
      currency: 'EUR',
      // The first line's department, for rules on orders by category ("shoes").
      category: lines[0]!.item.category[0]!.toLowerCase(),
      products: lines.map((l) => ({ product_id: l.item.id, sku: l.item.id, name: l.item.title, category: l.item.category.join(' > '), price: l.item.price, quantity: l.quantity })),
    };
    this.wait(20, 120);
    // A logged-in customer's order is confirmed by the backend; a guest checkout only by the page.
    if (this.known) this.push('backend', { type: 'track', userId: this.v.userId, event: 'Order Completed', properties, context: { library: BACKEND_LIBRARY } }, live);
    else this.push('web', { type: 'track', ...this.who(), event: 'Order Completed', properties, context }, live);
    this.wait(1, 3);
    this.page('/checkout/complete', 'Thank you', live);
    this.orders++;
    this.revenue = money(this.revenue + revenue);
    this.spent += revenue;
  }

  /** One visit: a landing page, some products, maybe a cart, maybe an order. */
  session(opts: { identifyHere: boolean; upgradeHere: boolean; live?: boolean; maxProducts?: number }): void {
    const { rng, v } = this;
    const live = opts.live ?? false;
    const referrer = weighted(rng, REFERRERS);
    const land = rng();
    let context: Record<string, unknown>;
    if (land < 0.5) {
      context = this.page('/', 'Home', live, referrer);
      if (rng() < 0.7) {
        this.wait(0.2, 1);
        this.exposure(context, live);
      }
    } else if (land < 0.75) {
      const d = DEPARTMENTS[v.likes[0]]!;
      context = this.page(`/c/${d.slug}`, d.path.join(' > '), live, referrer);
    } else {
      context = this.webContext({ path: '/', title: 'Home', referrer });
    }
    if (opts.identifyHere) this.identify(live, context);
    if (opts.upgradeHere) {
      this.wait(10, 60);
      this.upgrade(live);
    }
    const cart: DemoItem[] = [];
    const products = Math.min(opts.maxProducts ?? 12, 1 + Math.floor(rng() * (1 + 6 * v.intent)));
    for (let p = 0; p < products; p++) {
      const item = this.chooseItem();
      this.wait(8, 90);
      context = this.page(item.url, item.title, live, p === 0 && land >= 0.75 ? referrer : undefined);
      this.wait(0.1, 0.8);
      this.push('web', { type: 'track', ...this.who(), event: 'Product Viewed', properties: this.productProperties(item), context }, live);
      if (rng() < 0.08 + 0.3 * v.intent) {
        this.wait(5, 40);
        const quantity = rng() < 0.85 ? 1 : 2;
        for (let q = 0; q < quantity; q++) cart.push(item);
        this.push('web', { type: 'track', ...this.who(), event: 'Product Added', properties: { ...this.productProperties(item), quantity, cart_id: `cart-${v.anonymousId.slice(0, 8)}` }, context }, live);
      }
    }
    if (cart.length === 0) return;
    // Visitors who saw a personalized banner order a little more often than the holdout: a lift to show.
    const personalized = bucketOf('holdout', DEMO_PLACEMENT, this.known ? `userId:${v.userId}` : `anonymousId:${v.anonymousId}`) * 100 >= 10;
    if (rng() < 0.45) {
      this.wait(10, 60);
      context = this.page('/cart', 'Cart', live);
      if (rng() < (0.35 + 0.4 * v.intent) * (personalized ? 1.25 : 0.85)) {
        this.wait(15, 90);
        context = this.page('/checkout', 'Checkout', live);
        this.push('web', { type: 'track', ...this.who(), event: 'Checkout Started', properties: { revenue: money(cart.reduce((s, i) => s + i.price, 0)), currency: 'EUR' }, context }, live);
        this.order(cart, context, live);
      }
    }
  }

}

/**
 * The demo's events: `visitors` visitors over the past DEMO_DAYS days (page views, product views,
 * carts, orders; about 30% sign up, some later upgrade to pro through the backend), then about 20
 * events the collector must refuse into the dead-letter topics, then a few live events without a
 * timestamp. Pure: the same options give the same events.
 */
export function demoEvents(o: DemoOptions): DemoData {
  const seed = o.seed ?? DEFAULT_SEED;
  const count = o.visitors ?? DEFAULT_VISITORS;
  const catalog = demoCatalog();
  const start = o.now - DEMO_DAYS * DAY;
  const end = o.now - HISTORY_END_MS;
  const history: DemoEvent[] = [];
  let orders = 0;
  let revenue = 0;
  let identified = 0;
  for (let i = 0; i < count; i++) {
    const v = visitorOf(seed, i);
    const rng = createRng(mix(seed, i, 1));
    const sessions = 1 + (rng() < 0.45 ? 1 + Math.floor(rng() * (v.identifies ? 5 : 3)) : 0) + (v.identifies ? 1 : 0);
    const first = busyTime(rng, start, end);
    const starts = [first, ...Array.from({ length: sessions - 1 }, () => busyTime(rng, first, end))].sort((a, b) => a - b);
    // Some visit within the last hour: campaigns act on triggers at most an hour old, so the demo's
    // campaign has sends to show at once, not only the trickle's.
    if (rng() < RECENT_SHARE) starts[starts.length - 1] = Math.max(starts[starts.length - 1]!, end - rng() * 45 * MINUTE);
    const identifyAt = v.identifies ? Math.floor(rng() * Math.min(2, sessions)) : -1;
    const upgradeAt = v.identifies && v.plan === 'pro' ? identifyAt + Math.floor(rng() * (sessions - identifyAt)) : -1;
    const journey = new Journey(v, rng, catalog, `demo-${seed}-${i}`);
    starts.forEach((t, s) => {
      const from = journey.events.length;
      journey.at(t);
      journey.session({ identifyHere: s === identifyAt, upgradeHere: s === upgradeAt });
      // A visit that would run past the end of the history happened a little earlier.
      journey.fit(from, end);
    });
    history.push(...journey.finish());
    orders += journey.orders;
    revenue += journey.revenue;
    if (v.identifies) identified++;
  }
  history.sort((a, b) => (a.payload.timestamp as string).localeCompare(b.payload.timestamp as string) || a.payload.messageId.localeCompare(b.payload.messageId));

  const live = demoTrickle({ seed, visitors: count, tick: 0, run: `n${o.now.toString(36)}`, sessions: 6 });
  orders += live.orders;
  revenue += live.revenue;
  return { events: [...history, ...invalidEvents(seed, o.now), ...live.events], visitors: count, identified, orders, revenue: money(revenue) };
}

/**
 * 20 events the collector refuses into the dead-letter topics: 16 dated weeks ahead
 * (timestamp_out_of_window: a client clock set wrong) and 4 tracks without an event name (invalid_event).
 */
function invalidEvents(seed: number, now: number): DemoEvent[] {
  const catalog = demoCatalog();
  const out: DemoEvent[] = [];
  for (let k = 0; k < 20; k++) {
    const v = visitorOf(seed, k * 37);
    const item = catalog[(k * 7) % catalog.length]!;
    const messageId = `demo-${seed}-invalid-${k + 1}`;
    const context = { page: { path: item.url, url: `${SHOP}${item.url}`, title: item.title }, userAgent: v.userAgent, ip: v.ip, library: WEB_LIBRARY };
    if (k < 12) out.push({ source: 'web', phase: 'invalid', payload: { type: 'track', messageId, anonymousId: v.anonymousId, event: 'Product Viewed', timestamp: iso(now + (30 + k) * DAY), properties: { product_id: item.id, price: item.price }, context } });
    else if (k < 16) out.push({ source: 'backend', phase: 'invalid', payload: { type: 'track', messageId, userId: v.userId, event: 'Order Completed', timestamp: iso(now + (10 + k) * DAY), properties: { order_id: `ord-future-${k}`, revenue: item.price, currency: 'EUR' }, context: { library: BACKEND_LIBRARY } } });
    else out.push({ source: 'web', phase: 'invalid', payload: { type: 'track', messageId, anonymousId: v.anonymousId, event: '', properties: { product_id: item.id }, context } });
  }
  return out;
}

/**
 * Live events without timestamps (the collector's clock dates them): `sessions` short visits of
 * known visitors of the seed, a few of whom order. `tick` and `run` make the message ids unique
 * per call of a running trickle.
 */
export function demoTrickle(o: { seed: number; visitors: number; tick: number; run: string; sessions?: number }): { events: DemoEvent[]; orders: number; revenue: number } {
  const catalog = demoCatalog();
  const rng = createRng(mix(o.seed, o.tick, 2));
  const events: DemoEvent[] = [];
  let orders = 0;
  let revenue = 0;
  for (let s = 0; s < (o.sessions ?? 1); s++) {
    const v = visitorOf(o.seed, Math.floor(rng() * o.visitors));
    // Already known: their identify is in the history (or they stay anonymous).
    const journey = new Journey({ ...v, intent: Math.max(v.intent, 0.6) }, rng, catalog, `demo-${o.seed}-live-${o.run}-${o.tick}-${s}`);
    if (v.identifies) journey.markKnown();
    journey.session({ identifyHere: false, upgradeHere: false, live: true, maxProducts: 3 });
    events.push(...journey.finish());
    orders += journey.orders;
    revenue += journey.revenue;
  }
  return { events, orders, revenue: money(revenue) };
}

export interface DemoBatch {
  source: DemoSource;
  events: DemoPayload[];
  /** Bytes of the request body, {"batch":[…]}. */
  bytes: number;
}

const bytesOf = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8');

/**
 * The events as /v1/batch requests: one Source per request, each Source's events in their order,
 * at most `maxEvents` events and `maxBytes` bytes of body per request.
 */
export function demoBatches(events: readonly DemoEvent[], maxEvents = BATCH_EVENTS, maxBytes = BATCH_BYTES): DemoBatch[] {
  const empty = bytesOf({ batch: [] });
  const open = new Map<DemoSource, DemoBatch>();
  const out: DemoBatch[] = [];
  for (const e of events) {
    const size = bytesOf(e.payload);
    if (empty + size > maxBytes) throw new Error(`demo event ${e.payload.messageId} is ${size} bytes: larger than a batch may be`);
    let batch = open.get(e.source);
    if (batch && (batch.events.length >= maxEvents || batch.bytes + 1 + size > maxBytes)) batch = undefined;
    if (!batch) {
      batch = { source: e.source, events: [], bytes: empty };
      open.set(e.source, batch);
      out.push(batch);
    }
    batch.bytes += (batch.events.length ? 1 : 0) + size;
    batch.events.push(e.payload);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Sending

export interface SeedOptions {
  collectorUrl: string;
  apiUrl: string;
  apiKey: string;
  /** Source name → write key: web and backend of examples/quickstart.yaml. */
  writeKeys: Record<string, string>;
  kubectl: string;
  namespace: string;
  say: (line: string) => void;
  visitors?: number;
  seed?: number;
  /** Where KAFKA_BROKERS and TEMPORAL_ADDRESS are read (the output topic, the model and Segment runs); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Stops the seeding (Ctrl-C): what was sent stays sent. */
  signal?: AbortSignal;
}

export interface SeedResult {
  events: number;
  visitors: number;
  orders: number;
}

function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kubectl ${args.slice(0, 3).join(' ')} failed: ${(stderr || err.message).trim()}`));
      else resolve(stdout);
    });
    child.stdin!.end(input ?? '');
  });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', abort);
      resolve();
    }
    function abort() {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    }
    signal?.addEventListener('abort', abort, { once: true });
  });
}
/** The caller's signal (if any) and a timeout of its own. */
const within = (ms: number, signal?: AbortSignal) => (signal ? AbortSignal.any([signal, AbortSignal.timeout(ms)]) : AbortSignal.timeout(ms));
const excerpt = (text: string) => (text.length > 300 ? `${text.slice(0, 300)}…` : text).replace(/\s+/g, ' ').trim();
const causeOf = (err: unknown) => (err as { cause?: { code?: string; message?: string } }).cause?.code ?? (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
const thousands = (n: number) => n.toLocaleString('en-US');

/** POST one batch; retried on 429 (after Retry-After) and 503. Resolves to how many events the collector refused. */
async function postBatch(collectorUrl: string, writeKey: string, batch: DemoBatch, what: string, signal?: AbortSignal): Promise<number> {
  const url = `${collectorUrl.replace(/\/$/, '')}/v1/batch`;
  const body = JSON.stringify({ batch: batch.events });
  const authorization = `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
  for (let attempt = 1; ; attempt++) {
    let response: Response;
    try {
      response = await fetch(url, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body, signal: within(30_000, signal) });
    } catch (err) {
      signal?.throwIfAborted();
      if (attempt < 4) {
        await sleep(1000 * attempt, signal);
        continue;
      }
      throw new Error(`cannot reach the collector at ${url} with ${what}: ${causeOf(err)}`);
    }
    const text = await response.text();
    if ((response.status === 429 || response.status === 503) && attempt < 30) {
      await sleep(Math.min(10, Number(response.headers.get('retry-after')) || 1) * 1000, signal);
      continue;
    }
    if (!response.ok) throw new Error(`the collector refused ${what} (source ${batch.source}, ${batch.events.length} events): HTTP ${response.status}: ${excerpt(text)}`);
    let answer: { success?: boolean; error?: string };
    try {
      answer = JSON.parse(text) as typeof answer;
    } catch {
      throw new Error(`the collector answered ${what} with HTTP ${response.status} but not JSON: ${excerpt(text)}`);
    }
    if (!answer.error) return 0;
    const refused = /^(\d+) of \d+ events/.exec(answer.error);
    if (!refused) throw new Error(`the collector answered ${what} with HTTP ${response.status}: ${excerpt(text)}`);
    return Number(refused[1]);
  }
}

class Api {
  constructor(
    private readonly base: string,
    private readonly key: string,
    readonly signal?: AbortSignal,
  ) {}

  /** The answer's JSON, or undefined for a 404 when `missingOk`; any other failure throws naming the call. */
  async call<T>(method: string, path: string, body?: unknown, missingOk = false): Promise<T | undefined> {
    const url = `${this.base.replace(/\/$/, '')}${path}`;
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(url, { method, headers: { authorization: `Bearer ${this.key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body), signal: within(30_000, this.signal) });
      } catch (err) {
        this.signal?.throwIfAborted();
        throw new Error(`cannot reach the API at ${this.base} (${method} ${path}): ${causeOf(err)}`);
      }
      const text = await response.text();
      if (response.status === 404 && missingOk) return undefined;
      if ((response.status === 429 || response.status === 503) && attempt < 10) {
        await sleep(Math.min(10, Number(response.headers.get('retry-after')) || 1) * 1000, this.signal);
        continue;
      }
      if (!response.ok) throw new Error(`the API refused ${method} ${path}: HTTP ${response.status}: ${excerpt(text)}`);
      return (text ? JSON.parse(text) : {}) as T;
    }
  }
}

/** Sends the batches, at most `parallel` requests at a time, saying how far it got every 5,000 events. */
async function sendAll(o: SeedOptions, batches: DemoBatch[], label: string, parallel = 2): Promise<{ sent: number; refused: number }> {
  const total = batches.reduce((n, b) => n + b.events.length, 0);
  let next = 0;
  let sent = 0;
  let refused = 0;
  let reported = 0;
  const worker = async () => {
    for (let i = next++; i < batches.length; i = next++) {
      const batch = batches[i]!;
      const key = o.writeKeys[batch.source];
      if (!key) throw new Error(`no write key for source ${batch.source}`);
      // Awaited first: `refused += await …` would add to the value read before the other worker's answer.
      const refusedHere = await postBatch(o.collectorUrl, key, batch, `${label} batch ${i + 1} of ${batches.length}`, o.signal);
      refused += refusedHere;
      sent += batch.events.length;
      if (sent - reported >= 5000 || sent === total) {
        reported = sent;
        if (total >= 5000) o.say(`demo: sent ${thousands(sent)} of ${thousands(total)} ${label} events`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, batches.length) }, worker));
  return { sent, refused };
}

interface PipelineView {
  name: string;
  status: { consumerLag?: number; lagUpdatedAt?: string };
  deadLetters: { total: number };
}

/** Until every Pipeline has read everything sent before `since` (its lag measured after then is 0). */
async function waitForPipelines(api: Api, since: number, say: (line: string) => void, timeoutMs = 300_000): Promise<{ drained: boolean; items: PipelineView[] }> {
  const started = Date.now();
  let told = started;
  for (;;) {
    const { items } = (await api.call<{ items: PipelineView[] }>('GET', '/v1/pipelines'))!;
    const behind = items.filter((p) => !(p.status.consumerLag === 0 && Date.parse(p.status.lagUpdatedAt ?? '') > since));
    if (items.length > 0 && behind.length === 0) return { drained: true, items };
    if (Date.now() - started > timeoutMs) return { drained: false, items };
    if (Date.now() - told > 15_000) {
      told = Date.now();
      say(`demo: waiting for the pipeline to store the events (${behind.map((p) => `${p.name}: lag ${p.status.consumerLag ?? '?'}`).join(', ')}, ${Math.round((Date.now() - started) / 1000)} s)`);
    }
    await sleep(3000, api.signal);
  }
}

/** Until these identities have profiles (rebuilt by the pipeline off the ingest path). */
async function waitForProfiles(api: Api, identities: string[], timeoutMs = 90_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let missing = identities;
  while (missing.length && Date.now() < deadline) {
    const found = await Promise.all(missing.map(async (id) => (await api.call('GET', `/v1/profiles/${encodeURIComponent(id)}`, undefined, true)) !== undefined));
    missing = missing.filter((_, i) => !found[i]);
    if (missing.length) await sleep(2000, api.signal);
  }
  return missing.length === 0;
}

interface SegmentView {
  name: string;
  mode: string;
  computed: boolean;
  size: number | null;
  lastComputedAt: string | null;
}

/** Starts a run of every Segment's and model's schedule now instead of at its next interval. */
async function runSchedulesNow(o: SeedOptions, env: NodeJS.ProcessEnv, segments: string[], pipelines: string[]): Promise<string[]> {
  const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS!, connectTimeout: 5_000 });
  try {
    const client = new Client({ connection, namespace: env.TEMPORAL_NAMESPACE || 'default' });
    const ids = [...segments.map((s) => segmentSchedule(o.namespace, s)), ...pipelines.flatMap((p) => ['personas', 'recommendations'].map((m) => modelSchedule(o.namespace, p, m)))];
    const started: string[] = [];
    for (const id of ids) {
      try {
        // Buffered: a run already going finishes first, then this one starts.
        await client.schedule.getHandle(id).trigger(ScheduleOverlapPolicy.BUFFER_ONE);
        started.push(id);
      } catch (err) {
        o.say(`demo: could not start schedule ${id} now (${(err as Error).message.split('\n')[0]}); it runs at its interval`);
      }
    }
    return started;
  } finally {
    await connection.close();
  }
}

/** Creates the demo campaign's output topic (an Activation writes only to topics that exist). */
async function ensureOutputTopic(namespace: string, env: NodeJS.ProcessEnv): Promise<string> {
  const topic = `${topicNames(topicPrefix(env.USPA_TOPIC_PREFIX || 'uspa', namespace)).activationOutputs}${DEMO_OUTPUT}`;
  const kafka = connectKafka(kafkaSettingsFromEnv('uspa-demo', env), createLogger('demo', 'error'));
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [{ topic, partitions: 1, retentionHours: 24 * 7 }]);
  } finally {
    await admin.disconnect();
  }
  return topic;
}

/**
 * Loads the demo into a namespace that runs examples/quickstart.yaml: applies examples/demo.yaml,
 * loads the catalog, sends two weeks of events (and ~20 invalid ones), waits until the pipeline
 * stored them, then runs the Segments and models once so their results are there at once. The
 * history is loaded once per Pipeline (annotation uspa.tech/demo-seeded); a second run sends only
 * live events.
 */
export async function seedDemo(o: SeedOptions): Promise<SeedResult> {
  const env = o.env ?? process.env;
  const seed = o.seed ?? DEFAULT_SEED;
  const visitors = o.visitors ?? DEFAULT_VISITORS;
  const started = Date.now();
  const api = new Api(o.apiUrl, o.apiKey, o.signal);
  for (const source of ['web', 'backend']) if (!o.writeKeys[source]) throw new Error(`no write key for source ${source}: the demo sends through the Sources web and backend of examples/quickstart.yaml`);

  if (env.KAFKA_BROKERS) o.say(`demo: output topic ${await ensureOutputTopic(o.namespace, env)} for the campaign order-thank-you`);
  // The file names the output topic of namespace default; another namespace gets its own.
  const manifest = readFileSync(join(repoRoot, DEMO_FILE), 'utf8').replaceAll(`uspa.default.out.${DEMO_OUTPUT}`, `${topicPrefix(env.USPA_TOPIC_PREFIX || 'uspa', o.namespace)}.out.${DEMO_OUTPUT}`);
  o.say(`demo: applying ${DEMO_FILE} to namespace ${o.namespace}`);
  await run(o.kubectl, ['apply', '-n', o.namespace, '-f', '-'], manifest);

  const catalog = demoCatalog();
  const stored = (await api.call<{ upserted: number; rejected: Array<{ index: number; problems: string[] }> }>('PUT', '/v1/catalog/items', { items: catalog }))!;
  if (stored.rejected.length) throw new Error(`the API refused ${stored.rejected.length} catalog items: ${excerpt(stored.rejected.slice(0, 3).map((r) => `${catalog[r.index]?.id}: ${r.problems.join('; ')}`).join(' | '))}`);
  o.say(`demo: catalog of ${stored.upserted} products loaded (PUT /v1/catalog/items)`);

  const pipelineNames = (await run(o.kubectl, ['get', 'pipelines', '-n', o.namespace, '-o', 'jsonpath={.items[*].metadata.name}'])).split(/\s+/).filter(Boolean);
  const seededAt = pipelineNames.length ? (await run(o.kubectl, ['get', 'pipeline', pipelineNames[0]!, '-n', o.namespace, '-o', `jsonpath={.metadata.annotations.${SEEDED_ANNOTATION.replaceAll('.', '\\.')}}`])).trim() : '';
  const data = demoEvents({ now: Date.now(), visitors, seed });
  const phase = (p: DemoEvent['phase']) => data.events.filter((e) => e.phase === p);

  let sent = 0;
  let orders = 0;
  if (seededAt) {
    o.say(`demo: the history was loaded before (${seededAt}; annotation ${SEEDED_ANNOTATION} on Pipeline ${pipelineNames[0]}): sending live events only — remove the annotation to load it again`);
  } else {
    const history = phase('history');
    o.say(`demo: sending ${thousands(history.length)} events of ${thousands(visitors)} visitors over the past ${DEMO_DAYS} days (${thousands(data.identified)} sign up, ${thousands(data.orders)} orders)`);
    const done = await sendAll(o, demoBatches(history), 'history');
    if (done.refused) throw new Error(`the collector refused ${done.refused} of the demo's history events; its dead letters say why (uspa dlq list)`);
    sent += done.sent;
    const invalid = phase('invalid');
    const letters = await sendAll(o, demoBatches(invalid), 'invalid');
    if (letters.refused !== invalid.length) throw new Error(`the collector refused ${letters.refused} of the ${invalid.length} invalid demo events, not all of them`);
    sent += letters.sent;
    o.say(`demo: ${invalid.length} invalid events sent on purpose: the collector put them in the dead-letter topics (timestamp_out_of_window, invalid_event)`);
    orders += history.filter((e) => e.payload.event === 'Order Completed').length;
  }
  // The live events in a few requests a couple of seconds apart, for the last minute's charts.
  const live = phase('live');
  const liveBatches = demoBatches(live, Math.ceil(live.length / 4));
  for (const [i, batch] of liveBatches.entries()) {
    if (i) await sleep(2000, o.signal);
    await sendAll(o, [batch], 'live', 1);
  }
  sent += live.length;
  orders += live.filter((e) => e.payload.event === 'Order Completed').length;
  const sentAt = Date.now();
  o.say(`demo: ${thousands(sent)} events sent in ${Math.round((sentAt - started) / 1000)} s; waiting for the pipeline to store them`);

  const pipelines = await waitForPipelines(api, sentAt, o.say);
  if (!pipelines.drained) o.say('demo: the pipeline has not caught up after 5 minutes; the Segments and models run anyway and again on their schedules');
  else o.say(`demo: stored after ${Math.round((Date.now() - sentAt) / 1000)} s; dead letters so far: ${pipelines.items.map((p) => `${p.name} ${p.deadLetters.total}`).join(', ')}`);
  // The last visitors' profiles: rebuilt once their events are stored.
  const newest = data.events.filter((e) => e.phase === 'history').slice(-5).map((e) => (e.payload.userId ? `userId:${String(e.payload.userId)}` : `anonymousId:${String(e.payload.anonymousId)}`));
  if (!seededAt && !(await waitForProfiles(api, [...new Set(newest)]))) o.say('demo: some profiles are not rebuilt yet; Segments computed now may miss them until their next run');

  const segments = (await run(o.kubectl, ['get', 'segments', '-n', o.namespace, '-o', 'jsonpath={.items[*].metadata.name}'])).split(/\s+/).filter(Boolean);
  const triggeredAt = Date.now();
  if (env.TEMPORAL_ADDRESS) {
    const runs = await runSchedulesNow(o, env, segments, pipelineNames);
    o.say(`demo: started ${runs.length} runs now: Segments ${segments.join(', ')}; personas and recommendations of Pipeline ${pipelineNames.join(', ')}`);
  }

  // A few real decisions: exposures the API records itself, next to the history's.
  const known = data.events.filter((e) => e.phase === 'history' && e.payload.type === 'identify' && e.source === 'web').slice(-20);
  for (const e of known) await api.call('POST', '/v1/decisions', { identity: `userId:${String(e.payload.userId)}`, placements: [DEMO_PLACEMENT], context: { page: { path: '/' } } });
  if (known.length) o.say(`demo: ${known.length} decisions made for placement ${DEMO_PLACEMENT} (POST /v1/decisions)`);

  if (env.TEMPORAL_ADDRESS) {
    const deadline = Date.now() + 120_000;
    let views: SegmentView[] = [];
    for (;;) {
      views = (await api.call<{ segments: SegmentView[] }>('GET', '/v1/segments?limit=100'))!.segments;
      const pending = views.filter((s) => (s.mode === 'realtime' ? !s.computed : !(s.lastComputedAt && Date.parse(s.lastComputedAt) >= triggeredAt - 1000)));
      if (pending.length === 0 || Date.now() > deadline) break;
      await sleep(3000, o.signal);
    }
    o.say(`demo: Segment sizes: ${views.map((s) => `${s.name} ${s.size ?? '(not computed yet)'}`).join(', ')}`);
  }

  if (!seededAt && pipelineNames[0]) await run(o.kubectl, ['annotate', '--overwrite', 'pipeline', pipelineNames[0], '-n', o.namespace, `${SEEDED_ANNOTATION}=${new Date(started).toISOString()}`]);
  // Visitors whose events were sent: all of them, or on a second run those of the live events.
  const liveVisitors = new Set(live.map((e) => e.payload.anonymousId ?? e.payload.userId)).size;
  return { events: sent, visitors: seededAt ? liveVisitors : visitors, orders };
}

/**
 * Keeps a few live events coming (a short visit every `intervalMs`, an order now and then) while
 * `uspa local --demo` runs, so the charts of the last minutes and the realtime Segment move.
 * Failures are told once and then retried quietly at the next tick.
 */
export function startDemoTrickle(o: { collectorUrl: string; writeKeys: Record<string, string>; say: (line: string) => void; seed?: number; visitors?: number; intervalMs?: number }): { stop: () => Promise<void> } {
  const seed = o.seed ?? DEFAULT_SEED;
  const run = Date.now().toString(36);
  let tick = 0;
  let failing = false;
  let current: Promise<void> = Promise.resolve();
  const send = async () => {
    const { events } = demoTrickle({ seed, visitors: o.visitors ?? DEFAULT_VISITORS, tick: ++tick, run });
    try {
      for (const batch of demoBatches(events)) await postBatch(o.collectorUrl, o.writeKeys[batch.source] ?? '', batch, 'a live demo batch');
      if (failing) o.say('demo: live events are accepted again');
      failing = false;
    } catch (err) {
      if (!failing) o.say(`demo: live events failed (${(err as Error).message}); retrying every ${(o.intervalMs ?? 10_000) / 1000} s`);
      failing = true;
    }
  };
  const timer = setInterval(() => {
    current = current.then(send);
  }, o.intervalMs ?? 10_000);
  return {
    stop: async () => {
      clearInterval(timer);
      await current;
    },
  };
}
