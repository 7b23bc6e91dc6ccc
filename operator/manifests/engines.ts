// How a workload reaches Kafka, ClickHouse and Temporal when they need TLS or credentials: the
// operator holds the material (its own Secrets, mounted; settings.ts) and gives each workload a
// Secret of its own with what it needs (`<workload>-engines`, next to the workload: a pod cannot
// mount a Secret of the operator's namespace), mounted at /etc/uspa-engines/<engine>/ as
// ca.crt, tls.crt, tls.key (lib/tls.ts), the SASL password by secretKeyRef. Env and manifests only
// name files and keys: the material itself is only in the Secret.
import type { V1EnvVar, V1OwnerReference, V1Secret, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { engineSecret } from '../../api/names.ts';
import type { KafkaSecurity } from '../../lib/kafka.ts';
import type { TlsFiles } from '../../lib/tls.ts';
import { TLS_FILES } from '../../lib/tls.ts';
import { hashOf } from './workload.ts';

export const ENGINES_DIR = '/etc/uspa-engines';

export type Engine = 'kafka' | 'clickhouse' | 'temporal';

/** What the operator was given for the engines (all optional: plaintext and no SASL without). */
export interface EngineSecurity {
  kafka?: KafkaSecurity;
  clickhouse?: { tls?: TlsFiles };
  temporal?: { tls?: { files?: TlsFiles; serverName?: string } };
}

export interface EngineAccess {
  secret?: V1Secret;
  env: V1EnvVar[];
  volumes: V1Volume[];
  mounts: V1VolumeMount[];
  /** Changes when the material changes, so that the pods roll onto a rotated certificate. */
  hash: string;
}

export function engineAccess(workload: string, namespace: string, labels: Record<string, string>, owners: V1OwnerReference[], needs: Engine[], security: EngineSecurity | undefined): EngineAccess {
  const secretName = engineSecret(workload);
  const data: Record<string, string> = {};
  const items: Array<{ key: string; path: string }> = [];
  const env: V1EnvVar[] = [];
  const files = (engine: Engine, tls: TlsFiles | undefined) => {
    let any = false;
    for (const [part, file] of Object.entries(TLS_FILES) as Array<[keyof TlsFiles, string]>) {
      const content = tls?.[part];
      if (!content) continue;
      data[`${engine}-${file}`] = content.toString('base64');
      items.push({ key: `${engine}-${file}`, path: `${engine}/${file}` });
      any = true;
    }
    if (any) env.push({ name: `${engine.toUpperCase()}_TLS_DIR`, value: `${ENGINES_DIR}/${engine}` });
  };
  const kafka = security?.kafka;
  if (needs.includes('kafka') && kafka?.ssl) {
    env.push({ name: 'KAFKA_TLS', value: 'true' });
    files('kafka', kafka.ssl);
  }
  if (needs.includes('kafka') && kafka?.sasl) {
    data['kafka-sasl-password'] = Buffer.from(kafka.sasl.password).toString('base64');
    env.push(
      { name: 'KAFKA_SASL_MECHANISM', value: kafka.sasl.mechanism },
      { name: 'KAFKA_SASL_USERNAME', value: kafka.sasl.username },
      { name: 'KAFKA_SASL_PASSWORD', valueFrom: { secretKeyRef: { name: secretName, key: 'kafka-sasl-password' } } },
    );
  }
  if (needs.includes('clickhouse')) files('clickhouse', security?.clickhouse?.tls);
  const temporal = security?.temporal?.tls;
  if (needs.includes('temporal') && temporal) {
    env.push({ name: 'TEMPORAL_TLS', value: 'true' });
    if (temporal.serverName) env.push({ name: 'TEMPORAL_TLS_SERVER_NAME', value: temporal.serverName });
    files('temporal', temporal.files);
  }
  if (Object.keys(data).length === 0) return { env, volumes: [], mounts: [], hash: hashOf(JSON.stringify(env)) };
  return {
    secret: { apiVersion: 'v1', kind: 'Secret', metadata: { name: secretName, namespace, labels, ownerReferences: owners }, type: 'Opaque', data },
    env,
    volumes: items.length ? [{ name: 'engines', secret: { secretName, items, defaultMode: 0o440 } }] : [],
    mounts: items.length ? [{ name: 'engines', mountPath: ENGINES_DIR, readOnly: true }] : [],
    hash: hashOf(JSON.stringify(env), ...Object.keys(data).sort().map((k) => `${k}=${data[k]}`)),
  };
}
