// computeSegment on the Temporal dev server against the real ClickHouse and Kafka: versions,
// entered/exited records, size history, idempotent activities, deterministic replay.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { compileSegment } from '../../lib/segments/compile.ts';
import { parseRule } from '../../lib/segments/rules.ts';
import { WORKFLOWS_PATH } from '../../workers/segments/main.ts';
import { eventually, unique } from '../support/env.ts';
import { startSegmentsHarness, type SegmentsHarness } from './harness.ts';

describe('computeSegment', { timeout: 240_000 }, () => {
  const namespace = unique('seg');
  const compiled = compileSegment(parseRule({ trait: 'plan', op: 'eq', value: 'pro' }), { namespace });
  let h: SegmentsHarness;
  const run = (id: string) => h.run({ segment: 'pro', key: `${namespace}/pro`, sql: compiled.sql, params: compiled.params }, id);

  before(async () => {
    h = await startSegmentsHarness(namespace);
  });
  after(async () => {
    await h?.close();
  });

  test('version 1: members computed, entered published, committed with its size', async () => {
    await h.profiles([['p1', { plan: 'pro' }], ['p2', { plan: 'pro' }], ['p3', { plan: 'free' }]]);
    const r = await run(unique('compute'));
    assert.deepEqual(r, { version: 1, size: 2, entered: 2, exited: 0 });
    await eventually('two entered records', async () => h.changes.length === 2);
    assert.deepEqual(h.changes.map((c) => [c.profileId, c.change, c.version]).sort(), [['p1', 'entered', 1], ['p2', 'entered', 1]]);
  });

  test('version 2: the diff with version 1 is published; sizes are kept as history', async () => {
    await h.profiles([['p2', { plan: 'free' }], ['p4', { plan: 'pro' }]]);
    const r = await run(unique('compute'));
    assert.deepEqual(r, { version: 2, size: 2, entered: 1, exited: 1 });
    await eventually('four records', async () => h.changes.length === 4);
    assert.deepEqual(h.changes.slice(2).map((c) => [c.profileId, c.change]).sort(), [['p2', 'exited'], ['p4', 'entered']]);
    const history = await h.warehouse.query<{ version: string; size: string }>('SELECT version, size FROM {db}.segment_versions FINAL WHERE segment = {k:String} ORDER BY version', { k: `${namespace}/pro` });
    assert.deepEqual(history.map((v) => [Number(v.version), Number(v.size)]), [[1, 2], [2, 2]]);
    const members = await h.warehouse.query<{ profile_id: string }>('SELECT profile_id FROM {db}.segment_members FINAL WHERE segment = {k:String} AND version = 2 ORDER BY profile_id', { k: `${namespace}/pro` });
    assert.deepEqual(members.map((m) => m.profile_id), ['p1', 'p4']);
  });

  test('materializing the same version again (a retried activity) changes nothing', async () => {
    const input = { database: h.database, key: `${namespace}/pro`, version: 2, sql: compiled.sql, params: compiled.params };
    const again = await new MockActivityEnvironment().run(h.worker.activities.materialize, input);
    assert.equal(again, 2);
    const [n] = await h.warehouse.query<{ n: string }>('SELECT count() AS n FROM {db}.segment_members WHERE segment = {k:String} AND version = 2', { k: `${namespace}/pro` });
    assert.equal(Number(n!.n), 2, 'no duplicate rows, even before merges');
  });

  test('the recorded history replays deterministically', async () => {
    const id = unique('compute');
    await run(id);
    const history = await h.client.workflow.getHandle(id).fetchHistory();
    await Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, id);
  });
});
