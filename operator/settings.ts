// What the operator needs to know about its installation, from its environment (the Helm chart
// sets these). Engine credentials are read here and handed to workloads only through Secrets.
import { readFileSync } from 'node:fs';
import { WEBHOOK_ADDRESS_ENV, type WebhookAddressPolicy, webhookAddressPolicy } from '../api/activation-destinations.ts';
import { WORKLOADS_ENV, type WorkloadPolicy, workloadPolicyFromEnv } from './manifests/policy.ts';
import type { EngineSecurity } from './manifests/engines.ts';
import { kafkaSecurityFromEnv } from '../lib/kafka.ts';
import { readTlsDir, type TlsFiles } from '../lib/tls.ts';

export interface OperatorSettings {
  /** Kafka topics of namespace N are named `<topicPrefix>.<N>.…`. */
  topicPrefix: string;
  /** ClickHouse database of namespace N: `<databasePrefix>_<N>` (dashes become underscores). */
  databasePrefix: string;
  /** The USPA container image the workloads run. */
  image: string;
  kafkaBrokers: string[];
  clickhouse: { url: string; username: string; password: string; tls?: TlsFiles };
  /**
   * Each namespace's workloads connect as a ClickHouse user of its own that reaches only its
   * database (USPA_CLICKHOUSE_NAMESPACE_USERS, default true). false: they share the operator's
   * credentials — only for an engine that cannot enforce users (the local stack's embedded one).
   */
  namespaceUsers: boolean;
  temporal: { address: string; namespace: string };
  /** Lease namespace for leader election (the operator's own namespace). */
  namespace: string;
  identity: string;
  port: number;
  /** Probe and metrics address: all interfaces in a pod, so the kubelet and Prometheus reach it. */
  host: string;
  leaderElection: boolean;
  /** Only this namespace's resources (USPA_WATCH_NAMESPACE); all namespaces when unset. */
  watchNamespace?: string;
  /** How often every resource is reconciled even without changes. */
  resyncMs: number;
  /** A Pipeline whose committed offsets stay put this long while events wait is Degraded/Stalled (USPA_STALL_AFTER_SECONDS, 120). */
  stallAfterMs?: number;
  /** Which private addresses Activation webhooks and SMTP servers may reach (default deny); passed on to the activations workers. */
  webhookAddresses?: WebhookAddressPolicy;
  /** How the pods it runs are set up: pull secrets, security contexts, resources, probes, PDBs, HPA, Ingress (USPA_WORKLOADS, JSON). */
  workloads?: WorkloadPolicy;
  /** The leader server-side-applies the CRDs it was built with before it starts (USPA_APPLY_CRDS=true; the chart's crds.apply). */
  applyCrds?: boolean;
  /**
   * TLS and credentials of the engines, for its own connections and handed to each workload in a
   * Secret of its own (manifests/engines.ts): the same variables the workloads read (KAFKA_TLS,
   * KAFKA_TLS_DIR, KAFKA_SASL_*, CLICKHOUSE_TLS_DIR, TEMPORAL_TLS, TEMPORAL_TLS_DIR, TEMPORAL_TLS_SERVER_NAME).
   */
  engines?: EngineSecurity;
}

export function engineSecurityFromEnv(env: NodeJS.ProcessEnv = process.env): EngineSecurity {
  const temporalFiles = readTlsDir(env.TEMPORAL_TLS_DIR, 'TEMPORAL_TLS_DIR');
  const temporal = temporalFiles || env.TEMPORAL_TLS === 'true' ? { tls: { files: temporalFiles, serverName: env.TEMPORAL_TLS_SERVER_NAME || undefined } } : undefined;
  return { kafka: kafkaSecurityFromEnv(env), clickhouse: { tls: readTlsDir(env.CLICKHOUSE_TLS_DIR, 'CLICKHOUSE_TLS_DIR') }, ...(temporal ? { temporal } : {}) };
}

/** This operator's version (package.json): its default image tag, and the stamp on the CRDs it applies. */
export const OPERATOR_VERSION = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version as string;

export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): OperatorSettings {
  const missing = ['KAFKA_BROKERS', 'CLICKHOUSE_URL', 'TEMPORAL_ADDRESS'].filter((k) => !env[k]);
  if (missing.length) throw new Error(`the operator needs ${missing.join(', ')} (engine addresses); see helm/uspa/values.yaml`);
  const engines = engineSecurityFromEnv(env);
  return {
    topicPrefix: env.USPA_TOPIC_PREFIX || 'uspa',
    databasePrefix: env.USPA_DATABASE_PREFIX || 'uspa',
    image: env.USPA_IMAGE || `ghcr.io/uspa-tech/uspa:${OPERATOR_VERSION}`,
    kafkaBrokers: env.KAFKA_BROKERS!.split(',').map((b) => b.trim()).filter(Boolean),
    clickhouse: { url: env.CLICKHOUSE_URL!, username: env.CLICKHOUSE_USER ?? 'default', password: env.CLICKHOUSE_PASSWORD ?? '', tls: engines.clickhouse?.tls },
    namespaceUsers: env.USPA_CLICKHOUSE_NAMESPACE_USERS !== 'false',
    temporal: { address: env.TEMPORAL_ADDRESS!, namespace: env.TEMPORAL_NAMESPACE || 'default' },
    namespace: env.POD_NAMESPACE || 'default',
    identity: env.POD_NAME || `uspa-operator-${process.pid}`,
    port: Number(env.PORT ?? 8081),
    host: env.HOST ?? '0.0.0.0',
    leaderElection: env.USPA_LEADER_ELECTION !== 'false',
    resyncMs: Number(env.USPA_RESYNC_SECONDS ?? 600) * 1000,
    stallAfterMs: Number(env.USPA_STALL_AFTER_SECONDS ?? 120) * 1000,
    watchNamespace: env.USPA_WATCH_NAMESPACE || undefined,
    webhookAddresses: webhookAddressPolicy(env[WEBHOOK_ADDRESS_ENV]),
    workloads: workloadPolicyFromEnv(env[WORKLOADS_ENV]),
    applyCrds: env.USPA_APPLY_CRDS === 'true',
    engines,
  };
}
