// The README's personalization example as a marketer sees it, in Debian's headless Chromium: a shop
// page on its own origin loads the snippet from the real collector, asks the real API for its
// home-hero block with a decisions key, and the block changes after the visitor identifies.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { chromium, type Browser } from 'playwright-core';
import { eventually } from '../support/env.ts';
import { startApi, type ApiHarness } from '../support/gateway.ts';
import { kubeConfig } from '../support/operator.ts';

const CHROMIUM = (process.env.USPA_CHROMIUM ? [process.env.USPA_CHROMIUM] : ['/usr/bin/chromium', '/usr/bin/chromium-browser']).find((path) => existsSync(path));
const skip = CHROMIUM || process.env.CI === 'true' ? false : 'needs Chromium (bash scripts/ensure-chromium.sh); not found';

interface UspaApi {
  decide(placement: string, options?: { timeout?: number }): Promise<{ variant: string | null; reason: string; fallback: boolean }>;
  identify(userId: string, traits?: object): void;
  flush(): Promise<void>;
}
declare const uspa: UspaApi;
declare const document: { querySelector(s: string): { textContent: string } | null };

describe('personalization in a real browser', { timeout: 600_000, skip }, () => {
  let h: ApiHarness;
  let shop: Server;
  let shopUrl = '';
  let browser: Browser;

  before(async () => {
    h = await startApi();
    shop = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end('')).listen(0, '127.0.0.1');
    await new Promise((r) => shop.once('listening', r));
    shopUrl = `http://127.0.0.1:${(shop.address() as AddressInfo).port}`;
    const key = await h.key('decisions', { origins: [shopUrl] });
    const web = h.product.sources.web!;
    shop.removeAllListeners('request');
    shop.on('request', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(`<!doctype html>
<html><head><meta charset="utf-8"><title>Shop</title>
<script src="${h.product.url}/uspa.js" data-write-key="${web.writeKey}" data-api-host="${h.url}" data-decisions-key="${key}" data-flush-at="1"></script></head>
<body><div id="hero" data-uspa-placement="home-hero"><h2>Our own banner</h2></div></body></html>`);
    });
    await kubeConfig().makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      group: 'uspa.tech', version: 'v1alpha1', plural: 'personalizations', namespace: h.namespace,
      body: { apiVersion: 'uspa.tech/v1alpha1', kind: 'Personalization', metadata: { name: 'home-hero' }, spec: {
        variants: [
          { name: 'pro-welcome', rule: { trait: 'plan', op: 'eq', value: 'pro' }, content: '<h2>Welcome back, {{ traits.first_name }}</h2>' },
          { name: 'everyone', content: '<h2>Spring collection</h2>' },
        ],
        fallback: { content: '' },
      } },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  after(async () => {
    await browser?.close();
    shop?.close();
    await h?.close();
  });

  test('the block shows the default variant, then the personal one after an identify; a slow API leaves the page its own content', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(shopUrl);
    let first: Awaited<ReturnType<UspaApi['decide']>> | undefined;
    await eventually('the API serves home-hero', async () => {
      first = await page.evaluate(() => uspa.decide('home-hero', { timeout: 2000 }));
      return first.variant === 'everyone';
    }, 20_000);
    assert.equal(await page.evaluate(() => document.querySelector('#hero')!.textContent), 'Spring collection');

    await page.evaluate(() => uspa.identify('shopper-1', { plan: 'pro', first_name: 'Ada' }));
    await page.evaluate(() => uspa.flush());
    const started = Date.now();
    await eventually('the personal block after the identify', async () => {
      await page.reload();
      const d = await page.evaluate(() => uspa.decide('home-hero', { timeout: 2000 }));
      return d.variant === 'pro-welcome';
    }, 30_000);
    assert.equal(await page.evaluate(() => document.querySelector('#hero')!.textContent), 'Welcome back, Ada');
    console.log(`identify in the browser → the block changed: ${Date.now() - started} ms (page reloads polled)`);

    // The API stalls: the page keeps its own banner once the timeout passes.
    await context.route(`${h.url}/v1/decisions`, async (route) => {
      await new Promise((r) => setTimeout(r, 3000));
      await route.continue().catch(() => undefined);
    });
    await page.reload();
    const slow = await page.evaluate(() => uspa.decide('home-hero', { timeout: 300 }));
    assert.deepEqual([slow.fallback, slow.reason], [true, 'timeout']);
    assert.equal(await page.evaluate(() => document.querySelector('#hero')!.textContent), 'Our own banner');
    await context.close();
  });
});
