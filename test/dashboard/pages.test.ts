// @serial: seeds the demo shop (thousands of events) and runs the whole product on the two cores
// Every dashboard page on the demo shop that `npm run local -- --demo` loads (cli/demo.ts, fewer
// visitors), in Debian's Chromium: each page shows its data (charts drawn, sizes, lift, personas),
// passes axe-core, and is photographed. USPA_UPDATE_SCREENSHOTS=1 writes the photos to
// docs/dashboard/ (the README shows them); otherwise to a temporary folder.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { chromium, type Browser, type Page } from 'playwright-core';
import { seedDemo } from '../../cli/demo.ts';
import { repoRoot } from '../../stack/paths.ts';
import { eventually } from '../support/env.ts';
import { operatorHarness, type OperatorHarness } from '../support/operator.ts';
import type { LocalRuntime } from '../../stack/runtime/kubelet.ts';

const CHROMIUM = (process.env.USPA_CHROMIUM ? [process.env.USPA_CHROMIUM] : ['/usr/bin/chromium', '/usr/bin/chromium-browser']).find((path) => existsSync(path));
const skip = CHROMIUM || process.env.CI === 'true' ? false : 'needs Chromium (bash scripts/ensure-chromium.sh); not found';
const AXE = readFileSync(new URL('../../node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');
const SHOTS = process.env.USPA_UPDATE_SCREENSHOTS === '1' ? join(repoRoot, 'docs', 'dashboard') : join(tmpdir(), `uspa-dashboard-pages-${process.pid}`);

// The quickstart's Sources, Pipeline and admin key, without its webhook Activation (its address is
// not reachable from a test machine, and its retries would only add load).
const QUICKSTART = readFileSync(join(repoRoot, 'examples', 'quickstart.yaml'), 'utf8')
  .split(/^---$/m)
  .filter((doc) => !/^kind: Activation$/m.test(doc))
  .join('---');

describe('every dashboard page on the demo shop', { timeout: 1_200_000, skip }, () => {
  let h: OperatorHarness;
  let runtime: LocalRuntime;
  let browser: Browser;
  let page: Page;
  let api = '';
  let identity = '';
  const pageErrors: string[] = [];

  const secret = async (name: string, key: string) => Buffer.from((await h.core.readNamespacedSecret({ name, namespace: h.namespace })).data![key]!, 'base64').toString();
  const axe = async (where: string) => {
    await page.addScriptTag({ content: AXE });
    const result = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] })`)) as { violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: string[] }> }> };
    const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(serious.map((v) => `${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`), [], `axe on ${where}`);
  };
  const shoot = async (name: string) => {
    const file = join(SHOTS, `${name}.png`);
    await page.screenshot({ path: file, fullPage: false });
    assert.ok(statSync(file).size > 10_000, `${file} has a picture`);
  };

  before(async () => {
    h = await operatorHarness('pages');
    await h.startOperator();
    runtime = await h.startRuntime();
    await h.apply(QUICKSTART);
    for (const s of ['web', 'backend']) await h.ready('sources', s, undefined, 120_000);
    await h.ready('pipelines', 'main', undefined, 180_000);
    api = await eventually('the API is forwarded and ready', async () => {
      const url = runtime.serviceUrl(h.namespace, 'uspa-api');
      return url && (await fetch(`${url}/readyz`).then((r) => r.ok, () => false)) && url;
    }, 180_000);
    const key = await eventually('the admin key is issued', () => secret('uspa-apikey-admin', 'apiKey').catch(() => undefined), 60_000);
    await eventually('the API accepts the key', async () => (await fetch(`${api}/v1/whoami`, { headers: { authorization: `Bearer ${key}` } })).ok, 60_000);
    const seeded = await seedDemo({
      collectorUrl: runtime.serviceUrl(h.namespace, 'uspa-collector')!,
      apiUrl: api,
      apiKey: key,
      writeKeys: { web: await secret('web-write-key', 'writeKey'), backend: await secret('backend-write-key', 'writeKey') },
      kubectl: process.env.USPA_KUBECTL ?? 'kubectl',
      namespace: h.namespace,
      say: (line) => console.log(line),
      visitors: 600,
      env: { ...process.env, USPA_TOPIC_PREFIX: h.settings.topicPrefix },
    });
    assert.ok(seeded.events > 5_000, `${seeded.events} demo events`);
    const [buyer] = await h.warehouse.query<{ id: string }>("SELECT arrayFirst(i -> startsWith(i, 'userId:'), identities) AS id FROM {db}.profiles FINAL WHERE deleted = 0 AND order_count > 0 AND has(arrayMap(i -> startsWith(i, 'userId:'), identities), 1) ORDER BY lifetime_revenue DESC LIMIT 1");
    assert.ok(buyer?.id, 'a demo buyer who signed up');
    identity = buyer.id;
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 860 } });
    page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${api}/ui/`);
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Pages' }).waitFor();
  });
  after(async () => {
    console.log(`screenshots in ${SHOTS}`);
    await browser?.close();
    await h?.close();
    assert.deepEqual(pageErrors, [], 'no script errors in any page');
  });

  test('overview: volume charted per Source, freshness, dead letters by cause, every resource', async () => {
    await page.goto(`${api}/ui/`);
    await page.getByRole('region', { name: 'Events received per Source' }).locator('canvas').first().waitFor();
    await page.getByRole('region', { name: 'Dead letters by cause' }).getByText('timestamp_out_of_window').first().waitFor();
    await page.getByRole('region', { name: /Resources/ }).getByText('home-banner').waitFor();
    await axe('the overview');
    await shoot('overview');
  });

  test('a Source: its volume, snippet and live stream', async () => {
    await page.goto(`${api}/ui/sources/web`);
    await page.getByTestId('live-stream').locator('li').first().waitFor({ timeout: 30_000 });
    await page.getByTestId('snippet').getByText('uspa.js').waitFor();
    await axe('a Source');
    await shoot('source');
  });

  test('dead letters with their causes', async () => {
    await page.goto(`${api}/ui/dead-letters`);
    await page.getByRole('row').filter({ hasText: 'timestamp_out_of_window' }).first().waitFor();
    await axe('dead letters');
    await shoot('dead-letters');
  });

  test("a buyer's profile: traits, identities, timeline", async () => {
    await page.goto(`${api}/ui/profiles?identity=${encodeURIComponent(identity)}`);
    await page.getByRole('region', { name: 'Traits' }).getByText('email').first().waitFor();
    await page.getByRole('region', { name: 'Timeline' }).getByText('Order Completed').first().waitFor();
    await axe('a profile');
    await shoot('profile');
  });

  test('Segments with their sizes, and one with its size history', async () => {
    await page.goto(`${api}/ui/segments`);
    await eventually('every demo Segment computed', async () => {
      await page.reload();
      await page.getByRole('link', { name: 'big-spenders' }).waitFor();
      return (await page.getByText('computing…').count()) === 0;
    }, 120_000);
    await axe('the Segments');
    await shoot('segments');
    await page.goto(`${api}/ui/segments/big-spenders`);
    await page.getByTestId('segment-size').waitFor();
    await page.getByRole('region', { name: 'Members (sample)' }).getByRole('listitem').first().waitFor();
    await axe('a Segment');
    await shoot('segment');
  });

  test('the rule editor, its conditions filled in', async () => {
    await page.goto(`${api}/ui/segments/new`);
    await page.getByLabel('Name').fill('loyal-pros');
    await page.getByLabel('Description').fill('Pro plan, and ordered twice in 30 days.');
    await page.getByLabel('trait', { exact: true }).fill('plan');
    await page.getByLabel('value', { exact: true }).fill('pro');
    await page.getByRole('button', { name: 'Add condition' }).click();
    await page.getByLabel('Condition 2 kind').selectOption('event');
    await page.getByLabel('event name').fill('Order Completed');
    await page.getByLabel('at least (times)').fill('2');
    await axe('the rule editor');
    await shoot('segment-editor');
  });

  test('campaigns: deliveries over time and lift over the holdout', async () => {
    await eventually('the campaign has sent to the recent buyers', async () => {
      await page.goto(`${api}/ui/campaigns`);
      const region = page.getByRole('region', { name: 'Activation order-thank-you' });
      await region.locator('canvas').first().waitFor();
      return Number(await region.locator('dd').first().innerText()) >= 3;
    }, 120_000);
    await page.getByRole('region', { name: 'Placement home-banner' }).waitFor();
    await axe('the campaigns');
    await shoot('campaigns');
  });

  test('models: persona sizes and recommendation quality', async () => {
    await page.goto(`${api}/ui/models`);
    await eventually('a personas version', async () => {
      await page.reload();
      await page.getByRole('heading', { name: 'Models' }).waitFor();
      return (await page.getByRole('region', { name: /Personas, version/ }).count()) > 0;
    }, 180_000);
    await axe('the models');
    await shoot('models');
  });
});
