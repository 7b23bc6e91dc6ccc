// How a worker tells the operator what it has loaded and whether it makes progress: its own entry
// of the resource's status.workers, written with server-side apply under a field manager of its
// own, so neither the operator's status writes nor another worker's reports touch it. The operator
// folds the entries into Ready and Degraded (operator/machinery/conditions.ts workerVerdict).
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { API_VERSION, GROUP, VERSION, type WorkerReport, type WorkerState } from '../../api/v1alpha1/meta.ts';

export interface ReportTarget {
  kind: 'Source' | 'Pipeline' | 'Segment' | 'Activation' | 'Personalization';
  namespace: string;
  name: string;
  /** The object's uid, when known: a deleted and re-created object of the same name is reported afresh. */
  uid?: string;
}

export interface ReportUpdate {
  /** The reporting worker, e.g. "activations" or "pipeline" (one status.workers entry each). */
  component: string;
  /** metadata.generation the worker has loaded. */
  generation: number;
  state: WorkerState;
  reason?: string;
  message?: string;
}

/** The field manager a component's reports are written under. */
export function reporterFieldManager(component: string): string {
  return `uspa-worker-${component}`;
}

/** The status.workers entry for an update: `since` moves only when the state flips. */
export function workerEntry(previous: WorkerReport | undefined, update: ReportUpdate, now: Date = new Date()): WorkerReport {
  const entry: WorkerReport = {
    component: update.component,
    generation: update.generation,
    state: update.state,
    since: previous && previous.state === update.state ? previous.since : now.toISOString().replace(/\.\d+Z$/, 'Z'),
  };
  if (update.reason) entry.reason = update.reason;
  if (update.message) entry.message = update.message.slice(0, 32_768);
  return entry;
}

function sameReport(a: WorkerReport, b: WorkerReport): boolean {
  return a.generation === b.generation && a.state === b.state && a.reason === b.reason && a.message === b.message;
}

/** An unchanged report is written again after this long, so a status that was lost heals. */
const REWRITE_AFTER_MS = 5 * 60_000;
const reporters = new WeakMap<KubeConfig, { api: CustomObjectsApi; last: Map<string, { entry: WorkerReport; at: number }> }>();

/**
 * Writes the component's entry of the resource's status.workers (server-side apply, its own field
 * manager); a report equal to the last one written is skipped for a while. Resolves false when
 * nothing was written (unchanged, or the object is gone); throws on other API errors.
 * The worker needs `patch` on `<plural>/status` in its namespace.
 */
export async function reportStatus(kc: KubeConfig, target: ReportTarget, update: ReportUpdate): Promise<boolean> {
  let reporter = reporters.get(kc);
  if (!reporter) {
    reporter = { api: kc.makeApiClient(CustomObjectsApi), last: new Map() };
    reporters.set(kc, reporter);
  }
  const key = `${target.kind}/${target.namespace}/${target.name}/${target.uid ?? ''}/${update.component}`;
  const last = reporter.last.get(key);
  const entry = workerEntry(last?.entry, update);
  if (last && sameReport(last.entry, entry) && Date.now() - last.at < REWRITE_AFTER_MS) return false;
  const body = { apiVersion: API_VERSION, kind: target.kind, metadata: { name: target.name, namespace: target.namespace }, status: { workers: [entry] } };
  try {
    await reporter.api.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: VERSION, namespace: target.namespace, plural: `${target.kind.toLowerCase()}s`, name: target.name, body, fieldManager: reporterFieldManager(update.component), force: true },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    );
  } catch (err) {
    if ((err as { code?: number }).code === 404) return false;
    throw err;
  }
  reporter.last.set(key, { entry, at: Date.now() });
  if (reporter.last.size > 10_000) reporter.last.delete(reporter.last.keys().next().value!);
  return true;
}
