import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Admin } from 'kafkajs';
import { ensureTopics, minInsyncReplicas, topicConfig } from './kafka.ts';

/** An admin whose createTopics creates the topic but throws like kafkajs does when the new topic's metadata is not there yet. */
function flakyAdmin(error: Error & { retriable?: boolean }) {
  const topics = new Set<string>();
  const calls: string[] = [];
  const admin = {
    listTopics: async () => (calls.push('list'), [...topics]),
    createTopics: async ({ topics: wanted }: { topics: Array<{ topic: string }> }) => {
      calls.push('create');
      for (const t of wanted) topics.add(t.topic);
      if (calls.filter((c) => c === 'create').length === 1) throw error;
      return true;
    },
    fetchTopicMetadata: async () => (calls.push('metadata'), { topics: [...topics].map((name) => ({ name, partitions: [{}, {}, {}] })) }),
  };
  return { admin: admin as unknown as Admin, calls };
}

test('ensureTopics starts over after a retriable error and finds the topic the first attempt created', async () => {
  const { admin, calls } = flakyAdmin(Object.assign(new Error('This server does not host this topic-partition'), { retriable: true }));
  await ensureTopics(admin, [{ topic: 't', partitions: 3 }]);
  assert.deepEqual(calls, ['list', 'create', 'list', 'metadata']);
});

test('ensureTopics gives up at once on an error that is not retriable', async () => {
  const { admin, calls } = flakyAdmin(Object.assign(new Error('Topic authorization failed'), { retriable: false }));
  await assert.rejects(ensureTopics(admin, [{ topic: 't', partitions: 3 }]), /authorization/);
  assert.deepEqual(calls, ['list', 'create']);
});

test('min.insync.replicas: 1 for RF 1 and 2 (one broker down must not stop writes), 2 from RF 3 on; unset for the broker default', () => {
  assert.deepEqual([1, 2, 3, 4, 5].map(minInsyncReplicas), [1, 1, 2, 2, 2]);
  assert.deepEqual(topicConfig({ topic: 't', partitions: 1, retentionHours: 2, replicationFactor: 3 }), [{ name: 'retention.ms', value: '7200000' }, { name: 'min.insync.replicas', value: '2' }]);
  assert.deepEqual(topicConfig({ topic: 't', partitions: 1, replicationFactor: -1 }), []);
});
