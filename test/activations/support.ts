// Real local receivers for the destinations (an HTTP server, an SMTP server) and a scratch
// namespace for the activations worker on the stack's engines: its own Kubernetes namespace,
// ClickHouse database, topic prefix and task queue, all removed afterwards.
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoreV1Api } from '@kubernetes/client-node';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { SMTPServer } from 'smtp-server';
import { Warehouse, chTime } from '../../lib/clickhouse.ts';
import { createLogger } from '../../lib/log.ts';
import { migrate } from '../../lib/schema.ts';
import { ensureTopics } from '../../lib/kafka.ts';
import { database, topicPrefix } from '../../api/names.ts';
import { ACTIVATION_TABLES } from '../../api/tables/activations.ts';
import { required, unique } from '../support/env.ts';
import { installCrds, kubeConfig, kubectl } from '../support/operator.ts';

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

export interface WebhookReceiver {
  url: string;
  requests: ReceivedRequest[];
  /** Idempotency keys accepted (2xx), each once: what the receiver's side counts as deliveries. */
  delivered: Map<string, ReceivedRequest>;
  /** Decides the answer to each request (default 200); may hold the request by returning a promise. */
  answer: (req: ReceivedRequest, n: number) => number | Promise<number>;
  close(): Promise<void>;
}

/** An HTTP receiver that deduplicates by Idempotency-Key, as the webhook contract asks receivers to. */
export async function webhookReceiver(answer: WebhookReceiver['answer'] = () => 200, host = '127.0.0.1'): Promise<WebhookReceiver> {
  const r: WebhookReceiver = { url: '', requests: [], delivered: new Map(), answer, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const received: ReceivedRequest = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status: 0 };
      r.requests.push(received);
      void Promise.resolve(r.answer(received, r.requests.length)).then((status) => {
        received.status = status;
        const key = String(req.headers['idempotency-key'] ?? '');
        if (status >= 200 && status < 300 && !r.delivered.has(key)) r.delivered.set(key, received);
        if (!res.destroyed) res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'nope');
      });
    });
  });
  server.listen(0, host);
  await once(server, 'listening');
  r.url = `http://${host}:${(server.address() as AddressInfo).port}/hooks/cart`;
  r.close = async () => {
    server.closeAllConnections();
    server.close();
  };
  return r;
}

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  header(name: string): string | undefined;
}

export interface SmtpReceiver {
  port: number;
  url: string;
  mails: ReceivedMail[];
  /** Makes the server refuse recipients with this SMTP code (e.g. 550) when set. */
  rejectWith?: number;
  close(): Promise<void>;
}

/** A real SMTP server (smtp-server) requiring AUTH, without TLS, collecting what it accepts. */
export async function smtpReceiver(user = 'mailer', password = 's3cret-pass'): Promise<SmtpReceiver> {
  const r: SmtpReceiver = { port: 0, url: '', mails: [], close: async () => undefined };
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === user && auth.password === password) cb(null, { user });
      else cb(new Error('Invalid username or password'));
    },
    onRcptTo(address, _session, cb) {
      if (r.rejectWith) {
        const err = new Error(`mailbox ${address.address} unavailable`) as Error & { responseCode: number };
        err.responseCode = r.rejectWith;
        cb(err);
      } else cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const head = raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
        r.mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((a) => a.address),
          raw,
          header: (name) => head.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))?.slice(name.length + 1).trim(),
        });
        cb();
      });
    },
  });
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  r.port = (server.server.address() as AddressInfo).port;
  r.url = `smtp://${user}:${password}@127.0.0.1:${r.port}`;
  r.close = () => new Promise((resolve) => server.close(() => resolve()));
  return r;
}

/** A scratch namespace: Kubernetes namespace, ClickHouse database (schema + activation tables), topic prefix. */
export interface Scratch {
  namespace: string;
  installation: string;
  database: string;
  topicPrefix: string;
  warehouse: Warehouse;
  kafka: Kafka;
  producer: Producer;
  env: NodeJS.ProcessEnv;
  core: CoreV1Api;
  /** kubectl apply -n <namespace> */
  apply(manifest: string): Promise<string>;
  /** A raw event on the Source's topic, as the collector writes it. */
  send(source: string, event: Record<string, unknown>): Promise<void>;
  /** A profile as the pipeline stores it: identities → profile, traits. */
  profile(profileId: string, identities: string[], traits: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

export async function scratch(prefix: string, sources: string[] = ['web']): Promise<Scratch> {
  for (const v of ['KAFKA_BROKERS', 'CLICKHOUSE_URL', 'TEMPORAL_ADDRESS', 'KUBECONFIG']) required(v);
  const namespace = unique(prefix);
  const installation = `t${namespace.replace(/[^a-z0-9]/g, '').slice(-10)}`;
  const db = database(installation, namespace);
  const tp = topicPrefix(installation, namespace);
  const log = createLogger('test', 'warn');
  const warehouse = new Warehouse({ url: process.env.CLICKHOUSE_URL!, username: process.env.CLICKHOUSE_USER ?? 'default', password: process.env.CLICKHOUSE_PASSWORD ?? '', database: db });
  await migrate(warehouse, log);
  for (const s of ACTIVATION_TABLES) await warehouse.command(s);
  const kafka = new Kafka({ clientId: 'uspa-tests', brokers: process.env.KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  // As the product creates topics: a fresh broker may not serve a new topic's metadata at once.
  await ensureTopics(admin, [...sources.map((s) => ({ topic: `${tp}.events.${s}`, partitions: 2 })), { topic: `${tp}.segment-changes`, partitions: 2 }]);
  await admin.disconnect();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  await installCrds();
  const kc = kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  let seq = 0;
  return {
    namespace,
    installation,
    database: db,
    topicPrefix: tp,
    warehouse,
    kafka,
    producer,
    core,
    // The receivers listen on loopback, which the local mode allows.
    env: { ...process.env, USPA_DATABASE: db, USPA_TOPIC_PREFIX: tp, USPA_WEBHOOK_PRIVATE_ADDRESSES: 'loopback', LOG_LEVEL: process.env.USPA_TEST_LOGS ? 'debug' : 'warn' },
    apply: (manifest) => kubectl(['apply', '-n', namespace, '-f', '-'], manifest),
    async send(source, event) {
      const now = new Date().toISOString();
      const full: Record<string, unknown> = { type: 'track', messageId: `m-${Date.now().toString(36)}-${seq++}`, timestamp: now, receivedAt: now, properties: {}, traits: {}, context: {}, integrations: {}, source, ...event };
      await producer.send({ topic: `${tp}.events.${source}`, acks: -1, messages: [{ key: String(full.userId ?? full.anonymousId ?? ''), value: JSON.stringify(full) }] });
    },
    async profile(profileId, identities, traits) {
      const at = chTime(new Date().toISOString());
      await warehouse.insert('identities', identities.map((identity) => ({ identity, profile_id: profileId, first_seen: at, version: Date.now() })));
      await warehouse.insert('profiles', [{ profile_id: profileId, identities, traits: JSON.stringify(traits), first_seen: at, last_seen: at, event_count: 1, event_counts: {}, lifetime_revenue: 0, order_count: 0, rfm_recency: 0, rfm_frequency: 0, rfm_monetary: 0 }]);
    },
    async close() {
      await producer.disconnect();
      const a = kafka.admin();
      await a.connect();
      const topics = (await a.listTopics()).filter((t) => t.startsWith(`${tp}.`) || t.startsWith(`${installation}-`));
      if (topics.length) await a.deleteTopics({ topics }).catch(() => undefined);
      await a.disconnect();
      await kubectl(['delete', 'activations.uspa.tech', '--all', '-n', namespace, '--wait=false']).catch(() => undefined);
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
      await warehouse.command('DROP DATABASE IF EXISTS {db}').catch(() => undefined);
      await warehouse.close();
    },
  };
}

/** Rows of activation_deliveries of one Activation. */
export async function deliveries(w: Warehouse, activation: string): Promise<Array<{ message_id: string; profile_id: string; variant: string; outcome: string; reason: string; attempt: number }>> {
  return w.query('SELECT message_id, profile_id, variant, outcome, reason, attempt FROM {db}.activation_deliveries FINAL WHERE activation = {a:String} ORDER BY profile_id, outcome', { a: activation });
}
