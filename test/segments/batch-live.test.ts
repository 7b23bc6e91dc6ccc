// The batch run of a realtime Segment on the real ClickHouse, Kafka and Temporal: what segment_live
// lacks is published first and recorded as live only after, so a publish the broker refuses or a
// crash between the two steps is published again by the next attempt (at least once, never lost),
// and a normal run publishes each change exactly once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import kafkajs from 'kafkajs';
import { Warehouse, clickhouseSettingsFromEnv } from '../../lib/clickhouse.ts';
import { compileSegment } from '../../lib/segments/compile.ts';
import { parseRule } from '../../lib/segments/rules.ts';
import { createActivities } from '../../workers/segments/activities.ts';
import { eventually, unique } from '../support/env.ts';
import { startSegmentsHarness, type SegmentsHarness } from './harness.ts';

/** The real warehouse, killed once right before it records segment_live (after the publish). */
class KilledBeforeRecord extends Warehouse {
  armed = true;
  override async insert(table: string, rows: object[]): Promise<void> {
    if (table === 'segment_live' && this.armed) {
      this.armed = false;
      throw new Error('killed between publish and record');
    }
    return super.insert(table, rows);
  }
}

describe('the batch run of a realtime Segment publishes, then records', { timeout: 240_000 }, () => {
  const namespace = unique('seg-live');
  const compiled = compileSegment(parseRule({ trait: 'plan', op: 'eq', value: 'pro' }), { namespace });
  let h: SegmentsHarness;
  let admin: ReturnType<SegmentsHarness['kafka']['admin']>;

  const live = async (segment: string) =>
    Object.fromEntries((await h.warehouse.query<{ profile_id: string; m: number }>('SELECT profile_id, argMax(member, changed_at) AS m FROM {db}.segment_live WHERE segment = {k:String} GROUP BY profile_id ORDER BY profile_id', { k: `${namespace}/${segment}` })).map((r) => [r.profile_id, Number(r.m)]));
  const published = (segment: string) => h.changes.filter((c) => c.segment === segment).map((c) => `${c.profileId} ${c.change}`).sort();
  /** Publishes go to 3 partitions, so "nothing more" is waited for rather than proven by order. */
  const settle = () => new Promise((r) => setTimeout(r, 2000));
  const setMaxBytes = (value: string) => admin.alterConfigs({ validateOnly: false, resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: h.topic, configEntries: [{ name: 'max.message.bytes', value }] }] });
  /** Materializes `version` of a realtime Segment, then runs its one-chunk batch publish as Temporal would. */
  const batchRun = async (activities: ReturnType<typeof createActivities>, segment: string, version: number) => {
    const key = `${namespace}/${segment}`;
    await new MockActivityEnvironment().run(activities.materialize, { database: h.database, key, version, sql: compiled.sql, params: compiled.params });
    return new MockActivityEnvironment().run(activities.publishChanges, { namespace, segment, database: h.database, key, version, previous: version - 1, chunk: 0, chunks: 1, mode: 'realtime' as const });
  };

  before(async () => {
    h = await startSegmentsHarness(namespace);
    admin = h.kafka.admin();
    await admin.connect();
  });
  after(async () => {
    await setMaxBytes('1048588').catch(() => undefined);
    await admin?.disconnect();
    await h?.close();
  });

  test('a publish the broker refuses records nothing as live; the next run publishes the entries, then records them', async () => {
    await h.profiles([['p1', { plan: 'pro' }], ['p2', { plan: 'pro' }], ['p3', { plan: 'free' }]]);
    try {
      // The broker refuses every record of the topic: the send fails.
      await setMaxBytes('16');
      await assert.rejects(batchRun(h.worker.activities, 'refused', 1));
      assert.deepEqual(await live('refused'), {}, 'nothing recorded as live while it could not be published');
    } finally {
      await setMaxBytes('1048588');
    }
    // The next run (a retry, or the next scheduled version) still sees the difference.
    assert.deepEqual(await batchRun(h.worker.activities, 'refused', 2), { entered: 2, exited: 0 });
    await eventually('both entries published', async () => published('refused').length >= 2, 30_000);
    assert.deepEqual(await live('refused'), { p1: 1, p2: 1 });
    // Recorded: a third run finds nothing left to publish.
    assert.deepEqual(await batchRun(h.worker.activities, 'refused', 3), { entered: 0, exited: 0 });
    await settle();
    assert.deepEqual(published('refused'), ['p1 entered', 'p2 entered']);
  });

  test('killed between publish and record: the change is already out, and the retry publishes it again (at least once)', async () => {
    const killed = new KilledBeforeRecord({ ...clickhouseSettingsFromEnv(h.env), database: h.database });
    const producer = h.kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      const activities = createActivities({ warehouse: () => killed, producer, changesTopic: () => h.topic });
      await assert.rejects(batchRun(activities, 'killed', 1), /killed between publish and record/);
      await eventually('the entries published before the kill', async () => published('killed').length === 2, 30_000);
      assert.deepEqual(await live('killed'), {}, 'the kill came before the record');
      // The retry: the difference is still there, so it is published again and then recorded.
      assert.deepEqual(await batchRun(activities, 'killed', 1), { entered: 2, exited: 0 });
      assert.deepEqual(await live('killed'), { p1: 1, p2: 1 });
      await eventually('published again', async () => published('killed').length === 4, 30_000);
      assert.deepEqual(published('killed'), ['p1 entered', 'p1 entered', 'p2 entered', 'p2 entered']);
    } finally {
      await producer.disconnect();
      await killed.close();
    }
  });

  test('normal runs through Temporal publish each entry and exit exactly once', async () => {
    const segment = 'normal';
    const run = () => h.run({ segment, key: `${namespace}/${segment}`, sql: compiled.sql, params: compiled.params, mode: 'realtime' });
    assert.deepEqual(await run(), { version: 1, size: 2, entered: 2, exited: 0 });
    await h.profiles([['p2', { plan: 'free' }], ['p4', { plan: 'pro' }]]);
    assert.deepEqual(await run(), { version: 2, size: 2, entered: 1, exited: 1 });
    assert.deepEqual(await run(), { version: 3, size: 2, entered: 0, exited: 0 });
    await eventually('four changes', async () => published(segment).length >= 4, 30_000);
    await settle();
    assert.deepEqual(published(segment), ['p1 entered', 'p2 entered', 'p2 exited', 'p4 entered']);
    assert.deepEqual(await live(segment), { p1: 1, p2: 0, p4: 1 });
  });
});
