// Campaign results: what each Activation sent, failed and suppressed over time with its recent
// deliveries and each variant's lift over the holdout; and each placement (Personalization) with
// its exposures over time and the lift the operator last wrote in its status.
import { activationCrd, EXPOSURE_EVENT, PERSONALIZATION_DEFAULTS, personalizationCrd, type ActivationSpec, type ActivationStatus, type PersonalizationSpec, type PersonalizationStatus } from '../../api/v1alpha1/index.ts';
import { activationLift } from '../../lib/personalization/lift.ts';
import type { GatewayContext } from '../context.ts';
import { LIMIT, operation, type JsonSchema, type Operation } from '../http/operation.ts';
import { fromKubernetes } from '../kubernetes/errors.ts';
import { CustomResources, type CustomResource } from '../kubernetes/resources.ts';
import { isoTime } from '../segments/queries.ts';
import { bucketSeconds, MINUTES, READY, readyOf } from './overview.ts';

type Activation = CustomResource<ActivationSpec, ActivationStatus>;
type Personalization = CustomResource<PersonalizationSpec, PersonalizationStatus>;

const NAME: JsonSchema = { type: 'string', minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' };
const TIME: JsonSchema = { type: 'string', format: 'date-time' };
const COUNT = { type: 'integer', minimum: 0 } as const;
const OUTCOMES = ['sent', 'failed', 'suppressed', 'holdout'] as const;

export const ARM: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['arm', 'exposed', 'converted', 'rate'],
  properties: {
    arm: { type: 'string', description: 'A variant ("" without variants), or "(holdout)".' },
    exposed: { ...COUNT, description: 'People in the arm (Activations: sent to or held out; placements: shown it).' },
    converted: COUNT,
    rate: { type: 'number', minimum: 0, maximum: 1 },
    lift: { type: 'number', description: 'rate / holdout rate − 1 (absent: no holdout, or it never converted).' },
    liftLow: { type: 'number', description: '95% interval of the lift, low end.' },
    liftHigh: { type: 'number', description: '95% interval of the lift, high end.' },
  },
};

const OUTCOME_POINT: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['t', ...OUTCOMES],
  properties: { t: TIME, ...Object.fromEntries(OUTCOMES.map((o) => [o, COUNT])) },
};

function arms<T extends { arm: string; exposed: number; converted: number; rate: number }>(list: readonly T[] | undefined) {
  return (list ?? []).map((a) => ({ ...a }));
}

export function campaignOperations(ctx: GatewayContext): Operation[] {
  let made: { activations: CustomResources<Activation>; personalizations: CustomResources<Personalization> } | undefined;
  const engines = () =>
    (made ??= {
      activations: new CustomResources<Activation>(ctx.kc, ctx.namespace, activationCrd.spec.names.kind, activationCrd.spec.names.plural),
      personalizations: new CustomResources<Personalization>(ctx.kc, ctx.namespace, personalizationCrd.spec.names.kind, personalizationCrd.spec.names.plural),
    });
  const named = async <R>(get: () => Promise<R>, what: string) => {
    try {
      return await get();
    } catch (err) {
      throw fromKubernetes(err, what);
    }
  };
  const window = (minutes: number) => {
    const to = new Date();
    return { from: new Date(to.getTime() - minutes * 60_000).toISOString(), to: to.toISOString(), bucketSeconds: bucketSeconds(minutes) };
  };
  const WINDOW: JsonSchema = { type: 'object', additionalProperties: false, required: ['from', 'to', 'bucketSeconds'], properties: { from: TIME, to: TIME, bucketSeconds: { type: 'integer' } } };

  return [
    operation<{ name: string }, { minutes: number; limit: number }>({
      id: 'getActivationResults',
      method: 'get',
      path: '/v1/activations/{name}/results',
      summary: "An Activation's results: sends, failures and suppressions over time, why, each variant's lift over the holdout, recent deliveries",
      tag: 'activations',
      permission: 'activations:read',
      params: { type: 'object', required: ['name'], properties: { name: NAME } },
      query: { properties: { minutes: MINUTES, limit: LIMIT(200, 20) } },
      responses: {
        200: {
          description: 'The results.',
          schema: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'ready', 'status', 'window', 'totals', 'series', 'reasons', 'lift', 'recent'],
            properties: {
              name: { type: 'string' },
              ready: READY,
              status: { type: 'object', additionalProperties: false, required: ['sent', 'failed', 'suppressed', 'lastSentAt'], description: 'All time, as the operator reports it.', properties: { sent: COUNT, failed: COUNT, suppressed: COUNT, lastSentAt: { type: ['string', 'null'], format: 'date-time' } } },
              window: WINDOW,
              totals: { type: 'object', additionalProperties: false, required: [...OUTCOMES], description: 'In the window.', properties: Object.fromEntries(OUTCOMES.map((o) => [o, COUNT])) },
              series: { type: 'array', items: OUTCOME_POINT },
              reasons: { type: 'array', description: 'Why not sent, in the window, most frequent first.', items: { type: 'object', additionalProperties: false, required: ['outcome', 'reason', 'count'], properties: { outcome: { type: 'string' }, reason: { type: 'string' }, count: COUNT } } },
              lift: { type: 'array', items: ARM, description: 'All time: people per arm and how many converted (the conversion event within the attribution window).' },
              recent: {
                type: 'array',
                items: { type: 'object', additionalProperties: false, required: ['at', 'outcome', 'variant', 'reason', 'attempt', 'profileId'], properties: { at: TIME, outcome: { type: 'string' }, variant: { type: 'string' }, reason: { type: 'string' }, attempt: COUNT, profileId: { type: 'string' } } },
              },
            },
          },
        },
      },
      async handler({ params: { name }, query }) {
        const a = await named(() => engines().activations.get(name), `Activation ${name}`);
        const key = `${ctx.namespace}/${name}`;
        const w = window(query.minutes);
        const p = { key, minutes: query.minutes, bucket: w.bucketSeconds };
        const [series, reasons, lift, recent] = await Promise.all([
          ctx.warehouse.query<{ t: string; outcome: string; n: string }>(
            `SELECT toString(toStartOfInterval(at, INTERVAL {bucket:UInt32} SECOND)) AS t, outcome, count() AS n FROM {db}.activation_deliveries FINAL
             WHERE activation = {key:String} AND at >= now64(3) - INTERVAL {minutes:UInt32} MINUTE GROUP BY t, outcome ORDER BY t`,
            p,
          ),
          ctx.warehouse.query<{ outcome: string; reason: string; n: string }>(
            `SELECT outcome, reason, count() AS n FROM {db}.activation_deliveries FINAL
             WHERE activation = {key:String} AND outcome != 'sent' AND at >= now64(3) - INTERVAL {minutes:UInt32} MINUTE GROUP BY outcome, reason ORDER BY n DESC LIMIT 20`,
            p,
          ),
          activationLift(ctx.warehouse, key),
          ctx.warehouse.query<{ at: string; outcome: string; variant: string; reason: string; attempt: number; profile_id: string }>(
            'SELECT toString(at) AS at, outcome, variant, reason, attempt, profile_id FROM {db}.activation_deliveries FINAL WHERE activation = {key:String} ORDER BY at DESC LIMIT {n:UInt32}',
            { key, n: query.limit },
          ),
        ]);
        const points = new Map<string, Record<string, number | string>>();
        const totals = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<(typeof OUTCOMES)[number], number>;
        for (const r of series) {
          const t = isoTime(r.t);
          const point = points.get(t) ?? { t, ...Object.fromEntries(OUTCOMES.map((o) => [o, 0])) };
          if ((OUTCOMES as readonly string[]).includes(r.outcome)) {
            point[r.outcome] = Number(r.n);
            totals[r.outcome as (typeof OUTCOMES)[number]] += Number(r.n);
          }
          points.set(t, point);
        }
        const s = a.status ?? {};
        return {
          body: {
            name,
            ready: readyOf(a as never),
            status: { sent: s.sent ?? 0, failed: s.failed ?? 0, suppressed: s.suppressed ?? 0, lastSentAt: s.lastSentAt ?? null },
            window: w,
            totals,
            series: [...points.values()],
            reasons: reasons.map((r) => ({ outcome: r.outcome, reason: r.reason, count: Number(r.n) })),
            lift: arms(lift),
            recent: recent.map((r) => ({ at: isoTime(r.at), outcome: r.outcome, variant: r.variant, reason: r.reason, attempt: Number(r.attempt), profileId: r.profile_id })),
          },
        };
      },
    }),
    operation<Record<string, never>, { minutes: number }>({
      id: 'listPersonalizations',
      method: 'get',
      path: '/v1/personalizations',
      summary: 'Every placement (Personalization resource) with its exposures over time per arm and its lift over the holdout',
      description: "Lift is what the operator last wrote in the resource's status (recomputed every minute); exposures come from the Personalization Exposed events in the window.",
      tag: 'personalization',
      permission: 'personalizations:read',
      query: { properties: { minutes: MINUTES } },
      responses: {
        200: {
          description: 'The placements, by name.',
          schema: {
            type: 'object',
            additionalProperties: false,
            required: ['window', 'placements'],
            properties: {
              window: WINDOW,
              placements: {
                type: 'array',
                items: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['name', 'ready', 'strategy', 'variants', 'holdoutPercent', 'conversion', 'lift', 'liftComputedAt', 'exposures'],
                  properties: {
                    name: { type: 'string' },
                    description: { type: 'string' },
                    ready: READY,
                    strategy: { type: 'string' },
                    variants: { type: 'array', items: { type: 'string' } },
                    holdoutPercent: { type: 'number' },
                    conversion: { type: 'object', additionalProperties: false, required: ['event', 'within'], properties: { event: { type: 'string' }, within: { type: 'string' } } },
                    lift: { type: 'array', items: ARM },
                    liftComputedAt: { type: ['string', 'null'], format: 'date-time' },
                    exposures: {
                      type: 'array',
                      description: 'Exposures in the window, per bucket and arm.',
                      items: { type: 'object', additionalProperties: false, required: ['t', 'arm', 'n'], properties: { t: TIME, arm: { type: 'string' }, n: COUNT } },
                    },
                  },
                },
              },
            },
          },
        },
      },
      async handler({ query }) {
        const w = window(query.minutes);
        const items: Personalization[] = [];
        let token: string | undefined;
        do {
          const page = await named(() => engines().personalizations.list(500, token), 'Personalizations');
          items.push(...page.items);
          token = page.continue;
        } while (token);
        const rows = await ctx.warehouse.query<{ placement: string; arm: string; t: string; n: string }>(
          `SELECT JSONExtractString(properties, 'placement') AS placement, JSONExtractString(properties, 'variant') AS arm,
                  toString(toStartOfInterval(timestamp, INTERVAL {bucket:UInt32} SECOND)) AS t, count() AS n
           FROM {db}.events WHERE event = {exposure:String} AND timestamp >= now64(3) - INTERVAL {minutes:UInt32} MINUTE
           GROUP BY placement, arm, t ORDER BY t`,
          { exposure: EXPOSURE_EVENT, minutes: query.minutes, bucket: w.bucketSeconds },
        );
        items.sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!));
        return {
          body: {
            window: w,
            placements: items.map((p) => ({
              name: p.metadata!.name!,
              ...(p.spec.description ? { description: p.spec.description } : {}),
              ready: readyOf(p as never),
              strategy: p.spec.strategy ?? PERSONALIZATION_DEFAULTS.strategy,
              variants: (p.spec.variants ?? []).map((v) => v.name),
              holdoutPercent: p.spec.holdoutPercent ?? PERSONALIZATION_DEFAULTS.holdoutPercent,
              conversion: { event: p.spec.conversion?.event ?? PERSONALIZATION_DEFAULTS.conversion.event, within: p.spec.conversion?.within ?? PERSONALIZATION_DEFAULTS.conversion.within },
              lift: arms(p.status?.lift),
              liftComputedAt: p.status?.liftComputedAt ?? null,
              exposures: rows.filter((r) => r.placement === p.metadata!.name).map((r) => ({ t: isoTime(r.t), arm: r.arm, n: Number(r.n) })),
            })),
          },
        };
      },
    }),
  ];
}
