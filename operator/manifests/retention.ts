// Pipeline retention → the events table's TTL. The namespace's Pipelines share one database, so its
// events table keeps events as long as the longest retention among them asks (none deletes what
// another still wants); "forever" (or a zero duration) on any of them means no TTL.
import { durationMs } from '../../api/duration.ts';
import { PIPELINE_DEFAULTS, type Pipeline } from '../../api/v1alpha1/index.ts';

/** Seconds a Pipeline keeps events (by event time), or undefined for forever. */
export function retentionSeconds(p: Pipeline): number | undefined {
  const spec = p.spec.retention ?? PIPELINE_DEFAULTS.retention;
  if (spec === 'forever') return undefined;
  const seconds = Math.floor(durationMs(spec) / 1000);
  return seconds > 0 ? seconds : undefined;
}

/** The TTL the namespace's events table needs: the longest retention of its Pipelines. */
export function namespaceRetention(pipelines: Pipeline[]): number | undefined {
  let longest = 0;
  for (const p of pipelines) {
    const s = retentionSeconds(p);
    if (s === undefined) return undefined;
    longest = Math.max(longest, s);
  }
  return longest > 0 ? longest : undefined;
}

/** The TTL seconds in a table's CREATE statement as system.tables shows it; undefined when it has none. */
export function ttlOf(createTableQuery: string): number | undefined {
  const m = / TTL toDateTime\(timestamp\) \+ toIntervalSecond\((\d+)\)/.exec(createTableQuery);
  return m ? Number(m[1]) : undefined;
}

/** The statement that gives the events table this TTL (undefined: none), by event time. */
export function ttlStatement(seconds: number | undefined): string {
  return seconds === undefined ? 'ALTER TABLE {db}.events REMOVE TTL' : `ALTER TABLE {db}.events MODIFY TTL toDateTime(timestamp) + INTERVAL ${Math.floor(seconds)} SECOND`;
}

/** "730d", "36h", "forever": seconds as the CRD's duration units write them. */
export function formatRetention(seconds: number | undefined): string {
  if (seconds === undefined) return 'forever';
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['m', 60]] as const) if (seconds % size === 0) return `${seconds / size}${unit}`;
  return `${seconds}s`;
}
