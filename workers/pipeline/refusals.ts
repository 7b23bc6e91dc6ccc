// ClickHouse refusing rows versus ClickHouse being unwell. A refused insert is split in halves
// until the refused rows are isolated (the caller dead-letters them) and the rest is written; any
// other failure (unreachable, timeouts, overload, a missing table) fails the whole insert, so the
// batch is retried as a whole and nothing is dead-lettered for a fault that is not the record's.

/**
 * ClickHouse error codes that say nothing about the rows sent: the server, the network, the
 * schema or the credentials are at fault. Everything else ClickHouse answers is a refusal.
 */
const NOT_THE_ROWS = new Set([
  16, // NO_SUCH_COLUMN_IN_TABLE: schema not migrated
  47, // UNKNOWN_IDENTIFIER
  60, // UNKNOWN_TABLE
  81, // UNKNOWN_DATABASE
  159, // TIMEOUT_EXCEEDED
  160, // TOO_SLOW
  164, // READONLY
  173, // CANNOT_ALLOCATE_MEMORY
  202, // TOO_MANY_SIMULTANEOUS_QUERIES
  203, // NO_FREE_CONNECTION
  209, // SOCKET_TIMEOUT
  210, // NETWORK_ERROR
  225, // NO_ZOOKEEPER
  236, // ABORTED
  241, // MEMORY_LIMIT_EXCEEDED
  242, // TABLE_IS_READ_ONLY
  243, // NOT_ENOUGH_SPACE
  252, // TOO_MANY_PARTS (merges behind), unless it is the per-insert partition limit: see below
  285, // TOO_FEW_LIVE_REPLICAS
  319, // UNKNOWN_STATUS_OF_INSERT
  394, // QUERY_WAS_CANCELLED
  425, // SYSTEM_ERROR
  439, // CANNOT_SCHEDULE_TASK
  497, // ACCESS_DENIED
  516, // AUTHENTICATION_FAILED
  999, // KEEPER_EXCEPTION
  1000, // POCO_EXCEPTION
]);

/** True when ClickHouse refused the rows themselves (bisect them); false for any other failure (retry all). */
export function isRefusal(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  // Errors ClickHouse answers carry its numeric code as a string; network errors carry "ECONNREFUSED" and the like.
  if (typeof code !== 'string' || !/^\d+$/.test(code)) return false;
  if (code === '252' && typeof message === 'string' && message.includes('Too many partitions for single INSERT block')) return true;
  return !NOT_THE_ROWS.has(Number(code));
}

export interface Refused<T> {
  row: T;
  /** ClickHouse's message for this row alone. */
  cause: string;
}

/**
 * Inserts the rows; when ClickHouse refuses an insert, inserts each half on its own, down to the
 * single rows it refuses, which are returned (everything else is written). A failure that is not a
 * refusal rejects: rows written before it are written again on the retry, which de-duplicates.
 */
export async function insertIsolating<T>(insert: (rows: T[]) => Promise<void>, rows: T[]): Promise<Array<Refused<T>>> {
  const refused: Array<Refused<T>> = [];
  const attempt = async (part: T[]): Promise<void> => {
    if (part.length === 0) return;
    try {
      await insert(part);
    } catch (err) {
      if (!isRefusal(err)) throw err;
      if (part.length === 1) {
        refused.push({ row: part[0]!, cause: String((err as Error).message).slice(0, 2000) });
        return;
      }
      const middle = Math.ceil(part.length / 2);
      await attempt(part.slice(0, middle));
      await attempt(part.slice(middle));
    }
  };
  await attempt(rows);
  return refused;
}

/**
 * The rows in groups of at most `max` distinct partitions each, so no insert meets ClickHouse's
 * max_partitions_per_insert_block (100 by default) however many months one batch spans.
 */
export function chunksByPartition<T>(rows: T[], partitionOf: (row: T) => string, max: number): T[][] {
  const byPartition = new Map<string, T[]>();
  for (const row of rows) {
    const key = partitionOf(row);
    const group = byPartition.get(key);
    if (group) group.push(row);
    else byPartition.set(key, [row]);
  }
  const chunks: T[][] = [];
  let current: T[] = [];
  let partitions = 0;
  for (const group of byPartition.values()) {
    if (partitions === max) {
      chunks.push(current);
      current = [];
      partitions = 0;
    }
    current.push(...group);
    partitions++;
  }
  if (current.length) chunks.push(current);
  return chunks;
}
