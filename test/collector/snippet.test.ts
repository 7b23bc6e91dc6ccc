// The browser snippet (collector/snippet/uspa.js) in Debian's headless Chromium. The shop page comes
// from its own origin, as a real shop would, loads <collector>/uspa.js, and sends to the real
// collector. Each outcome is checked in ClickHouse, where the pipeline writes it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page, type Route } from 'playwright-core';
import { eventually } from '../support/env.ts';
import { startProduct, type Product } from '../support/product.ts';

// The browser named by USPA_CHROMIUM, else Debian's package (scripts/ensure-chromium.sh, run by npm
// test, installs it) or Ubuntu's name for it. In CI a missing browser fails the run instead of skipping it.
const CHROMIUM = (process.env.USPA_CHROMIUM ? [process.env.USPA_CHROMIUM] : ['/usr/bin/chromium', '/usr/bin/chromium-browser']).find((path) => existsSync(path));
const NO_CHROMIUM = `needs Chromium (${process.env.USPA_CHROMIUM ?? "Debian's /usr/bin/chromium: bash scripts/ensure-chromium.sh"}); not found`;
const skip = CHROMIUM || process.env.CI === 'true' ? false : NO_CHROMIUM;

interface UspaApi {
  page(name?: string, properties?: object): void;
  track(event: string, properties?: object): void;
  identify(userId: string, traits?: object): void;
  consent(granted: boolean | Record<string, boolean>): void;
  reset(): void;
  flush(): Promise<void>;
  anonymousId(): string;
}
// Globals in the page, for page.evaluate callbacks. tsconfig has no DOM lib. The callbacks run in
// the browser, so they must not define named functions, which tsx would wrap in a Node-only helper.
declare const uspa: UspaApi;
declare const localStorage: { getItem(key: string): string | null; clear(): void };
declare const sessionStorage: { getItem(key: string): string | null };
declare const document: { cookie: string };

interface SentEvent { type: string; messageId: string; timestamp: string; anonymousId: string; userId?: string; event?: string; properties?: Record<string, unknown>; traits?: Record<string, unknown>; context: Record<string, unknown> }
interface Sent { method: string; path: string; headers: Record<string, string>; body: { batch: SentEvent[]; sentAt: string; writeKey?: string } | undefined; at: number }
interface EventRow { message_id: string; type: string; event: string; anonymous_id: string; user_id: string; path: string; properties: string; traits: string; context: string }

let product: Product;
let shop: Server;
let shopUrl: string;
let browser: Browser;
let writeKey: string;

// The <head> of each kind of shop page, chosen by the first path segment.
function head(scenario: string): string | undefined {
  const src = `${product.url}/uspa.js`;
  switch (scenario) {
    case 'tag': // flushAt 3 with a long interval: the third event, and only it, triggers the batch.
      return `<script src="${src}" data-write-key="${writeKey}" data-flush-at="3" data-flush-interval-ms="60000"></script>`;
    case 'visit': // defaults: flushAt 20, every 2 s
      return `<script src="${src}" data-write-key="${writeKey}"></script>`;
    case 'clicks':
      return `<script src="${src}" data-write-key="${writeKey}" data-track-clicks="true" data-flush-interval-ms="60000"></script>`;
    case 'noclicks':
      return `<script src="${src}" data-write-key="${writeKey}" data-flush-interval-ms="60000"></script>`;
    case 'consent': // flushAt 1: a snippet that ignored consent would send the very first event at once.
      return `<script src="${src}" data-write-key="${writeKey}" data-consent-required="true" data-flush-at="1"></script>`;
    case 'retry':
      return `<script src="${src}" data-write-key="${writeKey}" data-flush-at="1" data-flush-interval-ms="60000"></script>`;
    case 'stub': // programmatic: the stub queue records calls made before the file has loaded
      return `<script>
        window.uspa = window.uspa || [];
        ['load', 'page', 'track', 'identify', 'consent', 'reset', 'flush'].forEach(function (m) {
          uspa[m] = uspa[m] || function () { uspa.push([m].concat([].slice.call(arguments))); };
        });
        uspa.load({ writeKey: ${JSON.stringify(writeKey)}, host: ${JSON.stringify(product.url)}, flushAt: 100, flushIntervalMs: 600000 });
        uspa.track('Queued Before Load', { early: true });
      </script>
      <script async src="${src}"></script>`;
    case 'blank.html':
      return '';
    default:
      return undefined;
  }
}

function startShop(): Promise<Server> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://shop').pathname;
    const h = head(path.split('/')[1] ?? '');
    if (h === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(`<!doctype html>
<html><head><meta charset="utf-8"><title>Shop ${path}</title>${h}</head>
<body>
  <h1>Shop</h1>
  <button id="add" class="btn primary" data-uspa-event="Add To Cart"><span id="add-label">Add to   cart</span></button>
  <a id="docs" class="link" href="#docs">Docs</a>
  <button id="plain">Plain</button>
  <p id="text">Not clickable</p>
</body></html>`);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** A fresh browser profile (own localStorage and cookies) that records every request to the collector's /v1. */
async function newVisitor(): Promise<{ context: BrowserContext; sent: Sent[] }> {
  const context = await browser.newContext();
  const sent: Sent[] = [];
  context.on('request', (r) => {
    if (!r.url().startsWith(`${product.url}/v1/`) || r.method() === 'OPTIONS') return;
    const data = r.postData();
    sent.push({ method: r.method(), path: new URL(r.url()).pathname, headers: r.headers(), body: data ? (JSON.parse(data) as Sent['body']) : undefined, at: Date.now() });
  });
  return { context, sent };
}

async function visit(page: Page, path: string): Promise<string> {
  await page.goto(shopUrl + path);
  return loaded(page);
}

/** Waits until uspa.js has loaded in the page, and returns the visitor's anonymous id. */
async function loaded(page: Page): Promise<string> {
  await page.waitForFunction(() => typeof uspa === 'object' && typeof uspa.anonymousId === 'function' && !!uspa.anonymousId());
  return page.evaluate(() => uspa.anonymousId());
}

const uspaKeys = (page: Page) => page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('uspa')).sort());
const storedQueue = async (page: Page) => JSON.parse((await page.evaluate(() => localStorage.getItem('uspa_queue'))) ?? 'null') as SentEvent[] | null;
const sentIds = (sent: Sent[]) => sent.flatMap((s) => s.body?.batch.map((e) => e.messageId) ?? []);

function rowsFor(anonymousId: string): Promise<EventRow[]> {
  return product.rows<EventRow>(
    `SELECT message_id, type, event, anonymous_id, user_id, JSONExtractString(context, 'page', 'path') AS path, properties, traits, context
     FROM {db}.events WHERE anonymous_id = {a:String} ORDER BY timestamp, message_id`,
    { a: anonymousId },
  );
}

/** Waits until ClickHouse holds `count` distinct events of this visitor, and checks none is stored twice. */
async function waitForVisitor(anonymousId: string, count: number): Promise<EventRow[]> {
  const rows = await eventually(`${count} events of ${anonymousId} in ClickHouse`, async () => {
    const r = await rowsFor(anonymousId);
    return new Set(r.map((x) => x.message_id)).size >= count ? r : undefined;
  });
  assert.equal(rows.length, new Set(rows.map((x) => x.message_id)).size, 'no event is stored twice');
  return rows;
}

describe('browser snippet (uspa.js) against the real collector', { skip, concurrency: false }, () => {
  before(async () => {
    if (!CHROMIUM) throw new Error(`CI=true: the browser snippet tests must run, not skip; ${NO_CHROMIUM}`);
    product = await startProduct({ sources: [{ name: 'web', type: 'web' }] });
    writeKey = product.sources.web!.writeKey;
    shop = await startShop();
    shopUrl = `http://127.0.0.1:${(shop.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, { timeout: 120_000 });
  // Hooks have timeouts so that a stuck engine (e.g. Kafka not answering) fails the run instead of hanging it.
  after(async () => {
    await browser?.close();
    shop?.closeAllConnections(); // Chromium's keep-alive connections would hold close() open
    await new Promise((resolve) => (shop ? shop.close(resolve) : resolve(undefined)));
    await product?.close();
  }, { timeout: 60_000 });

  test('automatic page view, track and identify arrive with their fields in one batch', { timeout: 90_000 }, async () => {
    const { context, sent } = await newVisitor();
    const page = await context.newPage();
    const aid = await visit(page, '/tag/product.html?utm_source=news#reviews');
    assert.match(aid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a v4 UUID');
    await page.evaluate(() => {
      uspa.track('Product Viewed', { sku: 'A1', price: 12.5 });
      uspa.identify('user-a', { email: 'a@example.com' });
    });
    // The interval is 60 s, so only flushAt (3) can send this batch.
    await eventually('the batch request', async () => sent.length >= 1 || undefined, 10_000);
    assert.equal(sent.length, 1, 'three events, one request');
    const [req] = sent;
    assert.equal(req!.method, 'POST');
    assert.equal(req!.path, '/v1/batch');
    assert.equal(req!.headers.authorization, `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`);
    assert.match(req!.headers['content-type'] ?? '', /^application\/json/);
    assert.ok(!Number.isNaN(Date.parse(req!.body!.sentAt)), 'sentAt');
    const batch = req!.body!.batch;
    assert.deepEqual(batch.map((e) => e.type), ['page', 'track', 'identify']);
    for (const e of batch) {
      assert.equal(e.anonymousId, aid);
      assert.match(e.messageId, /^[0-9a-f-]{36}$/);
      assert.ok(Math.abs(Date.parse(e.timestamp) - Date.now()) < 60_000, `timestamp ${e.timestamp}`);
    }
    assert.equal(batch[1]!.userId, undefined, 'no userId before identify');
    assert.equal(batch[2]!.userId, 'user-a');

    await product.waitForEvents(batch.map((e) => e.messageId));
    const rows = await rowsFor(aid);
    const byType = new Map(rows.map((r) => [r.type, r]));
    assert.equal(rows.length, 3);
    const pageRow = byType.get('page')!;
    assert.equal(pageRow.path, '/tag/product.html');
    const pageProps = JSON.parse(pageRow.properties) as Record<string, string>;
    assert.equal(pageProps.search, '?utm_source=news');
    assert.equal(pageProps.url, `${shopUrl}/tag/product.html?utm_source=news`, 'url without the #fragment');
    assert.equal(pageProps.title, 'Shop /tag/product.html');
    const ctx = JSON.parse(pageRow.context) as { library: { name: string; version: string }; page: Record<string, string>; userAgent: string; locale: string; screen: { width: number; height: number }; timezone: string };
    assert.deepEqual(ctx.library, { name: 'uspa.js', version: '0.1.0' });
    assert.deepEqual(Object.keys(ctx.page).sort(), ['path', 'referrer', 'search', 'title', 'url']);
    assert.match(ctx.userAgent, /HeadlessChrome/);
    assert.match(ctx.locale, /^[a-z]{2}/i);
    assert.ok(ctx.screen.width > 0 && ctx.screen.height > 0, JSON.stringify(ctx.screen));
    assert.ok(ctx.timezone.length > 0, 'timezone');
    const track = byType.get('track')!;
    assert.equal(track.event, 'Product Viewed');
    assert.deepEqual(JSON.parse(track.properties), { sku: 'A1', price: 12.5 });
    assert.equal(track.user_id, '');
    const identify = byType.get('identify')!;
    assert.equal(identify.user_id, 'user-a');
    assert.deepEqual(JSON.parse(identify.traits), { email: 'a@example.com' });
    assert.equal(await page.evaluate(() => localStorage.getItem('uspa_user_id')), 'user-a', 'userId is kept');
    assert.deepEqual(await storedQueue(page), [], 'the sent events left the stored queue');
  });

  test('the anonymous id survives a reload, other paths, a new tab and a cleared localStorage; reset() makes a new one', { timeout: 90_000 }, async () => {
    const { context } = await newVisitor();
    const page = await context.newPage();
    const aid = await visit(page, '/visit/index.html');
    await page.reload();
    assert.equal(await loaded(page), aid, 'after a reload');
    assert.equal(await visit(page, '/visit/other.html?x=1'), aid, 'on another path');
    const tab = await context.newPage();
    assert.equal(await visit(tab, '/visit/later.html'), aid, 'a second visit in a new tab');
    const cookie = (await context.cookies(shopUrl)).find((c) => c.name === 'uspa_aid');
    assert.equal(cookie?.value, aid, 'first-party cookie');
    assert.equal(cookie?.sameSite, 'Lax');
    assert.ok(cookie!.expires * 1000 > Date.now() + 360 * 24 * 3600 * 1000, 'kept for a year');
    // Storage cleared (e.g. by the browser) but the cookie kept: the id comes back from the cookie.
    await tab.evaluate(() => localStorage.clear());
    assert.equal(await visit(tab, '/visit/restored.html'), aid, 'restored from the cookie');
    assert.equal(await tab.evaluate(() => localStorage.getItem('uspa_aid')), aid);

    const rows = await waitForVisitor(aid, 5);
    assert.deepEqual(rows.map((r) => r.type), ['page', 'page', 'page', 'page', 'page']);
    assert.deepEqual(rows.map((r) => r.path).sort(), ['/visit/index.html', '/visit/index.html', '/visit/later.html', '/visit/other.html', '/visit/restored.html']);

    await tab.evaluate(() => uspa.identify('user-b', { plan: 'pro' }));
    assert.equal(await tab.evaluate(() => localStorage.getItem('uspa_user_id')), 'user-b');
    await tab.evaluate(() => uspa.reset());
    const fresh = await tab.evaluate(() => uspa.anonymousId());
    assert.notEqual(fresh, aid, 'reset() makes a new anonymous id');
    assert.deepEqual(await tab.evaluate(() => [localStorage.getItem('uspa_aid'), localStorage.getItem('uspa_user_id'), localStorage.getItem('uspa_traits')]), [fresh, null, null]);
    assert.match(await tab.evaluate(() => document.cookie), new RegExp(`uspa_aid=${fresh}`));
    // The identify queued before reset() keeps the identity it was made with.
    await tab.evaluate(() => uspa.flush());
    const identified = await waitForVisitor(aid, 6);
    assert.equal(identified.find((r) => r.type === 'identify')?.user_id, 'user-b');
  });

  test('click tracking: data-uspa-event, links and buttons when opted in; nothing when not', { timeout: 90_000 }, async () => {
    const on = await newVisitor();
    const page = await on.context.newPage();
    const aid = await visit(page, '/clicks/index.html');
    await page.click('#add-label'); // a descendant of the data-uspa-event element
    await page.click('#plain');
    await page.click('#docs');
    await page.click('#text'); // neither tagged nor a link or button
    await page.evaluate(() => uspa.flush());
    const rows = await waitForVisitor(aid, 4);
    const clicks = rows.filter((r) => r.type === 'track').map((r) => ({ event: r.event, ...(JSON.parse(r.properties) as Record<string, unknown>) }));
    assert.deepEqual(clicks, [
      { event: 'Add To Cart', text: 'Add to cart', id: 'add', classes: ['btn', 'primary'] },
      { event: 'Element Clicked', text: 'Plain', id: 'plain', classes: [] },
      { event: 'Element Clicked', text: 'Docs', id: 'docs', classes: ['link'], href: `${shopUrl}/clicks/index.html#docs` },
    ]);

    const off = await newVisitor();
    const quiet = await off.context.newPage();
    const quietAid = await visit(quiet, '/noclicks/index.html');
    await quiet.click('#add-label');
    await quiet.click('#plain');
    await quiet.click('#docs');
    await quiet.evaluate(() => uspa.track('Marker'));
    await quiet.evaluate(() => uspa.flush());
    // The marker went after the clicks through the same queue, so any click event would be stored by now.
    const quietRows = await waitForVisitor(quietAid, 2);
    assert.deepEqual(quietRows.map((r) => r.event), ['', 'Marker']);
    assert.deepEqual(off.sent.flatMap((s) => s.body?.batch.map((e) => e.event ?? e.type) ?? []), ['page', 'Marker'], 'no click was sent');
  });

  test('consent required: nothing is sent or stored before consent(true); held events follow it; consent(false) drops them', { timeout: 90_000 }, async () => {
    const yes = await newVisitor();
    const page = await yes.context.newPage();
    const aid = await visit(page, '/consent/index.html');
    await page.evaluate(() => {
      uspa.track('Before Consent', { step: 1 });
      uspa.identify('user-d', { plan: 'pro' });
    });
    // With flushAt 1 and an awaited flush, a snippet that ignored consent would have sent by now.
    await page.evaluate(() => uspa.flush());
    assert.deepEqual(yes.sent, [], 'no request to the collector before consent');
    assert.deepEqual(await uspaKeys(page), [], 'no uspa keys in localStorage before consent');
    assert.deepEqual(await yes.context.cookies(shopUrl), [], 'no cookie before consent');

    await page.evaluate(() => uspa.consent(true));
    await page.evaluate(() => uspa.flush());
    const rows = await waitForVisitor(aid, 3);
    assert.deepEqual(rows.map((r) => r.type).sort(), ['identify', 'page', 'track']);
    assert.equal(rows.find((r) => r.type === 'track')?.event, 'Before Consent');
    assert.equal(rows.find((r) => r.type === 'identify')?.user_id, 'user-d');
    assert.equal(await page.evaluate(() => localStorage.getItem('uspa_aid')), aid, 'the held anonymous id is stored now');
    assert.equal(await page.evaluate(() => localStorage.getItem('uspa_consent')), 'granted');
    // The decision is remembered: the next page sends without asking again.
    assert.equal(await visit(page, '/consent/next.html'), aid);
    const after = await waitForVisitor(aid, 4);
    assert.ok(after.some((r) => r.path === '/consent/next.html'));

    const no = await newVisitor();
    const denied = await no.context.newPage();
    await visit(denied, '/consent/index.html');
    await denied.evaluate(() => uspa.track('Never'));
    await denied.evaluate(() => uspa.consent(false));
    await denied.evaluate(() => uspa.flush());
    await visit(denied, '/consent/again.html');
    await denied.evaluate(() => uspa.track('Never Again'));
    await denied.evaluate(() => uspa.flush());
    assert.deepEqual(no.sent, [], 'nothing is sent after consent(false), on this page or the next');
    assert.deepEqual(await uspaKeys(denied), ['uspa_consent'], 'only the decision is stored');
    assert.equal(await denied.evaluate(() => localStorage.getItem('uspa_consent')), 'denied');
    assert.deepEqual(await no.context.cookies(shopUrl), []);
  });

  test('consent per purpose: events carry context.consent.categoryPreferences; each change is sent, a refusal of every purpose too, then nothing', { timeout: 90_000 }, async () => {
    const v = await newVisitor();
    const page = await v.context.newPage();
    const aid = await visit(page, '/consent/purposes.html');
    await page.evaluate(() => uspa.consent({ analytics: true, marketing: false, note: 'x' } as never));
    await page.evaluate(() => uspa.track('Viewed Offer'));
    await page.evaluate(() => uspa.flush());
    const rows = await waitForVisitor(aid, 3); // the held page view, the update, the track
    const update = rows.find((r) => r.event === 'Segment Consent Preference Updated');
    assert.ok(update, 'the change itself is sent');
    const track = rows.find((r) => r.event === 'Viewed Offer')!;
    for (const r of [update, track]) assert.deepEqual(JSON.parse(r.context).consent, { categoryPreferences: { analytics: true, marketing: false } }, `${r.event}: booleans only`);
    assert.equal(await page.evaluate(() => localStorage.getItem('uspa_consent_purposes')), '{"analytics":true,"marketing":false}');
    // A new page keeps the preferences.
    await visit(page, '/consent/purposes-next.html');
    const next = (await waitForVisitor(aid, 4)).find((r) => r.path === '/consent/purposes-next.html')!;
    assert.deepEqual(JSON.parse(next.context).consent, { categoryPreferences: { analytics: true, marketing: false } });

    const requests = v.sent.length;
    await page.evaluate(() => uspa.consent({ analytics: false, marketing: false }));
    const refusal = (await waitForVisitor(aid, 5)).filter((r) => r.event === 'Segment Consent Preference Updated').map((r) => JSON.parse(r.context).consent);
    assert.deepEqual(refusal.at(-1), { categoryPreferences: { analytics: false, marketing: false } }, 'the withdrawal reaches the collector');
    await page.evaluate(() => uspa.track('After Refusal'));
    await page.evaluate(() => uspa.flush());
    assert.equal(v.sent.length, requests + 1, 'only the withdrawal was sent');
    assert.deepEqual(await uspaKeys(page), ['uspa_consent', 'uspa_consent_purposes'], 'only the decisions are kept');
  });

  test('on page hide the queue goes out with sendBeacon (write key in the body); stub calls before load are replayed', { timeout: 90_000 }, async () => {
    const { context, sent } = await newVisitor();
    // Playwright does not report requests made while a page unloads, so sendBeacon calls are
    // recorded in sessionStorage, which the next page of the same origin in this tab can read.
    // A string, not a function: the page must not get tsx's Node-side helpers.
    await context.addInitScript({
      content: `(() => {
        const send = navigator.sendBeacon.bind(navigator);
        navigator.sendBeacon = (url, data) => {
          const ok = send(url, data);
          const calls = JSON.parse(sessionStorage.getItem('beacons') || '[]');
          calls.push({ url: String(url), type: data && data.type, size: data && data.size, ok });
          sessionStorage.setItem('beacons', JSON.stringify(calls));
          return ok;
        };
      })();`,
    });
    const page = await context.newPage();
    const aid = await visit(page, '/stub/index.html');
    await page.evaluate(() => uspa.track('Checkout Started', { total: 42 }));
    assert.deepEqual(sent, [], 'the 10-minute interval has not sent anything');
    const queued = await storedQueue(page);
    assert.deepEqual(queued?.map((e) => e.event ?? e.type), ['page', 'Queued Before Load', 'Checkout Started'], 'queued and persisted, the stub call replayed after the page view');

    await page.goto(`${shopUrl}/blank.html`); // pagehide → sendBeacon
    const rows = await waitForVisitor(aid, 3);
    assert.deepEqual(new Set(rows.map((r) => r.message_id)), new Set(queued!.map((e) => e.messageId)));
    const beacons = JSON.parse((await page.evaluate(() => sessionStorage.getItem('beacons'))) ?? '[]') as Array<{ url: string; type: string; size: number; ok: boolean }>;
    assert.equal(beacons.length, 1, `one beacon for the three events: ${JSON.stringify(beacons)}`);
    assert.deepEqual({ ...beacons[0], size: undefined }, { url: `${product.url}/v1/batch`, type: 'text/plain', size: undefined, ok: true });
    assert.deepEqual(await storedQueue(page), [], 'beaconed events left the stored queue');
  });

  test('retry: 503 and 429 keep the batch queued with backoff / Retry-After, and the event is stored once; other 4xx drop it', { timeout: 90_000 }, async () => {
    const { context, sent } = await newVisitor();
    const page = await context.newPage();
    const warnings: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'warning') warnings.push(m.text());
    });
    const answered: Array<{ at: number; ids: string[]; status: number }> = [];
    let refuseNext = false;
    const cors = { 'Access-Control-Allow-Origin': shopUrl, 'Access-Control-Expose-Headers': 'Retry-After', 'Content-Type': 'application/json' };
    await page.route(`${product.url}/v1/batch`, async (route: Route) => {
      const ids = (JSON.parse(route.request().postData() ?? '{}') as { batch: SentEvent[] }).batch.map((e) => e.messageId);
      const n = answered.length;
      let status = 200;
      if (n === 0) status = 503;
      else if (n === 1) status = 429;
      else if (refuseNext) status = 400;
      answered.push({ at: Date.now(), ids, status });
      if (status === 503) await route.fulfill({ status, headers: cors, body: '{"success":false,"error":"Kafka unavailable"}' });
      else if (status === 429) await route.fulfill({ status, headers: { ...cors, 'Retry-After': '3' }, body: '{"success":false,"error":"over the rate limit"}' });
      else if (status === 400) await route.fulfill({ status, headers: cors, body: '{"success":false,"error":"invalid batch"}' });
      else await route.continue();
    });
    const aid = await visit(page, '/retry/index.html'); // flushAt 1: the page view is sent at once
    const [pageView] = await waitForVisitor(aid, 1);
    assert.deepEqual(answered.map((a) => a.status), [503, 429, 200]);
    assert.deepEqual(answered.map((a) => a.ids), answered.map(() => [pageView!.message_id]), 'the same event each time');
    assert.ok(answered[1]!.at - answered[0]!.at >= 900, `first retry after ~1 s backoff, was ${answered[1]!.at - answered[0]!.at} ms`);
    assert.ok(answered[2]!.at - answered[1]!.at >= 2900, `Retry-After: 3 honoured, was ${answered[2]!.at - answered[1]!.at} ms`);
    const count = await product.rows<{ n: string }>('SELECT count() AS n FROM {db}.events WHERE message_id = {id:String}', { id: pageView!.message_id });
    assert.equal(Number(count[0]!.n), 1, 'stored exactly once');

    refuseNext = true;
    await page.evaluate(() => uspa.track('Doomed'));
    await eventually('the 400 answer and its warning', async () => warnings.some((w) => /HTTP 400/.test(w)) || undefined, 10_000);
    refuseNext = false;
    const doomedId = answered[3]!.ids[0]!;
    await page.evaluate(() => uspa.track('After Refusal'));
    await page.evaluate(() => uspa.flush());
    const rows = await waitForVisitor(aid, 2);
    assert.deepEqual(rows.map((r) => r.event), ['', 'After Refusal'], 'the refused batch was dropped, the next one stored');
    assert.equal(sentIds(sent).filter((id) => id === doomedId).length, 1, 'a 400 is not retried');
    assert.deepEqual(await storedQueue(page), []);
  });
});
