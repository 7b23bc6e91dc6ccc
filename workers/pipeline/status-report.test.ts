import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../lib/log.ts';
import { pipelineReport, statusReporters } from './status-report.ts';

test('pipelineReport: Live with the generation, or Stalled with the cause', () => {
  assert.deepEqual(pipelineReport(3, { stalled: false, failures: 0 }), { component: 'pipeline', generation: 3, state: 'Live' });
  assert.deepEqual(pipelineReport(3, { stalled: true, failures: 4, cause: 'connect ECONNREFUSED 10.0.0.1:8123', since: '2026-01-01T00:00:00.000Z' }), {
    component: 'pipeline', generation: 3, state: 'Stalled', reason: 'WritesFailing', message: '4 consecutive writes failed, offsets not moving: connect ECONNREFUSED 10.0.0.1:8123',
  });
});

test('statusReporters: none without a namespace and a generation', () => {
  const log = createLogger('test', 'silent');
  assert.equal(statusReporters({}, log), undefined);
  assert.equal(statusReporters({ USPA_NAMESPACE: 'shop' }, log), undefined);
  assert.equal(statusReporters({ USPA_NAMESPACE: 'shop', USPA_PIPELINE_GENERATION: 'x' }, log), undefined);
});
