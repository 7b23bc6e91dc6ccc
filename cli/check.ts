// `uspa check roundtrip`: one event through the path a user's events take — the collector Service
// of a namespace (with its Source's write key), Kafka, the pipeline worker — until ClickHouse has
// it. The chart's `helm test` runs it (templates/tests/); it works from a laptop as well.
import { randomUUID } from 'node:crypto';
import { CoreV1Api } from '@kubernetes/client-node';
import { Warehouse, clickhouseSettingsFromEnv } from '../lib/clickhouse.ts';
import { COLLECTOR } from '../api/names.ts';
import { UsageError, str, type Values } from './args.ts';
import { loadKubeConfig, readNamespace } from './cluster.ts';
import { ResolveError, resolveStore } from './resolve.ts';

export const CHECK_EVENT = 'USPA Roundtrip Check';

/** The collector's base URL: --url, else the Service's in-cluster address. */
export function collectorBase(namespace: string, url?: string): string {
  return (url ?? `http://${COLLECTOR}.${namespace}.svc:8080`).replace(/\/+$/, '').replace(/\/v1\/(batch|track)$/, '');
}

/** The tracking-API request of the check event: a Basic write key, a messageId to find it by. */
export function checkRequest(writeKey: string, messageId: string, now = new Date()): { headers: Record<string, string>; body: string } {
  return {
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}` },
    body: JSON.stringify({ type: 'track', event: CHECK_EVENT, messageId, anonymousId: 'uspa-check', timestamp: now.toISOString(), properties: { check: 'roundtrip' } }),
  };
}

export async function roundtrip(values: Values, log: (line: string) => void = (l) => console.log(l)): Promise<number> {
  const namespace = str(values, 'namespace');
  const sourceName = str(values, 'source');
  if (!namespace || !sourceName) throw new UsageError('usage: uspa check roundtrip -n <namespace> --source <source> [--url <collector url>] [--timeout <seconds>]');
  const timeoutMs = Number(str(values, 'timeout') ?? 120) * 1000;
  if (!(timeoutMs > 0)) throw new UsageError('--timeout must be a number of seconds');
  const started = Date.now();

  const kc = loadKubeConfig();
  const objects = await readNamespace(kc, namespace);
  const source = objects.sources.find((s) => s.metadata.name === sourceName);
  if (!source) throw new ResolveError(`namespace ${namespace} has no Source ${sourceName}; kubectl get sources -n ${namespace}`);
  const secretName = source.status?.writeKeySecret;
  if (!secretName) throw new ResolveError(`Source ${sourceName} has no write key yet (status.writeKeySecret); kubectl describe source ${sourceName} -n ${namespace}`);
  const secret = await kc.makeApiClient(CoreV1Api).readNamespacedSecret({ name: secretName, namespace });
  const key = source.spec.writeKeySecretRef?.key ?? 'writeKey';
  const encoded = secret.data?.[key];
  if (!encoded) throw new ResolveError(`Secret ${secretName} in namespace ${namespace} has no key ${key}`);
  const { database } = resolveStore(objects);

  const messageId = `uspa-check-${randomUUID()}`;
  const url = `${collectorBase(namespace, str(values, 'url'))}/v1/track`;
  const request = checkRequest(Buffer.from(encoded, 'base64').toString(), messageId);
  const response = await fetch(url, { method: 'POST', headers: request.headers, body: request.body, signal: AbortSignal.timeout(15_000) }).catch((err: unknown) => {
    throw new ResolveError(`cannot reach the collector at ${url} (${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message}); kubectl get pods -n ${namespace} -l app.kubernetes.io/name=${COLLECTOR}`);
  });
  if (!response.ok) throw new ResolveError(`the collector at ${url} answered HTTP ${response.status}: ${(await response.text()).slice(0, 200)}`);
  log(`sent ${messageId} to ${url} (HTTP ${response.status}, ${Date.now() - started} ms)`);

  const warehouse = new Warehouse({ ...clickhouseSettingsFromEnv(), database });
  try {
    for (;;) {
      const rows = await warehouse.query<{ n: string }>('SELECT count() AS n FROM {db}.events WHERE message_id = {id:String}', { id: messageId });
      if (Number(rows[0]?.n ?? 0) > 0) {
        log(`read ${messageId} back from ClickHouse ${database}.events after ${Date.now() - started} ms`);
        return 0;
      }
      if (Date.now() - started > timeoutMs) {
        log(`error: ${messageId} was accepted but has not reached ${database}.events within ${timeoutMs / 1000} s; kubectl describe pipelines -n ${namespace}`);
        return 1;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    await warehouse.close();
  }
}
