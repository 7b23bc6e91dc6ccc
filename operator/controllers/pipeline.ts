// Pipeline → ClickHouse schema for its namespace, a Deployment of pipeline workers (one consumer
// group per Pipeline) with its ConfigMap and credentials Secret, the namespace's models worker and
// the Pipeline's model retraining schedules (external: a finalizer deletes them), and the namespace's
// API gateway (controllers/api.ts). Status shows the lag.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { Gauge, type Registry } from 'prom-client';
import type { Pipeline, PipelineStatus } from '../../api/v1alpha1/index.ts';
import type { PipelineBackfill } from '../../api/v1alpha1/pipeline.ts';
import { RETRAIN_PERSONAS, RETRAIN_RECOMMENDATIONS } from '../../api/workflows/models.ts';
import { backfillWorkflowId, progressQuery, type BackfillInput } from '../../api/workflows/enrichment.ts';
import { backfillEnrichment } from '../../workflows/enrichment.ts';
import { retrainPersonas, retrainRecommendations } from '../../workflows/models.ts';
import { pipelineManifests } from '../manifests/pipeline.ts';
import { formatRetention, namespaceRetention } from '../manifests/retention.ts';
import { API, FINALIZER, database, modelSchedule, pipelineGroup, pipelineWorkload, sourceTopic, taskQueue } from '../../api/names.ts';
import { deploymentAvailable, freshest, hashOf } from '../manifests/workload.ts';
import { type ScheduleInput, deleteSchedule, ensureSchedule } from './schedules.ts';
import { type OperatorContext, isDeleting } from '../context.ts';
import { apiMessage, ownerRef } from '../../lib/kubernetes/apply.ts';
import { pipelineWorkerRbac } from '../manifests/workers.ts';
import type { Reconciler, Request, Result } from '../machinery/controller.ts';
import { workerVerdict } from '../machinery/conditions.ts';
import { ProgressWatch } from '../machinery/progress.ts';
import { ApiGateway } from './api.ts';
import { apiUrl } from '../manifests/api.ts';

const LAG_REFRESH_MS = 15_000;
const MODELS = [
  { id: 'personas', name: RETRAIN_PERSONAS, workflow: retrainPersonas },
  { id: 'recommendations', name: RETRAIN_RECOMMENDATIONS, workflow: retrainRecommendations },
] as const;

/** Longest a reconcile waits for the consumer lag (status only: it is read again at the next one). */
export const LAG_READ_MS = 5_000;

export class PipelineReconciler implements Reconciler {
  readonly kind = 'Pipeline';
  private readonly progress: ProgressWatch;
  private readonly stalled: Gauge<'namespace' | 'pipeline'>;
  private readonly lagGauge: Gauge<'namespace' | 'pipeline'>;
  private readonly gateway: ApiGateway;

  constructor(
    private readonly ctx: OperatorContext,
    registry?: Registry,
  ) {
    this.progress = new ProgressWatch(ctx.settings.stallAfterMs ?? 120_000);
    this.gateway = new ApiGateway(ctx);
    const registers = registry ? [registry] : [];
    this.stalled = new Gauge({ name: 'uspa_operator_pipeline_stalled', help: '1 while the Pipeline is Degraded/Stalled (its worker reports it stuck, or its committed offsets stay put while events wait)', labelNames: ['namespace', 'pipeline'], registers });
    this.lagGauge = new Gauge({ name: 'uspa_operator_pipeline_lag_events', help: "Events in the Pipeline's Source topics its consumer group has not committed yet", labelNames: ['namespace', 'pipeline'], registers });
  }

  async reconcile({ namespace, name }: Request): Promise<Result | void> {
    const { ctx } = this;
    const pipeline = ctx.caches.pipelines.get(name, namespace);
    if (!pipeline || isDeleting(pipeline)) {
      this.progress.forget(`${namespace}/${name}`);
      this.stalled.remove({ namespace, pipeline: name });
      this.lagGauge.remove({ namespace, pipeline: name });
    }
    // Gone or going: the gateway is owned by the Pipelines that remain (their own reconciles retry a failure).
    if (!pipeline || isDeleting(pipeline)) await this.gateway.apply(namespace).catch((err: unknown) => ctx.log.warn({ namespace, err: apiMessage(err) }, 'could not re-apply the API gateway'));
    if (!pipeline) return;
    // The workload goes with the Pipeline (owner references); its data stays in ClickHouse.
    if (isDeleting(pipeline)) {
      if (!pipeline.metadata.finalizers?.includes(FINALIZER)) return;
      const temporal = await ctx.temporal();
      for (const m of MODELS) await deleteSchedule(temporal, modelSchedule(namespace, name, m.id), ctx.schedules);
      await ctx.removeFinalizer(pipeline, FINALIZER);
      return;
    }
    await ctx.addFinalizer(pipeline, FINALIZER);
    const gen = pipeline.metadata.generation ?? 0;
    const status: PipelineStatus = { ...pipeline.status, observedGeneration: gen, deployment: pipelineWorkload(name), apiUrl: apiUrl(namespace) };
    const write = (state: 'ready' | 'progressing' | 'degraded', reason: string, message: string) => ctx.report(pipeline, status, state, reason, message);

    // Before anything of this Pipeline's own: a Pipeline missing a Source still keeps the gateway up.
    let clickhouse;
    try {
      clickhouse = await ctx.clickhouseCredentials(namespace);
    } catch (err) {
      await write('degraded', 'ClickHouseError', apiMessage(err));
      throw err;
    }
    try {
      await this.gateway.apply(namespace, clickhouse);
    } catch (err) {
      await write('degraded', 'ApiError', `could not apply the namespace's API gateway (${API}): ${apiMessage(err)}`);
      throw err;
    }

    const missing = pipeline.spec.sources.filter((s) => {
      const src = ctx.caches.sources.get(s, namespace);
      return !src || isDeleting(src);
    });
    if (missing.length) return write('degraded', 'SourceNotFound', `Source${missing.length > 1 ? 's' : ''} ${missing.map((s) => `"${s}"`).join(', ')} not found in namespace ${namespace}`);
    const sources = pipeline.spec.sources.map((s) => ctx.caches.sources.get(s, namespace)!);

    try {
      status.schemaVersion = (await ctx.warehouse(namespace)).schemaVersion;
    } catch (err) {
      await write('degraded', 'ClickHouseError', `could not apply the ClickHouse schema: ${apiMessage(err)}`);
      throw err;
    }
    try {
      const live = ctx.caches.pipelines.list(namespace).filter((p) => !isDeleting(p));
      status.retention = formatRetention(await ctx.eventsRetention(namespace, namespaceRetention(live)));
    } catch (err) {
      await write('degraded', 'ClickHouseError', `could not set the events retention (TTL): ${apiMessage(err)}`);
      throw err;
    }

    status.clickhouse = { user: clickhouse.username, isolation: ctx.settings.namespaceUsers ? 'NamespaceUser' : 'Shared' };
    const m = pipelineManifests(namespace, pipeline, sources, { ...ctx.settings, clickhouse });
    const rbac = pipelineWorkerRbac(namespace, name, [ownerRef(pipeline)]);
    await ctx.applier.apply(rbac.account);
    await ctx.applier.apply(rbac.role);
    await ctx.applier.apply(rbac.binding);
    await ctx.applier.apply(m.secret);
    if (m.engineSecret) await ctx.applier.apply(m.engineSecret);
    await ctx.applier.apply(m.configMap);
    const applied = await ctx.applier.apply(m.deployment);
    if (m.disruptionBudget) await ctx.applier.apply(m.disruptionBudget);

    // Personas and recommendations are retrained daily over the namespace's profiles.
    await ctx.applyWorker(namespace, 'models', ctx.caches.pipelines.list(namespace));
    await ctx.applyWorker(namespace, 'enrichment', ctx.caches.pipelines.list(namespace));
    try {
      status.backfill = await this.backfill(namespace, pipeline);
    } catch (err) {
      await write('degraded', 'TemporalError', `could not start or follow the enrichment backfill: ${apiMessage(err)}`);
      throw err;
    }
    try {
      const temporal = await ctx.temporal();
      for (const model of MODELS) {
        // The personas model takes the Pipeline's algorithm (spec.models.personas); recommendations the defaults.
        const personas = pipeline.spec.models?.personas;
        const input: ScheduleInput<typeof retrainPersonas> & ScheduleInput<typeof retrainRecommendations> = {
          namespace,
          database: database(ctx.settings.databasePrefix, namespace),
          ...(model.id === 'personas' && personas ? { algorithm: personas.algorithm, eps: personas.eps, minPoints: personas.minPoints } : {}),
        };
        await ensureSchedule(temporal, { id: modelSchedule(namespace, name, model.id), interval: '24h', workflowType: model.workflow, taskQueue: taskQueue('models', namespace), input, paused: Boolean(pipeline.spec.suspend), note: `Pipeline ${namespace}/${name}: ${model.id}`, revision: hashOf(JSON.stringify(input), model.name, 'timeout-6h'), runTimeout: '6h' }, ctx.schedules);
      }
    } catch (err) {
      await write('degraded', 'TemporalError', `could not create the model retraining schedules: ${apiMessage(err)}`);
      throw err;
    }

    const key = `${namespace}/${name}`;
    let stalledSince: number | undefined;
    try {
      const progress = await this.lag(namespace, name, pipeline.spec.sources);
      status.consumerLag = progress.lag;
      status.lagUpdatedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      // A suspended Pipeline waits on purpose: its stall window starts again when it resumes.
      if (pipeline.spec.suspend) this.progress.forget(key);
      else stalledSince = this.progress.observe(key, progress.committed, progress.lag);
    } catch (err) {
      ctx.log.warn({ pipeline: key, err: apiMessage(err) }, 'could not read consumer lag');
    }

    const d = deploymentAvailable(freshest(applied, ctx.caches.deployments.get(pipelineWorkload(name), namespace)));
    status.replicas = d.desired;
    status.readyReplicas = d.ready;
    // The worker's own report says why it is stuck; the offsets say that it is, even when it cannot report.
    const reported = pipeline.status?.workers?.some((w) => w.component === 'pipeline') ? workerVerdict(pipeline.status.workers, 'pipeline', gen) : undefined;
    const stalled = reported?.state === 'degraded' ? reported.message : stalledSince !== undefined ? `no progress since ${new Date(stalledSince).toISOString().replace(/\.\d+Z$/, 'Z')}: ${status.consumerLag} events wait and the committed offsets have not moved (${d.ready}/${d.desired} workers ready)` : undefined;
    this.stalled.set({ namespace, pipeline: name }, stalled ? 1 : 0);
    if (status.consumerLag !== undefined) this.lagGauge.set({ namespace, pipeline: name }, status.consumerLag);
    if (pipeline.spec.suspend) await write('ready', 'Suspended', 'suspended: no workers run; events wait in Kafka');
    else if (stalled) await write('degraded', 'Stalled', stalled);
    else if (!d.available) await write('progressing', 'WorkersNotReady', `waiting for pipeline workers (${d.ready}/${d.desired} ready)`);
    // A worker that reports is Ready only once it runs this generation; one that does not report yet is judged by its Deployment.
    else if (reported) await write(reported.state, reported.reason, reported.message);
    else await write('ready', 'Reconciled', `processing ${sources.length} source${sources.length > 1 ? 's' : ''} into ClickHouse (schema ${status.schemaVersion})`);
    return { requeueAfterMs: LAG_REFRESH_MS };
  }

  /**
   * When spec.enrich changes, the stored history is re-enriched by a backfillEnrichment workflow
   * (one per rules revision: its id deduplicates); status follows its progress. A new Pipeline
   * records its first rules without a backfill: there is no history enriched otherwise.
   */
  private async backfill(namespace: string, pipeline: Pipeline): Promise<PipelineBackfill> {
    const revision = hashOf(JSON.stringify(pipeline.spec.enrich ?? {}));
    const current = pipeline.status?.backfill;
    if (!current) return { revision, workflowId: '', state: 'Completed', processed: 0, total: 0 };
    const temporal = await this.ctx.temporal();
    const workflowId = backfillWorkflowId(namespace, pipeline.metadata.name!, revision);
    if (current.revision !== revision) {
      const input: BackfillInput = { namespace, pipeline: pipeline.metadata.name!, database: database(this.ctx.settings.databasePrefix, namespace), sources: pipeline.spec.sources, enrich: pipeline.spec.enrich ?? {}, revision };
      try {
        await temporal.workflow.start(backfillEnrichment, { taskQueue: taskQueue('enrichment', namespace), workflowId, args: [input] });
        this.ctx.events.normal(pipeline, 'BackfillStarted', `re-enriching stored events with the new rules (workflow ${workflowId})`);
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
      return { revision, workflowId, state: 'Running', processed: 0 };
    }
    if (current.state !== 'Running' || !current.workflowId) return current;
    const handle = temporal.workflow.getHandle<typeof backfillEnrichment>(current.workflowId);
    const description = await handle.describe();
    if (description.status.name === 'COMPLETED') {
      const result = await handle.result();
      this.ctx.events.normal(pipeline, 'BackfillCompleted', `re-enriched ${result.processed} events`);
      return { ...current, state: 'Completed', processed: result.processed, total: result.total };
    }
    if (description.status.name !== 'RUNNING' && description.status.name !== 'CONTINUED_AS_NEW') {
      this.ctx.events.warning(pipeline, 'BackfillFailed', `workflow ${current.workflowId} ended ${description.status.name}`);
      return { ...current, state: 'Failed' };
    }
    try {
      const progress = await handle.query(progressQuery);
      return { ...current, processed: progress.processed, total: progress.total };
    } catch {
      return current; // no worker has picked it up yet
    }
  }

  /** Events in the Sources' topics that the Pipeline's consumer group has not committed yet, and the sum of its committed offsets. */
  /**
   * The consumer lag, read within LAG_READ_MS: kafkajs retries a topic it cannot see (not created
   * yet, being deleted) for long, and a reconcile waiting on it would hold up every other Pipeline.
   */
  private lag(namespace: string, name: string, sources: string[]): Promise<{ lag: number; committed: number }> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`consumer lag not read within ${LAG_READ_MS / 1000} s`)), LAG_READ_MS);
    });
    return Promise.race([this.readLag(namespace, name, sources), late]).finally(() => clearTimeout(timer));
  }

  private async readLag(namespace: string, name: string, sources: string[]): Promise<{ lag: number; committed: number }> {
    const { kafka, settings } = this.ctx;
    const existing = new Set(await kafka.listTopics());
    const topics = sources.map((s) => sourceTopic(settings.topicPrefix, namespace, s)).filter((t) => existing.has(t));
    if (topics.length === 0) return { lag: 0, committed: 0 };
    const committed = await kafka.fetchOffsets({ groupId: pipelineGroup(settings.topicPrefix, namespace, name), topics });
    let lag = 0;
    let sum = 0;
    for (const topic of topics) {
      const ends = await kafka.fetchTopicOffsets(topic);
      const done = committed.find((c) => c.topic === topic)?.partitions ?? [];
      for (const p of ends) {
        const at = Number(done.find((d) => d.partition === p.partition)?.offset ?? -1);
        const from = at >= 0 ? at : Number(p.low);
        lag += Number(p.high) - from;
        sum += from;
      }
    }
    return { lag, committed: sum };
  }
}
