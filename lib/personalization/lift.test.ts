import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liftOf } from './lift.ts';

test('lift over the holdout with a 95% interval that contains it; no holdout conversions, no lift', () => {
  const [held, hero] = liftOf([{ arm: '(holdout)', exposed: 1000, converted: 50 }, { arm: 'hero', exposed: 1000, converted: 80 }]);
  assert.equal(held!.rate, 0.05);
  assert.equal(hero!.lift, 0.6);
  assert.ok(hero!.liftLow! < 0.6 && hero!.liftHigh! > 0.6 && hero!.liftLow! > 0, `${hero!.liftLow}…${hero!.liftHigh}`);
  const none = liftOf([{ arm: '(holdout)', exposed: 10, converted: 0 }, { arm: 'hero', exposed: 10, converted: 3 }]);
  assert.equal(none[1]!.lift, undefined);
  const zero = liftOf([{ arm: '(holdout)', exposed: 100, converted: 10 }, { arm: 'hero', exposed: 100, converted: 0 }]);
  assert.equal(zero[1]!.lift, -1);
  assert.equal(zero[1]!.liftLow, undefined, 'no interval from zero conversions');
});
