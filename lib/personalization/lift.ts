// Lift against a holdout group. An Activation's arms come from what the activations worker records
// (activation_deliveries, activation_conversions): a person counts once per arm, converted once
// however many of their deliveries converted (variantFor is sticky, so no one is in two arms).
// A placement's arms come from the exposure events the API records and the conversion events of
// the same profiles: a visitor counts once per arm, converted when the
// conversion event followed their first exposure to that arm within the window. Both event sets are
// joined to the profile their identity belongs to now, so an identify after the exposure counts.
import { EXPOSURE_EVENT, HOLDOUT_ARM, type PersonalizationArm } from '../../api/v1alpha1/personalization.ts';
import type { Warehouse } from '../clickhouse.ts';

const CURRENT_PROFILE = '(SELECT identity, argMax(profile_id, version) AS profile_id FROM {db}.identities GROUP BY identity)';

export const LIFT_SQL = `
SELECT arm, count() AS exposed, countIf(converted) AS converted FROM (
  SELECT x.profile_id AS profile_id, x.arm AS arm, max(c.at > x.first AND c.at <= x.first + toIntervalSecond({window:UInt64})) AS converted
  FROM (SELECT i.profile_id AS profile_id, JSONExtractString(e.properties, 'variant') AS arm, min(e.timestamp) AS first
        FROM {db}.events AS e INNER JOIN ${CURRENT_PROFILE} AS i ON i.identity = e.identity
        WHERE e.event = {exposure:String} AND JSONExtractString(e.properties, 'placement') = {placement:String}
        GROUP BY profile_id, arm) AS x
  LEFT JOIN (SELECT i.profile_id AS profile_id, e.timestamp AS at
             FROM {db}.events AS e INNER JOIN ${CURRENT_PROFILE} AS i ON i.identity = e.identity
             WHERE e.event = {conversion:String}) AS c ON c.profile_id = x.profile_id
  GROUP BY profile_id, arm
) GROUP BY arm ORDER BY arm`;

/** Rates, and each arm's lift over the holdout with a 95% interval (log rate ratio, Wald). */
export function liftOf(rows: ReadonlyArray<{ arm: string; exposed: number; converted: number }>): PersonalizationArm[] {
  const arms: PersonalizationArm[] = rows.map((r) => ({ arm: r.arm, exposed: r.exposed, converted: r.converted, rate: r.exposed ? round(r.converted / r.exposed) : 0 }));
  const control = arms.find((a) => a.arm === HOLDOUT_ARM);
  if (!control || control.converted === 0) return arms;
  const c0 = control.converted;
  const n0 = control.exposed;
  for (const a of arms) {
    if (a === control || a.exposed === 0) continue;
    const ratio = a.converted / a.exposed / (c0 / n0);
    a.lift = round(ratio - 1);
    if (a.converted > 0) {
      const se = Math.sqrt(1 / a.converted - 1 / a.exposed + 1 / c0 - 1 / n0);
      a.liftLow = round(Math.exp(Math.log(ratio) - 1.96 * se) - 1);
      a.liftHigh = round(Math.exp(Math.log(ratio) + 1.96 * se) - 1);
    }
  }
  return arms;
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;

export async function placementLift(w: Warehouse, placement: string, conversion: string, windowSeconds: number): Promise<PersonalizationArm[]> {
  const rows = await w.query<{ arm: string; exposed: string; converted: string }>(LIFT_SQL, { placement, conversion, window: windowSeconds, exposure: EXPOSURE_EVENT });
  return liftOf(rows.map((r) => ({ arm: r.arm, exposed: Number(r.exposed), converted: Number(r.converted) })));
}

export const ACTIVATION_LIFT_SQL = `
SELECT if(d.outcome = 'holdout', '${HOLDOUT_ARM}', d.variant) AS arm, uniqExact(d.profile_id) AS exposed, uniqExactIf(d.profile_id, c.message_id != '') AS converted
FROM (SELECT message_id, profile_id, variant, outcome FROM {db}.activation_deliveries FINAL WHERE activation = {key:String} AND outcome IN ('sent', 'holdout')) AS d
LEFT JOIN (SELECT message_id FROM {db}.activation_conversions FINAL WHERE activation = {key:String}) AS c ON c.message_id = d.message_id
GROUP BY arm ORDER BY arm`;

/** Each arm of an Activation (variant, "" without variants, "(holdout)") with its lift over the holdout. `key`: <namespace>/<name>. */
export async function activationLift(w: Warehouse, key: string): Promise<PersonalizationArm[]> {
  const rows = await w.query<{ arm: string; exposed: string; converted: string }>(ACTIVATION_LIFT_SQL, { key });
  return liftOf(rows.map((r) => ({ arm: r.arm, exposed: Number(r.exposed), converted: Number(r.converted) })));
}
