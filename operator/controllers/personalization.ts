// Personalization → its rules and templates checked now (the API refuses nothing at decision time
// that could have been refused here), the Segments it names resolved, and its lift against the
// holdout read from the exposure and conversion events into status. The API decides from the
// watched resource itself and reports what it loaded (status.workers, component "api"): Ready
// means the API serves this generation. Nothing external is created, so no finalizer.
import { PERSONALIZATION_DEFAULTS, type PersonalizationStatus } from '../../api/v1alpha1/index.ts';
import { durationSeconds, parseRule, referencedSegments } from '../../lib/segments/rules.ts';
import { compilePlacement } from '../../lib/personalization/placement.ts';
import { placementLift } from '../../lib/personalization/lift.ts';
import { apiMessage } from '../../lib/kubernetes/apply.ts';
import { type OperatorContext, isDeleting } from '../context.ts';
import type { Reconciler, Request, Result } from '../machinery/controller.ts';
import { workerVerdict } from '../machinery/conditions.ts';

const LIFT_REFRESH_MS = 60_000;
/** The component name the API reports under (gateway/decisions/placements.ts). */
const API_REPORTER = 'api';

export class PersonalizationReconciler implements Reconciler {
  readonly kind = 'Personalization';

  constructor(private readonly ctx: OperatorContext) {}

  async reconcile({ namespace, name }: Request): Promise<Result | void> {
    const { ctx } = this;
    const resource = ctx.caches.personalizations.get(name, namespace);
    if (!resource || isDeleting(resource)) return;
    const gen = resource.metadata.generation ?? 0;
    const status: PersonalizationStatus = { ...resource.status, observedGeneration: gen };
    const write = (state: 'ready' | 'progressing' | 'degraded', reason: string, message: string) => ctx.report(resource, status, state, reason, message);

    const { placement, problems } = compilePlacement(resource);
    if (!placement) {
      delete status.variants;
      return write('degraded', 'Invalid', problems.join('; '));
    }
    status.variants = placement.variants.length;
    const missing = (resource.spec.variants ?? [])
      .flatMap((v, i) => (v.rule ? referencedSegments(parseRule(v.rule)).map((s) => ({ s, where: `spec.variants[${i}].rule` })) : []))
      .filter(({ s }) => {
        const seg = ctx.caches.segments.get(s, namespace);
        return !seg || isDeleting(seg);
      });
    if (missing.length) return write('degraded', 'SegmentNotFound', missing.map(({ s, where }) => `${where}: Segment "${s}" not found in namespace ${namespace}`).join('; '));
    if (!ctx.caches.pipelines.list(namespace).some((p) => !isDeleting(p))) return write('progressing', 'WaitingForPipeline', `no Pipeline in namespace ${namespace}: the API that decides placements runs with the namespace's first Pipeline`);

    try {
      const { warehouse } = await ctx.warehouse(namespace);
      const conversion = resource.spec.conversion ?? {};
      status.lift = await placementLift(warehouse, name, conversion.event ?? PERSONALIZATION_DEFAULTS.conversion.event, durationSeconds(conversion.within ?? PERSONALIZATION_DEFAULTS.conversion.within) ?? 7 * 86_400);
      status.liftComputedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    } catch (err) {
      ctx.log.warn({ personalization: `${namespace}/${name}`, err: apiMessage(err) }, 'could not compute lift');
    }

    const waiting = workerVerdict(resource.status?.workers, API_REPORTER, gen, 'current');
    if (waiting) await write(waiting.state, waiting.reason, waiting.message.replace('api worker', 'API'));
    else if (resource.spec.suspend) await write('ready', 'Suspended', 'suspended: every visitor gets the fallback');
    else await write('ready', 'Active', `decides among ${placement.variants.length} variant(s) (${placement.strategy}${placement.holdoutPercent ? `, ${placement.holdoutPercent}% held out` : ''})`);
    return { requeueAfterMs: LIFT_REFRESH_MS * (0.8 + Math.random() * 0.4) };
  }
}
