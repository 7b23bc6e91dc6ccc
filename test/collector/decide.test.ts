// uspa.decide() (collector/snippet/uspa.js) in Debian's headless Chromium, without the stack: a shop
// server on its own origin serves the page, the snippet file as it is in the checkout, and a stand-in
// collector; a stub of the API's POST /v1/decisions on another port answers as each test needs.
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { eventually } from '../support/env.ts';

// The same browser and skip rules as test/collector/snippet.test.ts.
const CHROMIUM = (process.env.USPA_CHROMIUM ? [process.env.USPA_CHROMIUM] : ['/usr/bin/chromium', '/usr/bin/chromium-browser']).find((path) => existsSync(path));
const NO_CHROMIUM = `needs Chromium (${process.env.USPA_CHROMIUM ?? "Debian's /usr/bin/chromium: bash scripts/ensure-chromium.sh"}); not found`;
const skip = CHROMIUM || process.env.CI === 'true' ? false : NO_CHROMIUM;

const SNIPPET = new URL('../../collector/snippet/uspa.js', import.meta.url);
const WRITE_KEY = 'wk-decide-test';
const DECISIONS_KEY = 'dk-public-decisions-key';
const HERO = '<h2>Welcome to the shop</h2>';
const BANNER = 'Free shipping over 50';

interface Decision { placement: string; variant: string | null; content: string | null; fallback: boolean; reason: string; decisionId: string | null }
interface DecisionEvent { id: string; detail: { placement: string; variant: string | null; decisionId: string | null }; html: string; pending: boolean }
interface UspaApi {
  load(options: object): void;
  identify(userId: string, traits?: object): void;
  consent(granted: boolean | Record<string, boolean>): void;
  anonymousId(): string;
  decide(placement: string, options?: { timeout?: number; render?: boolean }): Promise<Decision>;
  decide(placement: unknown[], options?: { timeout?: number; render?: boolean }): Promise<Record<string, Decision>>;
}
// Globals in the page, for page.evaluate callbacks (tsconfig has no DOM lib). The callbacks run in
// the browser, so they must not define named functions, which tsx would wrap in a Node-only helper.
interface El { id: string; innerHTML: string; hasAttribute(name: string): boolean; setAttribute(name: string, value: string): void; appendChild(child: El): El }
declare const uspa: UspaApi;
declare const document: { querySelector(selector: string): El | null; createElement(tag: string): El; body: El };
declare function getComputedStyle(el: El): { visibility: string };
declare const window: { decisionEvents: DecisionEvent[]; early?: Promise<Decision>; earlyIsPromise?: boolean; slow?: Promise<{ r: Decision; ms: number }> };

interface ApiRequest { method: string; path: string; headers: IncomingMessage['headers']; body: { identity: string; placements: string[]; context: { page: Record<string, string> } } | undefined; aborted: boolean }
interface ApiAnswer { status?: number; body: unknown; delayMs?: number; raw?: boolean }

let shop: Server;
let api: Server;
let shopUrl: string;
let apiUrl: string;
let closedUrl: string; // a port nothing listens on: connection refused
let browser: Browser;
let contexts: BrowserContext[] = [];
let requests: ApiRequest[] = [];
let answer: (body: ApiRequest['body']) => ApiAnswer = () => ({ status: 500, body: { error: { code: 'unset', message: 'no answer set', path: '' } } });

// The <head> of each kind of page, chosen by the first path segment; ?api= overrides the API's origin.
function head(scenario: string, apiHost: string): string | undefined {
  const events = `<script>
    window.decisionEvents = [];
    document.addEventListener('uspa:decision', function (e) {
      window.decisionEvents.push({ id: e.target.id, detail: e.detail, html: e.target.innerHTML, pending: e.target.hasAttribute('data-uspa-pending') });
    });
  </script>`;
  const quiet = 'data-flush-interval-ms="600000"';
  switch (scenario) {
    case 'tag':
      return `${events}<script src="/uspa.js" data-write-key="${WRITE_KEY}" data-api-host="${apiHost}" data-decisions-key="${DECISIONS_KEY}" ${quiet}></script>`;
    case 'consent':
      return `${events}<script src="/uspa.js" data-write-key="${WRITE_KEY}" data-api-host="${apiHost}" data-decisions-key="${DECISIONS_KEY}" data-consent-required="true" ${quiet}></script>`;
    case 'unconfigured':
      return `${events}<script src="/uspa.js" data-write-key="${WRITE_KEY}" ${quiet}></script>`;
    case 'stub': // a decide queued in the stub before the file has loaded
      return `${events}<script>
        window.uspa = window.uspa || [];
        ['load', 'page', 'track', 'identify', 'consent', 'reset', 'flush', 'decide'].forEach(function (m) {
          uspa[m] = uspa[m] || function () { uspa.push([m].concat([].slice.call(arguments))); };
        });
        uspa.load({ writeKey: ${JSON.stringify(WRITE_KEY)}, apiHost: ${JSON.stringify(apiHost)}, decisionsKey: ${JSON.stringify(DECISIONS_KEY)}, flushIntervalMs: 600000 });
        uspa.decide('home-hero');
      </script>
      <script async src="/uspa.js"></script>`;
    case 'late': // the file has loaded, load() comes later: decide() made now must wait for it
      return `${events}<script src="/uspa.js"></script>
      <script>window.early = uspa.decide('side-banner'); window.earlyIsPromise = window.early instanceof Promise;</script>`;
    default:
      return undefined;
  }
}

function startShop(): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://shop');
    if (url.pathname === '/uspa.js') {
      // Read on each request, so the test always drives the file as it is now.
      res.writeHead(200, { 'Content-Type': 'application/javascript', 'Cache-Control': 'no-store' }).end(readFileSync(SNIPPET, 'utf8'));
      return;
    }
    if (url.pathname === '/v1/batch') {
      req.resume();
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"success":true}');
      return;
    }
    const h = head(url.pathname.split('/')[1] ?? '', url.searchParams.get('api') ?? apiUrl);
    if (h === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(`<!doctype html>
<html><head><meta charset="utf-8"><title>Shop ${url.pathname}</title>${h}</head>
<body>
  <div id="hero" data-uspa-placement="home-hero">${HERO}</div>
  <aside id="banner" data-uspa-placement="side-banner">${BANNER}</aside>
  <div id="hero-2" data-uspa-placement="home-hero">${HERO}</div>
</body></html>`);
  });
  return listen(server);
}

// The API's stub: CORS for the shop's origin only, as an origin-locked decisions key would get.
function startApi(): Promise<Server> {
  const server = createServer((req, res) => {
    const cors: Record<string, string> = req.headers.origin === shopUrl ? { 'Access-Control-Allow-Origin': shopUrl, Vary: 'Origin' } : {};
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const record: ApiRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: text ? (JSON.parse(text) as ApiRequest['body']) : undefined, aborted: false };
      requests.push(record);
      res.on('close', () => {
        if (!res.writableEnded) record.aborted = true;
      });
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { ...cors, 'Access-Control-Allow-Methods': 'POST', 'Access-Control-Allow-Headers': 'Authorization, Content-Type' }).end();
        return;
      }
      if (req.method !== 'POST' || req.url !== '/v1/decisions') {
        res.writeHead(404, { ...cors, 'Content-Type': 'application/json' }).end('{"error":{"code":"not_found","message":"no such endpoint","path":""}}');
        return;
      }
      const a = answer(record.body);
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(a.status ?? 200, { ...cors, 'Content-Type': 'application/json' }).end(a.raw ? String(a.body) : JSON.stringify(a.body));
      };
      if (a.delayMs) setTimeout(send, a.delayMs);
      else send();
    });
  });
  return listen(server);
}

function listen(server: Server): Promise<Server> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
const origin = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const posts = () => requests.filter((r) => r.method === 'POST');

function decided(decisionId: string, placements: Record<string, Partial<Decision>>) {
  return { decisionId, personalized: Object.values(placements).some((p) => p.fallback === false), placements };
}

/** A fresh browser profile on a page of the shop, once uspa.js has loaded; its console warnings. */
async function open(path: string, waitForLoad = true): Promise<{ page: Page; warnings: string[]; aid: string }> {
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  const warnings: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'warning') warnings.push(m.text());
  });
  await page.goto(shopUrl + path);
  if (!waitForLoad) return { page, warnings, aid: '' };
  await page.waitForFunction(() => typeof uspa === 'object' && typeof uspa.anonymousId === 'function' && !!uspa.anonymousId());
  return { page, warnings, aid: await page.evaluate(() => uspa.anonymousId()) };
}

/** What the visitor sees of one element. */
function seen(page: Page, selector: string): Promise<{ html: string; visibility: string; pending: boolean }> {
  return page.evaluate((s) => {
    const el = document.querySelector(s)!;
    return { html: el.innerHTML, visibility: getComputedStyle(el).visibility, pending: el.hasAttribute('data-uspa-pending') };
  }, selector);
}
const untouched = { html: HERO, visibility: 'visible', pending: false };
const decisionEvents = (page: Page) => page.evaluate(() => window.decisionEvents);

describe('uspa.decide() in the browser, against a stub of POST /v1/decisions', { skip, concurrency: false }, () => {
  before(async () => {
    if (!CHROMIUM) throw new Error(`CI=true: the browser snippet tests must run, not skip; ${NO_CHROMIUM}`);
    shop = await startShop();
    api = await startApi();
    shopUrl = origin(shop);
    apiUrl = origin(api);
    const closed = await listen(createServer());
    closedUrl = origin(closed);
    await new Promise((resolve) => closed.close(resolve));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, { timeout: 60_000 });
  after(async () => {
    await browser?.close();
    for (const s of [shop, api]) {
      s?.closeAllConnections(); // Chromium's keep-alive connections would hold close() open
      await new Promise((resolve) => (s ? s.close(resolve) : resolve(undefined)));
    }
  }, { timeout: 30_000 });
  beforeEach(() => {
    requests = [];
  });
  // Closing a test's pages cancels what they still had in flight, so a failed test cannot send into the next.
  afterEach(async () => {
    await Promise.all(contexts.map((c) => c.close()));
    contexts = [];
  });

  test('the request carries the bearer key, the anonymous id (also once identified) and the placement; the content replaces the page\'s, and uspa:decision fires', { timeout: 30_000 }, async () => {
    const content = '<h2 class="personal">Welcome back</h2>';
    answer = () => ({ body: decided('dec-1', { 'home-hero': { variant: 'returning', content, fallback: false, reason: 'experiment' } }) });
    const { page, aid } = await open('/tag/index.html?utm=x#top');
    await page.evaluate(() => uspa.identify('user-7'));
    const result = await page.evaluate(() => uspa.decide('home-hero'));

    assert.deepEqual(result, { placement: 'home-hero', variant: 'returning', content, fallback: false, reason: 'experiment', decisionId: 'dec-1' });
    assert.equal(posts().length, 1);
    const [req] = posts();
    assert.equal(req!.path, '/v1/decisions');
    assert.equal(req!.headers.authorization, `Bearer ${DECISIONS_KEY}`);
    assert.match(req!.headers['content-type'] ?? '', /^application\/json/);
    assert.equal(req!.headers.origin, shopUrl);
    assert.deepEqual(req!.body, {
      identity: `anonymousId:${aid}`, // not userId:user-7: bucketing stays on the anonymous id
      placements: ['home-hero'],
      context: { page: { path: '/tag/index.html', url: `${shopUrl}/tag/index.html?utm=x`, referrer: '', title: 'Shop /tag/index.html' } },
    });
    const preflight = requests.find((r) => r.method === 'OPTIONS');
    assert.match(String(preflight?.headers['access-control-request-headers']), /authorization/);

    // Every element of the placement gets the content; another placement keeps its own.
    assert.deepEqual(await seen(page, '#hero'), { html: content, visibility: 'visible', pending: false });
    assert.deepEqual(await seen(page, '#hero-2'), { html: content, visibility: 'visible', pending: false });
    assert.equal((await seen(page, '#banner')).html, BANNER);
    const detail = { placement: 'home-hero', variant: 'returning', decisionId: 'dec-1' };
    assert.deepEqual(await decisionEvents(page), [
      { id: 'hero', detail, html: content, pending: false },
      { id: 'hero-2', detail, html: content, pending: false },
    ], 'one event per element, after the content is in and nothing is hidden');
  });

  test('a fallback answer keeps the page\'s own content (even with content in it); render: false leaves the page to the caller', { timeout: 30_000 }, async () => {
    answer = () => ({ body: decided('dec-2', { 'home-hero': { variant: null, content: '<p>not for this visitor</p>', fallback: true, reason: 'no personalization consent' } }) });
    const { page } = await open('/tag/index.html');
    const result = await page.evaluate(() => uspa.decide('home-hero'));
    assert.deepEqual(result, { placement: 'home-hero', variant: null, content: '<p>not for this visitor</p>', fallback: true, reason: 'no personalization consent', decisionId: 'dec-2' });
    assert.deepEqual(await seen(page, '#hero'), untouched);
    assert.deepEqual(await seen(page, '#hero-2'), untouched);
    assert.deepEqual(await decisionEvents(page), []);

    answer = () => ({ body: decided('dec-3', { 'home-hero': { variant: 'b', content: '<p>B</p>', fallback: false, reason: 'experiment' } }) });
    const own = await page.evaluate(() => uspa.decide('home-hero', { render: false }));
    assert.equal(own.content, '<p>B</p>');
    assert.equal(own.fallback, false);
    assert.deepEqual(await seen(page, '#hero'), untouched, 'render: false does not touch the element');
    assert.equal(posts().length, 2);
  });

  test('a slow API: the placement is hidden while pending, then shown with its own content at the timeout; the late answer is dropped', { timeout: 30_000 }, async () => {
    answer = () => ({ delayMs: 3000, body: decided('dec-late', { 'home-hero': { variant: 'late', content: '<p>too late</p>', fallback: false, reason: 'experiment' } }) });
    const { page } = await open('/tag/index.html');
    const during = await page.evaluate(() => {
      const t0 = performance.now();
      window.slow = uspa.decide('home-hero', { timeout: 300 }).then((r) => ({ r, ms: performance.now() - t0 }));
      const el = document.querySelector('#hero')!;
      // An element of the placement that appears while the decision is pending is hidden too.
      const later = document.createElement('div');
      later.setAttribute('data-uspa-placement', 'home-hero');
      document.body.appendChild(later);
      return {
        visibility: getComputedStyle(el).visibility,
        pending: el.hasAttribute('data-uspa-pending'),
        later: getComputedStyle(later).visibility,
        other: getComputedStyle(document.querySelector('#banner')!).visibility,
      };
    });
    assert.deepEqual(during, { visibility: 'hidden', pending: true, later: 'hidden', other: 'visible' }, 'hidden while pending; other placements are not');

    const { r, ms } = (await page.evaluate(() => window.slow))!;
    assert.deepEqual(r, { placement: 'home-hero', variant: null, content: null, fallback: true, reason: 'timeout', decisionId: null });
    assert.ok(ms < 2500, `resolved at the timeout, before the slow answer (after ${Math.round(ms)} ms)`);
    assert.deepEqual(await seen(page, '#hero'), untouched, 'visible with its own content after the timeout');
    assert.deepEqual(await seen(page, '#hero-2'), untouched);

    // The request was aborted, and even once the slow answer is due nothing changes.
    await eventually('the browser to abort the slow request', async () => posts()[0]?.aborted || undefined, 5_000);
    await new Promise((resolve) => setTimeout(resolve, 3200));
    assert.deepEqual(await seen(page, '#hero'), untouched);
    assert.deepEqual(await decisionEvents(page), []);
  });

  test('a failing API (500, invalid JSON, connection refused) leaves the page as it is, with an error reason', { timeout: 30_000 }, async () => {
    answer = () => ({ status: 500, body: { error: { code: 'internal', message: 'the profile store did not answer', path: '' } } });
    const { page } = await open('/tag/index.html');
    const failed = await page.evaluate(() => uspa.decide('home-hero'));
    assert.equal(failed.reason, 'error: HTTP 500 internal');
    assert.equal(failed.fallback, true);
    assert.deepEqual(await seen(page, '#hero'), untouched);

    answer = () => ({ raw: true, body: '{"decisionId": "dec-', status: 200 });
    const garbled = await page.evaluate(() => uspa.decide('home-hero'));
    assert.equal(garbled.reason, 'error: invalid response');
    assert.deepEqual(await seen(page, '#hero'), untouched);
    assert.equal(posts().length, 2);

    const refused = await open(`/tag/index.html?api=${encodeURIComponent(closedUrl)}`);
    const down = await refused.page.evaluate(() => uspa.decide('home-hero', { timeout: 5000 }));
    assert.match(down.reason, /^error/);
    assert.notEqual(down.reason, 'error: timeout');
    assert.equal(down.fallback, true);
    assert.deepEqual(await seen(refused.page, '#hero'), untouched);
    assert.deepEqual(await decisionEvents(refused.page), []);
  });

  test('several placements in one call: one request, one result per placement', { timeout: 30_000 }, async () => {
    answer = () => ({
      body: decided('dec-4', {
        'home-hero': { variant: 'spring', content: '<h2>Spring sale</h2>', fallback: false, reason: 'segment: spring-buyers' },
        'side-banner': { variant: null, content: null, fallback: true, reason: 'no matching rule' },
        // 'footer-promo' is missing from the answer
      }),
    });
    const { page } = await open('/tag/index.html');
    const results = await page.evaluate(() => uspa.decide(['home-hero', 'side-banner', 'footer-promo', 'home-hero']));
    assert.equal(posts().length, 1, 'one request');
    assert.deepEqual(posts()[0]!.body!.placements, ['home-hero', 'side-banner', 'footer-promo'], 'each placement once');
    assert.deepEqual(Object.keys(results), ['home-hero', 'side-banner', 'footer-promo']);
    assert.equal(results['home-hero']!.variant, 'spring');
    assert.equal(results['home-hero']!.decisionId, 'dec-4');
    assert.equal(results['side-banner']!.reason, 'no matching rule');
    assert.equal(results['footer-promo']!.fallback, true);
    assert.match(results['footer-promo']!.reason, /^error/);
    assert.equal((await seen(page, '#hero')).html, '<h2>Spring sale</h2>');
    assert.equal((await seen(page, '#hero-2')).html, '<h2>Spring sale</h2>');
    assert.equal((await seen(page, '#banner')).html, BANNER);
  });

  test('invalid placement names fall back without a request, with a warning; valid ones beside them are still asked for', { timeout: 30_000 }, async () => {
    answer = () => ({ body: decided('dec-5', { 'side-banner': { variant: 'a', content: 'Banner A', fallback: false, reason: 'experiment' } }) });
    const { page, warnings } = await open('/tag/index.html');
    const one = await page.evaluate(() => uspa.decide('Home_Hero'));
    const many = await page.evaluate(() => uspa.decide(['-hero', 'hero-', 'x'.repeat(64), 'a b', 42 as unknown as string]));
    assert.deepEqual(one, { placement: 'Home_Hero', variant: null, content: null, fallback: true, reason: 'invalid placement', decisionId: null });
    assert.deepEqual(Object.values(many).map((d) => d.reason), ['invalid placement', 'invalid placement', 'invalid placement', 'invalid placement', 'invalid placement']);
    assert.deepEqual(requests, [], 'no request at all, not even a preflight');
    assert.ok(warnings.some((w) => /invalid placement name "Home_Hero"/.test(w)), warnings.join('\n'));

    const mixed = await page.evaluate(() => uspa.decide(['side-banner', 'BAD']));
    assert.deepEqual(posts().map((r) => r.body!.placements), [['side-banner']]);
    assert.equal(mixed['side-banner']!.content, 'Banner A');
    assert.equal(mixed.BAD!.reason, 'invalid placement');
    assert.equal((await seen(page, '#banner')).html, 'Banner A');
  });

  test('consent: required and not given, or personalization refused, means no request; not configured means none either', { timeout: 30_000 }, async () => {
    answer = () => ({ body: decided('dec-6', { 'home-hero': { variant: 'c', content: '<p>C</p>', fallback: false, reason: 'experiment' } }) });
    const { page } = await open('/consent/index.html');
    assert.equal((await page.evaluate(() => uspa.decide('home-hero'))).reason, 'no consent');
    await page.evaluate(() => uspa.consent({ analytics: true, personalization: false }));
    assert.equal((await page.evaluate(() => uspa.decide('home-hero'))).reason, 'no consent', 'personalization refused');
    assert.deepEqual(requests, []);
    assert.deepEqual(await seen(page, '#hero'), untouched);
    await page.evaluate(() => uspa.consent({ analytics: true, personalization: true }));
    assert.equal((await page.evaluate(() => uspa.decide('home-hero'))).content, '<p>C</p>');
    assert.equal(posts().length, 1);

    const bare = await open('/unconfigured/index.html');
    const first = await bare.page.evaluate(() => uspa.decide('home-hero'));
    const second = await bare.page.evaluate(() => uspa.decide(['home-hero', 'side-banner']));
    assert.equal(first.reason, 'not configured');
    assert.deepEqual(Object.values(second).map((d) => d.reason), ['not configured', 'not configured']);
    assert.equal(bare.warnings.filter((w) => /apiHost and decisionsKey/.test(w)).length, 1, 'warned once');
    assert.equal(posts().length, 1, 'no further request');
  });

  test('calls before load: a decide in the stub queue runs once loaded; decide() before load() returns a Promise that waits for it', { timeout: 30_000 }, async () => {
    answer = (body) => ({
      body: decided('dec-7', Object.fromEntries((body?.placements ?? []).map((p) => [p, { variant: 'early', content: `<b>${p} early</b>`, fallback: false, reason: 'experiment' }]))),
    });
    const stubbed = await open('/stub/index.html');
    await eventually('the queued decision', async () => (await decisionEvents(stubbed.page)).length === 2 || undefined, 10_000);
    assert.equal((await seen(stubbed.page, '#hero')).html, '<b>home-hero early</b>');
    assert.deepEqual(posts()[0]!.body!.identity, `anonymousId:${stubbed.aid}`);

    requests = [];
    const late = await open('/late/index.html', false);
    assert.equal(await late.page.evaluate(() => window.earlyIsPromise), true);
    assert.deepEqual(requests, [], 'nothing is asked before load()');
    assert.equal((await seen(late.page, '#banner')).html, BANNER);
    await late.page.evaluate(([writeKey, apiHost, decisionsKey]) => uspa.load({ writeKey, apiHost, decisionsKey, flushIntervalMs: 600000 }), [WRITE_KEY, apiUrl, DECISIONS_KEY]);
    const early = await late.page.evaluate(() => window.early!);
    assert.equal(early.variant, 'early');
    assert.equal((await seen(late.page, '#banner')).html, '<b>side-banner early</b>');
    assert.equal(posts().length, 1);
  });
});
