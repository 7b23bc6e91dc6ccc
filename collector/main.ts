// Collector entrypoint: `node --import tsx collector/main.ts` (or `uspa local`).
import type { Server } from 'node:http';
import { loadConfigFile } from '../lib/config.ts';
import { BatchingProducer, connectKafka, ensureInstallationTopics, kafkaSettingsFromEnv, topicNames } from '../lib/kafka.ts';
import { createLogger, type Logger } from '../lib/log.ts';
import { createRegistry, runMain } from '../lib/service.ts';
import { SuppressionList } from '../lib/privacy/suppressions.ts';
import { createCollector } from './app.ts';
import { SourceRegistry } from './sources.ts';
import { RateShares } from './rate-shares.ts';

const defaultLog = createLogger('collector');

export async function startCollector(options: { configPath: string; port: number; host?: string; env?: NodeJS.ProcessEnv; log?: Logger }) {
  const env = options.env ?? process.env;
  const log = options.log ?? defaultLog;
  const config = loadConfigFile(options.configPath, env);
  const drainDelayMs = drainDelay(env);
  // Fail a request to a dead or frozen broker in seconds, not kafkajs's default 30 s: callers get 503.
  const kafka = connectKafka(kafkaSettingsFromEnv('uspa-collector', env), log, { requestTimeoutMs: 5_000 });
  const topics = topicNames(env);
  await ensureInstallationTopics(kafka, topics, config.sources);
  const producer = new BatchingProducer(kafka);
  await producer.connect();
  const registry = createRegistry('collector');
  // Loaded before the port opens, so no event of an erased person slips in at start.
  const suppressions = new SuppressionList({ kafka, topics, log });
  await suppressions.start();
  const sources = new SourceRegistry(config, env);
  const limited = sources.all.filter((s) => s.spec.rateLimit).map((s) => s.name);
  const shares = new RateShares({ kafka, topic: topics.collectorDemand, sources: limited, log, replica: env.HOSTNAME || undefined, apply: (name, share) => sources.byName.get(name)?.setShare(share), registry });
  await shares.start();
  let draining = false;
  const app = createCollector({ sources, sink: producer, log, registry, trustProxy: env.USPA_TRUSTED_PROXIES ?? 'loopback', deadLetterTopic: topics.deadLetters, suppressions, demand: (name, n) => shares.note(name, n), draining: () => draining });
  await app.listen({ port: options.port, host: options.host ?? '127.0.0.1' });
  const server = app.server;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  log.info({ port, sources: config.sources.map((s) => s.name), replica: shares.replica }, 'collector listening');
  return {
    port,
    async close() {
      draining = true;
      log.info({ drainDelayMs }, 'draining: not ready, still answering while the Service stops sending here');
      await new Promise((r) => setTimeout(r, drainDelayMs));
      await closeServer(server, DRAIN_DEADLINE_MS, log);
      // Every request answered has its events acknowledged by Kafka; what is still queued goes now.
      await producer.disconnect();
      await shares.stop();
      await suppressions.stop();
      log.info('collector stopped');
    },
  };
}

/** How long, after SIGTERM, a request may still take (the Pod's grace period is 30 s). */
const DRAIN_DEADLINE_MS = 20_000;

/**
 * USPA_DRAIN_DELAY_SECONDS (the operator sets it for its Pods): how long a stopping collector keeps
 * accepting after it reports not ready, so that no client is sent to a closed port while the
 * endpoints catch up. 0 by default (a process on its own).
 */
export function drainDelay(env: NodeJS.ProcessEnv): number {
  const raw = env.USPA_DRAIN_DELAY_SECONDS;
  if (raw === undefined || raw === '') return 0;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > 300) throw new Error(`USPA_DRAIN_DELAY_SECONDS: ${JSON.stringify(raw)} is not a number of seconds between 0 and 300`);
  return seconds * 1000;
}

/**
 * Stops accepting connections, closes idle keep-alive ones, and waits for the requests in flight
 * (each answers once Kafka acknowledged it); past the deadline the rest are cut, and logged.
 */
async function closeServer(server: Server, deadlineMs: number, log: Logger): Promise<void> {
  const closed = new Promise<void>((r) => server.close(() => r()));
  server.closeIdleConnections();
  // A connection busy at close() becomes idle after its answer (which says Connection: close).
  const idle = setInterval(() => server.closeIdleConnections(), 100);
  let timer: NodeJS.Timeout | undefined;
  const late = await Promise.race([closed.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), deadlineMs)))]);
  clearInterval(idle);
  clearTimeout(timer);
  if (late) {
    log.warn({ deadlineMs }, 'requests still in flight at the drain deadline: closing their connections');
    server.closeAllConnections();
    await closed;
  }
}

/** `uspa collector`: the container entrypoint (USPA_CONFIG, PORT, HOST, KAFKA_BROKERS, USPA_TOPIC_PREFIX, write keys). */
export async function serveCollector(): Promise<void> {
  await runMain(defaultLog, 'collector', (configPath) => startCollector({ configPath, port: Number(process.env.PORT ?? 8080), host: process.env.HOST ?? '0.0.0.0' }));
}

if (import.meta.url === `file://${process.argv[1]}`) await serveCollector();
