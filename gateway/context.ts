// What every route module gets: the namespace's engines and configuration.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { TopicNames } from '../api/names.ts';
import type { WorkloadConfig } from '../api/workload.ts';
import type { Warehouse } from '../lib/clickhouse.ts';
import type { BatchingProducer, Kafka } from '../lib/kafka.ts';
import type { Logger } from '../lib/log.ts';
import type { ProfileStore } from './profiles/store.ts';
import type { DecisionEngine } from './decisions/engine.ts';

export interface GatewayContext {
  /** The Kubernetes namespace this API serves (one API per namespace, like the collector). */
  namespace: string;
  /** The namespace's Sources and Pipelines, as the pipeline workers read them. */
  config: WorkloadConfig;
  warehouse: Warehouse;
  kc: KubeConfig;
  kafka: Kafka;
  topics: TopicNames;
  log: Logger;
  registry: Registry;
  /** Profiles by identity and id (cached, kept fresh by the pipeline's profile changes). */
  profiles: ProfileStore;
  /** One producer (acks=all) for what the API writes to Kafka, connected at first use and closed with the API. */
  producer(): Promise<Pick<BatchingProducer, 'send'>>;
  /** The namespace's collector (USPA_COLLECTOR_URL, else its Service), undefined when it has none. */
  collectorUrl(): Promise<string | undefined>;
  /** Decides placements in memory (Personalization resources, watched). */
  decisions: DecisionEngine;
}
