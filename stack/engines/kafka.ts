import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { StackError } from '../errors.ts';
import { installOnce, mavenHint, step } from '../install.ts';
import { repoRoot } from '../paths.ts';
import { HOST } from '../ports.ts';
import { NODE_NETWORK } from './node/config.ts';
import { spawnDaemon, runLogged } from '../proc.ts';
import { waitFor } from './health.ts';
import type { Engine } from './engine.ts';

export const KAFKA_VERSION = '3.9.2';
const FOLDER = `kafka-${KAFKA_VERSION}`;

/** Apache Kafka in KRaft mode (one node, broker and controller), from Maven Central jars on Java 17. */
export const kafka: Engine = {
  name: 'kafka',
  externalVariable: 'KAFKA_BROKERS',
  toolchains: ['java', 'maven'],

  async install(ctx) {
    await installOnce(ctx, FOLDER, async (dir) => {
      const started = Date.now();
      ctx.progress.say('kafka', `resolving kafka_2.13 ${KAFKA_VERSION} and its dependencies from Maven Central into ${join(ctx.cache, FOLDER)}`);
      let downloaded = 0;
      await step('resolving the Kafka broker jars', mavenHint, 'mvn', [
        '-B', '-f', join(repoRoot, 'stack', 'engines', 'kafka', 'pom.xml'),
        'dependency:copy-dependencies', `-DoutputDirectory=${join(dir, 'libs')}`, '-DincludeScope=runtime',
      ], {
        logFile: join(ctx.logDir, 'install-kafka.log'),
        env: ctx.env,
        onLine: (line) => {
          if (line.includes('Downloaded from')) ctx.progress.tick('kafka', `maven: ${++downloaded} artifacts downloaded`, started);
        },
      });
      ctx.progress.say('kafka', `Kafka ${KAFKA_VERSION} jars ready (${Math.round((Date.now() - started) / 1000)}s)`);
    });
  },

  async start(ctx) {
    const port = await ctx.ports.get('kafka');
    const controllerPort = await ctx.ports.get('kafka-controller');
    const podPort = await ctx.ports.get('kafka-pods');
    const data = join(ctx.dataDir, 'kafka');
    const logDirs = join(data, 'logs');
    mkdirSync(logDirs, { recursive: true });
    const confDir = join(ctx.runDir, 'kafka');
    mkdirSync(confDir, { recursive: true });
    const libs = join(ctx.cache, FOLDER, 'libs', '*');

    const clusterIdFile = join(data, 'cluster-id');
    const metaFile = join(logDirs, 'meta.properties');
    if (!existsSync(clusterIdFile)) {
      if (existsSync(metaFile)) {
        throw new StackError(
          `the Kafka data folder ${logDirs} was formatted by something other than this stack (no ${clusterIdFile})`,
          'run `uspa stack down --purge` to delete the local stack data (events in the local Kafka are lost), then `uspa stack up`',
        );
      }
      // A KRaft cluster id is a base64url-encoded 16-byte UUID.
      writeFileSync(clusterIdFile, randomBytes(16).toString('base64url') + '\n');
    }
    const clusterId = readFileSync(clusterIdFile, 'utf8').trim();
    if (existsSync(metaFile)) {
      const formatted = /cluster\.id=(.*)/.exec(readFileSync(metaFile, 'utf8'))?.[1]?.trim();
      if (formatted !== clusterId) {
        throw new StackError(
          `the Kafka data folder ${logDirs} belongs to cluster ${formatted ?? '(unknown)'}, not to this stack's cluster ${clusterId}`,
          'run `uspa stack down --purge` to delete the local stack data, then `uspa stack up`',
        );
      }
    }

    const properties = join(confDir, 'server.properties');
    writeFileSync(properties, serverProperties({ podPort, port, controllerPort, logDirs }));
    const log4j = join(confDir, 'log4j.properties');
    writeFileSync(log4j, LOG4J);
    const log = join(ctx.runDir, 'kafka.log');

    if (!existsSync(metaFile)) {
      const formatted = await runLogged('java', ['-cp', libs, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', properties], { logFile: log, env: ctx.env });
      if (formatted.code !== 0) {
        throw new StackError('formatting the Kafka data folder failed', `read ${log}; \`uspa stack down --purge\` starts from empty data`, formatted.tail);
      }
    }

    const pid = spawnDaemon('java', [
      '-Xms256m', '-Xmx1g', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-Djava.awt.headless=true',
      `-Dlog4j.configuration=file:${log4j}`, `-Dkafka.logs.dir=${confDir}`,
      '-cp', libs, 'kafka.Kafka', properties,
    ], { env: ctx.env, logFile: log });
    const brokers = `${HOST}:${port}`;
    const admin = new Kafka({ clientId: 'uspa-stack', brokers: [brokers], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
    try {
      await waitFor('kafka', { pid, log, timeoutMs: 120_000 }, async () => {
        await admin.connect();
        const cluster = await admin.describeCluster();
        return cluster.brokers.length > 0 && cluster.controller !== null;
      });
    } finally {
      await admin.disconnect();
    }
    return {
      processes: [{ name: 'kafka', pid, log }],
      env: { KAFKA_BROKERS: brokers, KAFKA_POD_BROKERS: `${NODE_NETWORK.gateway}:${podPort}` },
      endpoints: { kafka: `${brokers} (Kafka ${KAFKA_VERSION}, KRaft)` },
    };
  },
};

function serverProperties(p: { podPort: number; port: number; controllerPort: number; logDirs: string }): string {
  return `# Written by uspa stack up on every start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@${HOST}:${p.controllerPort}
# PODS: the same broker as Pods on the stack's node reach it, through NAT at the Pod network's gateway
# (see stack/engines/node): it listens on loopback too, but tells clients the gateway address.
listeners=PLAINTEXT://${HOST}:${p.port},PODS://${HOST}:${p.podPort},CONTROLLER://${HOST}:${p.controllerPort}
advertised.listeners=PLAINTEXT://${HOST}:${p.port},PODS://${NODE_NETWORK.gateway}:${p.podPort}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,PODS:PLAINTEXT
log.dirs=${p.logDirs}
# Topics are created explicitly (by the operator), as on a production cluster.
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
group.initial.rebalance.delay.ms=0
log.retention.hours=168
log.segment.bytes=67108864
num.network.threads=2
num.io.threads=4
`;
}

const LOG4J = `log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.controller=WARN
log4j.logger.org.apache.kafka.raft=WARN
`;
