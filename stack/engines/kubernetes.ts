import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { goHint, installOnce, step } from '../install.ts';
import { GO_TOOLS, installGoTool } from '../go-tool.ts';
import { repoRoot } from '../paths.ts';
import { HOST } from '../ports.ts';
import { capture, spawnDaemon } from '../proc.ts';
import { httpGet, waitFor } from './health.ts';
import type { ClientTool, Engine, InstallContext, ProcessInfo } from './engine.ts';

export const KUBERNETES_VERSION = 'v1.34.4';
export const KUBERNETES_MODULE_DIR = join(repoRoot, 'stack', 'engines', 'kubernetes');
const MODULE_DIR = KUBERNETES_MODULE_DIR;
const FOLDER = `kubernetes-${KUBERNETES_VERSION}`;
const KUBECTL_FOLDER = `kubectl-${KUBERNETES_VERSION}`;
const CONTROL_PLANE = ['k8s.io/kubernetes/cmd/kube-apiserver', 'k8s.io/kubernetes/cmd/kube-controller-manager', 'k8s.io/kubernetes/cmd/kubectl', './etcd'];

const [major, minor] = KUBERNETES_VERSION.slice(1).split('.');
const versionFlags = ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap((pkg) => [
  `-X ${pkg}.gitVersion=${KUBERNETES_VERSION}`,
  `-X ${pkg}.gitMajor=${major}`,
  `-X ${pkg}.gitMinor=${minor}`,
  `-X ${pkg}.gitTreeState=clean`,
]);

/** Builds commands from our pinned module (stack/engines/kubernetes/go.mod), counting packages for progress. */
export async function goBuild(ctx: InstallContext, what: string, packages: string[], outDir: string): Promise<void> {
  const started = Date.now();
  const log = join(ctx.logDir, 'install-kubernetes.log');
  const env = { ...ctx.env, GOFLAGS: '-buildvcs=false -mod=readonly' };
  ctx.progress.say('kubernetes', `${what}: downloading modules`);
  await step(`downloading the Go modules for ${what}`, goHint, 'go', ['mod', 'download'], { cwd: MODULE_DIR, logFile: log, env });
  const listed = await capture('go', ['list', '-deps', ...packages], { cwd: MODULE_DIR, env });
  const total = listed.code === 0 ? listed.stdout.split('\n').filter(Boolean).length : 0;
  ctx.progress.say('kubernetes', `${what}: compiling up to ${total || 'many'} packages with go build (only the first build is slow)`);
  let compiled = 0;
  mkdirSync(outDir, { recursive: true });
  await step(`building ${what}`, goHint, 'go', ['build', '-v', '-trimpath', `-ldflags=-s -w ${versionFlags.join(' ')}`, '-o', outDir + '/', ...packages], {
    cwd: MODULE_DIR,
    logFile: log,
    env,
    onLine: (line) => {
      if (!line.startsWith('go: ')) ctx.progress.tick('kubernetes', `${what}: compiled ${++compiled}/${total || '?'} packages`, started);
    },
  });
  ctx.progress.say('kubernetes', `${what} built (${Math.round((Date.now() - started) / 1000)}s)`);
}

async function installKubectl(ctx: InstallContext): Promise<string> {
  const full = join(ctx.cache, FOLDER, 'bin', 'kubectl');
  if (existsSync(join(ctx.cache, FOLDER, '.complete'))) return full;
  const dir = await installOnce(ctx, KUBECTL_FOLDER, (tmp) => goBuild(ctx, `kubectl ${KUBERNETES_VERSION}`, ['k8s.io/kubernetes/cmd/kubectl'], join(tmp, 'bin')));
  return join(dir, 'bin', 'kubectl');
}

/**
 * A Kubernetes control plane without nodes, as envtest runs it: etcd, kube-apiserver and
 * kube-controller-manager (garbage collection, namespaces, Deployments → ReplicaSets).
 * Pods run on the local runtime (stack/runtime), or in containers on the node engine (node.ts,
 * `up --node`). An existing cluster replaces it via KUBECONFIG.
 */
export const kubernetes: Engine = {
  name: 'kubernetes',
  externalVariable: 'KUBECONFIG',
  toolchains: ['go'],

  async install(ctx) {
    await installOnce(ctx, FOLDER, (tmp) =>
      goBuild(ctx, `etcd, kube-apiserver, kube-controller-manager, kubectl ${KUBERNETES_VERSION}`, CONTROL_PLANE, join(tmp, 'bin')),
    );
  },

  async installClients(ctx): Promise<ClientTool[]> {
    return [
      { name: 'kubectl', path: await installKubectl(ctx) },
      { name: 'helm', path: await installGoTool(ctx, GO_TOOLS.helm) },
    ];
  },

  async start(ctx) {
    const bin = join(ctx.cache, FOLDER, 'bin');
    const data = join(ctx.dataDir, 'kubernetes');
    const conf = join(ctx.runDir, 'kubernetes');
    mkdirSync(join(data, 'etcd'), { recursive: true, mode: 0o700 });
    mkdirSync(join(conf, 'certs'), { recursive: true });
    const processes: ProcessInfo[] = [];

    // Kept with etcd's data: tokens and service-account signatures must survive restarts.
    const saKey = join(data, 'service-account.key');
    const saPub = join(data, 'service-account.pub');
    if (!existsSync(saKey)) {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      writeFileSync(saKey, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      writeFileSync(saPub, publicKey.export({ type: 'spki', format: 'pem' }));
    }
    const tokenFile = join(data, 'admin-token');
    if (!existsSync(tokenFile)) writeFileSync(tokenFile, randomBytes(24).toString('hex') + '\n', { mode: 0o600 });
    const token = readFileSync(tokenFile, 'utf8').trim();
    const kubeletClient = await kubeletClientCertificates(ctx.dataDir, join(ctx.runDir, 'kubelet-client-certs.log'), ctx.env);
    const tokenCsv = join(conf, 'tokens.csv');
    writeFileSync(tokenCsv, `${token},uspa-admin,uspa-admin,"system:masters"\n`, { mode: 0o600 });

    const etcdPort = await ctx.ports.get('etcd');
    const etcdPeerPort = await ctx.ports.get('etcd-peer');
    const etcdUrl = `http://${HOST}:${etcdPort}`;
    const etcdLog = join(ctx.runDir, 'etcd.log');
    const etcdPid = spawnDaemon(join(bin, 'etcd'), [
      '--name', 'uspa', '--data-dir', join(data, 'etcd'),
      '--listen-client-urls', etcdUrl, '--advertise-client-urls', etcdUrl,
      '--listen-peer-urls', `http://${HOST}:${etcdPeerPort}`, '--initial-advertise-peer-urls', `http://${HOST}:${etcdPeerPort}`,
      '--initial-cluster', `uspa=http://${HOST}:${etcdPeerPort}`,
      // A laptop stack: trade durability of the last writes for speed, as envtest does.
      '--unsafe-no-fsync', '--quota-backend-bytes', String(2 * 1024 ** 3), '--log-level', 'warn',
    ], { env: ctx.env, logFile: etcdLog });
    processes.push({ name: 'etcd', pid: etcdPid, log: etcdLog });
    await waitFor('etcd', { pid: etcdPid, log: etcdLog, timeoutMs: 60_000 }, async () => (await httpGet(`${etcdUrl}/health`)).body.includes('"health":"true"'));

    const apiPort = await ctx.ports.get('kube-apiserver');
    const server = `https://${HOST}:${apiPort}`;
    const apiLog = join(ctx.runDir, 'kube-apiserver.log');
    const apiPid = spawnDaemon(join(bin, 'kube-apiserver'), [
      '--etcd-servers', etcdUrl, '--bind-address', HOST, '--advertise-address', HOST, '--secure-port', String(apiPort),
      '--cert-dir', join(conf, 'certs'), '--token-auth-file', tokenCsv, '--authorization-mode', 'RBAC',
      '--service-cluster-ip-range', '10.96.0.0/16', '--service-account-issuer', 'https://kubernetes.default.svc',
      '--service-account-key-file', saPub, '--service-account-signing-key-file', saKey,
      '--allow-privileged=true', '--enable-priority-and-fairness=false', '--profiling=false', '--v=1',
      // For a node's kubelet (logs, exec, port-forward): reached at its InternalIP with this client certificate.
      '--kubelet-client-certificate', kubeletClient.cert, '--kubelet-client-key', kubeletClient.key, '--kubelet-preferred-address-types', 'InternalIP',
    ], { env: ctx.env, logFile: apiLog });
    processes.push({ name: 'kube-apiserver', pid: apiPid, log: apiLog });
    const auth = { Authorization: `Bearer ${token}` };
    await waitFor('kube-apiserver', { pid: apiPid, log: apiLog, timeoutMs: 180_000 }, async () => (await httpGet(`${server}/readyz`, auth)).body === 'ok');

    // The apiserver's self-signed serving certificate, chain included, becomes the kubeconfig's CA.
    const ca = readFileSync(join(conf, 'certs', 'apiserver.crt'));
    const kubeconfig = join(conf, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml(server, ca.toString('base64'), token), { mode: 0o600 });
    const stableKubeconfig = join(ctx.stackRoot, 'kubeconfig');
    copyFileSync(kubeconfig, stableKubeconfig);

    const kcmPort = await ctx.ports.get('kube-controller-manager');
    const kcmLog = join(ctx.runDir, 'kube-controller-manager.log');
    const kcmPid = spawnDaemon(join(bin, 'kube-controller-manager'), [
      '--kubeconfig', kubeconfig, '--authentication-kubeconfig', kubeconfig, '--authorization-kubeconfig', kubeconfig,
      '--bind-address', HOST, '--secure-port', String(kcmPort), '--cert-dir', join(conf, 'kcm-certs'), '--leader-elect=false',
      '--controllers', 'garbagecollector,namespace,serviceaccount,serviceaccount-token,deployment,replicaset,statefulset,job,root-ca-cert-publisher,endpointslice',
      '--service-account-private-key-file', saKey, '--root-ca-file', join(conf, 'certs', 'apiserver.crt'),
      '--use-service-account-credentials=false', '--concurrent-gc-syncs', '5', '--v=1',
    ], { env: ctx.env, logFile: kcmLog });
    processes.push({ name: 'kube-controller-manager', pid: kcmPid, log: kcmLog });
    await waitFor('kube-controller-manager', { pid: kcmPid, log: kcmLog, timeoutMs: 120_000 }, async () => (await httpGet(`https://${HOST}:${kcmPort}/healthz`)).body === 'ok');

    return {
      processes,
      env: { KUBECONFIG: stableKubeconfig },
      endpoints: {
        'kube-apiserver': `${server} (Kubernetes ${KUBERNETES_VERSION}; Pods run on the local runtime, or on the node with --node)`,
        etcd: etcdUrl,
      },
    };
  },
};

/** Where a node's kubelet finds the CA that signed the API server's kubelet client certificate. */
export function kubeletClientCa(dataDir: string): string {
  return join(dataDir, 'kubernetes', 'kubelet-client', 'ca.crt');
}

/**
 * A CA and the API server's client certificate for kubelets, made once with openssl and kept with
 * etcd's data. A kubelet trusts only this CA, so only the API server reaches its API.
 */
async function kubeletClientCertificates(dataDir: string, logFile: string, env: NodeJS.ProcessEnv): Promise<{ cert: string; key: string }> {
  const dir = join(dataDir, 'kubernetes', 'kubelet-client');
  const files = { caKey: join(dir, 'ca.key'), ca: kubeletClientCa(dataDir), key: join(dir, 'client.key'), csr: join(dir, 'client.csr'), cert: join(dir, 'client.crt') };
  if (existsSync(files.cert)) return files;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const hint = 'install openssl (Debian package openssl), then run `uspa stack up` again';
  await step('making the kubelet client CA', hint, 'openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', files.caKey, '-out', files.ca, '-days', '3650', '-subj', '/CN=uspa-kubelet-client-ca'], { logFile, env });
  await step('making the kubelet client key', hint, 'openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', files.key, '-out', files.csr, '-subj', '/O=system:masters/CN=kube-apiserver-kubelet-client'], { logFile, env });
  await step('signing the kubelet client certificate', hint, 'openssl', ['x509', '-req', '-in', files.csr, '-CA', files.ca, '-CAkey', files.caKey, '-CAcreateserial', '-out', files.cert, '-days', '3650'], { logFile, env });
  return files;
}

function kubeconfigYaml(server: string, caData: string, token: string): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: uspa-local
  cluster:
    server: ${server}
    certificate-authority-data: ${caData}
users:
- name: uspa-admin
  user:
    token: ${token}
contexts:
- name: uspa-local
  context:
    cluster: uspa-local
    user: uspa-admin
    namespace: default
current-context: uspa-local
`;
}
