import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDemand, shareOf, STALE_AFTER, type PeerDemand } from './rate-shares.ts';

const now = 1_000_000;
const peer = (demand: number, ageMs = 0): PeerDemand => ({ demand: { web: demand }, receivedAt: now - ageMs });

test('a replica alone has the whole limit, busy or idle', () => {
  assert.equal(shareOf('web', 0, new Map(), now, 1000), 1);
  assert.equal(shareOf('web', 5000, new Map(), now, 1000), 1);
});

test('shares follow demand and sum to 1; idle replicas split evenly', () => {
  const peers = new Map([['b', peer(1000)], ['c', peer(0)]]);
  const mine = shareOf('web', 3000, peers, now, 1000);
  const b = shareOf('web', 1000, new Map([['a', peer(3000)], ['c', peer(0)]]), now, 1000);
  const c = shareOf('web', 0, new Map([['a', peer(3000)], ['b', peer(1000)]]), now, 1000);
  assert.ok(Math.abs(mine + b + c - 1) < 1e-9, `${mine} + ${b} + ${c}`);
  assert.ok(mine > 0.74 && mine < 0.76, String(mine));
  assert.ok(c > 0 && c < 0.001, 'an idle replica keeps a sliver, not nothing');
  const idle = new Map([['b', peer(0)], ['c', peer(0)]]);
  assert.ok(Math.abs(shareOf('web', 0, idle, now, 1000) - 1 / 3) < 1e-9);
});

test('a peer silent for more than a few intervals no longer counts; another Source\'s demand does not either', () => {
  assert.equal(shareOf('web', 100, new Map([['b', peer(1e6, (STALE_AFTER + 1) * 1000)]]), now, 1000), 1);
  assert.ok(shareOf('web', 100, new Map([['b', peer(100, STALE_AFTER * 1000)]]), now, 1000) < 0.51);
  assert.equal(shareOf('app', 100, new Map([['b', peer(1e6)]]), now, 1000), 101 / 102, 'b asked nothing of app');
});

test('demand records: what is not one is skipped, odd numbers dropped', () => {
  assert.equal(parseDemand(null), undefined);
  assert.equal(parseDemand(Buffer.from('not json')), undefined);
  assert.equal(parseDemand(Buffer.from('{"demand":{}}')), undefined);
  assert.deepEqual(parseDemand(Buffer.from(JSON.stringify({ replica: 'a', at: 5, demand: { web: 10, bad: -1, worse: 'x' } }))), { replica: 'a', at: 5, demand: { web: 10 } });
});
