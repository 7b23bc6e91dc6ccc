import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { createLogger } from '../../lib/log.ts';
import { pipelineMetrics } from './metrics.ts';
import { STALL_AFTER, StallWatch, type StallState } from './stall.ts';

test('consecutive failed writes stall the Pipeline with the last cause; one success clears it', async () => {
  const registry = new Registry();
  const reports: StallState[] = [];
  const seen = () => reports.map((r) => r.stalled);
  const watch = new StallWatch(pipelineMetrics(registry, 'main'), createLogger('test', 'silent'), (s) => reports.push(s));
  assert.match(await registry.metrics(), /uspa_pipeline_stalled\{pipeline="main"\} 0/, 'the series exists before any failure');
  const fail = (message: string) => assert.rejects(watch.track(Promise.reject(new Error(message))));
  for (let i = 1; i < STALL_AFTER; i++) await fail('connect ECONNREFUSED 127.0.0.1:8123');
  assert.equal(watch.state.stalled, false);
  assert.deepEqual(seen(), []);
  await fail('connect ECONNREFUSED 127.0.0.1:8123');
  await fail('connect ECONNREFUSED 127.0.0.1:8123');
  assert.equal(watch.state.stalled, true);
  assert.equal(watch.state.cause, 'connect ECONNREFUSED 127.0.0.1:8123');
  assert.equal(reports.length, 1, 'reported once while the cause stays the same');
  const metrics = await registry.metrics();
  assert.match(metrics, /uspa_pipeline_stalled\{pipeline="main"\} 1/);
  assert.match(metrics, new RegExp(`uspa_pipeline_write_failures_total\\{pipeline="main"\\} ${STALL_AFTER + 1}`));

  assert.equal(await watch.track(Promise.resolve(7)), 7);
  assert.deepEqual(watch.state, { stalled: false, failures: 0 });
  assert.deepEqual(seen(), [true, false]);
  assert.match(await registry.metrics(), /uspa_pipeline_stalled\{pipeline="main"\} 0/);
});
