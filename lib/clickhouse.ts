// Our one door to ClickHouse: everything else in USPA talks to this class, not to @clickhouse/client.
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { readTlsDir, type TlsFiles } from './tls.ts';

export interface ClickHouseSettings {
  url: string;
  username: string;
  password: string;
  database: string;
  /** An https URL's server CA and optional client certificate (CLICKHOUSE_TLS_DIR: ca.crt, tls.crt, tls.key). */
  tls?: TlsFiles;
}

export function clickhouseSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): ClickHouseSettings {
  if (!env.CLICKHOUSE_URL) throw new Error('CLICKHOUSE_URL is not set: give the HTTP(S) URL of ClickHouse ≥ 24.8, e.g. http://127.0.0.1:8123');
  return {
    url: env.CLICKHOUSE_URL,
    username: env.CLICKHOUSE_USER ?? 'default',
    password: env.CLICKHOUSE_PASSWORD ?? '',
    database: env.USPA_DATABASE ?? 'uspa',
    tls: readTlsDir(env.CLICKHOUSE_TLS_DIR, 'CLICKHOUSE_TLS_DIR'),
  };
}

export type Params = Record<string, unknown>;

export class Warehouse {
  readonly client: ClickHouseClient;
  readonly database: string;

  constructor(settings: ClickHouseSettings) {
    this.database = settings.database;
    this.client = createClient({
      url: settings.url,
      username: settings.username,
      password: settings.password,
      ...(settings.tls?.ca ? { tls: settings.tls.cert && settings.tls.key ? { ca_cert: settings.tls.ca, cert: settings.tls.cert, key: settings.tls.key } : { ca_cert: settings.tls.ca } } : {}),
      request_timeout: 60_000,
      // Long id lists (dedup checks, profile rebuilds) go in a multipart body instead of the URL.
      use_multipart_params_auto: true,
      // Failures reach the caller as exceptions, which log them with context; the client's own log is noise.
      log: { level: ClickHouseLogLevel.OFF },
    });
  }

  async ping(): Promise<boolean> {
    return (await this.client.ping()).success;
  }

  /** DDL and mutations; `{db}` in the SQL is our database. */
  async command(sql: string, params: Params = {}): Promise<void> {
    await this.client.command({ query: sql.replaceAll('{db}', this.database), query_params: params });
  }

  async query<T>(sql: string, params: Params = {}): Promise<T[]> {
    const result = await this.client.query({ query: sql.replaceAll('{db}', this.database), query_params: params, format: 'JSONEachRow' });
    return result.json<T>();
  }

  /** The rows of a query as JSON lines, streamed: for results too large to hold at once. */
  async *lines(sql: string, params: Params = {}): AsyncGenerator<string> {
    const result = await this.client.query({ query: sql.replaceAll('{db}', this.database), query_params: params, format: 'JSONEachRow' });
    for await (const rows of result.stream()) for (const row of rows as Array<{ text: string }>) yield row.text;
  }

  async insert(table: string, rows: object[]): Promise<void> {
    if (rows.length === 0) return;
    await this.client.insert({ table: `${this.database}.${table}`, values: rows, format: 'JSONEachRow' });
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** One Warehouse per database, made on first use: workers serve the databases their workflows name. */
export function warehousePool(settings: ClickHouseSettings): { get(database: string): Warehouse; closeAll(): Promise<void> } {
  const pool = new Map<string, Warehouse>();
  return {
    get(database: string) {
      let w = pool.get(database);
      if (!w) pool.set(database, (w = new Warehouse({ ...settings, database })));
      return w;
    },
    async closeAll() {
      for (const w of pool.values()) await w.close();
      pool.clear();
    },
  };
}

/** ISO 8601 (as in our events) → the DateTime64 text ClickHouse parses without best_effort. */
export function chTime(iso: string): string {
  return iso.replace('T', ' ').replace(/Z$/, '');
}
