// Each variant's lift over the holdout group of an Activation, from what the worker records
// (activation_deliveries, activation_conversions; their DDL is in api/tables/activations.ts).
import type { Warehouse } from '../../lib/clickhouse.ts';

export interface ArmLift {
  /** variant name, "" without variants, "(holdout)" for the control group */
  arm: string;
  assigned: number;
  converted: number;
  rate: number;
  /** rate / holdout rate − 1; undefined without a holdout group or when it never converted */
  lift?: number;
}

/**
 * Conversion rate per arm (each variant and the holdout group) of an Activation, and each
 * variant's lift over the holdout, counted per person: someone sent to twice (or held out twice)
 * is one person assigned, and converted once however many of their deliveries converted. A
 * person keeps their arm (variantFor is sticky), so no one counts in two arms.
 */
export async function liftByVariant(warehouse: Warehouse, activationKey: string): Promise<ArmLift[]> {
  const rows = await warehouse.query<{ arm: string; assigned: string; converted: string }>(
    `SELECT if(d.outcome = 'holdout', '(holdout)', d.variant) AS arm, uniqExact(d.profile_id) AS assigned, uniqExactIf(d.profile_id, c.message_id != '') AS converted
     FROM (SELECT message_id, profile_id, variant, outcome FROM {db}.activation_deliveries FINAL WHERE activation = {key:String} AND outcome IN ('sent', 'holdout')) AS d
     LEFT JOIN (SELECT message_id FROM {db}.activation_conversions FINAL WHERE activation = {key:String}) AS c ON c.message_id = d.message_id
     GROUP BY arm ORDER BY arm`,
    { key: activationKey },
  );
  const arms = rows.map((r) => {
    const assigned = Number(r.assigned);
    const converted = Number(r.converted);
    return { arm: r.arm, assigned, converted, rate: assigned ? converted / assigned : 0 } as ArmLift;
  });
  const control = arms.find((a) => a.arm === '(holdout)');
  for (const a of arms) if (a !== control && control && control.rate > 0) a.lift = a.rate / control.rate - 1;
  return arms;
}
