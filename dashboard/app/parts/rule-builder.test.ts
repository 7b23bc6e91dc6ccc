import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyRow, mergePatchTo, placeError, readValue, ruleToRows, rowsToRule } from './rule-builder.ts';

test('rows become a rule: one row is the condition itself, several are joined by all or any', () => {
  const plan = { ...emptyRow('trait'), subject: 'plan', value: 'pro' };
  const orders = { ...emptyRow('event'), subject: 'Order Completed', atLeast: '3', within: '30d' };
  assert.deepEqual(rowsToRule('all', [plan]), { trait: 'plan', op: 'eq', value: 'pro' });
  assert.deepEqual(rowsToRule('any', [plan, orders]), { any: [{ trait: 'plan', op: 'eq', value: 'pro' }, { event: 'Order Completed', atLeast: 3, within: '30d' }] });
  assert.deepEqual(rowsToRule('all', [{ ...emptyRow('event'), subject: 'Signed Up', performed: false, within: '7d' }]), { event: 'Signed Up', performed: false, within: '7d' });
  assert.deepEqual(rowsToRule('all', [{ ...emptyRow('trait'), subject: 'email', op: 'exists', value: 'ignored' }]), { trait: 'email', op: 'exists' });
});

test('values are read as numbers, booleans or lists as the operator needs', () => {
  assert.equal(readValue('42', 'gt'), 42);
  assert.equal(readValue('true', 'eq'), true);
  assert.deepEqual(readValue('de, fr', 'in'), ['de', 'fr']);
  assert.deepEqual(readValue('10,20', 'between'), [10, 20]);
  assert.equal(readValue(' pro ', 'eq'), 'pro');
});

test('a rule of plain conditions round-trips through rows; nesting needs the JSON editor', () => {
  const rule = { all: [{ trait: 'plan', op: 'in', value: ['pro', 'team'] }, { event: 'Order Completed', atLeast: 2, within: '30d' }, { segment: 'vip' }, { interest: 'shoes', op: 'gte', value: 0.5 }] };
  const rows = ruleToRows(rule)!;
  assert.deepEqual(rowsToRule(rows.join, rows.rows), rule);
  assert.equal(ruleToRows({ all: [{ any: [{ segment: 'a' }] }] }), undefined);
  assert.equal(ruleToRows({ event: 'Order Completed', where: [{ property: 'total', op: 'gt', value: 5 }] }), undefined);
});

test("the API's field errors land on the row and field they name", () => {
  assert.deepEqual(placeError('body.spec.rule.all[1].op', 2), { row: 1, field: 'op' });
  assert.deepEqual(placeError('body.spec.rule.op', 1), { row: 0, field: 'op' });
  assert.deepEqual(placeError('body.name', 1), { at: 'name' });
  assert.deepEqual(placeError('body.spec.rule', 2), { at: 'rule' });
  assert.deepEqual(placeError(undefined, 2), { at: 'other' });
});

test('a merge patch from the old rule to the new one replaces it exactly', () => {
  assert.deepEqual(mergePatchTo({ all: [{ segment: 'a' }] }, { trait: 'plan', op: 'eq', value: 'pro' }), { all: null, trait: 'plan', op: 'eq', value: 'pro' });
  assert.deepEqual(mergePatchTo({ not: { trait: 'x', op: 'exists' } }, { not: { event: 'E' } }), { not: { trait: null, op: null, event: 'E' } });
});
