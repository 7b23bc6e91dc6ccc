import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { parseProfileChange } from '../../api/profile-changes.ts';
import type { Warehouse } from '../../lib/clickhouse.ts';
import type { BatchingProducer, OutgoingRecord } from '../../lib/kafka.ts';
import { createLogger } from '../../lib/log.ts';
import { pipelineMetrics } from './metrics.ts';
import { ProfileBuilder } from './profile-builder.ts';

/** A producer whose sends fail while `down`; what it accepted is in `sent`. */
function producer() {
  const p = {
    down: false,
    sent: [] as OutgoingRecord[],
    async send(records: OutgoingRecord[]) {
      if (p.down) throw new Error('broker unreachable');
      p.sent.push(...records);
    },
  };
  return p;
}

const noWarehouse = {} as Warehouse;
const now = new Date('2026-01-01T00:00:00.000Z');

test('profile changes: one record per rebuilt or deleted profile, keyed by profile id, readable by the parser', async () => {
  const p = producer();
  const builder = new ProfileBuilder('main', noWarehouse, 10, async () => undefined, pipelineMetrics(new Registry(), 'main'), createLogger('test', 'silent'), { producer: p as unknown as BatchingProducer, topic: 'uspa.shop.profile-changes' });
  builder.publishChanges([{ profileId: 'p-1', identities: ['userId:u-1', 'anonymousId:a-1'], deleted: false }, { profileId: 'p-2', identities: [], deleted: true }], now);
  await builder.settled();
  assert.deepEqual(p.sent.map((r) => [r.topic, r.key]), [['uspa.shop.profile-changes', 'p-1'], ['uspa.shop.profile-changes', 'p-2']]);
  assert.deepEqual(parseProfileChange(JSON.parse(p.sent[1]!.value)).change, { profileId: 'p-2', identities: [], deleted: true, updatedAt: now.toISOString() });
});

test('profile changes: a failed send is kept (the newest record per profile) and sent by a later round', async () => {
  const p = producer();
  p.down = true;
  const builder = new ProfileBuilder('main', noWarehouse, 10, async () => undefined, pipelineMetrics(new Registry(), 'main'), createLogger('test', 'silent'), { producer: p as unknown as BatchingProducer, topic: 't' });
  builder.publishChanges([{ profileId: 'p-1', identities: ['userId:u-1'], deleted: false }], now);
  await builder.settled();
  assert.equal(builder.unpublishedChanges, 1);
  builder.publishChanges([{ profileId: 'p-1', identities: [], deleted: true }], new Date(now.getTime() + 1000));
  await builder.settled();
  assert.equal(builder.unpublishedChanges, 1, 'one per profile, the newest');
  p.down = false;
  builder.start();
  for (let i = 0; i < 100 && p.sent.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  builder.stop();
  await builder.settled();
  assert.equal(p.sent.length, 1);
  assert.equal(JSON.parse(p.sent[0]!.value).deleted, true);
  assert.equal(builder.unpublishedChanges, 0);
});
