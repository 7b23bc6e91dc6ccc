import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sameStatus, setConditions, verdict, workerVerdict } from './conditions.ts';

test('conditions: lastTransitionTime moves only when the status flips; observedGeneration follows', () => {
  const t1 = new Date('2026-01-01T00:00:00Z');
  const t2 = new Date('2026-01-01T00:05:00Z');
  const first = setConditions(undefined, verdict('progressing', 'Applying', 'creating topic'), 1, t1);
  assert.deepEqual(first.map((c) => [c.type, c.status]), [['Ready', 'False'], ['Progressing', 'True'], ['Degraded', 'False']]);
  const second = setConditions(first, verdict('progressing', 'Applying', 'still creating'), 2, t2);
  assert.equal(second[0]!.lastTransitionTime, '2026-01-01T00:00:00Z', 'Ready stayed False');
  assert.equal(second[0]!.observedGeneration, 2);
  const third = setConditions(second, verdict('ready', 'Reconciled', 'all good'), 2, t2);
  assert.equal(third[0]!.status, 'True');
  assert.equal(third[0]!.lastTransitionTime, '2026-01-01T00:05:00Z');
});

test('conditions: an unchanged status compares equal, so no write is made', () => {
  const c = setConditions(undefined, verdict('ready', 'Reconciled', 'ok'), 3, new Date(0));
  assert.ok(sameStatus({ observedGeneration: 3, conditions: c }, { conditions: c, observedGeneration: 3 }));
  assert.ok(!sameStatus({ observedGeneration: 3, conditions: c }, { observedGeneration: 4, conditions: c }));
});

test('worker reports: Ready waits until the worker has loaded the generation; Stalled is Degraded with its cause', () => {
  const since = '2026-01-01T00:00:00Z';
  assert.deepEqual(workerVerdict(undefined, 'activations', 1), { state: 'progressing', reason: 'WaitingForWorker', message: 'waiting for the activations worker to load generation 1' });
  const live = [{ component: 'activations', generation: 1, state: 'Live' as const, since }];
  assert.equal(workerVerdict(live, 'activations', 1), undefined);
  assert.equal(workerVerdict(live, 'activations', 2)?.message, 'waiting for the activations worker to load generation 2 (it runs generation 1)');
  assert.equal(workerVerdict(live, 'pipeline', 1)?.reason, 'WaitingForWorker', 'another component\'s report does not count');
  const stalled = [{ component: 'pipeline', generation: 3, state: 'Stalled' as const, reason: 'ClickHouseError', message: 'connection refused', since }];
  assert.deepEqual(workerVerdict(stalled, 'pipeline', 3), { state: 'degraded', reason: 'Stalled', message: `pipeline worker stalled since ${since}: ClickHouseError: connection refused` });
  assert.equal(workerVerdict(stalled, 'pipeline', 4)?.reason, 'Stalled', 'by default a stall of an earlier generation still counts');
  assert.equal(workerVerdict(stalled, 'pipeline', 4, 'current')?.message, 'waiting for the pipeline worker to load generation 4 (it runs generation 3)');
  assert.equal(workerVerdict(stalled, 'pipeline', 3, 'current')?.reason, 'Stalled');
});
