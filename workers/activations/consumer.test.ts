import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Activation } from '../../api/v1alpha1/activation.ts';
import { acceptedAt, catchUpRanges, readFrom, reportedLoaded } from './consumer.ts';

const meta = (m: Partial<Activation['metadata']>): Pick<Activation, 'metadata'> => ({ metadata: { name: 'cart', ...m } });

test('acceptedAt: creation for generation 1; for a later generation the newest write that was not a status write', () => {
  assert.equal(acceptedAt(meta({ generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' as never })), Date.parse('2026-01-01T00:00:00Z'));
  const managedFields = [
    { manager: 'kubectl', operation: 'Apply', time: '2026-01-01T00:10:00Z' as never },
    { manager: 'uspa-operator', operation: 'Apply', subresource: 'status', time: '2026-01-01T00:20:00Z' as never },
  ];
  assert.equal(acceptedAt(meta({ generation: 2, creationTimestamp: '2026-01-01T00:00:00Z' as never, managedFields })), Date.parse('2026-01-01T00:10:00Z'), 'a status write is no change of the spec');
});

test('catchUpRanges: per partition from the offset at the acceptance time to the end seen; nothing where nothing was published since', () => {
  assert.deepEqual(
    catchUpRanges('t', [{ partition: 0, offset: '5' }, { partition: 1, offset: '9' }], [{ partition: 0, high: '8' }, { partition: 1, high: '9' }, { partition: 2, high: '3' }]),
    [{ topic: 't', partition: 0, start: 5, end: 8 }],
  );
});

test('reportedLoaded: a worker process reported this generation (or a newer one) loaded', () => {
  const a = (generation: number, reported?: number) => ({ metadata: { generation }, status: reported === undefined ? {} : { workers: [{ component: 'activations', generation: reported, state: 'Live' as const, since: '2026-01-01T00:00:00Z' }] } });
  assert.equal(reportedLoaded(a(2, 2)), true);
  assert.equal(reportedLoaded(a(3, 2)), false);
  assert.equal(reportedLoaded(a(1)), false);
});

test('readFrom: the acceptance less 2 s of clock skew, but never older than what could still trigger (wait + staleness)', () => {
  const now = Date.parse('2026-01-08T00:00:00Z');
  const cart = (created: string) => ({ metadata: { name: 'cart', generation: 1, creationTimestamp: created as never }, spec: { trigger: { type: 'event' as const, delay: '30m', unless: { event: 'Order Completed', within: '1h' } } } }) as unknown as Pick<Activation, 'metadata' | 'spec'>;
  assert.equal(readFrom(cart('2026-01-07T23:59:00Z'), 3_600_000, now), Date.parse('2026-01-07T23:58:58Z'));
  assert.equal(readFrom(cart('2026-01-01T00:00:00Z'), 3_600_000, now), now - 2 * 3_600_000, 'accepted a week ago: back to the 1 h unless window plus the 1 h staleness bound only');
});
