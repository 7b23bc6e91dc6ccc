import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, type EachMessagePayload } from 'kafkajs';
import { eventually, required, unique } from '../support/env.ts';

const kafka = new Kafka({ clientId: 'uspa-smoke', brokers: required('KAFKA_BROKERS').split(','), logLevel: logLevel.ERROR });

test('kafka: produce with acks=all, consume in a consumer group, commit offsets', { timeout: 120_000 }, async (t) => {
  const topic = unique('smoke');
  const groupId = unique('smoke-group');
  const admin = kafka.admin();
  await admin.connect();
  t.after(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });
  assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true }), true);

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const messages = Array.from({ length: 60 }, (_, i) => ({ key: `user-${i % 20}`, value: JSON.stringify({ n: i }) }));
  const acks = await producer.send({ topic, acks: -1, messages });
  await producer.disconnect();
  assert.equal(acks.reduce((n, r) => n + r.errorCode, 0), 0);
  assert.equal(new Set(acks.map((r) => r.partition)).size, 3, 'keys spread over all three partitions');

  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: Array<{ key: string; n: number; partition: number }> = [];
  await consumer.run({
    eachMessage: async ({ message, partition }: EachMessagePayload) => {
      seen.push({ key: String(message.key), n: (JSON.parse(String(message.value)) as { n: number }).n, partition });
    },
  });
  await eventually('all 60 messages consumed', async () => seen.length >= 60);
  await consumer.disconnect(); // commits the consumed offsets
  assert.deepEqual(seen.map((m) => m.n).sort((a, b) => a - b), messages.map((_, i) => i));
  const byKey = new Map<string, Set<number>>();
  for (const m of seen) byKey.set(m.key, (byKey.get(m.key) ?? new Set()).add(m.partition));
  assert.ok([...byKey.values()].every((partitions) => partitions.size === 1), 'one key, one partition');

  const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
  const total = committed[0]!.partitions.reduce((n, p) => n + Number(p.offset), 0);
  assert.equal(total, 60, 'the group committed every consumed offset');
});

test('kafka: the broker refuses to auto-create topics (the operator creates them)', { timeout: 60_000 }, async () => {
  const quiet = new Kafka({ clientId: 'uspa-smoke', brokers: required('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING });
  const producer = quiet.producer({ allowAutoTopicCreation: true, retry: { retries: 1 } });
  await producer.connect();
  try {
    await assert.rejects(producer.send({ topic: unique('not-declared'), acks: -1, messages: [{ value: 'x' }] }));
  } finally {
    await producer.disconnect();
  }
});
