import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { NAT_CHAIN, NODE_NETWORK, NODE_TAINT, cniConflist, containerdConfig, forwards, kubeletConfig, natRules, type NodeFolders } from './config.ts';

const folders: NodeFolders = {
  containerdRoot: '/data/node/containerd',
  containerdState: '/run/node/containerd',
  socket: '/run/node/containerd.sock',
  cniConfDir: '/run/node/cni',
  cniBinDir: '/usr/lib/cni',
  kubeletRoot: '/data/node/kubelet',
  podLogs: '/run/node/pods',
};

test('node: Pods reach the API server at the kubernetes Service address and each engine at the gateway, on loopback behind it', () => {
  const list = forwards({ apiServer: 36309, engines: [{ what: 'clickhouse', port: 41321 }] });
  assert.deepEqual(list, [
    { what: 'kube-apiserver', from: NODE_NETWORK.apiServiceIp, fromPort: 443, toPort: 36309 },
    { what: 'clickhouse', from: NODE_NETWORK.gateway, fromPort: 41321, toPort: 41321 },
  ]);
  const [api, ch] = natRules(list);
  assert.deepEqual(api?.slice(0, 4), ['-t', 'nat', '-A', NAT_CHAIN]);
  // Only traffic that comes in from the Pod bridge is rewritten, and only to loopback.
  assert.equal(api?.[api.indexOf('-i') + 1], NODE_NETWORK.bridge);
  assert.equal(api?.[api.indexOf('--to-destination') + 1], '127.0.0.1:36309');
  assert.equal(ch?.[ch.indexOf('-d') + 1], `${NODE_NETWORK.gateway}/32`);
  assert.equal(ch?.[ch.indexOf('--dport') + 1], '41321');
});

test('node: the kubelet runs on cgroupfs against our containerd, resolves through CoreDNS at the gateway and registers tainted', () => {
  const config = parse(kubeletConfig(folders, { kubelet: 10250, healthz: 10248, clientCa: '/data/kubernetes/kubelet-client/ca.crt' })) as Record<string, unknown>;
  assert.equal(config.cgroupDriver, 'cgroupfs');
  assert.equal(config.containerRuntimeEndpoint, 'unix:///run/node/containerd.sock');
  assert.deepEqual(config.clusterDNS, [NODE_NETWORK.gateway]);
  assert.deepEqual(config.registerWithTaints, [NODE_TAINT]);
  assert.deepEqual(config.authentication, { anonymous: { enabled: false }, webhook: { enabled: false }, x509: { clientCAFile: '/data/kubernetes/kubelet-client/ca.crt' } });
});

test('node: containerd uses cgroupfs too, our sandbox image and the CNI folders; the bridge network has the gateway the NAT rules use', () => {
  const toml = containerdConfig(folders);
  assert.match(toml, /SystemdCgroup = false/);
  assert.match(toml, /sandbox_image = "localhost\/uspa-pause:3\.10"/);
  assert.match(toml, /address = "\/run\/node\/containerd\.sock"/);
  const net = JSON.parse(cniConflist()) as { plugins: Array<{ type: string; bridge?: string; ipam?: { ranges: Array<Array<{ subnet: string; gateway: string }>> } }> };
  const bridge = net.plugins.find((p) => p.type === 'bridge');
  assert.equal(bridge?.bridge, NODE_NETWORK.bridge);
  assert.deepEqual(bridge?.ipam?.ranges[0]?.[0], { subnet: NODE_NETWORK.cidr, gateway: NODE_NETWORK.gateway });
});
