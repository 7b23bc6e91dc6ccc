// Several collectors serving one Source: its rate limit holds across them (whether the load is
// spread or pinned to one), and a collector stopped mid-load answers every request it took in
// full, with its events in Kafka: none accepted and lost, none half-answered.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { startCollector } from '../../collector/main.ts';
import { topicNames } from '../../lib/kafka.ts';
import { eventually, required } from '../support/env.ts';
import { startProduct, type Product } from '../support/product.ts';

const LIMIT = 200;
type Collector = Awaited<ReturnType<typeof startCollector>>;

describe('collector replicas', { timeout: 300_000, concurrency: false }, () => {
  let product: Product;
  const extra: Collector[] = [];
  before(async () => {
    product = await startProduct({ sources: [{ name: 'web', type: 'web', rateLimit: { eventsPerSecond: LIMIT, burst: LIMIT } }, { name: 'app', type: 'web' }], withPipeline: false });
  });
  after(async () => {
    for (const c of extra) await c.close().catch(() => undefined);
    await product?.close();
  });

  const auth = (source: string) => `Basic ${Buffer.from(`${product.sources[source]!.writeKey}:`).toString('base64')}`;
  const track = (url: string, source: string, messageId = randomUUID()) =>
    fetch(`${url}/v1/track`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: auth(source) }, body: JSON.stringify({ messageId, anonymousId: 'a-1', event: 'Replica Test' }) });

  /** Sends single events as fast as `loops` clients can to each URL for `ms`; counts the answers by status. */
  async function load(urls: string[], ms: number, loops = 4): Promise<Map<number, number>> {
    const counts = new Map<number, number>();
    const until = Date.now() + ms;
    await Promise.all(urls.flatMap((url) => Array.from({ length: loops }, async () => {
      while (Date.now() < until) {
        const res = await track(url, 'web');
        await res.arrayBuffer();
        counts.set(res.status, (counts.get(res.status) ?? 0) + 1);
      }
    })));
    return counts;
  }

  test('three replicas hold one Source\'s limit together: spread evenly or pinned to one, about the limit gets through', async () => {
    for (let i = 0; i < 2; i++) extra.push(await startCollector({ configPath: product.configPath, port: 0, env: product.env }));
    const urls = [product.url, ...extra.map((c) => `http://127.0.0.1:${c.port}`)];
    // Every replica has heard the others (one exchange a second, once its consumer joined) before the load starts.
    await eventually('each replica hears all three', async () => {
      for (const url of urls) {
        const text = await (await fetch(`${url}/metrics`)).text();
        if (!/^uspa_collector_replicas_heard\{[^}]*\} 3$/m.test(text)) return false;
      }
      return true;
    }, 60_000);
    await new Promise((r) => setTimeout(r, 1_000));
    const seconds = 6;

    const spread = await load(urls, seconds * 1000);
    const spreadOk = spread.get(200) ?? 0;
    // Each replica alone would let LIMIT/s through, three times the limit in all.
    assert.ok(spreadOk <= LIMIT * seconds * 1.3 + LIMIT, `spread: ${spreadOk} accepted in ${seconds} s, limit ${LIMIT}/s (${JSON.stringify([...spread])})`);
    assert.ok(spreadOk >= LIMIT * seconds * 0.6, `spread: only ${spreadOk} accepted in ${seconds} s, limit ${LIMIT}/s`);
    assert.ok((spread.get(429) ?? 0) > 0, 'the load was over the limit');

    await new Promise((r) => setTimeout(r, 2_000));
    const pinned = await load([urls[0]!], seconds * 1000, 12);
    const pinnedOk = pinned.get(200) ?? 0;
    // A limit divided by the replica count would let a third through here.
    assert.ok(pinnedOk >= LIMIT * seconds * 0.6, `pinned to one replica: only ${pinnedOk} accepted in ${seconds} s, limit ${LIMIT}/s (${JSON.stringify([...pinned])})`);
    assert.ok(pinnedOk <= LIMIT * seconds * 1.3 + LIMIT, `pinned: ${pinnedOk} accepted in ${seconds} s`);

    const other = await track(urls[1]!, 'app');
    assert.equal(other.status, 200, 'a Source without a limit is not limited by another\'s');
  });

  test('SIGTERM mid-load: not ready at once, every request taken is answered whole, and every 200 is in Kafka', async () => {
    const env = { ...product.env, USPA_DRAIN_DELAY_SECONDS: '1' };
    const c = await startCollector({ configPath: product.configPath, port: 0, env });
    const url = `http://127.0.0.1:${c.port}`;
    const accepted: string[] = [];
    const failures: string[] = [];
    let closeAnswers = 0;
    // The Service: it stops sending new requests to a terminating pod shortly after it starts
    // terminating (well within the drain delay), and sends them to another replica.
    let routedAway = false;
    let stop = false;
    const loops = Array.from({ length: 8 }, async () => {
      while (!stop) {
        const id = randomUUID();
        const away = routedAway;
        try {
          const res = await track(away ? product.url : url, 'app', id);
          await res.text();
          if (res.status !== 200) failures.push(`status ${res.status}`);
          else if (!away) accepted.push(id);
          if (!away && res.headers.get('connection') === 'close') closeAnswers++;
        } catch (err) {
          const cause = (err as { cause?: { code?: string } }).cause;
          failures.push(`${away ? 'other replica' : 'draining replica'}: ${(err as Error).message}: ${cause?.code ?? String(cause)}`);
        }
      }
    });
    await new Promise((r) => setTimeout(r, 1_500));
    const before = accepted.length;
    const closing = c.close();
    await new Promise((r) => setTimeout(r, 200));
    const ready = await fetch(`${url}/readyz`);
    assert.equal(ready.status, 503, 'not ready as soon as it is told to stop');
    assert.match(((await ready.json()) as { reason: string }).reason, /draining/);
    await new Promise((r) => setTimeout(r, 200));
    routedAway = true;
    await closing;
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await Promise.all(loops);
    assert.ok(before > 50, `load before the stop: ${before}`);
    assert.ok(accepted.length > before, 'requests kept being answered during the drain delay');
    assert.ok(closeAnswers > 0, 'answers during the drain close their keep-alive connections');
    assert.deepEqual(failures, [], 'no request was cut off or answered otherwise than 200');
    await assert.rejects(fetch(`${url}/readyz`), (err: Error & { cause?: { code?: string } }) => err.cause?.code === 'ECONNREFUSED', 'the port is closed once drained');

    // Every acknowledged event is in the Source's topic.
    const topic = topicNames(product.env).source(product.sources.app!.name);
    const kafka = new Kafka({ clientId: 'uspa-test-replicas', brokers: required('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `test-replicas-${randomUUID()}` });
    const seen = new Set<string>();
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      const missing = new Set(accepted);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${missing.size} of ${accepted.length} acknowledged events not found in ${topic}`)), 60_000);
        void consumer.run({
          eachMessage: async ({ message }) => {
            const id = (JSON.parse(message.value!.toString()) as { messageId: string }).messageId;
            seen.add(id);
            missing.delete(id);
            if (missing.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        });
      });
    } finally {
      await consumer.disconnect();
    }
    assert.ok(accepted.every((id) => seen.has(id)));
  });
});
