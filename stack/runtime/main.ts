// `uspa runtime`: the local runtime in the foreground, against the local stack's API server.
import { KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '../../lib/log.ts';
import { stopOnSignals } from '../../lib/service.ts';
import { repoRoot, stackId, stateRoot } from '../paths.ts';
import { LocalRuntime } from './kubelet.ts';

export function startLocalRuntime(kc?: KubeConfig): LocalRuntime {
  const config = kc ?? new KubeConfig();
  if (!kc) config.loadFromDefault();
  const state = stateRoot();
  return new LocalRuntime({ kc: config, log: createLogger('runtime'), stateDir: state, repoRoot, marker: `USPA_STACK=${stackId(state)}:pods` });
}

export async function serveLocalRuntime(): Promise<void> {
  const runtime = startLocalRuntime();
  await runtime.start();
  stopOnSignals(() => runtime.stop());
}
