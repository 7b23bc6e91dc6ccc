// Hostile batches at the collector's door, on real Kafka and ClickHouse: every bad event of a batch
// is refused on its own, with its index and cause (in the answer and in the Source's dead-letter
// topic, mirrored into ClickHouse), and every good event of the same batch is stored. Bodies too
// large after inflation are refused whole (413) without being inflated, and the write key never
// reaches the collector's log.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createDeflate, createGzip, gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { startCollector } from '../../collector/main.ts';
import { createLogger } from '../../lib/log.ts';
import { eventually } from '../support/env.ts';
import { startProduct, type Product } from '../support/product.ts';

let product: Product;
let n = 0;
const id = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++n}`;

interface Answer {
  status: number;
  body: { success: boolean; error?: string; errors?: Array<{ path: string; message: string }> };
}

/** Posts raw bytes with the web Source's write key as HTTP Basic username. */
async function send(path: string, body: Buffer | string, headers: Record<string, string> = {}, url = product.url): Promise<Answer> {
  const res = await fetch(url + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Basic ${Buffer.from(`${product.sources.web!.writeKey}:`).toString('base64')}`, ...headers },
    body,
  });
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/, `${path} answers JSON`);
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

/** The collector's dead letters for these message ids, once the mirror has them all. */
async function deadLetters(ids: string[]): Promise<Map<string, { reason: string; errors: string[]; payload: string }>> {
  const rows = await eventually(`${ids.length} dead letters in ClickHouse`, async () => {
    const r = await product.rows<{ message_id: string; reason: string; errors: string[]; payload: string }>(
      "SELECT message_id, reason, errors, payload FROM {db}.dead_letters WHERE stage = 'collector' AND message_id IN {ids:Array(String)}",
      { ids },
    );
    return new Set(r.map((x) => x.message_id)).size === ids.length ? r : undefined;
  }, 60_000);
  return new Map(rows.map((r) => [r.message_id, r]));
}

async function storedIds(ids: string[]): Promise<string[]> {
  const rows = await product.rows<{ message_id: string }>('SELECT message_id FROM {db}.events WHERE message_id IN {ids:Array(String)}', { ids });
  return rows.map((r) => r.message_id).sort();
}

const track = (messageId: string, extra: Record<string, unknown> = {}) => ({ type: 'track', messageId, anonymousId: 'hostile', event: 'Hostile Case', ...extra });

describe('hostile batches at the collector', { concurrency: false }, () => {
  after(() => product?.close());
  before(async () => {
    product = await startProduct({ sources: [{ name: 'web', type: 'web' }] });
  });

  test('event times: 2099, 1900, 1899, "NaN" and impossible dates are dead-lettered with a cause each; the good events of the batch are stored', { timeout: 90_000 }, async () => {
    const good = [id('t-good'), id('t-good'), id('t-skewed')];
    const bad = { future: id('t-2099'), past: id('t-1900'), unstorable: id('t-1899'), nan: id('t-nan'), month13: id('t-13'), number: id('t-num') };
    const batch = [
      track(good[0]!),
      track(bad.future, { timestamp: '2099-01-01T00:00:00Z' }),
      track(bad.past, { timestamp: '1900-01-01T00:00:00Z' }),
      track(good[1]!, { timestamp: '2024-01-15T10:00:00Z' }),
      track(bad.unstorable, { timestamp: '1899-12-31T00:00:00Z' }),
      track(bad.nan, { timestamp: 'NaN' }),
      track(bad.month13, { originalTimestamp: '2024-13-45T00:00:00Z' }),
      track(bad.number, { sentAt: 1.7e12 }),
      // A device whose clock says 2099 but which sends sentAt: corrected (Segment's formula), not refused.
      track(good[2]!, { originalTimestamp: '2099-06-01T00:00:00Z', sentAt: '2099-06-01T00:00:02Z' }),
    ];
    const r = await send('/v1/batch', JSON.stringify({ batch }));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.success, true);
    assert.deepEqual(r.body.errors?.map((e) => e.path), ['batch[1].timestamp', 'batch[2].timestamp', 'batch[4].timestamp', 'batch[5].timestamp', 'batch[6].originalTimestamp', 'batch[7].sentAt']);
    await product.waitForEvents(good);
    const letters = await deadLetters(Object.values(bad));
    assert.equal(letters.get(bad.future)?.reason, 'timestamp_out_of_window');
    assert.match(letters.get(bad.future)!.errors[0]!, /^batch\[1\]\.timestamp: event time 2099-01-01T00:00:00\.000Z is more than 24 h after the collector received it \(/);
    assert.equal(JSON.parse(letters.get(bad.future)!.payload).timestamp, '2099-01-01T00:00:00.000Z', 'the dead letter holds the event as it would have been stored');
    assert.deepEqual(letters.get(bad.past), { ...letters.get(bad.past)!, reason: 'timestamp_out_of_window', errors: ['batch[2].timestamp: event time 1900-01-01T00:00:00.000Z is before 1970-01-01, the earliest the collector accepts'] });
    const unstorable = 'must be between 1900-01-01 and 2299-12-31 (the dates the event log can store)';
    assert.deepEqual([letters.get(bad.unstorable)?.reason, letters.get(bad.unstorable)?.errors], ['invalid_event', [`batch[4].timestamp: ${unstorable}`]]);
    assert.deepEqual([letters.get(bad.nan)?.reason, letters.get(bad.nan)?.errors], ['invalid_event', ['batch[5].timestamp: must be an ISO 8601 date-time']]);
    assert.deepEqual(JSON.parse(JSON.parse(letters.get(bad.nan)!.payload) as string), batch[5], 'an invalid event is kept as the text it was sent as');
    assert.deepEqual(letters.get(bad.month13)?.errors, ['batch[6].originalTimestamp: must be an ISO 8601 date-time']);
    assert.deepEqual(letters.get(bad.number)?.errors, ['batch[7].sentAt: must be an ISO 8601 date-time']);
    assert.deepEqual(await storedIds([...good, ...Object.values(bad)]), [...good].sort(), 'only the good events are in the event log');
    const skewed = await product.rows<{ ts: string }>('SELECT toString(timestamp) AS ts FROM {db}.events WHERE message_id = {id:String}', { id: good[2] });
    assert.ok(Math.abs(Date.parse(`${skewed[0]!.ts.replace(' ', 'T')}Z`) - Date.now()) < 120_000, `the 2099 clock was corrected to now: ${skewed[0]!.ts}`);
  });

  test('deep nesting, duplicate keys, invalid UTF-8 and an oversized event: each refused with its index and cause, the rest of the batch stored', { timeout: 90_000 }, async () => {
    const good = [id('h-good'), id('h-good'), id('h-good')];
    const bad = { deep: id('h-deep'), dup: id('h-dup'), utf8: id('h-utf8'), big: id('h-big') };
    const deep = '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000);
    const parts = [
      JSON.stringify(track(good[0]!)),
      `{"type":"track","messageId":"${bad.deep}","anonymousId":"hostile","event":"Deep","properties":${deep}}`,
      `{"type":"identify","messageId":"${bad.dup}","anonymousId":"hostile","traits":{"plan":"free","plan":"pro"}}`,
      JSON.stringify(track(good[1]!, { properties: { note: 'caf\u00e9 \u2603 \ufffd' } })),
      null, // invalid UTF-8, spliced in as bytes below
      JSON.stringify(track(bad.big, { properties: { blob: 'x'.repeat(40 * 1024) } })),
      JSON.stringify(track(good[2]!)),
    ];
    const utf8 = Buffer.concat([Buffer.from(`{"type":"track","messageId":"${bad.utf8}","anonymousId":"hostile","event":"Bytes `), Buffer.from([0xc3, 0x28, 0xa0, 0xff]), Buffer.from('"}')]);
    const body = Buffer.concat([Buffer.from('{"batch":['), ...parts.flatMap((p, i) => [Buffer.from(i ? ',' : ''), p === null ? utf8 : Buffer.from(p)]), Buffer.from(']}')]);
    assert.ok(body.length < 500 * 1024);
    const r = await send('/v1/batch', body);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.errors, [
      // The event is level 1 and its properties level 2: the 33rd level is the 31st "a".
      { path: `batch[1].properties${'.a'.repeat(31)}`, message: 'nests deeper than 32 levels' },
      { path: 'batch[2].traits.plan', message: 'duplicate key "plan": JSON.parse would keep only the last; send each key once' },
      { path: 'batch[4].event', message: 'holds bytes that are not UTF-8' },
      { path: 'batch[5]', message: `is ${Buffer.byteLength(parts[5]!)} bytes; the limit is 32768 bytes per event` },
    ]);
    await product.waitForEvents(good);
    const letters = await deadLetters(Object.values(bad));
    for (const [name, messageId] of Object.entries(bad)) assert.equal(letters.get(messageId)?.reason, 'invalid_event', name);
    assert.deepEqual(letters.get(bad.dup)?.errors, ['batch[2].traits.plan: duplicate key "plan": JSON.parse would keep only the last; send each key once']);
    assert.deepEqual(letters.get(bad.utf8)?.errors, ['batch[4].event: holds bytes that are not UTF-8']);
    assert.ok(JSON.parse(letters.get(bad.deep)!.payload).startsWith(`{"type":"track","messageId":"${bad.deep}"`), 'the deep event is kept as a preview of its text');
    assert.ok(letters.get(bad.big)!.payload.length < 8 * 1024, 'an oversized event is kept as a preview, not whole');
    assert.deepEqual(await storedIds([...good, ...Object.values(bad)]), [...good].sort());
    const note = await product.rows<{ note: string }>("SELECT JSONExtractString(properties, 'note') AS note FROM {db}.events WHERE message_id = {id:String}", { id: good[1] });
    assert.equal(note[0]?.note, 'caf\u00e9 \u2603 \ufffd', 'valid UTF-8, a sent U+FFFD included, is stored as sent');
  });

  test('a batch of 20,000 empty events is refused whole (400), not turned into 20,000 dead letters', { timeout: 30_000 }, async () => {
    const r = await send('/v1/batch', JSON.stringify({ batch: Array.from({ length: 20_000 }, () => ({})) }));
    assert.deepEqual(r, { status: 400, body: { success: false, error: 'invalid batch', errors: [{ path: 'batch', message: 'holds 20000 events; the limit is 10000 per batch' }] } });
  });

  test('a 10 MB string after gzip inflation: the request is refused with 413 and a JSON body; the next batch flows', { timeout: 60_000 }, async () => {
    const hidden = id('z-10mb');
    const zipped = gzipSync(JSON.stringify({ batch: [track(id('z-ok')), track(hidden, { properties: { s: 'a'.repeat(10 * 1024 * 1024) } })] }));
    assert.ok(zipped.length < 100 * 1024, `${zipped.length} bytes on the wire`);
    const r = await send('/v1/batch', zipped, { 'Content-Encoding': 'gzip' });
    assert.deepEqual(r, { status: 413, body: { success: false, error: 'request body is too large', errors: [{ path: 'body', message: 'is larger than 512000 bytes (after gzip/deflate inflation)' }] } });
    const next = id('z-next');
    assert.equal((await send('/v1/batch', gzipSync(JSON.stringify({ batch: [track(next)] })), { 'Content-Encoding': 'gzip' })).status, 200);
    await product.waitForEvents([next]);
    assert.deepEqual(await storedIds([hidden]), []);
  });

  test('a decompression bomb (1 GiB of zeros, gzip and deflate) is refused with 413 without being inflated in memory', { timeout: 120_000 }, async () => {
    const zeros = Buffer.alloc(1024 * 1024);
    const bomb = (encoder: NodeJS.ReadWriteStream) => buffer(Readable.from((function* () { for (let i = 0; i < 1024; i++) yield zeros; })()).pipe(encoder));
    const bombs = { gzip: await bomb(createGzip({ level: constants.Z_BEST_COMPRESSION })), deflate: await bomb(createDeflate({ level: constants.Z_BEST_COMPRESSION })) };
    for (const [encoding, body] of Object.entries(bombs)) {
      assert.ok(body.length < 2 * 1024 * 1024, `${encoding}: ${body.length} bytes on the wire for 1 GiB inflated`);
      global.gc?.();
      const rssBefore = process.memoryUsage().rss;
      const started = Date.now();
      const r = await send('/v1/batch', body, { 'Content-Encoding': encoding });
      const grewMb = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
      console.log(`${encoding} bomb (${body.length} bytes → 1 GiB): ${r.status} after ${Date.now() - started} ms, RSS +${grewMb.toFixed(0)} MB`);
      assert.deepEqual(r, { status: 413, body: { success: false, error: 'request body is too large', errors: [{ path: 'body', message: 'is larger than 512000 bytes (after gzip/deflate inflation)' }] } });
      assert.ok(grewMb < 200, `RSS grew by ${grewMb.toFixed(0)} MB: the body was inflated past the limit`);
    }
    const next = id('bomb-next');
    assert.equal((await send('/v1/batch', JSON.stringify({ batch: [track(next)] }))).status, 200);
    await product.waitForEvents([next]);
  });

  test('the write key never appears in the collector log: in the query string, the body, the header, bad JSON, unknown keys', { timeout: 60_000 }, async () => {
    const lines: string[] = [];
    const log = createLogger('collector', 'debug', { write: (line: string) => void lines.push(line) });
    const collector = await startCollector({ configPath: product.configPath, port: 0, env: product.env, log });
    const url = `http://127.0.0.1:${collector.port}`;
    const key = product.sources.web!.writeKey;
    const wrong = randomBytes(18).toString('base64url');
    try {
      const plain = { 'Content-Type': 'text/plain', Authorization: '' };
      const q = encodeURIComponent(key);
      const ok = id('log-ok');
      // RudderStack's browser SDK beacons with the key in the query string.
      assert.equal((await send(`/v1/batch?writeKey=${q}`, JSON.stringify({ batch: [track(ok)] }), plain, url)).status, 200);
      assert.equal((await send(`/v1/batch?writeKey=${q}`, JSON.stringify({ batch: [track(id('log-bad'), { timestamp: 'NaN' })] }), plain, url)).status, 200);
      assert.equal((await send(`/v1/track?writeKey=${q}`, `{"writeKey":"${key}", "event": nope}`, plain, url)).status, 400);
      // The key left unquoted: V8's own message would quote ten characters of it.
      assert.equal((await send('/v1/track', `{"writeKey": ${key}}`, plain, url)).status, 400);
      assert.equal((await send('/v1/track', `{"writeKey":"${key}","event":"x","anonymousId":"a","timestamp":"2099-01-01T00:00:00Z"}`, plain, url)).status, 400);
      assert.equal((await send(`/v1/track?writeKey=${encodeURIComponent(wrong)}`, '{"event":"x","anonymousId":"a"}', plain, url)).status, 401);
      assert.equal((await send('/v1/track', '{"event":"x","anonymousId":"a"}', { Authorization: `Basic ${Buffer.from(`${wrong}:`).toString('base64')}` }, url)).status, 401);
      assert.equal((await send(`/v1/nowhere?writeKey=${q}`, '{}', plain, url)).status, 404);
      assert.equal((await send(`/v1/track?writeKey=${q}`, gzipSync('x'.repeat(600 * 1024)), { ...plain, 'Content-Encoding': 'gzip' }, url)).status, 413);
      await product.waitForEvents([ok]);
    } finally {
      await collector.close();
    }
    const text = lines.join('');
    assert.match(text, /request refused/, 'the refusals were logged');
    assert.match(text, /dead-lettered at the door/);
    // Not even a part of a key: any 8 characters of it in a row.
    for (const [what, secret] of [['the write key', key], ['an unknown write key', wrong]] as const) {
      for (let i = 0; i + 8 <= secret.length; i++) assert.equal(text.includes(secret.slice(i, i + 8)), false, `${what} is in the log (characters ${i}-${i + 7})`);
    }
  });
});
