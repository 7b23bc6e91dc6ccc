import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { planReplay, replayReport } from './dlq.ts';

const event = (messageId: string) => JSON.stringify({ type: 'track', event: 'Order Completed', messageId, userId: 'u1', properties: {} });
const topic = (source: string) => (source === 'gone' ? undefined : `t.ns.events.${source}`);

describe('planReplay', () => {
  test('events go to their Source\'s topic; letters without an event or without a Source are skipped with why', () => {
    const plan = planReplay([
      { source: 'web', reason: 'tracking_plan_violation', message_id: 'm1', payload: event('m1') },
      { source: 'web', reason: 'invalid_json', message_id: 'm2', payload: '"{not json"' },
      { source: 'web', reason: 'invalid_json', message_id: 'm3', payload: '{broken' },
      { source: 'gone', reason: 'no_identity', message_id: 'm4', payload: event('m4') },
    ], topic);
    assert.deepEqual(plan.ready.map((r) => [r.message_id, r.topic]), [['m1', 't.ns.events.web']]);
    assert.deepEqual(plan.skipped.map((s) => [s.message_id, s.why]), [
      ['m2', 'the dead letter holds no event (unparseable input); fix and re-send it at the source'],
      ['m3', 'the dead letter holds no event (unparseable input); fix and re-send it at the source'],
      ['m4', 'Source gone no longer exists (or has no topic yet)'],
    ]);
  });
});

describe('replayReport', () => {
  const rows = [
    ...['a1', 'a2', 'a3', 'a4', 'a5'].map((id) => ({ source: 'web', reason: 'tracking_plan_violation', message_id: id, payload: event(id) })),
    { source: 'app', reason: 'no_identity', message_id: 'b1', payload: event('b1') },
    { source: 'web', reason: 'invalid_json', message_id: 'c1', payload: 'x' },
  ];

  test('a dry run says what it would replay per Source and cause, the first ids, the filter, and that nothing was sent', () => {
    const report = replayReport(planReplay(rows, topic), { dryRun: true, filter: { reason: undefined, source: undefined, since: '2026-01-01' }, where: 'namespace shop' });
    assert.equal(report, [
      'dry run: would replay 6 event(s) in namespace shop; skip 1; nothing was sent',
      '  filter: source (any), reason (any), since 2026-01-01; dead letters not replayed before',
      '  would replay 5  web  tracking_plan_violation  a1, a2, a3, … 2 more',
      '  would replay 1  app  no_identity  b1',
      '  would skip 1  web  invalid_json  c1  (the dead letter holds no event (unparseable input); fix and re-send it at the source)',
    ].join('\n'));
  });

  test('a replay reports the same groups as done', () => {
    const report = replayReport(planReplay(rows.slice(5, 6), topic), { dryRun: false, filter: { source: 'app' }, where: 'namespace shop', took: '0.4 s' });
    assert.equal(report, [
      'replayed 1 event(s) in namespace shop in 0.4 s; skipped 0',
      '  filter: source app, reason (any), since (any time); dead letters not replayed before',
      '  replayed 1  app  no_identity  b1',
    ].join('\n'));
  });
});
