// Activities of the conversions workflow: conversions attributed to sends and holdout decisions
// (activation_conversions, one row per delivery), from which activationLift (lib/personalization/lift.ts) computes
// each variant's lift over the holdout group. Re-running a round attributes nothing twice.
import type { ActivitiesContext } from './context.ts';
import { count } from './reads.ts';

const DEFAULT_WINDOW_MS = 7 * 86_400_000;

export function conversionActivities(c: ActivitiesContext) {
  const { deps } = c;

  return {
    /**
     * Attributes conversions: for each Activation with a conversion event (its unless event), the
     * first such event by the same profile within the window after each send or holdout decision.
     */
    async attributeConversions(input: { namespace: string; database: string }): Promise<{ attributed: number }> {
      await deps.activations.ready();
      const w = deps.warehouse(input.database);
      const windowMs = deps.conversionWindowMs ?? DEFAULT_WINDOW_MS;
      let attributed = 0;
      for (const a of deps.activations.list()) {
        const event = a.spec.trigger.unless?.event;
        if (!event) continue;
        const key = c.activationKey(a.metadata.name!);
        const params = { key, event, window: windowMs };
        const before = await count(w, 'SELECT count() AS n FROM {db}.activation_conversions FINAL WHERE activation = {key:String}', params);
        await w.command(
          `INSERT INTO {db}.activation_conversions (activation, message_id, profile_id, variant, outcome, event, event_message_id, delivered_at, converted_at)
           SELECT d.activation, d.message_id, d.profile_id, d.variant, d.outcome, {event:String}, argMin(e.message_id, e.timestamp), d.at, min(e.timestamp)
           FROM (SELECT activation, message_id, profile_id, variant, outcome, at FROM {db}.activation_deliveries FINAL
                 WHERE activation = {key:String} AND outcome IN ('sent', 'holdout') AND at >= now64(3) - toIntervalMillisecond({window:UInt64})
                   AND message_id NOT IN (SELECT message_id FROM {db}.activation_conversions WHERE activation = {key:String})) AS d
           INNER JOIN (SELECT i.profile_id AS profile_id, ev.message_id AS message_id, ev.timestamp AS timestamp
                       FROM {db}.events AS ev INNER JOIN (SELECT identity, profile_id FROM {db}.identities FINAL) AS i ON i.identity = ev.identity
                       WHERE ev.event = {event:String} AND ev.timestamp >= now64(3) - toIntervalMillisecond({window:UInt64} * 2)) AS e ON e.profile_id = d.profile_id
           WHERE e.timestamp > d.at AND e.timestamp <= d.at + toIntervalMillisecond({window:UInt64})
           GROUP BY d.activation, d.message_id, d.profile_id, d.variant, d.outcome, d.at`,
          params,
        );
        attributed += (await count(w, 'SELECT count() AS n FROM {db}.activation_conversions FINAL WHERE activation = {key:String}', params)) - before;
      }
      return { attributed };
    },
  };
}
