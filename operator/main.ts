// `uspa operator`: leader election, informers, one controller per kind, probes and metrics.
import { once } from 'node:events';
import { AppsV1Api, CustomObjectsApi, KubeConfig, type KubernetesListObject, type KubernetesObject, type V1Deployment } from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { Gauge } from 'prom-client';
import { connectKafka } from '../lib/kafka.ts';
import { createLogger, type Logger } from '../lib/log.ts';
import { createRegistry, probeApp } from '../lib/service.ts';
import { GROUP, VERSION, type Activation, type ApiKey, type Pipeline, type PrivacyRequest, type Personalization, type Segment, type Source } from '../api/v1alpha1/index.ts';
import { type Caches, OperatorContext } from './context.ts';
import { ActivationReconciler } from './controllers/activation.ts';
import { PersonalizationReconciler } from './controllers/personalization.ts';
import { ApiKeyReconciler } from './controllers/apikey.ts';
import { PrivacyRequestReconciler } from './controllers/privacyrequest.ts';
import { PipelineReconciler } from './controllers/pipeline.ts';
import { SegmentReconciler, segmentReferences } from './controllers/segment.ts';
import { SourceReconciler } from './controllers/source.ts';
import { OPERATOR_LEASE } from '../api/names.ts';
import { Applier, FIELD_MANAGER } from '../lib/kubernetes/apply.ts';
import { Controller, controllerMetrics } from './machinery/controller.ts';
import { EventRecorder } from './machinery/events.ts';
import { ResourceInformer } from '../lib/kubernetes/informer.ts';
import { LeaderElector } from './machinery/leader.ts';
import { OPERATOR_VERSION, type OperatorSettings, settingsFromEnv } from './settings.ts';
import { applyCrds } from './crds.ts';
import { temporalTls } from '../lib/tls.ts';

export interface RunningOperator {
  port: number;
  isLeader(): boolean;
  /** Resolves when this replica leads and its caches have synced. */
  leading: Promise<void>;
  close(): Promise<void>;
}

function customInformer<T extends KubernetesObject>(kc: KubeConfig, plural: string, resyncMs: number, log: Logger, namespace?: string): ResourceInformer<T> {
  const api = kc.makeApiClient(CustomObjectsApi);
  return new ResourceInformer<T>(kc, {
    name: plural,
    path: namespace ? `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${plural}` : `/apis/${GROUP}/${VERSION}/${plural}`,
    list: () => (namespace ? api.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural, namespace }) : api.listClusterCustomObject({ group: GROUP, version: VERSION, plural })) as Promise<KubernetesListObject<T>>,
    resyncMs,
    log,
  });
}

export async function startOperator(options: { settings?: OperatorSettings; kubeConfig?: KubeConfig; log?: Logger; onLostLeadership?: () => void } = {}): Promise<RunningOperator> {
  const settings = options.settings ?? settingsFromEnv();
  const log = options.log ?? createLogger('operator');
  const kc = options.kubeConfig ?? new KubeConfig();
  if (!options.kubeConfig) kc.loadFromDefault();

  const registry = createRegistry('operator');
  const leaderGauge = new Gauge({ name: 'uspa_operator_leader', help: '1 when this replica is the active leader', registers: [registry] });
  let synced = false;
  let elector: LeaderElector | undefined;
  const server = probeApp(registry, {
    // A standby is ready (it is doing its job: waiting); a leader is ready once its caches synced.
    ready: () => (elector && !elector.isLeader ? undefined : synced ? undefined : 'caches not synced yet'),
  }).listen(settings.port, settings.host);
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : settings.port;

  let closing = false;
  let inner: { stop(): Promise<void> } | undefined;
  const leading = (async () => {
    if (settings.leaderElection) {
      elector = new LeaderElector(kc, { namespace: settings.namespace, name: OPERATOR_LEASE, identity: settings.identity, log });
      await elector.acquire(() => {
        leaderGauge.set(0);
        log.error('lost leadership: exiting so that only one replica reconciles');
        (options.onLostLeadership ?? (() => process.exit(1)))();
      });
    }
    if (closing) return;
    leaderGauge.set(1);
    inner = await runControllers(kc, settings, log, registry);
    synced = true;
  })();
  leading.catch((err: unknown) => {
    if (!closing) log.error({ err: String(err) }, 'operator failed to start');
  });

  return {
    port,
    isLeader: () => !settings.leaderElection || Boolean(elector?.isLeader),
    leading,
    async close() {
      closing = true;
      await inner?.stop();
      await elector?.release();
      leaderGauge.set(0);
      server.close();
    },
  };
}

async function runControllers(kc: KubeConfig, settings: OperatorSettings, log: Logger, registry: ReturnType<typeof createRegistry>): Promise<{ stop(): Promise<void> }> {
  // Helm never upgrades its crds/: the leader brings them to this version before watching them.
  if (settings.applyCrds) await applyCrds(new Applier(kc), OPERATOR_VERSION, log);
  const apps = kc.makeApiClient(AppsV1Api);
  const ns = settings.watchNamespace;
  const managed = `app.kubernetes.io/managed-by=${FIELD_MANAGER}`;
  const caches: Caches = {
    sources: customInformer<Source>(kc, 'sources', settings.resyncMs, log, ns),
    pipelines: customInformer<Pipeline>(kc, 'pipelines', settings.resyncMs, log, ns),
    segments: customInformer<Segment>(kc, 'segments', settings.resyncMs, log, ns),
    activations: customInformer<Activation>(kc, 'activations', settings.resyncMs, log, ns),
    apikeys: customInformer<ApiKey>(kc, 'apikeys', settings.resyncMs, log, ns),
    privacyrequests: customInformer<PrivacyRequest>(kc, 'privacyrequests', settings.resyncMs, log, ns),
    personalizations: customInformer<Personalization>(kc, 'personalizations', settings.resyncMs, log, ns),
    deployments: new ResourceInformer<V1Deployment>(kc, {
      name: 'deployments',
      path: ns ? `/apis/apps/v1/namespaces/${ns}/deployments` : '/apis/apps/v1/deployments',
      labelSelector: managed,
      list: () => (ns ? apps.listNamespacedDeployment({ namespace: ns, labelSelector: managed }) : apps.listDeploymentForAllNamespaces({ labelSelector: managed })),
      log,
    }),
    // No Secret informer: Secrets are read by name when a reconcile needs one (see SECRET_RECHECK_MS).
  };

  const kafka = connectKafka({ ...settings.engines?.kafka, brokers: settings.kafkaBrokers, clientId: 'uspa-operator' }, log, { requestTimeoutMs: 10_000 }).admin();
  await kafka.connect();
  let temporal: Promise<Client> | undefined;
  const temporalClient = () => {
    temporal ??= Connection.connect({ address: settings.temporal.address, connectTimeout: 5_000, tls: settings.engines?.temporal?.tls ? temporalTls(settings.engines.temporal.tls.files, settings.engines.temporal.tls.serverName) : undefined })
      .then((connection) => new Client({ connection, namespace: settings.temporal.namespace }))
      .catch((err: unknown) => {
        temporal = undefined;
        throw err;
      });
    return temporal;
  };
  const ctx = new OperatorContext(kc, settings, log, new Applier(kc), new EventRecorder(kc, 'uspa-operator', log), caches, kafka, temporalClient);
  // A rotated ClickHouse password reaches every workload of the namespace, not only the one that noticed.
  ctx.onCredentialsRotated = (ns) => {
    for (const p of caches.pipelines.list(ns)) controllers.Pipeline.enqueue(ns, p.metadata.name);
    for (const s of caches.segments.list(ns)) controllers.Segment.enqueue(ns, s.metadata.name);
    for (const a of caches.activations.list(ns)) controllers.Activation.enqueue(ns, a.metadata.name);
  };
  const metrics = controllerMetrics(registry);
  const segments = new SegmentReconciler(ctx);
  const controllers = {
    Source: new Controller(new SourceReconciler(ctx), metrics, log),
    Pipeline: new Controller(new PipelineReconciler(ctx, registry), metrics, log),
    Segment: new Controller(segments, metrics, log),
    Activation: new Controller(new ActivationReconciler(ctx), metrics, log),
    ApiKey: new Controller(new ApiKeyReconciler(ctx), metrics, log),
    PrivacyRequest: new Controller(new PrivacyRequestReconciler(ctx), metrics, log),
    Personalization: new Controller(new PersonalizationReconciler(ctx), metrics, log),
  };

  // What each change wakes: the object itself, and whatever refers to it.
  caches.sources.onChange((s) => {
    const ns = s.metadata?.namespace;
    controllers.Source.enqueue(ns, s.metadata?.name);
    for (const p of caches.pipelines.list(ns)) if (p.spec.sources.includes(s.metadata!.name!)) controllers.Pipeline.enqueue(ns, p.metadata.name);
  });
  const pipelineSpecsSeen = new Map<string, string>();
  caches.pipelines.onChange((p) => {
    const ns = p.metadata?.namespace;
    controllers.Pipeline.enqueue(ns, p.metadata?.name);
    // The first Pipeline starts the namespace's API gateway and the last one ends it: ApiKeys say so.
    for (const k of caches.apikeys.list(ns)) controllers.ApiKey.enqueue(ns, k.metadata.name);
    // Only a change of the spec (not the status the operator writes, which would wake the Sources,
    // whose status wakes this Pipeline again): a Source's required consent purpose must be declared
    // by the Pipelines reading it, and the activations worker's default consent category follows them.
    const key = `${ns}/${p.metadata?.name}`;
    const seen = `${p.metadata?.generation}/${p.metadata?.deletionTimestamp ? 'deleting' : ''}`;
    if (pipelineSpecsSeen.get(key) === seen) return;
    pipelineSpecsSeen.set(key, seen);
    for (const s of p.spec?.sources ?? []) controllers.Source.enqueue(ns, s);
    const first = caches.activations.list(ns)[0];
    if (first) controllers.Activation.enqueue(ns, first.metadata.name);
  });
  caches.apikeys.onChange((k) => controllers.ApiKey.enqueue(k.metadata?.namespace, k.metadata?.name));
  caches.privacyrequests.onChange((r) => controllers.PrivacyRequest.enqueue(r.metadata?.namespace, r.metadata?.name));
  caches.personalizations.onChange((r) => controllers.Personalization.enqueue(r.metadata?.namespace, r.metadata?.name));
  caches.segments.onChange((s) => {
    const ns = s.metadata?.namespace;
    const name = s.metadata!.name!;
    controllers.Segment.enqueue(ns, name);
    for (const other of caches.segments.list(ns)) if (other.metadata.name !== name && segmentReferences(other).includes(name)) controllers.Segment.enqueue(ns, other.metadata.name);
    for (const a of caches.activations.list(ns)) if (a.spec.segment === name) controllers.Activation.enqueue(ns, a.metadata.name);
    for (const r of caches.personalizations.list(ns)) controllers.Personalization.enqueue(ns, r.metadata.name);
  });
  caches.activations.onChange((a) => controllers.Activation.enqueue(a.metadata?.namespace, a.metadata?.name));
  caches.deployments.onChange((d) => {
    const owners = d.metadata?.ownerReferences ?? [];
    // A Pipeline's or Source's Deployment wakes its owners; a shared worker needs one owner re-applying it.
    for (const ref of owners) if (ref.kind === 'Source' || ref.kind === 'Pipeline') controllers[ref.kind].enqueue(d.metadata?.namespace, ref.name);
    const worker = owners.find((ref) => ref.kind === 'Segment' || ref.kind === 'Activation');
    if (worker) controllers[worker.kind as 'Segment' | 'Activation'].enqueue(d.metadata?.namespace, worker.name);
  });
  // No reconcile before every cache has synced: a half-filled cache would look like deletions.
  await Promise.all(Object.values(caches).map((c: ResourceInformer<KubernetesObject>) => c.start()));
  for (const c of Object.values(controllers)) c.start();
  const stopVersionWatch = segments.watchVersions((ns, name) => controllers.Segment.enqueue(ns, name));
  log.info({ kinds: Object.keys(controllers) }, 'caches synced; reconciling');

  return {
    async stop() {
      stopVersionWatch();
      await Promise.all(Object.values(controllers).map((c) => c.stop()));
      await Promise.all(Object.values(caches).map((c: ResourceInformer<KubernetesObject>) => c.stop()));
      await kafka.disconnect();
      await (await temporal?.catch(() => undefined))?.connection.close();
      await ctx.close();
    },
  };
}


/** The container entrypoint. */
export async function serveOperator(): Promise<void> {
  const log = createLogger('operator');
  let running: RunningOperator;
  try {
    running = await startOperator({ log });
  } catch (err) {
    log.fatal({ err: String((err as Error).message ?? err) }, 'operator failed to start');
    process.exit(1);
  }
  log.info({ port: running.port }, 'operator started (probes and /metrics)');
  const stop = async () => {
    log.info('shutting down: finishing reconciles in flight, releasing the lease');
    const timer = setTimeout(() => process.exit(1), 20_000);
    await running.close();
    clearTimeout(timer);
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}
