// The local runtime: what a kubelet (and kube-proxy, and the scheduler's binding) does for USPA's
// own Pods, on a machine without a container runtime. It registers a Node, binds USPA Pods to it,
// runs each Pod's container as a process of this checkout (the image is this code), reports
// readiness into Pod status — from which the real ReplicaSet and Deployment controllers derive
// Deployment status — and forwards each USPA Service to its ready Pods on a loopback port.
import { API, COLLECTOR, LOCAL_URL_ANNOTATION } from '../../api/names.ts';
import { mkdirSync, readFileSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig, type V1Container, type V1Pod, type V1Service } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { Logger } from '../../lib/log.ts';
import { apiMessage } from '../../lib/kubernetes/apply.ts';
import { ResourceInformer } from '../../lib/kubernetes/informer.ts';
import { findMarkedProcesses, terminate } from '../proc.ts';
import { PodProcess, freePort, materializeVolumes, rewritePaths, type LaunchPlan } from './pod-process.ts';

/** Services forwarded on their own port when it is free. */
const FRONT_DOORS = new Set([COLLECTOR, API]);

export const NODE_NAME = 'uspa-local';
export const POD_SELECTOR = 'app.kubernetes.io/part-of=uspa';
export const LOCAL_RUNTIME_TAINT = { key: 'uspa.tech/local-runtime', value: 'true', effect: 'NoSchedule' };

export interface RuntimeOptions {
  kc: KubeConfig;
  log: Logger;
  /** Where pods' files and logs go. */
  stateDir: string;
  repoRoot: string;
  /** Environment marker so `uspa stack down` also stops pod processes. */
  marker: string;
  nodeName?: string;
  /** Only this namespace's pods (tests); all namespaces when unset. */
  namespace?: string;
}

interface ProxyEntry {
  server: Server;
  url: string;
  next: number;
}

export class LocalRuntime {
  private readonly core: CoreV1Api;
  private readonly node: string;
  private readonly pods: ResourceInformer<V1Pod>;
  private readonly services: ResourceInformer<V1Service>;
  private readonly running = new Map<string, PodProcess>();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly statusTimers = new Map<string, NodeJS.Timeout>();
  private readonly proxies = new Map<string, ProxyEntry>();
  /** Pods whose start failed (e.g. a missing Secret): retried with backoff, not on every update. */
  private readonly backoff = new Map<string, { until: number; failures: number; timer?: NodeJS.Timeout }>();
  private heartbeat?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly o: RuntimeOptions) {
    this.core = o.kc.makeApiClient(CoreV1Api);
    this.node = o.nodeName ?? NODE_NAME;
    const ns = o.namespace;
    const base = ns ? `/api/v1/namespaces/${ns}` : '/api/v1';
    this.pods = new ResourceInformer<V1Pod>(o.kc, {
      name: 'pods',
      path: `${base}/pods`,
      labelSelector: POD_SELECTOR,
      list: () => (ns ? this.core.listNamespacedPod({ namespace: ns, labelSelector: POD_SELECTOR }) : this.core.listPodForAllNamespaces({ labelSelector: POD_SELECTOR })),
      resyncMs: 30_000,
      log: o.log,
    });
    this.services = new ResourceInformer<V1Service>(o.kc, {
      name: 'services',
      path: `${base}/services`,
      labelSelector: POD_SELECTOR,
      list: () => (ns ? this.core.listNamespacedService({ namespace: ns, labelSelector: POD_SELECTOR }) : this.core.listServiceForAllNamespaces({ labelSelector: POD_SELECTOR })),
      resyncMs: 30_000,
      log: o.log,
    });
  }

  async start(): Promise<void> {
    // Processes of a previous runtime that died without stopping them.
    const leftovers = findMarkedProcesses(this.o.marker.replace(/^USPA_STACK=/, ''));
    if (leftovers.length) {
      this.o.log.warn({ pids: leftovers }, 'stopping pod processes left by a previous runtime');
      await terminate(leftovers, 5_000);
    }
    await this.registerNode();
    this.heartbeat = setInterval(() => void this.nodeStatus(true).catch(() => undefined), 20_000);
    this.pods.onChange((pod, change) => this.enqueue(pod, change === 'delete'));
    this.services.onChange((svc, change) => void this.syncService(svc, change === 'delete').catch((err: unknown) => this.o.log.warn({ err: String(err) }, 'service proxy failed')));
    await this.pods.start();
    await this.services.start();
    this.o.log.info({ node: this.node }, 'local runtime ready: running USPA pods as local processes');
  }

  /** Loopback URL of a Service, once its proxy listens. */
  serviceUrl(namespace: string, name: string): string | undefined {
    return [...this.proxies.entries()].find(([k]) => k.startsWith(`${namespace}/${name}:`))?.[1].url;
  }

  processOf(namespace: string, pod: string): PodProcess | undefined {
    return this.running.get(`${namespace}/${pod}`);
  }

  get processCount(): number {
    return this.running.size;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeat);
    await this.pods.stop();
    await this.services.stop();
    for (const p of this.proxies.values()) p.server.close();
    await Promise.all([...this.running.values()].map((p) => p.stop(10_000)));
    for (const [key, p] of this.running) await this.writePodStatus(key, p).catch(() => undefined);
    this.running.clear();
    await this.nodeStatus(false).catch(() => undefined);
  }

  // Work on one pod is serialized: a chain of promises per pod key.
  private enqueue(pod: V1Pod, deleted: boolean): void {
    const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev
      .then(() => (this.stopped ? undefined : this.syncPod(key, pod, deleted)))
      .catch((err: unknown) => {
        const b = this.backoff.get(key) ?? { until: 0, failures: 0 };
        const delay = Math.min(1000 * 2 ** b.failures, 60_000);
        b.failures++;
        b.until = Date.now() + delay;
        clearTimeout(b.timer);
        b.timer = setTimeout(() => {
          const current = this.pods.get(pod.metadata!.name!, pod.metadata!.namespace);
          if (current) this.enqueue(current, false);
        }, delay);
        this.backoff.set(key, b);
        this.o.log.warn({ pod: key, err: apiMessage(err), retryInMs: delay }, 'cannot start pod');
      });
    this.chains.set(key, next);
  }

  private async syncPod(key: string, podEvent: V1Pod, deleted: boolean): Promise<void> {
    const [namespace, name] = key.split('/') as [string, string];
    const pod = deleted ? undefined : (this.pods.get(name, namespace) ?? podEvent);
    const proc = this.running.get(key);
    if (!pod) {
      if (proc) {
        await proc.stop(10_000);
        this.running.delete(key);
        this.o.log.info({ pod: key }, 'pod deleted: process stopped');
      }
      return;
    }
    if (!pod.spec?.nodeName) {
      if (pod.metadata?.deletionTimestamp) return;
      await this.core.createNamespacedPodBinding({ name, namespace, body: { metadata: { name, namespace }, target: { apiVersion: 'v1', kind: 'Node', name: this.node } } }).catch((err: unknown) => {
        if ((err as { code?: number }).code !== 409) throw err;
      });
      return; // the bound pod comes back through the watch
    }
    if (pod.spec.nodeName !== this.node) return;
    if (pod.metadata?.deletionTimestamp) {
      // The kubelet's part of deletion: stop the container, then remove the Pod for good.
      if (proc) {
        await proc.stop((pod.metadata.deletionGracePeriodSeconds ?? 30) * 1000);
        this.running.delete(key);
      }
      await this.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 }).catch(() => undefined);
      this.o.log.info({ pod: key }, 'pod terminated');
      return;
    }
    if (proc) return;
    if ((this.backoff.get(key)?.until ?? 0) > Date.now()) return;
    const plan = await this.plan(pod).catch(async (err: unknown) => {
      await this.core.patchNamespacedPodStatus({ name, namespace, body: [{ op: 'add', path: '/status', value: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }], containerStatuses: [{ name: pod.spec!.containers[0]!.name, ready: false, restartCount: 0, image: pod.spec!.containers[0]!.image, imageID: '', state: { waiting: { reason: 'CreateContainerConfigError', message: String((err as Error).message) } } }] } }] }).catch(() => undefined);
      throw err;
    });
    clearTimeout(this.backoff.get(key)?.timer);
    this.backoff.delete(key);
    // Stopped while the plan was made: a process started now would outlive the runtime (and,
    // restarted by its own backoff, keep the process that ran the runtime alive).
    if (this.stopped) return;
    const p = new PodProcess(pod, plan, () => this.statusSoon(key));
    this.running.set(key, p);
    p.start();
    this.o.log.info({ pod: key, pid: p.pid, ports: Object.fromEntries(plan.ports), log: plan.logFile }, 'pod started');
    for (const svc of this.services.list(namespace)) await this.syncService(svc, false).catch(() => undefined);
  }

  /** Env, files and ports of the pod's (single) container, resolved the way a kubelet would. */
  private async plan(pod: V1Pod): Promise<LaunchPlan> {
    const namespace = pod.metadata!.namespace!;
    const container: V1Container = pod.spec!.containers[0]!;
    const dir = join(this.o.stateDir, 'pods', `${namespace}_${pod.metadata!.name}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const secret = async (name: string) => {
      const s = await this.core.readNamespacedSecret({ name, namespace });
      return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
    };
    const configMap = async (name: string) => (await this.core.readNamespacedConfigMap({ name, namespace })).data ?? {};

    const files = new Map<string, Record<string, string>>();
    for (const v of pod.spec!.volumes ?? []) {
      if (v.configMap) files.set(v.name, await configMap(v.configMap.name!));
      else if (v.secret) files.set(v.name, await secret(v.secret.secretName!));
      else files.set(v.name, {});
    }
    const mounts = materializeVolumes(dir, container, files);

    const ports = new Map<number, number>();
    for (const p of container.ports ?? []) ports.set(p.containerPort, await freePort());
    const env: Record<string, string> = {};
    for (const e of container.env ?? []) {
      let value = e.value ?? '';
      const from = e.valueFrom;
      if (from?.secretKeyRef) value = (await secret(from.secretKeyRef.name!))[from.secretKeyRef.key] ?? '';
      else if (from?.configMapKeyRef) value = (await configMap(from.configMapKeyRef.name!))[from.configMapKeyRef.key] ?? '';
      else if (from?.fieldRef) {
        const f = from.fieldRef.fieldPath;
        value = f === 'metadata.name' ? pod.metadata!.name! : f === 'metadata.namespace' ? namespace : f === 'spec.nodeName' ? this.node : f === 'spec.serviceAccountName' ? (pod.spec!.serviceAccountName ?? 'default') : '127.0.0.1';
      }
      // A container listening on its containerPort listens on its local port here.
      if (e.name === 'PORT' && ports.has(Number(value))) value = String(ports.get(Number(value)));
      env[e.name] = rewritePaths(value, mounts);
    }
    if (pod.spec!.automountServiceAccountToken !== false) env.KUBECONFIG = await this.podKubeconfig(pod, dir);

    const probe = container.readinessProbe?.httpGet;
    const probePort = probe ? (typeof probe.port === 'number' ? probe.port : container.ports?.find((p) => p.name === probe.port)?.containerPort) : undefined;
    // The image is this checkout: its entrypoint is the uspa CLI.
    const cli = join(this.o.repoRoot, 'bin', 'uspa.js');
    const command = container.command?.length ? container.command : ['uspa'];
    const argv = [...command, ...(container.args ?? [])].map((a) => rewritePaths(a, mounts));
    return {
      command: process.execPath,
      args: argv[0] === 'uspa' ? [cli, ...argv.slice(1)] : argv,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info', ...env, [this.o.marker.split('=')[0]!]: this.o.marker.split('=').slice(1).join('=') },
      cwd: this.o.repoRoot,
      logFile: join(dir, `${container.name}.log`),
      ports,
      readinessPath: probe?.path,
      readinessPort: probePort ? ports.get(probePort) : undefined,
    };
  }

  /** A kubeconfig with a token of the pod's ServiceAccount: the pod gets exactly its RBAC, as in a cluster. */
  private async podKubeconfig(pod: V1Pod, dir: string): Promise<string> {
    const namespace = pod.metadata!.namespace!;
    const sa = pod.spec!.serviceAccountName ?? 'default';
    const token = await this.core.createNamespacedServiceAccountToken({ name: sa, namespace, body: { spec: { audiences: [], expirationSeconds: 24 * 3600, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: pod.metadata!.name, uid: pod.metadata!.uid } } } });
    const cluster = this.o.kc.getCurrentCluster()!;
    const ca = cluster.caData ?? (cluster.caFile ? readFileSync(cluster.caFile).toString('base64') : undefined);
    const file = join(dir, 'kubeconfig');
    const config = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'local', cluster: { server: cluster.server, ...(ca ? { 'certificate-authority-data': ca } : { 'insecure-skip-tls-verify': true }) } }],
      users: [{ name: sa, user: { token: token.status!.token } }],
      contexts: [{ name: 'pod', context: { cluster: 'local', user: sa, namespace } }],
      'current-context': 'pod',
    };
    (await import('node:fs')).writeFileSync(file, stringify(config), { mode: 0o600 });
    return file;
  }

  private statusSoon(key: string): void {
    clearTimeout(this.statusTimers.get(key));
    this.statusTimers.set(
      key,
      setTimeout(() => {
        const p = this.running.get(key);
        if (p) void this.writePodStatus(key, p).catch((err: unknown) => this.o.log.debug({ pod: key, err: String(err) }, 'pod status write failed'));
      }, 100),
    );
    for (const svc of this.services.list(key.split('/')[0])) void this.syncService(svc, false).catch(() => undefined);
  }

  private async writePodStatus(key: string, p: PodProcess): Promise<void> {
    const [namespace, name] = key.split('/') as [string, string];
    const s = p.state;
    const ready = s.ready && s.running && !this.stopped;
    const container = p.pod.spec!.containers[0]!;
    const current = this.pods.get(name, namespace)?.status;
    const since = (type: string, status: string) => {
      const c = current?.conditions?.find((x) => x.type === type);
      return c && c.status === status && c.lastTransitionTime ? new Date(c.lastTransitionTime).toISOString() : new Date().toISOString();
    };
    const flag = (b: boolean) => (b ? 'True' : 'False');
    const status = {
      phase: 'Running',
      hostIP: '127.0.0.1',
      podIP: '127.0.0.1',
      podIPs: [{ ip: '127.0.0.1' }],
      startTime: current?.startTime ? new Date(current.startTime).toISOString() : new Date().toISOString(),
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: since('PodScheduled', 'True') },
        { type: 'Initialized', status: 'True', lastTransitionTime: since('Initialized', 'True') },
        { type: 'ContainersReady', status: flag(ready), lastTransitionTime: since('ContainersReady', flag(ready)) },
        { type: 'Ready', status: flag(ready), lastTransitionTime: since('Ready', flag(ready)) },
      ],
      containerStatuses: [
        {
          name: container.name,
          image: container.image,
          imageID: 'local-checkout',
          containerID: p.pid ? `local://${p.pid}` : undefined,
          ready,
          started: s.running,
          restartCount: s.restartCount,
          state: s.running ? { running: { startedAt: s.startedAt?.toISOString() } } : { waiting: { reason: s.waitingReason ?? (this.stopped ? 'RuntimeStopped' : 'ContainerCreating') } },
          lastState: s.lastExit ? { terminated: { exitCode: s.lastExit.code ?? 137, signal: s.lastExit.signal ? 9 : undefined, reason: s.lastExit.code === 0 ? 'Completed' : 'Error', finishedAt: s.lastExit.at.toISOString() } } : {},
        },
      ],
    };
    await this.core.patchNamespacedPodStatus({ name, namespace, body: [{ op: 'add', path: '/status', value: status }] });
  }

  private async syncService(svc: V1Service, deleted: boolean): Promise<void> {
    const namespace = svc.metadata!.namespace!;
    const name = svc.metadata!.name!;
    for (const port of svc.spec?.ports ?? []) {
      const key = `${namespace}/${name}:${port.port}`;
      if (deleted) {
        this.proxies.get(key)?.server.close();
        this.proxies.delete(key);
        continue;
      }
      if (this.proxies.has(key)) continue;
      const entry: ProxyEntry = { server: createServer(), url: '', next: 0 };
      this.proxies.set(key, entry);
      entry.server.on('connection', (socket) => {
        const backends = this.backends(svc, port.targetPort ?? port.port);
        if (backends.length === 0) return socket.destroy();
        const target = backends[entry.next++ % backends.length]!;
        const upstream = createConnection({ host: '127.0.0.1', port: target });
        socket.pipe(upstream).pipe(socket);
        const close = () => {
          socket.destroy();
          upstream.destroy();
        };
        socket.on('error', close);
        upstream.on('error', close);
      });
      // The product's front doors (collector, API) take their Service's own port when it is free on
      // this machine (one namespace), so the URLs people are told hold; every other Service (the
      // operator's metrics share the API's 8081) takes any free port, and cannot race them for it.
      const frontDoor = FRONT_DOORS.has(name);
      const listen = (p: number) => new Promise<number>((resolve, reject) => {
        entry.server.once('error', reject);
        entry.server.listen(p, '127.0.0.1', () => {
          entry.server.off('error', reject);
          const a = entry.server.address();
          resolve(typeof a === 'object' && a ? a.port : p);
        });
      });
      const bound = frontDoor ? await listen(port.port).catch(() => listen(0)) : await listen(0);
      entry.url = `http://127.0.0.1:${bound}`;
      const annotations = svc.metadata?.annotations;
      await this.core.patchNamespacedService({
        name,
        namespace,
        body: annotations ? [{ op: 'add', path: `/metadata/annotations/${LOCAL_URL_ANNOTATION.replace('/', '~1')}`, value: entry.url }] : [{ op: 'add', path: '/metadata/annotations', value: { [LOCAL_URL_ANNOTATION]: entry.url } }],
      });
      this.o.log.info({ service: `${namespace}/${name}`, port: port.port, url: entry.url }, 'service forwarded on loopback');
    }
  }

  /** Local ports of the ready pods a Service selects. */
  private backends(svc: V1Service, targetPort: number | string): number[] {
    const selector = svc.spec?.selector ?? {};
    const out: number[] = [];
    for (const p of this.running.values()) {
      if (p.pod.metadata?.namespace !== svc.metadata?.namespace || !p.state.ready) continue;
      const labels = p.pod.metadata?.labels ?? {};
      if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) continue;
      const containerPorts = p.pod.spec!.containers[0]!.ports ?? [];
      const cp = typeof targetPort === 'number' ? targetPort : containerPorts.find((c) => c.name === targetPort)?.containerPort;
      const local = cp !== undefined ? p.localPort(cp) : undefined;
      if (local) out.push(local);
    }
    return out;
  }

  private async registerNode(): Promise<void> {
    // Tainted so that a real scheduler (the stack's node engine) never binds Pods here: this runtime binds its own.
    const taints = [LOCAL_RUNTIME_TAINT];
    try {
      const existing = await this.core.readNode({ name: this.node });
      if (!existing.spec?.taints?.some((t) => t.key === LOCAL_RUNTIME_TAINT.key)) {
        await this.core.patchNode({ name: this.node, body: [{ op: 'add', path: '/spec/taints', value: [...(existing.spec?.taints ?? []), ...taints] }] });
      }
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
      await this.core.createNode({ body: { metadata: { name: this.node, labels: { 'kubernetes.io/hostname': this.node, 'kubernetes.io/os': 'linux', 'uspa.tech/local-runtime': 'true' } }, spec: { taints } } });
    }
    await this.nodeStatus(true);
  }

  private async nodeStatus(ready: boolean): Promise<void> {
    const now = new Date().toISOString();
    await this.core.patchNodeStatus({
      name: this.node,
      body: [
        {
          op: 'add',
          path: '/status',
          value: {
            conditions: [{ type: 'Ready', status: ready ? 'True' : 'Unknown', reason: ready ? 'LocalRuntimeReady' : 'LocalRuntimeStopped', message: ready ? 'uspa runtime runs USPA pods as local processes' : 'uspa runtime is not running', lastHeartbeatTime: now, lastTransitionTime: now }],
            addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: this.node }],
            capacity: { cpu: '2', memory: '24Gi', pods: '110' },
            allocatable: { cpu: '2', memory: '24Gi', pods: '110' },
            nodeInfo: { kubeletVersion: 'uspa-local-runtime', architecture: process.arch, operatingSystem: 'linux', containerRuntimeVersion: 'local-process://', kernelVersion: '', osImage: '', kubeProxyVersion: '', machineID: '', systemUUID: '', bootID: '' },
          },
        },
      ],
    });
  }
}
