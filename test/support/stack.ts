// How tests and benchmarks find the engines: the variables `uspa stack env` prints, taken from the
// environment when exported (external engines, or `eval "$(npm run -s uspa -- stack env)"`) and
// otherwise from the stack running for this checkout's state (USPA_STATE_DIR).
import { clientEnv, status } from '../../stack/stack.ts';

export const ENGINE_VARIABLES = ['KUBECONFIG', 'TEMPORAL_ADDRESS', 'KAFKA_BROKERS', 'CLICKHOUSE_URL'] as const;

/**
 * Fills process.env with the running stack's client variables (what is already set wins) and puts
 * its kubectl, helm and temporal on PATH. Exits with what to do when there is no stack and the
 * engines' variables are not set either. Every benchmark starts with it.
 */
export function useStack(): void {
  const missing = ENGINE_VARIABLES.filter((name) => !process.env[name]);
  if (missing.length === 0) return;
  if (!status().running) {
    console.error(`no stack is running and ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not set: start one with \`npm run uspa -- stack up\` (or set the variables of external engines)`);
    process.exit(2);
  }
  const vars = clientEnv();
  for (const [name, value] of Object.entries(vars)) process.env[name] ??= value;
  if (vars.USPA_STACK_BIN && !(process.env.PATH ?? '').split(':').includes(vars.USPA_STACK_BIN)) {
    process.env.PATH = `${vars.USPA_STACK_BIN}:${process.env.PATH ?? ''}`;
  }
}

/** The local stack's etcd (client URL), when this stack runs Kubernetes itself. */
export function localEtcd(): string | undefined {
  const report = status();
  const kubernetes = report.state?.engines.kubernetes;
  if (!report.running || !kubernetes || kubernetes.external) return undefined;
  // An exported KUBECONFIG of another cluster wins over the local stack: its etcd is not ours.
  if (process.env.KUBECONFIG && kubernetes.env.KUBECONFIG !== process.env.KUBECONFIG) return undefined;
  return kubernetes.endpoints.etcd;
}

async function etcdCall<T>(etcd: string, path: string, body: object): Promise<T> {
  const res = await fetch(`${etcd}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`etcd ${path} answered ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

/**
 * Compacts etcd's history up to its current revision (through etcd's JSON gateway), as the API
 * server itself does every five minutes: afterwards, a watch from any older resourceVersion that
 * the API server serves from etcd is answered 410 Gone. Returns the revision compacted to.
 */
export async function compactEtcd(etcd: string): Promise<number> {
  const { header } = await etcdCall<{ header: { revision: string } }>(etcd, '/v3/maintenance/status', {});
  const revision = Number(header.revision);
  try {
    await etcdCall(etcd, '/v3/kv/compaction', { revision: String(revision), physical: true });
  } catch (err) {
    // The API server compacted to this very revision a moment ago: the history is gone all the same.
    if (!/required revision has been compacted/.test(String(err))) throw err;
  }
  return revision;
}
