// Every name the operator derives, in one place: topics, databases, workloads, schedules.
export const COLLECTOR = 'uspa-collector';
export const FINALIZER = 'uspa.tech/cleanup';
export const PART_OF = { 'app.kubernetes.io/part-of': 'uspa', 'app.kubernetes.io/managed-by': 'uspa-operator' };

export function topicPrefix(installation: string, namespace: string): string {
  return `${installation}.${namespace}`;
}

export function sourceTopic(installation: string, namespace: string, source: string): string {
  return `${topicPrefix(installation, namespace)}.events.${source}`;
}

export function deadLetterTopic(installation: string, namespace: string, source: string): string {
  return `${topicPrefix(installation, namespace)}.dead-letters.${source}`;
}

export function controlTopic(installation: string, namespace: string, pipeline: string): string {
  return `${topicPrefix(installation, namespace)}.control.${pipeline}`;
}

export function pipelineGroup(installation: string, namespace: string, pipeline: string): string {
  return `${topicPrefix(installation, namespace)}.pipeline.${pipeline}`;
}

export function database(prefix: string, namespace: string): string {
  return `${prefix}_${namespace.replace(/-/g, '_')}`;
}

export function pipelineWorkload(pipeline: string): string {
  return `uspa-pipeline-${pipeline}`;
}

export function writeKeySecret(source: string): string {
  return `${source}-write-key`;
}

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
export const WORKER_KINDS = ['segments', 'activations', 'models', 'enrichment'] as const;
export type WorkerKind = (typeof WORKER_KINDS)[number];

/** Temporal task queue of a kind of work in namespace N: each namespace has its own workers. */
export function taskQueue(kind: WorkerKind, namespace: string): string {
  return `uspa-${kind}.${namespace}`;
}

/** Entered/exited records of every Segment of the namespace (keyed by profile id). */
export function segmentChangesTopic(installation: string, namespace: string): string {
  return `${topicPrefix(installation, namespace)}.segment-changes`;
}
