import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StackError } from '../errors.ts';
import { GO_TOOLS, installGoTool } from '../go-tool.ts';
import { installOnce, step } from '../install.ts';
import { cacheRoot } from '../paths.ts';
import { capture, spawnDaemon } from '../proc.ts';
import { KUBERNETES_VERSION, KUBERNETES_MODULE_DIR, goBuild, kubeletClientCa } from './kubernetes.ts';
import { httpGet, waitFor } from './health.ts';
import type { Engine, InstallContext, ProcessInfo, StartContext } from './engine.ts';
import { NAT_CHAIN, NODE_NAME, NODE_NETWORK, PAUSE_IMAGE, cniConflist, containerdConfig, corefile, forwards, kubeletConfig, natRules, type NodeFolders } from './node/config.ts';

const FOLDER = `kubernetes-node-${KUBERNETES_VERSION}`;
const PAUSE_FOLDER = 'pause-3.10';
/** Debian packages the node runs on; installed with apt-get when missing (root only). */
const PACKAGES: Array<{ pkg: string; probe: string }> = [
  { pkg: 'containerd', probe: '/usr/bin/containerd' },
  { pkg: 'runc', probe: '/usr/sbin/runc' },
  { pkg: 'containernetworking-plugins', probe: '/usr/lib/cni/bridge' },
  { pkg: 'iptables', probe: '/usr/sbin/iptables' },
  { pkg: 'conntrack', probe: '/usr/sbin/conntrack' },
  { pkg: 'buildah', probe: '/usr/bin/buildah' },
];
const CNI_BIN_DIR = '/usr/lib/cni';
const aptHint = 'check that Debian\'s package mirror is reachable (`apt-get update`), then run `uspa stack up --node` again';

function requireRoot(): void {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    throw new StackError('the node engine (a real kubelet with containerd) needs root on Linux', 'run `uspa stack up` without --node for the local runtime, or run it as root');
  }
}

async function installPackages(ctx: InstallContext): Promise<void> {
  const missing = PACKAGES.filter((p) => !existsSync(p.probe)).map((p) => p.pkg);
  if (missing.length === 0) return;
  ctx.progress.say('node', `installing Debian packages: ${missing.join(', ')}`);
  const log = join(ctx.logDir, 'install-node-packages.log');
  const env = { ...ctx.env, DEBIAN_FRONTEND: 'noninteractive' };
  await step('apt-get update', aptHint, 'apt-get', ['update', '-q'], { logFile: log, env });
  await step(`installing ${missing.join(', ')}`, aptHint, 'apt-get', ['install', '-y', '-q', ...missing], { logFile: log, env });
}

/** The sandbox ("pause") image, built from the pause.c that ships in the Kubernetes module: no registry needed. */
async function installPause(ctx: InstallContext): Promise<string> {
  const dir = await installOnce(ctx, PAUSE_FOLDER, async (tmp) => {
    const log = join(ctx.logDir, 'install-pause.log');
    const mod = await capture('go', ['list', '-m', '-f', '{{.Dir}}', 'k8s.io/kubernetes'], { cwd: KUBERNETES_MODULE_DIR, env: { ...ctx.env, GOFLAGS: '-mod=readonly' } });
    if (mod.code !== 0) throw new StackError('could not find the Kubernetes module for pause.c', 'run `uspa stack up` once without --node so the module is downloaded', mod.stderr);
    const source = join(mod.stdout.trim(), 'build', 'pause', 'linux', 'pause.c');
    ctx.progress.say('node', 'building the pause image');
    await step('compiling pause.c', 'install gcc (Debian package gcc)', 'gcc', ['-Os', '-static', '-DVERSION=3.10', '-o', join(tmp, 'pause'), source], { logFile: log, env: ctx.env });
    const buildah = ['--storage-driver', 'vfs', '--root', join(tmp, 'storage'), '--runroot', join(tmp, 'runroot')];
    const from = await capture('buildah', [...buildah, 'from', 'scratch'], { env: ctx.env });
    if (from.code !== 0) throw new StackError('buildah could not start the pause image', 'check that buildah works as root (`buildah --storage-driver vfs from scratch`)', from.stderr);
    const container = from.stdout.trim();
    await step('adding pause to the image', 'see the log', 'buildah', [...buildah, 'copy', container, join(tmp, 'pause'), '/pause'], { logFile: log, env: ctx.env });
    await step('configuring the pause image', 'see the log', 'buildah', [...buildah, 'config', '--entrypoint', '["/pause"]', '--user', '65535:65535', container], { logFile: log, env: ctx.env });
    await step('committing the pause image', 'see the log', 'buildah', [...buildah, 'commit', '-q', container, PAUSE_IMAGE], { logFile: log, env: ctx.env });
    await step('writing the pause archive', 'see the log', 'buildah', [...buildah, 'push', '-q', PAUSE_IMAGE, `oci-archive:${join(tmp, 'pause.tar')}:${PAUSE_IMAGE}`], { logFile: log, env: ctx.env });
    rmSync(join(tmp, 'storage'), { recursive: true, force: true });
    rmSync(join(tmp, 'runroot'), { recursive: true, force: true });
  });
  return join(dir, 'pause.tar');
}

/** One setup command of the node, through the stack's install step (its log, its error with the tail). */
function sh(what: string, cmd: string, args: string[], log: string, env: NodeJS.ProcessEnv): Promise<void> {
  return step(what, `read ${log}`, cmd, args, { logFile: log, env });
}

/** Quiet probes (iptables -C, ip link show) whose failure means "not there yet". */
async function succeeds(cmd: string, args: string[]): Promise<boolean> {
  return (await capture(cmd, args, {})).code === 0;
}

async function setUpNetwork(ctx: StartContext, apiServerPort: number, enginePorts: Array<{ what: string; port: number }>, log: string): Promise<void> {
  const { bridge, gateway } = NODE_NETWORK;
  // The bridge exists before the first Pod, so the gateway address can be forwarded at once.
  if (!(await succeeds('ip', ['link', 'show', bridge]))) await sh('creating the Pod bridge', 'ip', ['link', 'add', bridge, 'type', 'bridge'], log, ctx.env);
  if (!(await capture('ip', ['-4', 'addr', 'show', 'dev', bridge], {})).stdout.includes(`${gateway}/`)) {
    await sh('addressing the Pod bridge', 'ip', ['addr', 'add', `${gateway}/24`, 'dev', bridge], log, ctx.env);
  }
  await sh('bringing the Pod bridge up', 'ip', ['link', 'set', bridge, 'up'], log, ctx.env);
  const sysctls: Array<[string, string]> = [['net.ipv4.ip_forward', '1'], [`net.ipv4.conf.${bridge}.route_localnet`, '1'], ['net.bridge.bridge-nf-call-iptables', '1']];
  for (const [key, value] of sysctls) {
    writeFileSync(`/proc/sys/${key.replace(/\./g, '/')}`, value);
  }
  if (!(await succeeds('iptables', ['-t', 'nat', '-n', '-L', NAT_CHAIN]))) await sh('creating the nat chain', 'iptables', ['-t', 'nat', '-N', NAT_CHAIN], log, ctx.env);
  await sh('emptying the nat chain', 'iptables', ['-t', 'nat', '-F', NAT_CHAIN], log, ctx.env);
  if (!(await succeeds('iptables', ['-t', 'nat', '-C', 'PREROUTING', '-j', NAT_CHAIN]))) {
    await sh('hooking the nat chain', 'iptables', ['-t', 'nat', '-I', 'PREROUTING', '1', '-j', NAT_CHAIN], log, ctx.env);
  }
  for (const rule of natRules(forwards({ apiServer: apiServerPort, engines: enginePorts }))) await sh('forwarding an engine port to Pods', 'iptables', rule, log, ctx.env);
}

function portOf(address: string | undefined): number | undefined {
  const m = address?.match(/:(\d+)(?:\/|$)/);
  return m ? Number(m[1]) : undefined;
}

/**
 * A real Kubernetes node on this machine: containerd and runc run the Pods' containers, the bridge
 * CNI plugin gives each Pod an address, kube-scheduler binds Pods to the node, kube-proxy programs
 * Services, CoreDNS answers *.svc names. Pods reach the stack's loopback engines at the bridge's
 * gateway address (NAT), the API server at the `kubernetes` Service address. Needs root on Linux.
 */
export const node: Engine = {
  name: 'node',
  externalVariable: 'USPA_EXTERNAL_NODE',
  toolchains: ['go'],
  startsLast: true,

  async install(ctx) {
    requireRoot();
    await installPackages(ctx);
    await installOnce(ctx, FOLDER, (tmp) =>
      goBuild(ctx, `kubelet, kube-scheduler, kube-proxy ${KUBERNETES_VERSION}`, ['k8s.io/kubernetes/cmd/kubelet', 'k8s.io/kubernetes/cmd/kube-scheduler', 'k8s.io/kubernetes/cmd/kube-proxy'], join(tmp, 'bin')),
    );
    await installGoTool(ctx, GO_TOOLS.coredns);
    await installPause(ctx);
  },

  async start(ctx, others = {}) {
    requireRoot();
    const bin = join(ctx.cache, FOLDER, 'bin');
    const coredns = await installGoTool({ cache: ctx.cache, progress: ctx.progress, logDir: ctx.runDir, env: ctx.env }, GO_TOOLS.coredns);
    const pauseArchive = join(ctx.cache, PAUSE_FOLDER, 'pause.tar');
    const kubeconfig = others.KUBECONFIG;
    if (!kubeconfig) throw new StackError('the node engine needs the stack\'s Kubernetes API server', 'start it with the kubernetes engine (do not pass --only without kubernetes)');
    const apiServerPort = portOf(readFileSync(kubeconfig, 'utf8').match(/server: (\S+)/)?.[1]);
    if (!apiServerPort) throw new StackError(`no API server address in ${kubeconfig}`, 'run `uspa stack down` and `uspa stack up --node` again');
    const enginePorts = [
      { what: 'clickhouse', port: portOf(others.CLICKHOUSE_URL) },
      { what: 'temporal', port: portOf(others.TEMPORAL_ADDRESS) },
      { what: 'kafka', port: portOf(others.KAFKA_POD_BROKERS) },
    ].filter((e): e is { what: string; port: number } => e.port !== undefined);

    const run = join(ctx.runDir, 'node');
    const data = join(ctx.dataDir, 'node');
    const folders: NodeFolders = {
      containerdRoot: join(data, 'containerd'),
      containerdState: join(run, 'containerd'),
      socket: join(run, 'containerd.sock'),
      cniConfDir: join(run, 'cni'),
      cniBinDir: CNI_BIN_DIR,
      kubeletRoot: join(data, 'kubelet'),
      podLogs: join(run, 'pods'),
    };
    for (const dir of [run, folders.containerdRoot, folders.containerdState, folders.cniConfDir, folders.kubeletRoot, folders.podLogs]) mkdirSync(dir, { recursive: true });
    const log = join(run, 'setup.log');
    const processes: ProcessInfo[] = [];
    ctx.progress.say('node', 'network: bridge, forwarding, NAT to the engines');
    await setUpNetwork(ctx, apiServerPort, enginePorts, log);

    writeFileSync(join(run, 'containerd.toml'), containerdConfig(folders));
    writeFileSync(join(folders.cniConfDir, '10-uspa.conflist'), cniConflist());
    const containerdLog = join(run, 'containerd.log');
    const containerdPid = spawnDaemon('containerd', ['--config', join(run, 'containerd.toml')], { env: ctx.env, logFile: containerdLog });
    processes.push({ name: 'containerd', pid: containerdPid, log: containerdLog });
    const ctr = ['--address', folders.socket, '--namespace', 'k8s.io'];
    await waitFor('containerd', { pid: containerdPid, log: containerdLog, timeoutMs: 60_000 }, async () => (await capture('ctr', [...ctr, 'version'], {})).code === 0);
    if (!(await capture('ctr', [...ctr, 'images', 'ls', '-q'], {})).stdout.includes(PAUSE_IMAGE)) {
      await sh('importing the pause image', 'ctr', [...ctr, 'images', 'import', pauseArchive], log, ctx.env);
    }

    const schedulerPort = await ctx.ports.get('kube-scheduler');
    const schedulerLog = join(run, 'kube-scheduler.log');
    const schedulerPid = spawnDaemon(join(bin, 'kube-scheduler'), [
      '--kubeconfig', kubeconfig, '--authentication-kubeconfig', kubeconfig, '--authorization-kubeconfig', kubeconfig,
      '--bind-address', '127.0.0.1', '--secure-port', String(schedulerPort), '--leader-elect=false', '--v=1',
    ], { env: ctx.env, logFile: schedulerLog });
    processes.push({ name: 'kube-scheduler', pid: schedulerPid, log: schedulerLog });

    const proxyHealth = await ctx.ports.get('kube-proxy-healthz');
    const proxyMetrics = await ctx.ports.get('kube-proxy-metrics');
    const proxyLog = join(run, 'kube-proxy.log');
    const proxyPid = spawnDaemon(join(bin, 'kube-proxy'), [
      '--kubeconfig', kubeconfig, '--hostname-override', NODE_NAME, '--proxy-mode', 'iptables', '--cluster-cidr', NODE_NETWORK.cidr,
      '--healthz-bind-address', `127.0.0.1:${proxyHealth}`, '--metrics-bind-address', `127.0.0.1:${proxyMetrics}`,
      // Leave the machine's conntrack table size alone.
      '--conntrack-max-per-core', '0', '--v=1',
    ], { env: ctx.env, logFile: proxyLog });
    processes.push({ name: 'kube-proxy', pid: proxyPid, log: proxyLog });

    const dnsHealth = await ctx.ports.get('coredns-health');
    const dnsReady = await ctx.ports.get('coredns-ready');
    writeFileSync(join(run, 'Corefile'), corefile({ kubeconfig, healthPort: dnsHealth, readyPort: dnsReady }));
    const dnsLog = join(run, 'coredns.log');
    const dnsPid = spawnDaemon(coredns, ['-conf', join(run, 'Corefile')], { env: ctx.env, logFile: dnsLog });
    processes.push({ name: 'coredns', pid: dnsPid, log: dnsLog });

    const kubeletPort = await ctx.ports.get('kubelet');
    const kubeletHealth = await ctx.ports.get('kubelet-healthz');
    writeFileSync(join(run, 'kubelet.yaml'), kubeletConfig(folders, { kubelet: kubeletPort, healthz: kubeletHealth, clientCa: kubeletClientCa(ctx.dataDir) }));
    const kubeletLog = join(run, 'kubelet.log');
    const kubeletPid = spawnDaemon(join(bin, 'kubelet'), [
      '--config', join(run, 'kubelet.yaml'), '--kubeconfig', kubeconfig, '--root-dir', folders.kubeletRoot,
      '--hostname-override', NODE_NAME, '--node-ip', NODE_NETWORK.gateway, '--v=1',
    ], { env: ctx.env, logFile: kubeletLog });
    processes.push({ name: 'kubelet', pid: kubeletPid, log: kubeletLog });

    await waitFor('kube-scheduler', { pid: schedulerPid, log: schedulerLog, timeoutMs: 60_000 }, async () => (await httpGet(`https://127.0.0.1:${schedulerPort}/healthz`)).body === 'ok');
    await waitFor('kube-proxy', { pid: proxyPid, log: proxyLog, timeoutMs: 60_000 }, async () => (await httpGet(`http://127.0.0.1:${proxyHealth}/healthz`)).status === 200);
    await waitFor('coredns', { pid: dnsPid, log: dnsLog, timeoutMs: 60_000 }, async () => (await httpGet(`http://127.0.0.1:${dnsReady}/ready`)).status === 200);
    await waitFor('kubelet', { pid: kubeletPid, log: kubeletLog, timeoutMs: 120_000 }, async () => {
      const got = await capture('kubectl', ['--kubeconfig', kubeconfig, 'get', 'node', NODE_NAME, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'], {});
      return got.stdout.trim() === 'True';
    });
    // What the node lifecycle controller does once a kubelet is Ready; the stack runs none (it would
    // also judge the local runtime's Node by a kubelet's heartbeat rules).
    await capture('kubectl', ['--kubeconfig', kubeconfig, 'taint', 'node', NODE_NAME, 'node.kubernetes.io/not-ready:NoSchedule-'], {});

    const gw = NODE_NETWORK.gateway;
    return {
      processes,
      env: {
        USPA_NODE: NODE_NAME,
        USPA_NODE_CONTAINERD: folders.socket,
        // The engines as a Pod on this node reaches them (Helm values for an install on the node).
        USPA_POD_CLICKHOUSE_URL: others.CLICKHOUSE_URL?.replace('127.0.0.1', gw) ?? '',
        USPA_POD_TEMPORAL_ADDRESS: others.TEMPORAL_ADDRESS?.replace('127.0.0.1', gw) ?? '',
        USPA_POD_KAFKA_BROKERS: others.KAFKA_POD_BROKERS ?? '',
      },
      endpoints: { node: `${NODE_NAME} (kubelet ${KUBERNETES_VERSION}, containerd, Pod network ${NODE_NETWORK.cidr})` },
    };
  },

  async cleanup(stackData: string) {
    if (process.platform !== 'linux' || process.getuid?.() !== 0) return;
    // Containers outlive their shims: stop what is left in the kubelet's cgroups, then unmount.
    for (const pid of kubepodsProcesses()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    const prefix = join(stackData, 'node');
    const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(prefix) || m.startsWith('/run/netns/cni-'));
    for (const m of mounts.reverse()) await capture('umount', ['-l', m], {});
    // kube-proxy's own chains (KUBE-*), removed by kube-proxy itself.
    const proxy = join(cacheRoot(), FOLDER, 'bin', 'kube-proxy');
    if (existsSync(proxy)) await capture(proxy, ['--cleanup'], {});
    await capture('iptables', ['-t', 'nat', '-D', 'PREROUTING', '-j', NAT_CHAIN], {});
    await capture('iptables', ['-t', 'nat', '-F', NAT_CHAIN], {});
    await capture('iptables', ['-t', 'nat', '-X', NAT_CHAIN], {});
    await capture('ip', ['link', 'del', NODE_NETWORK.bridge], {});
  },
};

function kubepodsProcesses(): number[] {
  const found = new Set<number>();
  const walk = (dir: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    if (entries.includes('cgroup.procs')) {
      for (const line of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) if (line) found.add(Number(line));
    }
    for (const e of entries) if (!e.includes('.')) walk(join(dir, e));
  };
  walk('/sys/fs/cgroup/pids/kubepods');
  return [...found];
}
