// Erasure in ClickHouse: resolve the person's identity graph, count their rows in every table the
// schema scan finds, delete them, count again. Every step reads the current state first, so running
// it again after a crash (or twice) finds nothing left and deletes nothing of anyone else.
import type { Warehouse } from '../clickhouse.ts';
import type { ErasureMode, StoreReceipt } from '../../api/privacy.ts';
import { KEPT_ON_ERASURE, personPredicate, personTables, personValues, type ColumnInfo, type PersonTable, type PersonValues } from './schema.ts';

/**
 * The person that `identity` belongs to now: the profile it maps to, every identity of that
 * profile, and every profile folded into it by merges (whose rows still carry the old id). Refused
 * merges and unmerged identities belong to someone else and are left out.
 */
export async function resolvePerson(warehouse: Warehouse, identity: string): Promise<PersonValues> {
  const current = await warehouse.query<{ profile_id: string }>('SELECT DISTINCT profile_id FROM {db}.identities FINAL WHERE identity = {identity:String}', { identity });
  const profiles = new Set(current.map((r) => r.profile_id));
  for (let frontier = [...profiles]; frontier.length > 0; ) {
    const rows = await warehouse.query<{ merge_from: string }>(
      "SELECT DISTINCT merge_from FROM {db}.identity_edges FINAL WHERE merge_into IN {ids:Array(String)} AND merge_from != ''",
      { ids: frontier },
    );
    frontier = rows.map((r) => r.merge_from).filter((p) => !profiles.has(p));
    for (const p of frontier) profiles.add(p);
  }
  const members = profiles.size === 0 ? [] : await warehouse.query<{ identity: string }>('SELECT identity FROM {db}.identities FINAL WHERE profile_id IN {ids:Array(String)}', { ids: [...profiles] });
  return personValues([...new Set([identity, ...members.map((m) => m.identity)])], [...profiles]);
}

export async function databaseColumns(warehouse: Warehouse): Promise<ColumnInfo[]> {
  return warehouse.query<ColumnInfo>('SELECT table, name, type FROM system.columns WHERE database = {db:String} ORDER BY table, position', { db: warehouse.database });
}

/** The tables of this database that can hold a person (throws naming a table nobody decided about). */
export async function storesOf(warehouse: Warehouse): Promise<PersonTable[]> {
  return personTables(await databaseColumns(warehouse));
}

export async function countRows(warehouse: Warehouse, table: PersonTable, person: PersonValues): Promise<number> {
  const rows = await warehouse.query<{ n: string }>(`SELECT count() AS n FROM {db}.${table.table} WHERE ${personPredicate(table)}`, { ...person });
  return Number(rows[0]?.n ?? 0);
}

/** The statement that deletes the person's rows of one table; synchronous, so a count after it sees the result. */
export function deleteStatement(table: PersonTable): string {
  return `ALTER TABLE {db}.${table.table} DELETE WHERE ${personPredicate(table)} SETTINGS mutations_sync = 2`;
}

/** Counts, deletes (unless the mode only suppresses, or the table is kept) and counts again, in one table. */
export async function eraseStore(warehouse: Warehouse, table: PersonTable, person: PersonValues, mode: ErasureMode): Promise<StoreReceipt> {
  const before = await countRows(warehouse, table, person);
  const kept = KEPT_ON_ERASURE[table.table];
  const statement = kept ? '' : deleteStatement(table);
  if (before > 0 && mode !== 'suppress' && !kept) await warehouse.command(statement, { ...person });
  const after = kept || mode === 'suppress' ? before : await countRows(warehouse, table, person);
  return { table: table.table, columns: table.columns.map((c) => c.name), before, after, statement, at: new Date().toISOString(), ...(kept ? { kept } : {}) };
}
