import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { measuredActivities } from './temporal-worker.ts';

test('measuredActivities: each attempt counted by activity and result and timed; results and errors pass through', async () => {
  const registry = new Registry();
  const failure = new Error('ClickHouse refused');
  const activities = measuredActivities({ add: (a: number, b: number) => Promise.resolve(a + b), fail: () => Promise.reject(failure) }, registry);
  assert.equal(await activities.add(2, 3), 5);
  assert.equal(await activities.add(1, 1), 2);
  await assert.rejects(activities.fail(), (err) => err === failure);
  const text = await registry.metrics();
  assert.match(text, /uspa_worker_activities_total\{activity="add",result="completed"\} 2/);
  assert.match(text, /uspa_worker_activities_total\{activity="fail",result="failed"\} 1/);
  assert.doesNotMatch(text, /activity="add",result="failed"/);
  assert.match(text, /uspa_worker_activity_seconds_count\{activity="add"\} 2/);
  assert.match(text, /uspa_worker_activity_seconds_count\{activity="fail"\} 1/);
});
