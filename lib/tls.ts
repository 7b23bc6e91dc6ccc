// TLS material of an engine connection, read from a directory laid out like a Kubernetes TLS
// Secret mounted as a volume (cert-manager writes the same keys): ca.crt, tls.crt, tls.key, each
// optional. The operator mounts its own Secrets there and gives each workload a copy
// (operator/manifests/engines.ts); the engine modules (kafka.ts, clickhouse.ts, temporal-worker.ts)
// turn it into their client's options. Never logged: only the directory is.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TlsFiles {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export const TLS_FILES = { ca: 'ca.crt', cert: 'tls.crt', key: 'tls.key' } as const;

export function readTlsDir(dir: string | undefined, variable: string): TlsFiles | undefined {
  if (!dir) return undefined;
  if (!existsSync(dir)) throw new Error(`${variable}=${dir}: no such directory (a mounted Secret with ${Object.values(TLS_FILES).join(', ')})`);
  const read = (file: string) => (existsSync(join(dir, file)) ? readFileSync(join(dir, file)) : undefined);
  const files: TlsFiles = { ca: read(TLS_FILES.ca), cert: read(TLS_FILES.cert), key: read(TLS_FILES.key) };
  if (Boolean(files.cert) !== Boolean(files.key)) throw new Error(`${variable}=${dir}: a client certificate needs both ${TLS_FILES.cert} and ${TLS_FILES.key}`);
  return files;
}

/** What Connection.connect and NativeConnection.connect take as `tls` (both the same shape). */
export interface TemporalTls {
  serverNameOverride?: string;
  serverRootCACertificate?: Buffer;
  clientCertPair?: { crt: Buffer; key: Buffer };
}

/** The connection's `tls` from the files: the server CA, and a client pair for mTLS. */
export function temporalTls(files: TlsFiles | undefined, serverName?: string): TemporalTls {
  return {
    ...(serverName ? { serverNameOverride: serverName } : {}),
    ...(files?.ca ? { serverRootCACertificate: files.ca } : {}),
    ...(files?.cert && files.key ? { clientCertPair: { crt: files.cert, key: files.key } } : {}),
  };
}
