// `uspa privacy erase | access | download | verify`: a privacy officer's commands. erase and access
// create a PrivacyRequest (the operator carries it out) and follow its status until the signed
// receipt, or the export, is there; access then downloads the export (once), as download does for
// a request made another way; verify checks a receipt's signature with the namespace's key and
// re-counts the person's rows.
import { createHash } from 'node:crypto';
import { createWriteStream, readFileSync, statSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { PRIVACY_SIGNING_KEY_ENV, PRIVACY_SIGNING_SECRET, PRIVACY_SIGNING_SECRET_KEY, workerWorkload } from '../api/names.ts';
import { ERASURE_MODES, type ErasureMode, type ErasureReceipt } from '../api/privacy.ts';
import { EXPORT_HOURS, GROUP, IDENTITY_PATTERN, VERSION, type PrivacyAction, type PrivacyRequest, type PrivacyRequestSpec } from '../api/v1alpha1/index.ts';
import { Warehouse, clickhouseSettingsFromEnv } from '../lib/clickhouse.ts';
import { apiMessage } from '../lib/kubernetes/apply.ts';
import { archiveName, deliverExport, downloadedPatch, exportAvailability } from '../lib/privacy/download.ts';
import { verifyReceipt, type ReceiptCheck } from '../lib/privacy/verify.ts';
import { UsageError } from './args.ts';
import { ResolveError } from './resolve.ts';


/** A request name from the action, the identity and the time: the same identity asked twice gets two requests. */
export function requestName(identity: string, at: Date, action: PrivacyAction = 'erase'): string {
  return `${action}-${createHash('sha256').update(`${identity}\n${at.toISOString()}`).digest('hex').slice(0, 10)}`;
}

interface RequestOptions {
  namespace: string;
  identity: string;
  reference?: string;
  name?: string;
  timeoutMs?: number;
  progress?: (line: string) => void;
}

const where = (namespace: string) => ({ group: GROUP, version: VERSION, namespace, plural: 'privacyrequests' });

/** Creates the PrivacyRequest and follows its status until it is Completed (throws when it failed or took too long). */
async function carryOut(kc: KubeConfig, o: RequestOptions, spec: PrivacyRequestSpec): Promise<{ name: string; request: PrivacyRequest }> {
  if (!new RegExp(IDENTITY_PATTERN).test(o.identity)) throw new UsageError(`identity ${JSON.stringify(o.identity)} is not <type>:<value>, e.g. email:ada@example.com or userId:u-1`);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const name = o.name ?? requestName(o.identity, new Date(), spec.action);
  const body: PrivacyRequest = { apiVersion: `${GROUP}/${VERSION}`, kind: 'PrivacyRequest', metadata: { name, namespace: o.namespace }, spec: { ...spec, ...(o.reference ? { reference: o.reference } : {}) } };
  try {
    await custom.createNamespacedCustomObject({ ...where(o.namespace), body });
  } catch (err) {
    throw new ResolveError(`the cluster refused PrivacyRequest ${name} in namespace ${o.namespace}: ${apiMessage(err).slice(0, 400)}`);
  }
  o.progress?.(`PrivacyRequest ${name} created in namespace ${o.namespace}; following its status (kubectl get privacyrequest ${name} -n ${o.namespace})`);
  const deadline = Date.now() + (o.timeoutMs ?? 30 * 60_000);
  let last = '';
  for (;;) {
    const request = (await custom.getNamespacedCustomObject({ ...where(o.namespace), name })) as PrivacyRequest;
    const s = request.status;
    const line = `${s?.phase ?? 'Pending'}${s?.step ? `: ${s.step}` : ''}${s?.stores ? ` (${s.storesDone ?? 0}/${s.stores} stores)` : ''}`;
    if (line !== last) o.progress?.(line);
    last = line;
    if (s?.phase === 'Completed') return { name, request };
    if (s?.phase === 'Failed') throw new ResolveError(`PrivacyRequest ${name} failed: ${s.conditions?.find((c) => c.type === 'Degraded')?.message ?? 'see kubectl describe privacyrequest'}`);
    if (Date.now() > deadline) throw new ResolveError(`PrivacyRequest ${name} is not done after ${Math.round((o.timeoutMs ?? 1_800_000) / 1000)} s (last: ${line}); it goes on: kubectl get privacyrequest ${name} -n ${o.namespace}`);
    await sleep(1_000);
  }
}

export interface EraseOptions extends RequestOptions {
  mode?: string;
  /** Where the receipt is written; default <name>-receipt.json. */
  receipt?: string;
}

export async function erase(kc: KubeConfig, o: EraseOptions): Promise<{ name: string; request: PrivacyRequest; receiptFile: string }> {
  if (o.mode && !ERASURE_MODES.includes(o.mode as ErasureMode)) throw new UsageError(`--mode must be one of ${ERASURE_MODES.join(', ')}, not ${o.mode}`);
  // The mode is written out, so `kubectl get privacyrequests` shows it.
  const { name, request } = await carryOut(kc, o, { identity: o.identity, action: 'erase', mode: (o.mode as ErasureMode | undefined) ?? 'suppress_with_delete' });
  if (!request.status?.receipt) throw new ResolveError(`PrivacyRequest ${name} completed without a receipt in its status`);
  const receiptFile = o.receipt ?? `${name}-receipt.json`;
  writeFileSync(receiptFile, `${JSON.stringify(request.status.receipt, null, 2)}\n`);
  return { name, request, receiptFile };
}

export interface AccessOptions extends RequestOptions {
  expiresInHours?: number;
  /** Where the archive is written; default export-<name>.tar.gz. */
  out?: string;
}

/** An access request, followed to its export, downloaded once into a file. */
export async function access(kc: KubeConfig, o: AccessOptions): Promise<{ name: string; request: PrivacyRequest; file: string; bytes: number }> {
  if (o.expiresInHours !== undefined && !(Number.isInteger(o.expiresInHours) && o.expiresInHours >= 1 && o.expiresInHours <= EXPORT_HOURS.max)) {
    throw new UsageError(`--expires-in-hours must be a whole number from 1 to ${EXPORT_HOURS.max}, not ${o.expiresInHours}`);
  }
  const { name, request } = await carryOut(kc, o, { identity: o.identity, action: 'access', ...(o.expiresInHours ? { expiresInHours: o.expiresInHours } : {}) });
  return { name, request, ...(await download(kc, o.namespace, name, o.out)) };
}

/**
 * The one download of an access export, as the API does it: marked downloaded at the version read
 * (of two racing downloads one wins), streamed from ClickHouse into the file, then dropped.
 */
export async function download(kc: KubeConfig, namespace: string, name: string, out?: string): Promise<{ file: string; bytes: number }> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  let request: PrivacyRequest;
  try {
    request = (await custom.getNamespacedCustomObject({ ...where(namespace), name })) as PrivacyRequest;
  } catch (err) {
    throw new ResolveError(`cannot read PrivacyRequest ${name} in namespace ${namespace}: ${apiMessage(err).slice(0, 200)}`);
  }
  const now = new Date();
  const available = exportAvailability(request, now);
  if (!available.ok) throw new ResolveError(available.reason);
  try {
    await custom.patchNamespacedCustomObject({ ...where(namespace), name, body: downloadedPatch(request.metadata.resourceVersion!, now) }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  } catch (err) {
    throw new ResolveError(`cannot mark PrivacyRequest ${name} downloaded (another download may have started): ${apiMessage(err).slice(0, 200)}`);
  }
  const file = out ?? archiveName(request);
  const warehouse = new Warehouse({ ...clickhouseSettingsFromEnv(), database: available.export.database });
  try {
    await deliverExport(warehouse, request, available.export, createWriteStream(file));
  } finally {
    await warehouse.close();
  }
  return { file, bytes: statSync(file).size };
}

/**
 * The namespace's topic prefix, as its privacy worker (running while PrivacyRequests exist) or a
 * Pipeline's worker has it: the suppression list is <prefix>.privacy.
 */
export async function namespaceTopicPrefix(kc: KubeConfig, namespace: string): Promise<string> {
  const apps = kc.makeApiClient(AppsV1Api);
  const candidates = [workerWorkload('privacy'), ...((await kc.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'pipelines' }).catch(() => ({ items: [] }))) as { items: Array<{ status?: { deployment?: string } }> }).items.map((p) => p.status?.deployment).filter((d): d is string => Boolean(d))];
  for (const name of candidates) {
    const deployment = await apps.readNamespacedDeployment({ name, namespace }).catch(() => undefined);
    const prefix = deployment?.spec?.template.spec?.containers[0]?.env?.find((e) => e.name === 'USPA_TOPIC_PREFIX')?.value;
    if (prefix) return prefix;
  }
  throw new ResolveError(`namespace ${namespace} has no privacy worker nor Pipeline worker to learn its topic prefix from (kubectl get deployments -n ${namespace}); is this the namespace the person was erased in?`);
}

/** The namespace's signing key: USPA_PRIVACY_SIGNING_KEY when set, else its Secret. */
async function signingKey(kc: KubeConfig, namespace: string): Promise<string> {
  const fromEnv = process.env[PRIVACY_SIGNING_KEY_ENV];
  if (fromEnv) return fromEnv;
  try {
    const secret = await kc.makeApiClient(CoreV1Api).readNamespacedSecret({ name: PRIVACY_SIGNING_SECRET, namespace });
    const value = secret.data?.[PRIVACY_SIGNING_SECRET_KEY];
    if (!value) throw new Error(`it has no key "${PRIVACY_SIGNING_SECRET_KEY}"`);
    return Buffer.from(value, 'base64').toString('utf8');
  } catch (err) {
    throw new ResolveError(`cannot read the signing key (Secret ${PRIVACY_SIGNING_SECRET} in namespace ${namespace}): ${apiMessage(err).slice(0, 200)}; or set ${PRIVACY_SIGNING_KEY_ENV}`);
  }
}

export function readReceipt(file: string): ErasureReceipt {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`${file}: not a receipt (${(err as Error).message})`);
  }
  const r = json as Partial<ErasureReceipt>;
  if (typeof r !== 'object' || r === null || r.version !== 1 || !Array.isArray(r.stores) || !Array.isArray(r.identities) || typeof r.database !== 'string' || typeof r.namespace !== 'string') {
    throw new UsageError(`${file}: not an erasure receipt (version 1 with namespace, database, identities and stores)`);
  }
  return r as ErasureReceipt;
}

export async function verify(kc: KubeConfig, file: string, namespace?: string): Promise<{ receipt: ErasureReceipt; check: ReceiptCheck }> {
  const receipt = readReceipt(file);
  const key = await signingKey(kc, namespace ?? receipt.namespace);
  const warehouse = new Warehouse({ ...clickhouseSettingsFromEnv(), database: receipt.database });
  try {
    return { receipt, check: await verifyReceipt(warehouse, receipt, key) };
  } finally {
    await warehouse.close();
  }
}

/** What verify prints: the signature, then each store counted now against the receipt. */
export function verifyReport(file: string, receipt: ErasureReceipt, check: ReceiptCheck): string {
  const lines = [`${file}: receipt ${receipt.id} (${receipt.mode}, ${receipt.identities.length} identities, completed ${receipt.completedAt})`];
  lines.push(check.signature ? 'signature: valid (HMAC-SHA256 with the namespace key)' : 'signature: DOES NOT MATCH — the receipt was changed after signing, or signed with another key');
  for (const s of check.stores) lines.push(`  ${s.table.padEnd(26)} left per receipt ${String(s.after).padStart(6)}   now ${s.now === undefined ? 'table gone' : String(s.now).padStart(6)}   ${s.ok ? 'ok' : 'ROWS FOUND'}`);
  lines.push(check.ok ? 'verified' : 'NOT verified');
  return lines.join('\n');
}
