// Which database, topics and Pipeline a data command means, from the namespace's objects as the
// operator recorded them: Pipeline status names the worker Deployment, whose env carries the
// database and topic prefix; Source status carries each Source's topic. Nothing is guessed from
// prefixes, so an installation with its own prefixes is found the same way.
import type { V1Deployment } from '@kubernetes/client-node';
import { topicNames } from '../api/names.ts';
import type { Pipeline, Source } from '../api/v1alpha1/index.ts';

/** What a namespace holds, as read from the cluster. */
export interface NamespaceObjects {
  namespace: string;
  pipelines: Pipeline[];
  sources: Source[];
  /** The worker Deployments named by the Pipelines' status (those that exist). */
  deployments: V1Deployment[];
}

/** A problem the user can fix: the message says what is wrong and what to do. */
export class ResolveError extends Error {}

/** The storage of a namespace (or of one Pipeline in it). */
export interface Store {
  namespace: string;
  database: string;
}

/** One Pipeline's worker: where it stores and where it takes commands. */
export interface PipelineTarget extends Store {
  pipeline: string;
  controlTopic: string;
}

const nameOf = (o: { metadata: { name?: string } }) => o.metadata.name!;
const names = (list: Array<{ metadata: { name?: string } }>) => list.map(nameOf).sort().join(', ');

/** The one Pipeline meant: `wanted`, or the only one; when there are several, `wanted` is required. */
export function choosePipeline(objects: NamespaceObjects, wanted?: string): Pipeline {
  const { namespace, pipelines } = objects;
  if (pipelines.length === 0) {
    throw new ResolveError(`namespace ${namespace} has no Pipeline (a Pipeline stores the profiles and dead letters); kubectl get pipelines -n ${namespace}, or choose another namespace with -n`);
  }
  if (wanted) {
    const found = pipelines.find((p) => nameOf(p) === wanted);
    if (!found) throw new ResolveError(`namespace ${namespace} has no Pipeline ${wanted}; it has: ${names(pipelines)}`);
    return found;
  }
  if (pipelines.length > 1) throw new ResolveError(`namespace ${namespace} has ${pipelines.length} Pipelines (${names(pipelines)}); choose one with --pipeline`);
  return pipelines[0]!;
}

/** The worker env of a Pipeline, from the Deployment its status names. */
function workerEnv(objects: NamespaceObjects, pipeline: Pipeline): { database: string; topicPrefix: string } {
  const { namespace } = objects;
  const name = nameOf(pipeline);
  const describe = `kubectl describe pipeline ${name} -n ${namespace}`;
  const deploymentName = pipeline.status?.deployment;
  if (!deploymentName) throw new ResolveError(`Pipeline ${name} in namespace ${namespace} has not been reconciled yet (its status names no worker Deployment); is the operator running? ${describe}`);
  const deployment = objects.deployments.find((d) => d.metadata?.name === deploymentName);
  if (!deployment) throw new ResolveError(`the worker Deployment ${deploymentName} of Pipeline ${name} does not exist in namespace ${namespace}; ${describe}`);
  const env = deployment.spec?.template.spec?.containers[0]?.env ?? [];
  const value = (key: string) => {
    const v = env.find((e) => e.name === key)?.value;
    if (!v) throw new ResolveError(`the worker Deployment ${deploymentName} of Pipeline ${name} sets no ${key}; was it made by the USPA operator? kubectl get deployment ${deploymentName} -n ${namespace} -o yaml`);
    return v;
  };
  return { database: value('USPA_DATABASE'), topicPrefix: value('USPA_TOPIC_PREFIX') };
}

/** One Pipeline (for commands sent to its worker, e.g. unmerge). */
export function resolvePipeline(objects: NamespaceObjects, wanted?: string): PipelineTarget {
  const pipeline = choosePipeline(objects, wanted);
  const { database, topicPrefix } = workerEnv(objects, pipeline);
  return { namespace: objects.namespace, database, pipeline: nameOf(pipeline), controlTopic: topicNames(topicPrefix).control(nameOf(pipeline)) };
}

/**
 * The database of a namespace, for reads. Its Pipelines share one database, so any of them answers;
 * only if they disagree must the user choose.
 */
export function resolveStore(objects: NamespaceObjects, wanted?: string): Store {
  if (wanted || objects.pipelines.length <= 1) {
    const { namespace, database } = resolvePipeline(objects, wanted);
    return { namespace, database };
  }
  const byDatabase = new Map<string, string[]>();
  let firstError: unknown;
  for (const p of objects.pipelines) {
    try {
      const { database } = workerEnv(objects, p);
      byDatabase.set(database, [...(byDatabase.get(database) ?? []), nameOf(p)]);
    } catch (err) {
      firstError ??= err;
    }
  }
  if (byDatabase.size === 0) throw firstError;
  if (byDatabase.size > 1) {
    const which = [...byDatabase].map(([db, ps]) => `${ps.join(', ')} → ${db}`).join('; ');
    throw new ResolveError(`the Pipelines of namespace ${objects.namespace} store in different databases (${which}); choose one with --pipeline`);
  }
  return { namespace: objects.namespace, database: [...byDatabase.keys()][0]! };
}

/** Checks that a Source named in a filter exists, so a typo is not answered with "0 found". */
export function checkSource(objects: NamespaceObjects, source: string | undefined): void {
  if (!source || objects.sources.some((s) => nameOf(s) === source)) return;
  const { namespace, sources } = objects;
  throw new ResolveError(sources.length ? `namespace ${namespace} has no Source ${source}; it has: ${names(sources)}` : `namespace ${namespace} has no Source; kubectl get sources -n ${namespace}`);
}

/** Each Source's events topic as its status records it; undefined for an unknown or unreconciled Source. */
export function sourceTopics(objects: NamespaceObjects): (source: string) => string | undefined {
  const topics = new Map(objects.sources.map((s) => [nameOf(s), s.status?.topic]));
  return (source) => topics.get(source) ?? undefined;
}
