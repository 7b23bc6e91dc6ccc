import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reporterFieldManager, workerEntry } from './report.ts';

test('worker report entry: since moves only when the state flips; reason and message only when given', () => {
  const t1 = new Date('2026-01-01T00:00:00.250Z');
  const t2 = new Date('2026-01-01T00:05:00Z');
  const live = workerEntry(undefined, { component: 'pipeline', generation: 2, state: 'Live' }, t1);
  assert.deepEqual(live, { component: 'pipeline', generation: 2, state: 'Live', since: '2026-01-01T00:00:00Z' });
  assert.equal(workerEntry(live, { component: 'pipeline', generation: 3, state: 'Live' }, t2).since, '2026-01-01T00:00:00Z');
  const stalled = workerEntry(live, { component: 'pipeline', generation: 3, state: 'Stalled', reason: 'ClickHouseError', message: 'connection refused' }, t2);
  assert.deepEqual(stalled, { component: 'pipeline', generation: 3, state: 'Stalled', reason: 'ClickHouseError', message: 'connection refused', since: '2026-01-01T00:05:00Z' });
  assert.equal(reporterFieldManager('pipeline'), 'uspa-worker-pipeline');
});
