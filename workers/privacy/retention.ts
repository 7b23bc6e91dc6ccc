// What the receipt says about Kafka: records are not deleted one by one; each topic that can carry
// the person keeps them until its retention drops them. The date is when the last record written
// before the erasure will have aged out (retention.ms after now).
import kafkajs, { type Admin } from 'kafkajs';
import type { TopicNames } from '../../api/names.ts';

const { ConfigResourceTypes } = kafkajs;

/** The namespace's topics that can carry a person: all under its prefix but the suppression list (hashes only). */
export function personTopics(all: readonly string[], topics: TopicNames): string[] {
  return all.filter((t) => t.startsWith(`${topics.prefix}.`) && t !== topics.privacy).sort();
}

/** retention.ms → the date by which a record written at `at` is gone; compacted or unlimited topics say so. */
export function retainedUntil(at: Date, retentionMs: string | undefined, cleanupPolicy: string | undefined): string {
  if (cleanupPolicy?.includes('compact')) return 'compacted: kept until a newer record with the same key replaces it';
  const ms = Number(retentionMs);
  if (!Number.isFinite(ms) || ms < 0) return 'never: the topic has no time retention (retention.ms = -1)';
  return new Date(at.getTime() + ms).toISOString();
}

export async function topicRetention(admin: Admin, topics: TopicNames, at: Date): Promise<Array<{ topic: string; retainedUntil: string }>> {
  const names = personTopics(await admin.listTopics(), topics);
  if (names.length === 0) return [];
  const described = await admin.describeConfigs({ includeSynonyms: false, resources: names.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['retention.ms', 'cleanup.policy'] })) });
  return names.map((topic) => {
    const entries = described.resources.find((r) => r.resourceName === topic)?.configEntries ?? [];
    const value = (name: string) => entries.find((e) => e.configName === name)?.configValue;
    return { topic, retainedUntil: retainedUntil(at, value('retention.ms'), value('cleanup.policy')) };
  });
}
