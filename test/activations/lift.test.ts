// Lift is counted per person on ClickHouse: a person sent to twice is one person assigned, and
// converts once however many of their deliveries converted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chTime } from '../../lib/clickhouse.ts';
import { activationLift } from '../../lib/personalization/lift.ts';
import { scratch, type Scratch } from './support.ts';

let s: Scratch;
before(async () => {
  s = await scratch('actlift', []);
});
after(() => s?.close());

test('a person sent twice counts once, in assigned and in converted', async () => {
  const key = `${s.namespace}/coupon`;
  const at = chTime(new Date().toISOString());
  const row = (message_id: string, profile_id: string, variant: string, outcome: string) => ({ activation: key, message_id, profile_id, variant, outcome, reason: '', attempt: 1, at });
  await s.warehouse.insert('activation_deliveries', [
    row('k-ada-1', 'p-ada', 'a', 'sent'),
    row('k-ada-2', 'p-ada', 'a', 'sent'),
    row('k-bo-1', 'p-bo', 'a', 'sent'),
    row('k-cy-1', 'p-cy', '', 'holdout'),
    row('k-cy-2', 'p-cy', '', 'holdout'),
    row('k-di-1', 'p-di', '', 'holdout'),
  ]);
  const conversion = (message_id: string, profile_id: string, variant: string, outcome: string) => ({ activation: key, message_id, profile_id, variant, outcome, event: 'Coupon Redeemed', event_message_id: `e-${message_id}`, delivered_at: at, converted_at: at });
  // Ada's two sends both precede her conversion: each is attributed, she is one converted person.
  await s.warehouse.insert('activation_conversions', [conversion('k-ada-1', 'p-ada', 'a', 'sent'), conversion('k-ada-2', 'p-ada', 'a', 'sent'), conversion('k-cy-2', 'p-cy', '', 'holdout')]);
  const lift = await activationLift(s.warehouse, key);
  assert.deepEqual(lift.map((a) => [a.arm, a.exposed, a.converted]), [['(holdout)', 2, 1], ['a', 2, 1]]);
  assert.equal(lift.find((a) => a.arm === 'a')!.lift, 0, '1 of 2 people against 1 of 2 people');
});
