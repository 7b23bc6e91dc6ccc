// The node's configuration files, as pure functions of its folders and ports: containerd, the CNI
// network, the kubelet, CoreDNS, and the NAT rules that let Pods reach the stack's engines, which
// listen on loopback only.
import { stringify } from 'yaml';

/** The Pod network: one bridge, one /24; its gateway is the host as Pods see it. */
export const NODE_NETWORK = {
  bridge: 'uspa0',
  cidr: '10.244.0.0/24',
  gateway: '10.244.0.1',
  /** The `kubernetes` Service's ClusterIP, first address of the API server's --service-cluster-ip-range. */
  apiServiceIp: '10.96.0.1',
  clusterDomain: 'cluster.local',
} as const;

export const NODE_NAME = 'uspa-node';
/** Our own nat chain, so cleanup removes exactly what we added and nothing of kube-proxy's. */
export const NAT_CHAIN = 'USPA-NODE';
export const PAUSE_IMAGE = 'localhost/uspa-pause:3.10';
/** Only Pods that tolerate it run on the node: the stack's local runtime keeps binding everything else itself. */
export const NODE_TAINT = { key: 'uspa.tech/node', value: 'containers', effect: 'NoSchedule' };

export interface NodeFolders {
  /** Kept across restarts: images and snapshots. */
  containerdRoot: string;
  /** Per run: sockets, task state. */
  containerdState: string;
  socket: string;
  cniConfDir: string;
  cniBinDir: string;
  kubeletRoot: string;
  podLogs: string;
}

export function containerdConfig(f: NodeFolders): string {
  // TOML by template: every value is a path or a constant we chose, never user input.
  return `version = 2
root = ${JSON.stringify(f.containerdRoot)}
state = ${JSON.stringify(f.containerdState)}
[grpc]
  address = ${JSON.stringify(f.socket)}
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${JSON.stringify(PAUSE_IMAGE)}
  # No AppArmor profile loader and no OOM-score privileges inside this VM.
  disable_apparmor = true
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = ${JSON.stringify(f.cniBinDir)}
    conf_dir = ${JSON.stringify(f.cniConfDir)}
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
`;
}

export function cniConflist(): string {
  return JSON.stringify({
    cniVersion: '0.4.0',
    name: 'uspa',
    plugins: [
      {
        type: 'bridge',
        bridge: NODE_NETWORK.bridge,
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: NODE_NETWORK.cidr, gateway: NODE_NETWORK.gateway }]], routes: [{ dst: '0.0.0.0/0' }] },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
      { type: 'loopback' },
    ],
  }, null, 2);
}

export interface KubeletPorts {
  kubelet: number;
  healthz: number;
  /** The CA of the API server's kubelet client certificate: the only client the kubelet accepts. */
  clientCa: string;
}

export function kubeletConfig(f: NodeFolders, ports: KubeletPorts): string {
  return stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    // cgroup v1 with no systemd as PID 1: the cgroupfs driver, like containerd's SystemdCgroup=false.
    cgroupDriver: 'cgroupfs',
    containerRuntimeEndpoint: `unix://${f.socket}`,
    failSwapOn: false,
    // The node's InternalIP, where the API server reaches it (kubectl logs, exec).
    address: NODE_NETWORK.gateway,
    port: ports.kubelet,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: ports.healthz,
    // Pods can reach this address too, but without the API server's client certificate they get 401.
    authentication: { anonymous: { enabled: false }, webhook: { enabled: false }, x509: { clientCAFile: ports.clientCa } },
    authorization: { mode: 'AlwaysAllow' },
    clusterDNS: [NODE_NETWORK.gateway],
    clusterDomain: NODE_NETWORK.clusterDomain,
    // A laptop node shares its disk with everything else: never evict, never garbage-collect images.
    evictionHard: {},
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    enforceNodeAllocatable: [],
    podLogsDir: f.podLogs,
    resolvConf: '/etc/resolv.conf',
    serializeImagePulls: false,
    maxPods: 60,
    registerWithTaints: [NODE_TAINT],
  });
}

export function corefile(o: { kubeconfig: string; healthPort: number; readyPort: number }): string {
  return `.:53 {
    bind ${NODE_NETWORK.gateway}
    errors
    health 127.0.0.1:${o.healthPort}
    ready 127.0.0.1:${o.readyPort}
    kubernetes ${NODE_NETWORK.clusterDomain} in-addr.arpa ip6.arpa {
        kubeconfig ${o.kubeconfig}
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    forward . /etc/resolv.conf
    cache 30
}
`;
}

/** One TCP port of a loopback engine that Pods reach at <from>:<fromPort>. */
export interface Forward {
  what: string;
  from: string;
  fromPort: number;
  toPort: number;
}

/** The engines as Pods reach them: each loopback port at the gateway, the API server at its Service IP. */
export function forwards(ports: { apiServer: number; engines: Array<{ what: string; port: number }> }): Forward[] {
  return [
    { what: 'kube-apiserver', from: NODE_NETWORK.apiServiceIp, fromPort: 443, toPort: ports.apiServer },
    ...ports.engines.map((e) => ({ what: e.what, from: NODE_NETWORK.gateway, fromPort: e.port, toPort: e.port })),
  ];
}

/** iptables argument lists that fill our nat chain: DNAT from the bridge to 127.0.0.1 (needs route_localnet). */
export function natRules(list: Forward[]): string[][] {
  return list.map((f) => ['-t', 'nat', '-A', NAT_CHAIN, '-i', NODE_NETWORK.bridge, '-d', `${f.from}/32`, '-p', 'tcp', '--dport', String(f.fromPort), '-m', 'comment', '--comment', `uspa ${f.what}`, '-j', 'DNAT', '--to-destination', `127.0.0.1:${f.toPort}`]);
}
