import assert from 'node:assert/strict';
import { test } from 'node:test';
import { refusalCounters, refusalDelta } from './refusals.ts';

const text = (n401: number, n200: number) => `# HELP uspa_collector_requests_total HTTP requests by route and status
# TYPE uspa_collector_requests_total counter
uspa_collector_requests_total{route="/v1/track",status="200"} ${n200}
uspa_collector_requests_total{route="/v1/track",status="401"} ${n401}
uspa_collector_requests_total{route="/v1/batch",status="413"} 2
# TYPE other_total counter
other_total{status="500"} 9
`;

test('refusals are the collector request counters with a status of 400 and up, by route and status', () => {
  assert.deepEqual([...refusalCounters(text(5, 100))], [['/v1/track|401', 5], ['/v1/batch|413', 2]]);
});

test('a delta is what grew between samples; a counter that went down restarted from zero', () => {
  const a = refusalCounters(text(5, 100));
  assert.deepEqual([...refusalDelta(a, refusalCounters(text(8, 200)))], [['/v1/track|401', 3]]);
  assert.deepEqual([...refusalDelta(a, refusalCounters(text(1, 0)))], [['/v1/track|401', 1], ['/v1/batch|413', 2]]);
});
