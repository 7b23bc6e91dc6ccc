// Where a data command reads and writes: the database and topics of one namespace. The CLI finds
// them in the cluster (resolve.ts); a process given its names by env, as the operator gives them to
// workloads (USPA_DATABASE, USPA_TOPIC_PREFIX), can build one from there.
import { clickhouseSettingsFromEnv, type ClickHouseSettings } from '../lib/clickhouse.ts';
import { topicNames } from '../lib/kafka.ts';

export interface Target {
  database: string;
  /** A Source's events topic; undefined when there is no such Source. */
  sourceTopic(source: string): string | undefined;
  /** A Pipeline's control topic; undefined when that Pipeline is not the one meant. */
  controlTopic(pipeline: string): string | undefined;
}

export function targetFromEnv(env: NodeJS.ProcessEnv = process.env): Target {
  const topics = topicNames(env);
  return { database: clickhouseSettingsFromEnv(env).database, sourceTopic: topics.source, controlTopic: topics.control };
}

/** The engine's address and credentials from env, on the target's database. */
export function clickhouseFor(target: Target, env: NodeJS.ProcessEnv = process.env): ClickHouseSettings {
  return { ...clickhouseSettingsFromEnv(env), database: target.database };
}
