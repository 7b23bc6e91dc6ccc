import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pipeline } from '../../api/v1alpha1/index.ts';
import { formatRetention, namespaceRetention, retentionSeconds, ttlOf, ttlStatement } from './retention.ts';

const pipeline = (retention?: string): Pipeline => ({ apiVersion: 'uspa.tech/v1alpha1', kind: 'Pipeline', metadata: { name: 'p' }, spec: { sources: ['web'], ...(retention ? { retention } : {}) } });

test('retention: a duration in seconds, the 2-year default, forever and zero as no TTL', () => {
  assert.equal(retentionSeconds(pipeline('90d')), 90 * 86_400);
  assert.equal(retentionSeconds(pipeline('1d12h')), 36 * 3_600);
  assert.equal(retentionSeconds(pipeline()), 730 * 86_400, 'an object stored before the field existed gets the default');
  assert.equal(retentionSeconds(pipeline('forever')), undefined);
  assert.equal(retentionSeconds(pipeline('0d')), undefined);
});

test('retention: the namespace keeps events as long as its longest Pipeline asks; forever wins', () => {
  assert.equal(namespaceRetention([pipeline('30d'), pipeline('90d')]), 90 * 86_400);
  assert.equal(namespaceRetention([pipeline('30d'), pipeline('forever')]), undefined);
  assert.equal(namespaceRetention([]), undefined, 'no Pipeline: no TTL set');
});

test('retention: the TTL statement, and reading it back as system.tables writes it', () => {
  assert.equal(ttlStatement(7_776_000), 'ALTER TABLE {db}.events MODIFY TTL toDateTime(timestamp) + INTERVAL 7776000 SECOND');
  assert.equal(ttlStatement(undefined), 'ALTER TABLE {db}.events REMOVE TTL');
  const shown = "CREATE TABLE db.events (`timestamp` DateTime64(3, 'UTC')) ENGINE = ReplacingMergeTree(ingested_at) PARTITION BY toYYYYMM(timestamp) ORDER BY (identity, timestamp, message_id) TTL toDateTime(timestamp) + toIntervalSecond(7776000) SETTINGS index_granularity = 8192";
  assert.equal(ttlOf(shown), 7_776_000);
  assert.equal(ttlOf(shown.replace(/ TTL .* SETTINGS/, ' SETTINGS')), undefined);
  assert.deepEqual([63_072_000, 129_600, 90, undefined].map(formatRetention), ['730d', '36h', '90s', 'forever']);
});
