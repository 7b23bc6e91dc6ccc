// Source → its Kafka topic and dead-letter topic, its write-key Secret, and its place in the
// namespace's shared collector. Topics are external, so a finalizer deletes them with the Source.
import { randomBytes } from 'node:crypto';
import { deleteTopics, ensureTopics } from '../../lib/kafka.ts';
import type { Pipeline, Source, SourceStatus } from '../../api/v1alpha1/index.ts';
import { collectorManifests, secretRefOf } from '../manifests/collector.ts';
import { COLLECTOR, FINALIZER, PART_OF, deadLetterTopic, sourceTopic, writeKeySecret } from '../../api/names.ts';
import type { V1Deployment } from '@kubernetes/client-node';
import { deploymentAvailable, freshest } from '../manifests/workload.ts';
import { type OperatorContext, SECRET_RECHECK_MS, isDeleting } from '../context.ts';
import { apiMessage, ownerRef } from '../../lib/kubernetes/apply.ts';
import type { Reconciler, Request, Result } from '../machinery/controller.ts';

/** Why a Source's required consent purpose is a likely mistake: no Pipeline reading it declares it. */
export function undeclaredPurpose(source: Source, pipelines: readonly Pipeline[]): string | undefined {
  const purpose = source.spec.consent?.purpose;
  if (!purpose) return undefined;
  const readers = pipelines.filter((p) => p.spec.sources.includes(source.metadata.name!));
  const without = readers.filter((p) => !(p.spec.consent?.purposes ?? []).some((x) => x.name === purpose)).map((p) => p.metadata.name!);
  if (readers.length > 0 && without.length === 0) return undefined;
  const declared = [...new Set(readers.flatMap((p) => (p.spec.consent?.purposes ?? []).map((x) => x.name)))];
  return `spec.consent.purpose: "${purpose}" is not declared by ${readers.length === 0 ? 'any Pipeline (none reads this Source yet)' : `Pipeline ${without.join(', ')} (spec.consent.purposes${declared.length ? `: ${declared.join(', ')}` : ' is empty'})`}; events granting it are collected but consent to it is not recorded — declare it, or fix a misspelt purpose (events not granting it are not stored)`;
}

export class SourceReconciler implements Reconciler {
  readonly kind = 'Source';

  /** namespace/kind of collector companions (PDB, HPA, Ingress) known deleted by this process: not asked for again. */
  private readonly absent = new Set<string>();

  constructor(private readonly ctx: OperatorContext) {}

  async reconcile({ namespace, name }: Request): Promise<Result | void> {
    const { ctx } = this;
    const source = ctx.caches.sources.get(name, namespace);
    if (!source) {
      await this.applyCollector(namespace); // gone: the collector forgets it
      return;
    }
    const topic = sourceTopic(ctx.settings.topicPrefix, namespace, name);
    const dlq = deadLetterTopic(ctx.settings.topicPrefix, namespace, name);

    if (isDeleting(source)) {
      if (!source.metadata.finalizers?.includes(FINALIZER)) return;
      await this.applyCollector(namespace);
      await deleteTopics(ctx.kafka, [topic, dlq]);
      ctx.events.normal(source, 'TopicsDeleted', `deleted Kafka topics ${topic} and ${dlq}`);
      await ctx.removeFinalizer(source, FINALIZER);
      return;
    }
    await ctx.addFinalizer(source, FINALIZER);

    const status: SourceStatus = { ...source.status, observedGeneration: source.metadata.generation, topic, deadLetterTopic: dlq };
    const fail = async (reason: string, message: string): Promise<Result> => {
      await this.applyCollector(namespace); // drops this Source from the collector if it cannot be served
      await ctx.report(source, status, 'degraded', reason, message);
      return { requeueAfterMs: SECRET_RECHECK_MS };
    };

    // The write key: the user's Secret, or one we generate once and then never change.
    // No Secret is watched: a missing one is looked for again shortly.
    const ref = secretRefOf(source);
    if (source.spec.writeKeySecretRef) {
      const secret = await ctx.readSecret(namespace, ref.name);
      if (!secret) return fail('SecretNotFound', `write-key Secret "${ref.name}" not found in namespace ${namespace}`);
      if (!secret.data?.[ref.key]) return fail('SecretKeyMissing', `Secret "${ref.name}" has no key "${ref.key}"`);
    } else if (!(await ctx.readSecret(namespace, ref.name))) {
      await ctx.core.createNamespacedSecret({
        namespace,
        body: {
          metadata: { name: writeKeySecret(name), namespace, labels: { ...PART_OF, 'uspa.tech/source': name }, ownerReferences: [ownerRef(source)] },
          type: 'Opaque',
          stringData: { writeKey: randomBytes(24).toString('base64url') },
        },
      }).catch((err: unknown) => {
        if ((err as { code?: number }).code !== 409) throw err;
      });
      ctx.events.normal(source, 'WriteKeyGenerated', `generated a write key in Secret ${ref.name}`);
    }
    status.writeKeySecret = ref.name;

    const t = source.spec.topic ?? {};
    try {
      await ensureTopics(ctx.kafka, [
        { topic, partitions: t.partitions ?? 3, retentionHours: t.retentionHours ?? 168, replicationFactor: t.replicationFactor ?? 1 },
        { topic: dlq, partitions: 1, retentionHours: source.spec.deadLetter?.retentionHours ?? 336, replicationFactor: t.replicationFactor ?? 1 },
      ]);
      const meta = await ctx.kafka.fetchTopicMetadata({ topics: [topic] });
      status.partitions = meta.topics[0]?.partitions.length;
    } catch (err) {
      await fail('KafkaError', `could not create or update topic ${topic}: ${apiMessage(err)}`);
      throw err;
    }

    const applied = await this.applyCollector(namespace);
    status.endpoint = `http://${COLLECTOR}.${namespace}.svc:8080/v1/batch`;
    if (source.spec.suspend) {
      return ctx.report(source, status, 'ready', 'Suspended', "suspended: the collector refuses this Source's events (401); topics are kept");
    }
    const undeclared = undeclaredPurpose(source, ctx.caches.pipelines.list(namespace).filter((p) => !isDeleting(p)));
    // Served all the same (events without the purpose are still not stored; only its record is
    // missing), but said before anything else: it is a mistake in the spec, likely a typo.
    if (undeclared) return ctx.report(source, status, 'degraded', 'UndeclaredPurpose', undeclared);
    const collector = deploymentAvailable(freshest(applied, ctx.caches.deployments.get(COLLECTOR, namespace)));
    if (!collector.available) {
      // The Deployment's own changes re-queue us.
      return ctx.report(source, status, 'progressing', 'CollectorNotAvailable', `topics ready; waiting for the collector Deployment (${collector.ready}/${collector.desired} ready)`);
    }
    await ctx.report(source, status, 'ready', 'Reconciled', `accepting events into ${topic} (${status.partitions} partitions)`);
  }

  private async hasWriteKey(s: Source): Promise<boolean> {
    const ref = secretRefOf(s);
    return Boolean((await this.ctx.readSecret(s.metadata.namespace!, ref.name))?.data?.[ref.key]);
  }

  /** Applies the namespace's one collector from its live Sources; returns its Deployment as the API server has it now. */
  private async applyCollector(namespace: string): Promise<V1Deployment | undefined> {
    const { ctx } = this;
    const sources = ctx.caches.sources.list(namespace).filter((s) => !isDeleting(s));
    // A Source whose write key is missing is left out, so that it cannot keep the collector (and
    // every other Source) from starting; its own status says what is missing.
    if (sources.length === 0) return; // garbage collection removes the collector with its last owner
    const serving: Source[] = [];
    for (const s of sources) if (!s.spec.suspend && (await this.hasWriteKey(s))) serving.push(s);
    const m = collectorManifests(namespace, serving, { image: ctx.settings.image, topicPrefix: ctx.settings.topicPrefix, kafkaBrokers: ctx.settings.kafkaBrokers, workloads: ctx.settings.workloads });
    // Suspended Sources still own the collector (they keep it alive) but are not served by it.
    const owners = sources.map((s) => ownerRef(s, false));
    const extras = [m.disruptionBudget, m.autoscaler, m.ingress].filter((o) => o !== undefined);
    for (const obj of [m.configMap, m.service, m.deployment, ...extras, ...(m.engineSecret ? [m.engineSecret] : [])]) obj.metadata!.ownerReferences = owners;
    if (m.engineSecret) await ctx.applier.apply(m.engineSecret);
    await ctx.applier.apply(m.configMap);
    await ctx.applier.apply(m.service);
    const applied = await ctx.applier.apply(m.deployment);
    for (const obj of extras) await ctx.applier.apply(obj);
    // One turned off in the chart goes: an HPA left behind would keep scaling the collector.
    for (const [present, apiVersion, kind] of [[m.disruptionBudget, 'policy/v1', 'PodDisruptionBudget'], [m.autoscaler, 'autoscaling/v2', 'HorizontalPodAutoscaler'], [m.ingress, 'networking.k8s.io/v1', 'Ingress']] as const) {
      const key = `${namespace}/${kind}`;
      if (present) this.absent.delete(key);
      else if (!this.absent.has(key)) {
        await ctx.applier.deleteIfExists({ apiVersion, kind, metadata: { name: COLLECTOR, namespace } });
        this.absent.add(key);
      }
    }
    return applied;
  }
}
