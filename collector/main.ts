// Collector entrypoint: `node --import tsx collector/main.ts` (or `uspa local`).
import { once } from 'node:events';
import { loadConfigFile } from '../lib/config.ts';
import { BatchingProducer, connectKafka, ensureInstallationTopics, kafkaSettingsFromEnv, topicNames } from '../lib/kafka.ts';
import { createLogger, type Logger } from '../lib/log.ts';
import { createRegistry, runMain } from '../lib/service.ts';
import { SuppressionList } from '../lib/privacy/suppressions.ts';
import { createCollector } from './app.ts';
import { SourceRegistry } from './sources.ts';

const defaultLog = createLogger('collector');

export async function startCollector(options: { configPath: string; port: number; host?: string; env?: NodeJS.ProcessEnv; log?: Logger }) {
  const env = options.env ?? process.env;
  const log = options.log ?? defaultLog;
  const config = loadConfigFile(options.configPath, env);
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
  const app = createCollector({ sources: new SourceRegistry(config, env), sink: producer, log, registry, trustProxy: env.USPA_TRUSTED_PROXIES ?? 'loopback', deadLetterTopic: topics.deadLetters, suppressions });
  const server = app.listen(options.port, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  log.info({ port, sources: config.sources.map((s) => s.name) }, 'collector listening');
  return {
    port,
    async close() {
      await new Promise<void>((r) => server.close(() => r()));
      await producer.disconnect();
      await suppressions.stop();
    },
  };
}

/** `uspa collector`: the container entrypoint (USPA_CONFIG, PORT, HOST, KAFKA_BROKERS, USPA_TOPIC_PREFIX, write keys). */
export async function serveCollector(): Promise<void> {
  await runMain(defaultLog, 'collector', (configPath) => startCollector({ configPath, port: Number(process.env.PORT ?? 8080), host: process.env.HOST ?? '0.0.0.0' }));
}

if (import.meta.url === `file://${process.argv[1]}`) await serveCollector();
