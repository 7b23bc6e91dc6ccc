// The three destinations against real local receivers: an HTTP server, the stack's Kafka, an SMTP
// server (smtp-server). What a receiver sees, which failures are retried, and that no secret
// reaches an error message.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/activity';
import { Kafka, logLevel } from 'kafkajs';
import { BatchingProducer } from '../../lib/kafka.ts';
import { Mailer, SIGNATURE_HEADER, kafkaRecord, messageIdFor, sendEmail, sendKafka, sendWebhook, type Delivery } from '../../workers/activations/destinations.ts';
import { required, unique } from '../support/env.ts';
import { smtpReceiver, webhookReceiver, type SmtpReceiver, type WebhookReceiver } from './support.ts';

// The tests' receivers listen on loopback, which the local mode allows.
const LOCAL = { addresses: 'loopback' } as const;
const delivery = (over: Partial<Delivery> = {}): Delivery => ({ key: 'k-123', activation: 'shop/cart', variant: 'b', profileId: 'p-1', message: { body: '{"hello":"world"}' }, attempt: 1, ...over });

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, `an ApplicationFailure, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a failure');
}

describe('webhook destination', () => {
  let hook: WebhookReceiver;
  before(async () => {
    hook = await webhookReceiver();
  });
  after(() => hook.close());

  test('signed body, idempotency key, content type, the Activation\'s headers (ours win)', async () => {
    hook.answer = () => 200;
    const res = await sendWebhook({ url: hook.url, headers: { 'X-Team': 'growth', 'Idempotency-Key': 'spoofed' }, timeoutSeconds: 5 }, { signingSecret: 'signing-secret', headers: { Authorization: 'Bearer abc' } }, delivery(), LOCAL);
    assert.equal(res.status, 200);
    const req = hook.requests.at(-1)!;
    assert.equal(req.body, '{"hello":"world"}');
    assert.equal(req.headers['content-type'], 'application/json');
    assert.equal(req.headers['idempotency-key'], 'k-123');
    assert.equal(req.headers.authorization, 'Bearer abc', 'a header from a Secret');
    assert.equal(req.headers['x-team'], 'growth');
    assert.equal(req.headers['x-uspa-activation'], 'shop/cart');
    assert.equal(req.headers['x-uspa-variant'], 'b');
    const expected = `sha256=${createHmac('sha256', 'signing-secret').update(req.body).digest('hex')}`;
    assert.equal(req.headers[SIGNATURE_HEADER.toLowerCase()], expected, 'the receiver can verify the body with the shared secret');
    await sendWebhook({ url: hook.url }, {}, delivery({ message: { body: 'plain text' } }), LOCAL);
    assert.equal(hook.requests.at(-1)!.headers[SIGNATURE_HEADER.toLowerCase()], undefined, 'unsigned without a secret');
    assert.equal(hook.requests.at(-1)!.headers['content-type'], 'text/plain; charset=utf-8');
    await sendWebhook({ url: hook.url.replace('http://', 'http://us%40er:p%3Ass@') }, {}, delivery(), LOCAL);
    assert.equal(hook.requests.at(-1)!.headers.authorization, `Basic ${Buffer.from('us@er:p:ss').toString('base64')}`, 'credentials in the URL become Basic auth');
  });

  test('a receiver echoing a Secret\'s value (a 401 quoting the token) does not put it in the failure', async () => {
    const server = createServer((req, res) => res.writeHead(401).end(`invalid credentials: ${req.headers.authorization} (signed ${req.headers[SIGNATURE_HEADER.toLowerCase()]})`));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const f = await failureOf(sendWebhook({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` }, { signingSecret: 'whsec-echo', headers: { Authorization: 'Bearer tok-echo-123456' } }, delivery(), LOCAL));
      assert.equal(f.type, 'WebhookRejected');
      assert.match(f.message, /answered 401: invalid credentials: \[redacted\]/);
      assert.doesNotMatch(f.message, /tok-echo-123456/);
    } finally {
      server.close();
    }
  });

  test('4xx is not retried; 408, 429 and 5xx are (Retry-After honoured)', async () => {
    hook.answer = () => 400;
    const rejected = await failureOf(sendWebhook({ url: hook.url }, {}, delivery(), LOCAL));
    assert.equal(rejected.nonRetryable, true);
    assert.equal(rejected.type, 'WebhookRejected');
    assert.match(rejected.message, /answered 400: nope/);
    assert.deepEqual(rejected.details, [{ attempt: 1 }]);
    for (const status of [408, 429, 500, 503]) {
      hook.answer = () => status;
      const f = await failureOf(sendWebhook({ url: hook.url }, {}, delivery(), LOCAL));
      assert.equal(f.nonRetryable, false, `${status} is retried`);
    }
  });

  test('timeouts and refused connections are retried; URLs lose credentials, path and query in messages', async () => {
    hook.answer = () => new Promise((r) => setTimeout(() => r(200), 3_000));
    const slow = await failureOf(sendWebhook({ url: hook.url, timeoutSeconds: 1 }, {}, delivery(), LOCAL));
    assert.equal(slow.nonRetryable, false);
    assert.match(slow.message, /no answer within 1s/);
    const closed = createServer().listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    const refused = await failureOf(sendWebhook({ url: `http://user:hunter2@127.0.0.1:${port}/x?token=t0ps3cret` }, {}, delivery(), LOCAL));
    assert.equal(refused.nonRetryable, false);
    assert.equal(refused.message, `webhook http://127.0.0.1:${port}: ECONNREFUSED`);
    assert.doesNotMatch(refused.message, /hunter2|t0ps3cret/);
  });

  test('deny: a loopback IP and a name resolving to loopback (real DNS: localhost) are refused before any request', async () => {
    hook.answer = () => 200;
    const before = hook.requests.length;
    const port = new URL(hook.url).port;
    const literal = await failureOf(sendWebhook({ url: hook.url }, {}, delivery(), { addresses: 'deny' }));
    assert.equal(literal.type, 'WebhookAddressNotAllowed');
    assert.equal(literal.nonRetryable, true);
    assert.match(literal.message, /127\.0\.0\.1 is a loopback address/);
    const named = await failureOf(sendWebhook({ url: `http://localhost:${port}/hooks/cart` }, {}, delivery(), { addresses: 'deny' }));
    assert.equal(named.type, 'WebhookAddressNotAllowed');
    assert.match(named.message, /^webhook http:\/\/localhost:\d+: localhost resolves to (127\.0\.0\.1|::1) is a loopback address/);
    assert.equal(hook.requests.length, before, 'the receiver got nothing');
    // The same name under loopback reaches the receiver, through the address that was checked.
    await sendWebhook({ url: `http://localhost:${port}/hooks/cart` }, {}, delivery(), { addresses: 'loopback' });
    assert.equal(hook.requests.length, before + 1);
  });

  test('every address a name resolves to is checked, and the socket connects to the checked one (no second lookup)', async () => {
    const port = new URL(hook.url).port;
    const mixed = await failureOf(sendWebhook({ url: `http://mixed.example:${port}/` }, {}, delivery(), { addresses: 'deny', resolve: async () => [{ address: '93.184.216.34', family: 4 }, { address: '169.254.169.254', family: 4 }] }));
    assert.equal(mixed.type, 'WebhookAddressNotAllowed');
    assert.match(mixed.message, /mixed\.example resolves to 169\.254\.169\.254 is a private, link-local or reserved address/);
    // A rebinding name answers an allowed address first, a private one after: only the first is used.
    let lookups = 0;
    const rebinding = async () => (lookups++ === 0 ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '10.0.0.1', family: 4 }]);
    const before = hook.requests.length;
    await sendWebhook({ url: `http://rebind.example:${port}/hooks/cart` }, {}, delivery(), { addresses: 'loopback', resolve: rebinding });
    assert.equal(lookups, 1, 'one lookup per connection');
    assert.equal(hook.requests.length, before + 1, 'the request went to the checked address');
    assert.equal(hook.requests.at(-1)!.headers.host, `rebind.example:${port}`, 'the Host header keeps the name');
  });
});

describe('kafka destination', () => {
  test('one record per message, keyed by profile, with the idempotency key in a header', { timeout: 60_000 }, async () => {
    const brokers = required('KAFKA_BROKERS').split(',');
    const kafka = new Kafka({ clientId: 'uspa-tests', brokers, logLevel: logLevel.NOTHING });
    const topic = unique('tdest');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
    const producer = new BatchingProducer(kafka);
    await producer.connect();
    const consumer = kafka.consumer({ groupId: `${topic}-g` });
    try {
      await sendKafka(producer, [kafkaRecord(topic, delivery()), kafkaRecord(topic, delivery({ key: 'k-456', profileId: 'p-2', variant: '' }))], 1);
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      const got: Array<{ key: string; value: string; headers: Record<string, string> }> = [];
      await new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async ({ message }) => {
            got.push({ key: message.key!.toString(), value: message.value!.toString(), headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])) });
            if (got.length === 2) resolve();
          },
        });
      });
      assert.deepEqual(got[0], { key: 'p-1', value: '{"hello":"world"}', headers: { 'idempotency-key': 'k-123', 'uspa-activation': 'shop/cart', 'uspa-variant': 'b' } });
      assert.deepEqual(got[1]!.headers, { 'idempotency-key': 'k-456', 'uspa-activation': 'shop/cart' });
      const missing = await failureOf(sendKafka(producer, [kafkaRecord(`${topic}-missing`, delivery())], 3));
      assert.equal(missing.nonRetryable, false, 'a missing topic may appear: retried');
      assert.match(missing.message, new RegExp(`kafka topic ${topic}-missing`));
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    }
  });
});

describe('email destination', () => {
  let smtp: SmtpReceiver;
  const mailer = new Mailer('loopback');
  before(async () => {
    smtp = await smtpReceiver();
  });
  after(async () => {
    mailer.close();
    await smtp.close();
  });

  test('sends through SMTP with AUTH; the Message-ID comes from the idempotency key', { timeout: 30_000 }, async () => {
    const message = { to: 'ada@example.com', subject: 'Your cart is waiting', body: 'Hi Ada' };
    const { messageId } = await sendEmail(mailer, smtp.url, 'Shop <hello@shop.example>', delivery({ message }));
    assert.equal(messageId, messageIdFor('k-123', 'Shop <hello@shop.example>'));
    assert.equal(messageId, '<k-123@shop.example>');
    const mail = smtp.mails.at(-1)!;
    assert.deepEqual(mail.to, ['ada@example.com']);
    assert.equal(mail.from, 'hello@shop.example');
    assert.equal(mail.header('Message-ID'), '<k-123@shop.example>');
    assert.equal(mail.header('Subject'), 'Your cart is waiting');
    assert.equal(mail.header('X-USPA-Activation'), 'shop/cart');
    assert.match(mail.raw, /Hi Ada/);
    await sendEmail(mailer, smtp.url, 'hello@shop.example', delivery({ key: 'k-html', message: { ...message, body: '<p>Hi <b>Ada</b></p>' } }));
    assert.match(smtp.mails.at(-1)!.header('Content-Type') ?? '', /text\/html/);
  });

  test('the SMTP server is held to the address policy: a loopback IP or a name resolving to one is refused before connecting', { timeout: 30_000 }, async () => {
    const strict = new Mailer('deny');
    const mails = smtp.mails.length;
    const message = { to: 'ada@example.com', subject: 's', body: 'b' };
    try {
      for (const url of [smtp.url, smtp.url.replace('127.0.0.1', 'localhost')]) {
        const refused = await failureOf(sendEmail(strict, url, 'hello@shop.example', delivery({ message })));
        assert.equal(refused.type, 'SmtpAddressNotAllowed');
        assert.equal(refused.nonRetryable, true);
        assert.match(refused.message, /^SMTP (127\.0\.0\.1|localhost):\d+: (localhost resolves to )?(127\.0\.0\.1|::1) is a loopback address \(not allowed by this installation\)$/);
        assert.doesNotMatch(refused.message, /s3cret-pass/);
      }
      const metadata = await failureOf(sendEmail(new Mailer('loopback', async () => [{ address: '169.254.169.254', family: 4 }]), smtp.url.replace('127.0.0.1', 'mail.example'), 'hello@shop.example', delivery({ message })));
      assert.match(metadata.message, /mail\.example resolves to 169\.254\.169\.254 is a private, link-local or reserved address/);
      assert.equal(smtp.mails.length, mails, 'nothing reached the server');
      // Through a name under loopback: the socket goes to the checked address.
      await sendEmail(new Mailer('loopback', async () => [{ address: '127.0.0.1', family: 4 }]), smtp.url.replace('127.0.0.1', 'mail.example'), 'hello@shop.example', delivery({ message }));
      assert.equal(smtp.mails.length, mails + 1);
    } finally {
      strict.close();
    }
  });

  test('a refused recipient or bad credentials fail for good; an unreachable server is retried; no password in messages', { timeout: 30_000 }, async () => {
    smtp.rejectWith = 550;
    const refused = await failureOf(sendEmail(mailer, smtp.url, 'hello@shop.example', delivery({ message: { to: 'nobody@example.com', subject: 's', body: 'b' } })));
    smtp.rejectWith = undefined;
    assert.equal(refused.nonRetryable, true);
    assert.equal(refused.type, 'SmtpRejected');
    const badAuth = await failureOf(sendEmail(mailer, `smtp://mailer:wrong-pass@127.0.0.1:${smtp.port}`, 'hello@shop.example', delivery({ message: { to: 'a@example.com', subject: 's', body: 'b' } })));
    assert.equal(badAuth.nonRetryable, true);
    const down = await failureOf(sendEmail(mailer, 'smtp://mailer:s3cret-pass@127.0.0.1:1', 'hello@shop.example', delivery({ message: { to: 'a@example.com', subject: 's', body: 'b' } })));
    assert.equal(down.nonRetryable, false);
    for (const f of [refused, badAuth, down]) assert.doesNotMatch(f.message, /s3cret-pass|wrong-pass/);
    const notUrl = await failureOf(sendEmail(mailer, 'smtp.example.com', 'hello@shop.example', delivery({ message: { to: 'a@example.com', subject: 's', body: 'b' } })));
    assert.equal(notUrl.type, 'InvalidDestination');
    assert.match(notUrl.message, /does not hold a URL/);
  });
});
