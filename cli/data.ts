// The data commands: import, dlq, identity, check, privacy. They work in one namespace (-n, like kubectl) and find
// its database and topics in the cluster; the engines are reached at the usual variables.
import { topicNames } from '../api/names.ts';
import { IDENTITY_PATTERN } from '../api/v1alpha1/index.ts';
import { connectKafka, kafkaSettingsFromEnv } from '../lib/kafka.ts';
import { createLogger } from '../lib/log.ts';
import { liftSuppressions } from '../lib/privacy/suppressions.ts';
import { elapsed } from '../stack/progress.ts';
import { UsageError, str, type Values } from './args.ts';
import { contextNamespace, loadKubeConfig, readNamespace } from './cluster.ts';
import { importFile } from './import.ts';
import { roundtrip } from './check.ts';
import { listDeadLetters, replayDeadLetters, replayReport } from './dlq.ts';
import { showIdentity, unmerge } from './identity.ts';
import { access, download, erase, namespaceTopicPrefix, readReceipt, verify, verifyReport } from './privacy.ts';
import { ResolveError, checkSource, resolvePipeline, resolveStore, sourceTopics, type NamespaceObjects } from './resolve.ts';
import type { Target } from './target.ts';

export async function runDataCommand(group: string, args: string[], values: Values): Promise<number> {
  try {
    return await run(group, args, values);
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    return err instanceof UsageError ? 2 : 1;
  }
}

const LOCAL_HINT = 'for the local stack: eval "$(npm run -s uspa -- stack env)"';

function needEnv(...names: string[]): void {
  const missing = names.filter((n) => !process.env[n]);
  if (missing.length) throw new ResolveError(`${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set: the CLI reaches the engines directly; ${LOCAL_HINT}`);
}

async function namespaceObjects(values: Values): Promise<NamespaceObjects> {
  const kc = loadKubeConfig();
  return readNamespace(kc, str(values, 'namespace') ?? contextNamespace(kc));
}

/** ClickHouse names a missing database in its message; say who creates it instead. */
function explainStorage(err: unknown, namespace: string, database: string): Error {
  const message = (err as Error).message ?? String(err);
  if (/UNKNOWN_DATABASE|Database \S+ does(n't| not) exist/i.test(message)) {
    return new ResolveError(`database ${database} of namespace ${namespace} does not exist yet: the operator creates it when it reconciles the namespace's Pipeline; kubectl describe pipelines -n ${namespace}`);
  }
  if (/ECONNREFUSED|fetch failed|socket hang up/i.test(message)) return new ResolveError(`cannot reach ClickHouse at ${process.env.CLICKHOUSE_URL} (${message}); is the stack running? uspa stack status`);
  return err as Error;
}

async function run(group: string, args: string[], values: Values): Promise<number> {
  const started = Date.now();
  if (group === 'import') {
    const file = args[0];
    const url = str(values, 'url') ?? process.env.USPA_COLLECTOR_URL;
    const writeKey = str(values, 'write-key') ?? process.env.USPA_WRITE_KEY;
    if (!file || !url || !writeKey) throw new UsageError('usage: uspa import <file> --url <collector url> --write-key <key> (or USPA_COLLECTOR_URL, USPA_WRITE_KEY) | uspa import --catalog <file> --api-url <api url> --api-key <key> (or USPA_API_URL, USPA_API_KEY)');
    const format = str(values, 'format');
    if (format && format !== 'csv' && format !== 'ndjson') throw new UsageError(`--format must be csv or ndjson, not ${format}`);
    let last = 0;
    const result = await importFile({
      file, url, writeKey, format: format as 'csv' | 'ndjson' | undefined, report: str(values, 'report'),
      onProgress: (p) => {
        if (Date.now() - last < 1000 && p.bytesRead < p.bytesTotal) return;
        last = Date.now();
        const pct = p.bytesTotal ? Math.round((100 * p.bytesRead) / p.bytesTotal) : 100;
        process.stderr.write(`import: ${pct}% of ${p.bytesTotal} bytes, ${p.rows} rows, ${p.sent} sent, ${p.rejected} rejected (${elapsed(started)})\n`);
      },
    });
    console.log(`imported ${result.sent} of ${result.rows} rows from ${file} in ${elapsed(started)}; ${result.rejected} rejected`);
    for (const e of result.errors.slice(0, 20)) console.log(`  row ${e.row}: ${e.errors.join('; ')}`);
    if (result.errors.length > 20) console.log(`  … ${result.errors.length - 20} more${str(values, 'report') ? ` in ${str(values, 'report')}` : ' (write them all with --report <file>)'}`);
    return result.rejected > 0 ? 3 : 0;
  }
  if (group === 'check') {
    needEnv('CLICKHOUSE_URL');
    return roundtrip({ ...values, namespace: str(values, 'namespace') ?? contextNamespace(loadKubeConfig()) });
  }
  if (group === 'dlq') {
    const filter = { source: str(values, 'source'), reason: str(values, 'reason'), since: str(values, 'since') };
    if (args[0] !== 'list' && args[0] !== 'replay') throw new UsageError('usage: uspa dlq list|replay [-n namespace] [--source s] [--reason r] [--since time] [--dry-run]');
    needEnv('CLICKHOUSE_URL', ...(args[0] === 'replay' && !values['dry-run'] ? ['KAFKA_BROKERS'] : []));
    const objects = await namespaceObjects(values);
    checkSource(objects, filter.source);
    const store = resolveStore(objects, str(values, 'pipeline'));
    const target: Target = { database: store.database, sourceTopic: sourceTopics(objects), controlTopic: () => undefined };
    const where = `namespace ${store.namespace}`;
    if (args[0] === 'list') {
      const rows = await listDeadLetters(filter, target).catch((err: unknown) => Promise.reject(explainStorage(err, store.namespace, store.database)));
      for (const r of rows) console.log(`${r.failed_at}  ${r.source.padEnd(16)} ${r.reason.padEnd(26)} ${r.message_id}  ${r.errors.join('; ')}`);
      console.log(`${rows.length} dead letter(s) not yet replayed in ${where}`);
      return 0;
    }
    const dryRun = Boolean(values['dry-run']);
    const result = await replayDeadLetters({ ...filter, dryRun }, (done, total) => process.stderr.write(`replay: ${done}/${total}\n`), target)
      .catch((err: unknown) => Promise.reject(explainStorage(err, store.namespace, store.database)));
    console.log(replayReport(result, { dryRun, filter, where, took: elapsed(started) }));
    return 0;
  }
  if (group === 'identity') {
    if (args[0] === 'show' && args[1]) {
      needEnv('CLICKHOUSE_URL');
      const store = resolveStore(await namespaceObjects(values), str(values, 'pipeline'));
      const target: Target = { database: store.database, sourceTopic: () => undefined, controlTopic: () => undefined };
      const { profile, edges } = await showIdentity(args[1], target).catch((err: unknown) => Promise.reject(explainStorage(err, store.namespace, store.database)));
      console.log(profile ? JSON.stringify(profile, null, 2) : `no profile holds ${args[1]} in namespace ${store.namespace} (identities look like userId:u-1, email:ada@example.com)`);
      for (const e of edges) console.log(`${e.event_time}  ${e.action.padEnd(8)} ${e.a} — ${e.b}  edge ${e.id}  (${e.rule}, message ${e.message_id}${e.reason ? `, ${e.reason}` : ''})`);
      return 0;
    }
    if (args[0] === 'unmerge') {
      const edgeId = str(values, 'edge');
      if (!edgeId) throw new UsageError('usage: uspa identity unmerge --edge <id> [-n namespace] [--pipeline name] [--reason text]');
      needEnv('CLICKHOUSE_URL', 'KAFKA_BROKERS');
      const p = resolvePipeline(await namespaceObjects(values), str(values, 'pipeline'));
      const target: Target = { database: p.database, sourceTopic: () => undefined, controlTopic: (name) => (name === p.pipeline ? p.controlTopic : undefined) };
      const result = await unmerge({ pipeline: p.pipeline, namespace: p.namespace, edgeId, reason: str(values, 'reason') ?? 'manual unmerge' }, target)
        .catch((err: unknown) => Promise.reject(explainStorage(err, p.namespace, p.database)));
      console.log(`unmerged: edge ${edgeId} undone by ${result.id} at ${result.event_time} (Pipeline ${p.pipeline} in namespace ${p.namespace})`);
      return 0;
    }
    throw new UsageError('usage: uspa identity show <identity> [-n namespace] | uspa identity unmerge --edge <id> [-n namespace] [--pipeline name]');
  }
  if (group === 'privacy') {
    const kc = loadKubeConfig();
    const namespace = str(values, 'namespace') ?? contextNamespace(kc);
    if (args[0] === 'erase' && args[1]) {
      const timeout = str(values, 'timeout');
      const { name, request, receiptFile } = await erase(kc, { namespace, identity: args[1], mode: str(values, 'mode'), reference: str(values, 'reference'), name: str(values, 'name'), receipt: str(values, 'receipt'), timeoutMs: timeout ? Number(timeout) * 1000 : undefined, progress: (l) => process.stderr.write(`privacy: ${l}\n`) });
      const s = request.status!;
      console.log(`erased: PrivacyRequest ${name} in namespace ${namespace}: ${s.identities} identities, ${s.rowsDeleted} rows deleted from ${s.stores} stores in ${elapsed(started)}; signed receipt in ${receiptFile} (uspa privacy verify ${receiptFile})`);
      return 0;
    }
    if (args[0] === 'access' && args[1]) {
      needEnv('CLICKHOUSE_URL');
      const timeout = str(values, 'timeout');
      const hours = str(values, 'expires-in-hours');
      const { name, request, file, bytes } = await access(kc, { namespace, identity: args[1], reference: str(values, 'reference'), name: str(values, 'name'), out: str(values, 'out'), expiresInHours: hours === undefined ? undefined : Number(hours), timeoutMs: timeout ? Number(timeout) * 1000 : undefined, progress: (l) => process.stderr.write(`privacy: ${l}\n`) });
      const e = request.status!.export!;
      console.log(`exported: PrivacyRequest ${name} in namespace ${namespace}: ${e.identities.length} identities, ${e.files.length} files (${e.files.filter((f) => f.table).reduce((n, f) => n + f.rows, 0)} rows) in ${elapsed(started)}; downloaded once into ${file} (${bytes} bytes, tar.gz; README.md inside says what each file is)`);
      return 0;
    }
    if (args[0] === 'download' && args[1]) {
      needEnv('CLICKHOUSE_URL');
      const { file, bytes } = await download(kc, namespace, args[1], str(values, 'out'));
      console.log(`downloaded: the export of PrivacyRequest ${args[1]} into ${file} (${bytes} bytes); it cannot be downloaded again`);
      return 0;
    }
    if (args[0] === 'unsuppress' && (args[1] || str(values, 'receipt'))) {
      needEnv('KAFKA_BROKERS');
      const receiptFile = str(values, 'receipt');
      const identities = [...args.slice(1), ...(receiptFile ? readReceipt(receiptFile).identities : [])];
      const bad = identities.find((i) => !new RegExp(IDENTITY_PATTERN).test(i));
      if (bad) throw new UsageError(`identity ${JSON.stringify(bad)} is not <type>:<value>, e.g. email:ada@example.com or userId:u-1`);
      await liftSuppressions(connectKafka(kafkaSettingsFromEnv('uspa-privacy-cli'), createLogger('uspa-cli', 'warn')), topicNames(await namespaceTopicPrefix(kc, namespace)), identities);
      console.log(`unsuppressed: ${identities.length} identities of namespace ${namespace} are collected again (collectors and pipelines follow within seconds); what was erased stays erased`);
      return 0;
    }
    if (args[0] === 'verify' && args[1]) {
      needEnv('CLICKHOUSE_URL');
      const { receipt, check } = await verify(kc, args[1], str(values, 'namespace'));
      console.log(verifyReport(args[1], receipt, check));
      return check.ok ? 0 : 1;
    }
    throw new UsageError('usage: uspa privacy erase <identity> [-n namespace] [--mode suppress|delete|suppress_with_delete] [--reference text] [--receipt file] | uspa privacy access <identity> [-n namespace] [--reference text] [--expires-in-hours N] [--out file] | uspa privacy download <request> [-n namespace] [--out file] | uspa privacy unsuppress <identity>… | --receipt <receipt.json> [-n namespace] | uspa privacy verify <receipt.json> [-n namespace]');
  }
  throw new UsageError(`unknown command ${group}`);
}
