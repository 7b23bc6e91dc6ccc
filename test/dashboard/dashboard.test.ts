// The dashboard in Debian's headless Chromium, on the product as the operator runs it (operator,
// local runtime, collector, pipeline, segments worker and API as processes): sign in with a key,
// watch an event sent with curl arrive in a Source's live stream, create a Segment in the UI and
// see kubectl's object and its first size, a bad rule's error at its field, replay a dead letter
// and find its event stored, and a reader see no admin controls (the API refusing them anyway).
// Every page is checked with axe-core (no serious or critical violations).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { chromium, type Browser, type Page } from 'playwright-core';
import { eventually, unique } from '../support/env.ts';
import { kubectl, operatorHarness, type OperatorHarness } from '../support/operator.ts';
import type { LocalRuntime } from '../../stack/runtime/kubelet.ts';

const CHROMIUM = (process.env.USPA_CHROMIUM ? [process.env.USPA_CHROMIUM] : ['/usr/bin/chromium', '/usr/bin/chromium-browser']).find((path) => existsSync(path));
const skip = CHROMIUM || process.env.CI === 'true' ? false : 'needs Chromium (bash scripts/ensure-chromium.sh); not found';
const AXE = readFileSync(new URL('../../node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');

const MANIFESTS = `apiVersion: uspa.tech/v1alpha1
kind: Source
metadata: { name: web }
spec:
  type: web
  trackingPlan:
    mode: dlq
    unplanned: allow
    events:
      Order Completed:
        type: object
        required: [revenue]
        properties: { revenue: { type: number, minimum: 0 } }
---
apiVersion: uspa.tech/v1alpha1
kind: Pipeline
metadata: { name: main }
spec:
  sources: [web]
  batch: { maxWaitMs: 100, profileIntervalMs: 200 }
---
apiVersion: uspa.tech/v1alpha1
kind: ApiKey
metadata: { name: admin }
spec: { role: admin }
---
apiVersion: uspa.tech/v1alpha1
kind: ApiKey
metadata: { name: reader }
spec: { role: reader }
`;

interface AxeResult {
  violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: string[] }> }>;
}

describe('the dashboard in a real browser', { timeout: 900_000, skip }, () => {
  let h: OperatorHarness;
  let runtime: LocalRuntime;
  let browser: Browser;
  let api = '';
  let collector = '';
  let adminKey = '';
  let readerKey = '';
  let writeKey = '';
  const pageErrors: string[] = [];

  const secret = async (name: string, key: string) => Buffer.from((await h.core.readNamespacedSecret({ name, namespace: h.namespace })).data![key]!, 'base64').toString();
  /** As the README's example sends it: curl with the write key as the Basic user. */
  const send = async (path: string, body: object) => {
    // The write key reaches curl on stdin (a config line), so neither argv nor an error message holds it.
    const status = await new Promise<string>((resolve, reject) => {
      const child = execFile('curl', ['-sS', '-K', '-', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'content-type: application/json', '-d', JSON.stringify(body), `${collector}${path}`], (err, stdout, stderr) => (err ? reject(new Error(`curl ${path} failed: ${stderr.trim()}`)) : resolve(stdout.trim())));
      child.stdin!.end(`user = "${writeKey}:"\n`);
    });
    assert.equal(status, '200', `curl ${path}`);
  };
  const signedIn = async (key: string): Promise<Page> => {
    // bypassCSP only so axe-core can be injected; the app itself runs under the API's CSP.
    const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${api}/ui/`);
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Pages' }).waitFor();
    return page;
  };
  const axe = async (page: Page, where: string) => {
    await page.addScriptTag({ content: AXE });
    const result = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] })`)) as AxeResult;
    const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(serious.map((v) => `${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`), [], `axe on ${where}`);
  };

  before(async () => {
    h = await operatorHarness('dash');
    await h.startOperator();
    runtime = await h.startRuntime();
    await h.apply(MANIFESTS);
    await h.ready('sources', 'web', undefined, 120_000);
    await h.ready('pipelines', 'main', undefined, 180_000);
    collector = runtime.serviceUrl(h.namespace, 'uspa-collector')!;
    api = await eventually('the API is forwarded and ready', async () => {
      const url = runtime.serviceUrl(h.namespace, 'uspa-api');
      return url && (await fetch(`${url}/readyz`).then((r) => r.ok, () => false)) && url;
    }, 180_000);
    adminKey = await eventually('the admin key is issued', () => secret('uspa-apikey-admin', 'apiKey').catch(() => undefined), 60_000);
    readerKey = await eventually('the reader key is issued', () => secret('uspa-apikey-reader', 'apiKey').catch(() => undefined), 60_000);
    writeKey = await secret('web-write-key', 'writeKey');
    await eventually('the API accepts the keys', async () => (await fetch(`${api}/v1/whoami`, { headers: { authorization: `Bearer ${readerKey}` } })).ok && (await fetch(`${api}/v1/whoami`, { headers: { authorization: `Bearer ${adminKey}` } })).ok, 60_000);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  after(async () => {
    await browser?.close();
    await h?.close();
    assert.deepEqual(pageErrors, [], 'no script errors in any page');
  });

  test('a wrong key is refused with the API\'s reason; the right one signs in, by keyboard too, and the overview loads', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${api}/ui/`);
    await page.getByLabel('API key').fill('uspa_not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: /key/i }).waitFor();
    // By keyboard alone: Tab to the key, type it, Enter; then Tab reaches the pages' links.
    await page.reload();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement.id'), 'key');
    await page.keyboard.type(adminKey);
    await page.keyboard.press('Enter');
    await page.getByRole('navigation', { name: 'Pages' }).waitFor();
    const reached: string[] = [];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      reached.push(String(await page.evaluate('document.activeElement.textContent')).trim());
    }
    assert.ok(reached.includes('Overview') && reached.includes('Sources'), `Tab reaches the page links: ${reached.join(' | ')}`);
    await context.close();
    const admin = await signedIn(adminKey);
    await admin.getByRole('heading', { name: 'Overview' }).waitFor();
    await admin.getByRole('region', { name: /Resources/ }).getByText('Pipeline').first().waitFor();
    await axe(admin, 'the overview');
    await admin.context().close();
  });

  test('an event sent with curl appears in its Source\'s live stream', async () => {
    const page = await signedIn(adminKey);
    await page.goto(`${api}/ui/sources/web`);
    await page.getByTestId('live-stream').waitFor({ state: 'attached' });
    // The admin sees the write key in the snippet; it is the Source's.
    assert.match(await page.getByTestId('snippet').innerText(), new RegExp(`data-write-key="${writeKey.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"`));
    const event = `Dashboard Check ${unique('e')}`;
    await send('/v1/track', { userId: 'u-live', event, properties: { n: 1 } });
    await page.getByTestId('live-stream').getByText(event).waitFor({ timeout: 90_000 });
    await axe(page, 'a Source page');
    await page.context().close();
  });

  test('a Segment created in the UI is a custom resource kubectl sees, and its first size appears without waiting for the schedule', async () => {
    await send('/v1/identify', { userId: 'u-pro-1', traits: { plan: 'pro' } });
    await send('/v1/identify', { userId: 'u-pro-2', traits: { plan: 'pro' } });
    await send('/v1/identify', { userId: 'u-free', traits: { plan: 'free' } });
    await eventually('the profiles are built', async () => Number((await h.warehouse.query<{ n: string }>("SELECT count() AS n FROM {db}.profiles FINAL WHERE JSONExtractString(traits, 'plan') = 'pro'"))[0]?.n) === 2, 120_000);
    const page = await signedIn(adminKey);
    await page.goto(`${api}/ui/segments/new`);
    await page.getByLabel('Name').fill('pro-plan');
    await page.getByLabel('trait', { exact: true }).fill('plan');
    await page.getByLabel('value', { exact: true }).fill('pro');
    await axe(page, 'the Segment editor');
    await page.getByRole('button', { name: 'Create Segment' }).click();
    await page.getByRole('heading', { name: /Segment pro-plan/ }).waitFor();
    const yaml = await kubectl(['get', 'segment', 'pro-plan', '-n', h.namespace, '-o', 'jsonpath={.spec.rule}']);
    assert.deepEqual(JSON.parse(yaml), { trait: 'plan', op: 'eq', value: 'pro' });
    // The default refresh is an hour: the size comes from the run on creation.
    await page.getByTestId('segment-size').filter({ hasText: '2' }).waitFor({ timeout: 120_000 });
    await eventually('kubectl get seg shows the size', async () => (await kubectl(['get', 'segment', 'pro-plan', '-n', h.namespace, '-o', 'jsonpath={.status.size}'])).trim() === '2', 60_000);
    await axe(page, 'a Segment page');
    await page.context().close();
  });

  test('a bad rule shows the API\'s error at its field, and nothing is created', async () => {
    const page = await signedIn(adminKey);
    await page.goto(`${api}/ui/segments/new`);
    await page.getByLabel('Name').fill('bad-window');
    await page.getByLabel('Condition 1 kind').selectOption('event');
    await page.getByLabel('event name').fill('Order Completed');
    await page.getByLabel('within (e.g. 30d)').fill('30 days');
    await page.getByRole('button', { name: 'Create Segment' }).click();
    const error = page.getByTestId('error-r0-within');
    await error.waitFor();
    assert.match(await error.innerText(), /duration|30d/i);
    assert.equal(await page.getByLabel('within (e.g. 30d)').getAttribute('aria-invalid'), 'true');
    await assert.rejects(kubectl(['get', 'segment', 'bad-window', '-n', h.namespace]), /NotFound|not found/);
    await page.context().close();
  });

  test('a dead letter is inspected and replayed from the UI, and its event is then stored', async () => {
    const messageId = unique('dl');
    // Refused by the tracking plan (revenue must be a number): a dead letter, not an event.
    await send('/v1/track', { userId: 'u-dl', event: 'Order Completed', messageId, properties: { revenue: 'lots' } });
    await eventually('the dead letter is stored', async () => Number((await h.warehouse.query<{ n: string }>('SELECT count() AS n FROM {db}.dead_letters WHERE message_id = {m:String}', { m: messageId }))[0]?.n) === 1, 120_000);
    const page = await signedIn(adminKey);
    await page.goto(`${api}/ui/dead-letters`);
    const row = page.getByRole('row').filter({ hasText: 'tracking_plan_violation' }).first();
    await row.waitFor({ timeout: 30_000 });
    await row.getByRole('button', { name: 'Inspect' }).click();
    await page.getByText(messageId).first().waitFor();
    await axe(page, 'the dead-letter page');
    await row.getByRole('button', { name: 'Replay' }).click();
    await page.getByTestId('replay-outcome').filter({ hasText: 'Replayed 1' }).waitFor({ timeout: 30_000 });
    await eventually('the replayed event is stored', async () => Number((await h.warehouse.query<{ n: string }>('SELECT count() AS n FROM {db}.events WHERE message_id = {m:String}', { m: messageId }))[0]?.n) === 1, 120_000);
    await page.context().close();
  });

  test('a reader sees no admin controls, and the API refuses them anyway', async () => {
    const page = await signedIn(readerKey);
    const nav = page.getByRole('navigation', { name: 'Pages' });
    await nav.getByRole('link', { name: 'Overview' }).waitFor();
    assert.equal(await nav.getByRole('link', { name: 'Sources' }).count(), 0, 'a reader has no sources:read');
    await page.goto(`${api}/ui/dead-letters`);
    await page.getByRole('heading', { name: 'Dead letters', level: 1 }).waitFor();
    await page.getByRole('row').filter({ hasText: 'tracking_plan_violation' }).first().waitFor({ timeout: 30_000 });
    assert.equal(await page.getByRole('button', { name: /Replay/ }).count(), 0, 'no replay buttons');
    await page.goto(`${api}/ui/segments`);
    await page.getByRole('link', { name: 'pro-plan' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'New Segment' }).count(), 0);
    await page.goto(`${api}/ui/segments/pro-plan`);
    await page.getByRole('heading', { name: /Segment pro-plan/ }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Edit rule' }).count(), 0);
    // The same calls the admin controls make, with the reader's key from the page's own origin.
    const refused = (await page.evaluate(`Promise.all([
      fetch('/v1/pipelines/main/dead-letters/replay', { method: 'POST', headers: { authorization: 'Bearer ${readerKey}', 'content-type': 'application/json' }, body: '{}' }).then((r) => r.status),
      fetch('/v1/segments', { method: 'POST', headers: { authorization: 'Bearer ${readerKey}', 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', spec: { rule: { segment: 'pro-plan' } } }) }).then((r) => r.status),
    ])`)) as number[];
    assert.deepEqual(refused, [403, 403]);
    await page.context().close();
  });
});
