// Applies the ClickHouse migrations of api/tables to a namespace's database.
import { MIGRATIONS } from '../api/tables/migrations.ts';
import type { Warehouse } from './clickhouse.ts';
import type { Logger } from './log.ts';

export async function migrate(warehouse: Warehouse, log: Logger): Promise<number[]> {
  await warehouse.command('CREATE DATABASE IF NOT EXISTS {db}');
  await warehouse.command(`CREATE TABLE IF NOT EXISTS {db}.schema_migrations (
    version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
  ) ENGINE = ReplacingMergeTree ORDER BY version`);
  const done = new Set((await warehouse.query<{ version: number }>('SELECT version FROM {db}.schema_migrations FINAL')).map((r) => Number(r.version)));
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (done.has(m.version)) continue;
    log.info({ version: m.version, migration: m.name }, 'applying ClickHouse migration');
    for (const statement of m.statements) await warehouse.command(statement);
    await warehouse.insert('schema_migrations', [{ version: m.version, name: m.name }]);
    applied.push(m.version);
  }
  return applied;
}
