// `uspa api`: the namespace's API gateway (USPA_CONFIG, USPA_NAMESPACE, PORT, engines' addresses).
import { once } from 'node:events';
import { KubeConfig } from '@kubernetes/client-node';
import { API_PORT } from '../api/names.ts';
import { Warehouse, clickhouseSettingsFromEnv } from '../lib/clickhouse.ts';
import { loadConfigFile } from '../lib/config.ts';
import { BatchingProducer, connectKafka, kafkaSettingsFromEnv, topicNames } from '../lib/kafka.ts';
import { createLogger, type Logger } from '../lib/log.ts';
import { migrate } from '../lib/schema.ts';
import { createRegistry, runMain } from '../lib/service.ts';
import { collectorUrlResolver } from './overview/collector-url.ts';
import { createGateway } from './app.ts';
import { watchKeys } from './access/keys.ts';
import type { GatewayContext } from './context.ts';
import { allOperations } from './routes/index.ts';
import { ClickHouseAuditLog } from './audit/log.ts';
import { ClickHouseProfiles } from './profiles/clickhouse.ts';
import { CachedProfiles } from './profiles/cache.ts';
import { PERSONALIZATION } from '../lib/consent.ts';
import { CatalogCache } from './decisions/catalog.ts';
import { DecisionEngine, type Exposure } from './decisions/engine.ts';
import { watchPlacements } from './decisions/placements.ts';
import { Recommender } from './decisions/recommend.ts';
import { WarmProfiles } from './decisions/warm.ts';
import { Counter, Gauge } from 'prom-client';
import { exposureEvent, exposureSource } from './routes/decisions.ts';
import { declaresPurpose } from './routes/consent.ts';

const defaultLog = createLogger('api');

export interface GatewayOptions {
  configPath: string;
  port: number;
  host?: string;
  env?: NodeJS.ProcessEnv;
  log?: Logger;
  kubeConfig?: KubeConfig;
}

export async function startGateway(options: GatewayOptions) {
  const env = options.env ?? process.env;
  const log = options.log ?? defaultLog;
  const namespace = env.USPA_NAMESPACE;
  if (!namespace) throw new Error('USPA_NAMESPACE is not set: the API serves one namespace');
  const config = loadConfigFile(options.configPath, env, { forCollector: false });
  const warehouse = new Warehouse(clickhouseSettingsFromEnv(env));
  await migrate(warehouse, log);
  const kc = options.kubeConfig ?? new KubeConfig();
  if (!options.kubeConfig) kc.loadFromDefault();
  const kafka = connectKafka(kafkaSettingsFromEnv('uspa-api', env), log, { requestTimeoutMs: 5_000 });
  const topics = topicNames(env);
  const registry = createRegistry('api');
  const keys = await watchKeys(kc, namespace, log);
  const audit = new ClickHouseAuditLog(warehouse, log, registry);
  const profiles = new CachedProfiles(new ClickHouseProfiles(warehouse, config), { kafka, topics, log, registry });
  await profiles.start();
  let producer: Promise<BatchingProducer> | undefined;
  const sharedProducer = () =>
    (producer ??= (async () => {
      const p = new BatchingProducer(kafka);
      await p.connect();
      return p;
    })().catch((err: unknown) => {
      producer = undefined; // tried again at the next use
      throw err;
    }));
  const placements = await watchPlacements(kc, namespace, log);
  const catalog = new CatalogCache(warehouse, log);
  await catalog.refresh().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'catalog not loaded yet; retried'));
  catalog.start();
  const recommender = new Recommender(catalog, warehouse, log);
  recommender.start();
  const warm = new WarmProfiles(warehouse, log);
  new Gauge({ name: 'uspa_api_decision_profiles', help: 'Profiles held in memory for decisions (all of the namespace once loaded)', registers: [registry], collect() { this.set(warm.size); } });
  new Gauge({ name: 'uspa_api_decision_profiles_ready', help: '1 once every profile is in memory for decisions; 0 while loading (decisions read through the profile cache meanwhile) or when there are more than USPA_API_WARM_PROFILES', registers: [registry], collect() { this.set(warm.ready ? 1 : 0); } });
  profiles.follow({ profile: (c) => warm.applyProfileChange(c), segment: (c) => warm.applySegmentChange(c), down: (why) => warm.down(why) });
  const exposuresLost = new Counter({ name: 'uspa_api_exposures_lost_total', help: 'Exposure events Kafka did not accept (their decisions are missing from the lift)', registers: [registry] });
  const ctx: GatewayContext = { namespace, config, warehouse, kc, kafka, topics, log, registry, profiles, producer: sharedProducer, collectorUrl: collectorUrlResolver(kc, namespace, env.USPA_COLLECTOR_URL), decisions: undefined as never };
  const personalizationDeclared = () => declaresPurpose(ctx, PERSONALIZATION);
  const expose = (exposures: Exposure[]) => {
    const source = exposureSource(ctx);
    if (!source) return;
    const now = new Date();
    const records = exposures.map((e) => {
      const event = exposureEvent(e, source, now);
      return { topic: topics.source(source), key: event.userId ?? event.anonymousId ?? e.identity, value: JSON.stringify(event), headers: { source } };
    });
    sharedProducer()
      .then((p) => p.send(records))
      .catch((err: unknown) => {
        exposuresLost.inc(records.length);
        log.warn({ err: (err as Error).message, exposures: records.length }, 'exposure events not accepted by Kafka');
      });
  };
  ctx.decisions = new DecisionEngine({
    placements: placements.placements,
    profiles,
    warm,
    consented: (doc) => !personalizationDeclared() || doc?.consent[PERSONALIZATION] === true,
    expose,
    registry,
    recommend: (profile, doc, placement, context) => recommender.recommend(profile, doc, placement, context),
    prepare: (doc) => recommender.prepare(doc),
    onLookupError: (err) => log.warn({ err: err.message }, 'a decision could not read the profile: fallbacks given'),
  });
  const app = createGateway({
    keys: keys.keys,
    operations: allOperations(ctx),
    audit,
    log,
    registry,
    trustProxy: env.USPA_TRUSTED_PROXIES ?? 'loopback',
    ready: async () => ((await warehouse.ping().catch(() => false)) ? profiles.problem() : 'ClickHouse does not answer'),
  });
  const server = app.listen(options.port, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  log.info({ port, namespace }, 'API listening');
  // Decisions read through the profile cache until every profile is in memory.
  warm.load().catch((err: unknown) => log.error({ err: (err as Error).message }, 'decision profiles not loaded: decisions read through the profile cache'));
  return {
    port,
    profiles,
    async close() {
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      warm.stop();
      await keys.stop();
      await placements.stop();
      catalog.stop();
      recommender.stop();
      await profiles.stop();
      await audit.close();
      await (await producer?.catch(() => undefined))?.disconnect();
      await warehouse.close();
    },
  };
}

/** `uspa api`: the container entrypoint. */
export async function serveGateway(): Promise<void> {
  await runMain(defaultLog, 'API', (configPath) => startGateway({ configPath, port: Number(process.env.PORT ?? API_PORT), host: process.env.HOST ?? '0.0.0.0' }));
}
