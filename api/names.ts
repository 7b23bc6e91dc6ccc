// Every name USPA derives, in one place: topics, consumer groups, databases, workloads, Secrets,
// schedules, task queues. The operator that creates a thing and the process that uses it both call
// these functions, so they cannot disagree.
export const COLLECTOR = 'uspa-collector';
export const COLLECTOR_PORT = 8080;
/** A namespace's API gateway (`uspa api`): its Deployment, Service, ConfigMap, ServiceAccount and Role. */
export const API = 'uspa-api';
// Not 8080: the local runtime forwards each Service on its own port when free, and the collector has 8080.
export const API_PORT = 8081;
export const FINALIZER = 'uspa.tech/cleanup';
/** Where the local runtime forwards a Service on loopback (it runs Pods as processes, with no cluster DNS). */
export const LOCAL_URL_ANNOTATION = 'uspa.tech/local-url';
export const PART_OF = { 'app.kubernetes.io/part-of': 'uspa', 'app.kubernetes.io/managed-by': 'uspa-operator' };

/** The topic prefix of namespace N of an installation: workloads get it as USPA_TOPIC_PREFIX. */
export function topicPrefix(installation: string, namespace: string): string {
  return `${installation}.${namespace}`;
}

/** The Kafka names under one topic prefix (`<installation>.<namespace>`). */
export interface TopicNames {
  prefix: string;
  /** A Source's events. */
  source: (source: string) => string;
  /** Each Source has its own dead-letter topic, with its own retention. */
  deadLetters: (source: string) => string;
  /** Commands to a Pipeline's workers (e.g. unmerge). */
  control: (pipeline: string) => string;
  /** Entered/exited records of the namespace's Segments (keyed by profile id). */
  segmentChanges: string;
  /** Profiles rebuilt or deleted by the pipeline (keyed by profile id), read by the API's profile caches. */
  profileChanges: string;
  /** The consumer group of one API process's profile cache: each process has its own, so every replica sees every change. */
  profileCacheGroup: (instance: string) => string;
  /**
   * What every topic an Activation may write to starts with (`<prefix>.out.`). USPA reads none of
   * them, so an Activation can neither inject events nor forge control commands.
   */
  activationOutputs: string;
  /** The namespace's suppression list (compacted; keyed by identity hash), written by privacy requests. */
  privacy: string;
  /** What each collector replica was asked per rate-limited Source, every second: how they share the limits. */
  collectorDemand: string;
  /** The consumer group of a Pipeline's workers. */
  pipelineGroup: (pipeline: string) => string;
  /** The consumer group of a Pipeline's workers on its control topic. */
  pipelineControlGroup: (pipeline: string) => string;
}

export function topicNames(prefix: string): TopicNames {
  return {
    prefix,
    source: (source) => `${prefix}.events.${source}`,
    deadLetters: (source) => `${prefix}.dead-letters.${source}`,
    control: (pipeline) => `${prefix}.control.${pipeline}`,
    segmentChanges: `${prefix}.segment-changes`,
    profileChanges: `${prefix}.profile-changes`,
    profileCacheGroup: (instance) => `${prefix}.api-cache.${instance}`,
    activationOutputs: `${prefix}.out.`,
    privacy: `${prefix}.privacy`,
    collectorDemand: `${prefix}.collector-demand`,
    pipelineGroup: (pipeline) => `${prefix}.pipeline.${pipeline}`,
    pipelineControlGroup: (pipeline) => `${prefix}.pipeline.${pipeline}-control`,
  };
}

/**
 * The consumer group that mirrors a Pipeline's dead-letter topics into its database: named after
 * the database, so installations (or test runs) sharing a Kafka never mix their rows.
 */
export function deadLetterMirrorGroup(database: string, pipeline: string): string {
  return `uspa-dead-letters-mirror-${database}-${pipeline}`;
}

export function sourceTopic(installation: string, namespace: string, source: string): string {
  return topicNames(topicPrefix(installation, namespace)).source(source);
}

export function deadLetterTopic(installation: string, namespace: string, source: string): string {
  return topicNames(topicPrefix(installation, namespace)).deadLetters(source);
}

export function controlTopic(installation: string, namespace: string, pipeline: string): string {
  return topicNames(topicPrefix(installation, namespace)).control(pipeline);
}

export function pipelineGroup(installation: string, namespace: string, pipeline: string): string {
  return topicNames(topicPrefix(installation, namespace)).pipelineGroup(pipeline);
}

export function database(prefix: string, namespace: string): string {
  return `${prefix}_${namespace.replace(/-/g, '_')}`;
}

export function pipelineWorkload(pipeline: string): string {
  return `uspa-pipeline-${pipeline}`;
}

/** The Deployment of a namespace's Temporal worker of one kind. */
/**
 * The consent category an Activation without its own (spec.consent.category) sends with: set on the
 * activations worker when a Pipeline of the namespace declares the purpose marketing.
 */
export const DEFAULT_CONSENT_ENV = 'USPA_DEFAULT_CONSENT_CATEGORY';

export function workerWorkload(kind: WorkerKind): string {
  return `uspa-worker-${kind}`;
}

/**
 * The Secret holding a namespace's own ClickHouse user and password, which the operator creates
 * (deleting it rotates the password); the workloads get them through their own Secrets.
 */
export const NAMESPACE_CLICKHOUSE_SECRET = 'uspa-clickhouse';

/** The ClickHouse user of namespace N's workloads: named after, and reaching only, its database. */
export function clickhouseUser(prefix: string, namespace: string): string {
  return database(prefix, namespace);
}

/** The Secret holding a workload's ClickHouse credentials. */
export function clickhouseSecret(workload: string): string {
  return `${workload}-clickhouse`;
}

/** The Secret holding a workload's copy of the engines' TLS files and Kafka SASL credentials. */
export function engineSecret(workload: string): string {
  return `${workload}-engines`;
}

/** The ConfigMap listing a namespace's Activation triggers, which its activations worker reads. */
export const TRIGGERS_CONFIGMAP = 'uspa-triggers';

/** The namespace's erasure receipt signing key: made once by the operator, never rotated by it. */
export const PRIVACY_SIGNING_SECRET = 'uspa-privacy-signing-key';
export const PRIVACY_SIGNING_SECRET_KEY = 'key';
/** Where the privacy worker (and `uspa privacy verify` outside a cluster) reads that key. */
export const PRIVACY_SIGNING_KEY_ENV = 'USPA_PRIVACY_SIGNING_KEY';

/** The Lease the operator's replicas elect their leader by, in the operator's namespace. */
export const OPERATOR_LEASE = 'uspa-operator';

export function writeKeySecret(source: string): string {
  return `${source}-write-key`;
}

/** The Secret holding an ApiKey's key (unless its spec.secretName says otherwise). */
export function apiKeySecret(apiKey: string): string {
  return `uspa-apikey-${apiKey}`;
}

/** The data key of an ApiKey's Secret. */
export const API_KEY_SECRET_KEY = 'apiKey';

/** The env var a Source's write key reaches the collector through (from its Secret). */
export function writeKeyEnv(source: string): string {
  return `USPA_WRITE_KEY_${source.toUpperCase().replace(/-/g, '_')}`;
}

export function segmentSchedule(namespace: string, segment: string): string {
  return `uspa-segment-${namespace}-${segment}`;
}

export function modelSchedule(namespace: string, pipeline: string, model: string): string {
  return `uspa-models-${namespace}-${pipeline}-${model}`;
}

export function activationSchedule(namespace: string, activation: string): string {
  return `uspa-activation-${namespace}-${activation}`;
}

/** The Temporal workers of a namespace, one per task queue (`uspa worker <kind>`). */
export const WORKER_KINDS = ['segments', 'activations', 'models', 'enrichment', 'privacy'] as const;
export type WorkerKind = (typeof WORKER_KINDS)[number];

/** Temporal task queue of a kind of work in namespace N: each namespace has its own workers. */
export function taskQueue(kind: WorkerKind, namespace: string): string {
  return `uspa-${kind}.${namespace}`;
}
