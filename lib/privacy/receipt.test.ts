import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ErasureReceipt } from '../../api/privacy.ts';
import { canonicalJson, receiptSignatureValid, signReceipt } from './receipt.ts';

const unsigned: Omit<ErasureReceipt, 'signature'> = {
  version: 1,
  id: 'r1',
  namespace: 'shop',
  database: 'uspa_shop',
  mode: 'delete',
  requested: 'email:ada@example.com',
  identities: ['email:ada@example.com', 'user:u1'],
  profileIds: ['p1'],
  stores: [{ table: 'events', columns: ['identity'], before: 3, after: 0, statement: 'ALTER TABLE … DELETE WHERE …', at: '2026-12-02T00:00:00.000Z' }],
  topics: [{ topic: 'uspa.shop.web', retainedUntil: '2026-12-09T00:00:00.000Z' }],
  completedAt: '2026-12-02T00:00:01.000Z',
};

test('canonical JSON sorts keys at every depth', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } }), '{"a":{"c":null,"d":[2,{"e":0,"f":1}]},"b":1}');
});

test('a signed receipt verifies; edited, re-keyed or unsigned it does not', () => {
  const receipt = signReceipt(unsigned, 'secret-key');
  assert.ok(receiptSignatureValid(receipt, 'secret-key'));
  assert.ok(receiptSignatureValid(JSON.parse(JSON.stringify(receipt, null, 2)), 'secret-key'), 'formatting does not matter');
  assert.equal(receiptSignatureValid({ ...receipt, stores: [{ ...receipt.stores[0]!, after: 1 }] }, 'secret-key'), false);
  assert.equal(receiptSignatureValid({ ...receipt, identities: ['user:u1'] }, 'secret-key'), false);
  assert.equal(receiptSignatureValid(receipt, 'other-key'), false);
  assert.equal(receiptSignatureValid({ ...receipt, signature: 'nope' }, 'secret-key'), false);
});
