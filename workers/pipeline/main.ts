// Pipeline worker entrypoint: runs the Pipelines of USPA_CONFIG (or only USPA_PIPELINE) with probes on PORT.
import { once } from 'node:events';
import { Warehouse, clickhouseSettingsFromEnv } from '../../lib/clickhouse.ts';
import { ConfigError } from '../../api/problems.ts';
import { loadConfigFile } from '../../lib/config.ts';
import { BatchingProducer, connectKafka, ensureInstallationTopics, kafkaSettingsFromEnv, topicNames } from '../../lib/kafka.ts';
import { createLogger } from '../../lib/log.ts';
import { migrate } from '../../lib/schema.ts';
import { createRegistry, probeApp, runMain } from '../../lib/service.ts';
import { SuppressionList } from '../../lib/privacy/suppressions.ts';
import { mirrorDeadLetters } from './dead-letter-mirror.ts';
import { statusReporters } from './status-report.ts';
import { PipelineWorker } from './worker.ts';

const log = createLogger('pipeline');

export async function startPipelines(options: { configPath: string; port: number; only?: string; env?: NodeJS.ProcessEnv }) {
  const env = options.env ?? process.env;
  const config = loadConfigFile(options.configPath, env, { forCollector: false });
  const specs = config.pipelines.filter((p) => !options.only || p.name === options.only);
  if (options.only && specs.length === 0) throw new ConfigError(options.configPath, [`pipelines: no pipeline named "${options.only}"`]);
  const warehouse = new Warehouse(clickhouseSettingsFromEnv(env));
  await migrate(warehouse, log);
  const kafka = connectKafka(kafkaSettingsFromEnv('uspa-pipeline', env), log);
  const topics = topicNames(env);
  await ensureInstallationTopics(kafka, topics, config.sources, specs.map((p) => p.name), true);
  const producer = new BatchingProducer(kafka);
  await producer.connect();
  const registry = createRegistry('pipeline');
  const reporters = statusReporters(env, log);
  // Loaded before any batch is read: a replay of a topic skips erased identities from its first record.
  const suppressions = new SuppressionList({ kafka, topics, log });
  await suppressions.start();
  const workers = specs.map((spec) => new PipelineWorker(spec, kafka, warehouse, producer, log, registry, topics, reporters && ((state) => reporters.pipeline(spec.name, state)), reporters?.segment, suppressions));
  for (const w of workers) await w.start();
  const mirrors = await Promise.all(specs.map((spec) => mirrorDeadLetters(kafka, warehouse, log, topics, spec.sources, spec.name)));
  let ready = true;
  const server = probeApp(registry, { ready: () => (ready && producer.isConnected ? suppressions.problem() : 'not connected to Kafka') }).listen(options.port, env.HOST ?? '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    workers,
    async close() {
      ready = false;
      server.close();
      for (const w of workers) await w.stop();
      for (const m of mirrors) await m.disconnect();
      await suppressions.stop();
      await producer.disconnect();
      await warehouse.close();
    },
  };
}

/** `uspa pipeline`: the container entrypoint (USPA_CONFIG, USPA_PIPELINE, PORT, engines' addresses). */
export async function servePipelines(): Promise<void> {
  await runMain(log, 'pipeline', (configPath) => startPipelines({ configPath, port: Number(process.env.PORT ?? 9464), only: process.env.USPA_PIPELINE }));
}

if (import.meta.url === `file://${process.argv[1]}`) await servePipelines();
