// Collector entrypoint: `node --import tsx collector/main.ts` (or `uspa local`).
import { once } from 'node:events';
import { loadConfigFile, ConfigError } from '../lib/config.ts';
import { BatchingProducer, connectKafka, ensureTopics, kafkaSettingsFromEnv, topicNames } from '../lib/kafka.ts';
import { createLogger } from '../lib/log.ts';
import { createRegistry } from '../lib/service.ts';
import { createCollector } from './app.ts';
import { SourceRegistry } from './sources.ts';

const log = createLogger('collector');

export async function startCollector(options: { configPath: string; port: number; host?: string; env?: NodeJS.ProcessEnv }) {
  const env = options.env ?? process.env;
  const config = loadConfigFile(options.configPath, env);
  // Fail a request to a dead or frozen broker in seconds, not kafkajs's default 30 s: callers get 503.
  const kafka = connectKafka(kafkaSettingsFromEnv('uspa-collector', env), log, { requestTimeoutMs: 5_000 });
  // Until the operator owns topics, the collector makes sure its Sources' topics exist.
  const topics = topicNames(env);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [
    ...config.sources.map((s) => ({ topic: topics.source(s.name), partitions: s.topic?.partitions ?? 3, retentionHours: s.topic?.retentionHours })),
    { topic: topics.deadLetters, partitions: 1 },
  ]);
  await admin.disconnect();
  const producer = new BatchingProducer(kafka);
  await producer.connect();
  const registry = createRegistry('collector');
  const app = createCollector({ sources: new SourceRegistry(config, env), sink: producer, log, registry, trustProxy: env.USPA_TRUSTED_PROXIES ?? 'loopback', deadLetterTopic: topics.deadLetters });
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
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const configPath = process.env.USPA_CONFIG;
  if (!configPath) {
    log.fatal('USPA_CONFIG is not set: point it at the sources/pipelines file (YAML or JSON)');
    process.exit(2);
  }
  try {
    const collector = await startCollector({ configPath, port: Number(process.env.PORT ?? 8080), host: process.env.HOST ?? '0.0.0.0' });
    const stop = async () => {
      await collector.close();
      process.exit(0);
    };
    process.once('SIGTERM', () => void stop());
    process.once('SIGINT', () => void stop());
  } catch (err) {
    if (err instanceof ConfigError) log.fatal({ where: err.where, problems: err.problems }, 'invalid configuration');
    else log.fatal({ err }, 'collector failed to start');
    process.exit(1);
  }
}
