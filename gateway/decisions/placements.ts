// The namespace's Personalization resources, watched and compiled for the request path: an edit is
// effective as soon as the watch delivers it. The API reports in each resource's status.workers
// what it has loaded (component "api"), and a variant whose template fails to render, so the
// operator's Ready and Degraded say which variant and why.
import { CustomObjectsApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Personalization } from '../../api/v1alpha1/index.ts';
import { ResourceInformer } from '../../lib/kubernetes/informer.ts';
import { reportStatus } from '../../lib/kubernetes/report.ts';
import type { Logger } from '../../lib/log.ts';
import { compilePlacement, type CompiledPlacement } from '../../lib/personalization/placement.ts';

export const REPORTER = 'api';

interface Entry {
  placement?: CompiledPlacement;
  problems: string[];
  uid?: string;
  generation: number;
  /** Render failures of this generation, by variant (or "fallback"): the newest message. */
  failures: Map<string, string>;
  /** When a render failure was last reported (ms). */
  reportedAt: number;
}

const REPORT_EVERY_MS = 5_000;

export class PlacementTable {
  private readonly entries = new Map<string, Entry>();
  synced = false;

  constructor(
    private readonly report: (name: string, entry: { uid?: string; generation: number; problems: string[]; failures: Map<string, string> }) => void = () => undefined,
  ) {}

  update(resource: Personalization, deleted = false): void {
    const name = resource.metadata.name!;
    if (deleted) {
      this.entries.delete(name);
      return;
    }
    const generation = resource.metadata.generation ?? 0;
    const known = this.entries.get(name);
    // A status write (ours included) is an update of the same generation: nothing to recompile or report.
    if (known && known.uid === resource.metadata.uid && known.generation === generation) return;
    const { placement, problems } = compilePlacement(resource);
    const entry: Entry = { placement, problems, uid: resource.metadata.uid, generation, failures: new Map(), reportedAt: 0 };
    this.entries.set(name, entry);
    this.report(name, { uid: entry.uid, generation, problems, failures: entry.failures });
  }

  /** The compiled placement, or why there is none. */
  get(name: string): { placement: CompiledPlacement } | { problem: string } {
    const e = this.entries.get(name);
    if (!e) return { problem: 'unknown placement' };
    if (!e.placement) return { problem: 'invalid placement' };
    return { placement: e.placement };
  }

  /** A template failed to render: remembered and reported (an unchanged report is not written again, a failed write is retried at the next failure). */
  renderFailed(name: string, variant: string, message: string): void {
    const e = this.entries.get(name);
    if (!e?.placement) return;
    e.failures.set(variant, message.split('\n')[0]!.slice(0, 300));
    // A template failing on every request must not write the status on every request.
    if (Date.now() - e.reportedAt < REPORT_EVERY_MS) return;
    e.reportedAt = Date.now();
    this.report(name, { uid: e.uid, generation: e.placement.generation, problems: [], failures: e.failures });
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The PlacementTable fed by a watch of the namespace's Personalizations, reporting to their status. */
export async function watchPlacements(kc: KubeConfig, namespace: string, log: Logger): Promise<{ placements: PlacementTable; stop(): Promise<void> }> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  // One write at a time per resource, in order: a later report must not be overtaken by an earlier one.
  const writes = new Map<string, Promise<unknown>>();
  const report = (name: string, e: { uid?: string; generation: number; problems: string[]; failures: Map<string, string> }) => {
    const failures = [...e.failures].map(([variant, why]) => `${variant}: ${why}`);
    const update = e.problems.length
      ? { component: REPORTER, generation: e.generation, state: 'Stalled' as const, reason: 'Invalid', message: e.problems.join('; ') }
      : failures.length
        ? { component: REPORTER, generation: e.generation, state: 'Stalled' as const, reason: 'TemplateRenderFailed', message: `templates failed to render (the fallback was given): ${failures.join('; ')}` }
        : { component: REPORTER, generation: e.generation, state: 'Live' as const };
    const write = (writes.get(name) ?? Promise.resolve())
      .then(() => reportStatus(kc, { kind: 'Personalization', namespace, name, uid: e.uid }, update))
      .catch((err: unknown) => log.warn({ personalization: name, err: (err as Error).message }, 'could not report to the Personalization status'))
      .finally(() => {
        if (writes.get(name) === write) writes.delete(name);
      });
    writes.set(name, write);
  };
  const placements = new PlacementTable(report);
  const informer = new ResourceInformer<Personalization & KubernetesObject>(kc, {
    name: 'Personalization',
    path: `/apis/uspa.tech/v1alpha1/namespaces/${namespace}/personalizations`,
    list: () => custom.listNamespacedCustomObject({ group: 'uspa.tech', version: 'v1alpha1', namespace, plural: 'personalizations' }) as never,
    resyncMs: 60_000,
    log,
  });
  informer.onChange((obj, change) => placements.update(obj, change === 'delete'));
  await informer.start();
  placements.synced = true;
  log.info({ placements: placements.size }, 'placements loaded');
  return { placements, stop: () => informer.stop() };
}
