// The namespace's API gateway, applied from the Pipeline controller: one per namespace with a
// live Pipeline, owned by all of them (garbage collection removes it with the last one).
import { API } from '../../api/names.ts';
import { apiManifests } from '../manifests/api.ts';
import { hashOf } from '../manifests/workload.ts';
import { type OperatorContext, isDeleting } from '../context.ts';
import type { OperatorSettings } from '../settings.ts';

export class ApiGateway {
  /** Per namespace, what was applied last and the Deployment generation it gave. */
  private readonly applied = new Map<string, { hash: string; generation?: number }>();

  constructor(private readonly ctx: OperatorContext) {}

  /** `clickhouse`: the namespace's credentials when the caller has them already. */
  async apply(namespace: string, clickhouse?: OperatorSettings['clickhouse']): Promise<void> {
    const { ctx } = this;
    const pipelines = ctx.caches.pipelines.list(namespace).filter((p) => !isDeleting(p));
    if (pipelines.length === 0) {
      this.applied.delete(namespace);
      return;
    }
    const sources = ctx.caches.sources.list(namespace).filter((s) => !isDeleting(s));
    const m = apiManifests(namespace, pipelines, sources, { ...ctx.settings, clickhouse: clickhouse ?? (await ctx.clickhouseCredentials(namespace)) });
    // Applied only when the desired objects changed or the Deployment was edited or deleted by hand.
    const hash = hashOf(JSON.stringify(m));
    const memo = this.applied.get(namespace);
    const current = ctx.caches.deployments.get(API, namespace);
    if (memo && current && memo.hash === hash && memo.generation === current.metadata?.generation) return;
    for (const obj of [m.account, m.role, m.binding, m.secret, ...(m.engineSecret ? [m.engineSecret] : []), m.configMap, m.service]) await ctx.applier.apply(obj);
    const applied = await ctx.applier.apply(m.deployment);
    if (m.disruptionBudget) await ctx.applier.apply(m.disruptionBudget);
    this.applied.set(namespace, { hash, generation: applied.metadata?.generation });
  }
}
