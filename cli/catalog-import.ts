// `uspa import --catalog <file>`: product catalog items from a CSV or NDJSON file into the catalog,
// through the API (PUT /v1/catalog/items, permission catalog:write), with progress and a per-row
// error report. Every row is checked here first with the API's own validator (api/catalog.ts), so
// an invalid row never leaves the machine and is reported with the words the API would use; rows
// the API still refuses are mapped back to their row numbers. Loading the same file twice stores
// each item once (an upsert by id; a later row of the same id replaces an earlier one).
//
// CSV columns (names matched without regard to case; spaces and hyphens count as underscores):
//   id (or product_id, sku), title (or name), category ("Shoes > Running"), price (a plain number:
//   19.99), currency (EUR; upper-cased), tags (separated by | or ;), url, image (or image_url),
//   available (true/false, 1/0, yes/no, y/n, in stock/out of stock, available/unavailable).
// Every other column is an attribute of the item, its cells kept as text (a CSV cell has no type:
// "00123" and "1e3" must survive as written); NDJSON attributes keep their JSON types. Empty cells
// are absent. When several aliases of one field are columns, the first of the list above that has
// a value in a row is the field and the others are kept as attributes.
// NDJSON rows are the API's item objects (CATALOG_ITEM_INPUT_SCHEMA), product_id, sku, name and
// image_url accepted for id, title and image.
import { statSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseCatalogItem, type CatalogItem } from '../api/catalog.ts';
import { elapsed } from '../stack/progress.ts';
import { readRows, type FileFormat, type FileRow } from './import.ts';

export const CATALOG_BATCH = { default: 500, max: 1000 } as const;
/** Retries of one request refused with 429, 502, 503 or 504, or that got no answer. */
export const CATALOG_RETRIES = 5;
export const CATALOG_PATH = '/v1/catalog/items';

type Field = 'id' | 'title' | 'category' | 'price' | 'currency' | 'tags' | 'url' | 'image' | 'available';

/** Each field's column names, the preferred first. */
const COLUMNS: Record<Field, readonly string[]> = {
  id: ['id', 'product_id', 'sku'],
  title: ['title', 'name'],
  category: ['category'],
  price: ['price'],
  currency: ['currency'],
  tags: ['tags'],
  url: ['url'],
  image: ['image', 'image_url'],
  available: ['available'],
};
const FIELD_OF = new Map(Object.entries(COLUMNS).flatMap(([field, names]) => names.map((n) => [n, field as Field] as const)));
const ATTRIBUTE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NDJSON_ALIASES = [['product_id', 'id'], ['sku', 'id'], ['name', 'title'], ['image_url', 'image']] as const;

const TRUE = new Set(['true', '1', 'yes', 'y', 'in stock', 'available']);
const FALSE = new Set(['false', '0', 'no', 'n', 'out of stock', 'unavailable']);
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

const columnKey = (column: string) => column.trim().toLowerCase().replace(/[\s-]+/g, '_');

/** What one row of the file became: the item to send, or every problem with it (each naming the row). */
export interface MappedRow {
  row: number;
  id?: string;
  item?: CatalogItem;
  problems?: string[];
}

/** "In stock", "yes", "0" … → true or false; undefined for anything else. */
export function parseAvailable(cell: string): boolean | undefined {
  const word = cell.trim().toLowerCase().replace(/[\s_-]+/g, ' ');
  if (TRUE.has(word) || word === 'instock') return true;
  if (FALSE.has(word) || word === 'outofstock') return false;
  return undefined;
}

/**
 * A CSV header's problems that would refuse every row: no id or title column, or a column that is
 * no field and cannot name an attribute.
 */
export function catalogHeaderProblems(columns: string[]): string[] {
  const problems: string[] = [];
  const keys = new Set(columns.map(columnKey));
  for (const field of ['id', 'title'] as const) {
    if (!COLUMNS[field].some((n) => keys.has(n))) problems.push(`the header has no ${field} column (${COLUMNS[field].join(', ')})`);
  }
  for (const column of columns) {
    if (FIELD_OF.has(columnKey(column))) continue;
    const name = column.trim();
    if (!ATTRIBUTE_NAME.test(name) || name.length > 128) problems.push(`column ${JSON.stringify(column)} is no item field, and an attribute's name is letters, digits and _ (not first), at most 128: rename it, e.g. ${JSON.stringify(name.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^(?=\d)/, '_') || 'attribute')}`);
  }
  return problems;
}

/** A CSV record (column → cell) → the API's input item, and the cells that cannot be one. */
export function catalogInputFromCells(cells: Record<string, string>, where: string): { input: Record<string, unknown>; problems: string[] } {
  const input: Record<string, unknown> = {};
  const problems: string[] = [];
  const attributes: Record<string, string> = {};
  const byKey = new Map<string, string>();
  for (const [column, cell] of Object.entries(cells)) {
    const value = cell.trim();
    if (value === '') continue;
    if (FIELD_OF.has(columnKey(column))) byKey.set(columnKey(column), value);
    else attributes[column.trim()] = value;
  }
  for (const [field, names] of Object.entries(COLUMNS) as Array<[Field, readonly string[]]>) {
    const used = names.find((n) => byKey.has(n));
    if (used === undefined) continue;
    for (const other of names) if (other !== used && byKey.has(other)) attributes[other] = byKey.get(other)!;
    const value = byKey.get(used)!;
    const at = `${where}.${field}`;
    if (field === 'price') {
      if (NUMBER.test(value)) input.price = Number(value);
      else problems.push(`${at}: ${JSON.stringify(value)} is not a number (write 19.99)`);
    } else if (field === 'available') {
      const available = parseAvailable(value);
      if (available === undefined) problems.push(`${at}: ${JSON.stringify(value)} is not one of true, false, 1, 0, yes, no, in stock, out of stock`);
      else input.available = available;
    } else if (field === 'tags') {
      input.tags = value.split(/[|;]/).map((t) => t.trim()).filter(Boolean);
    } else if (field === 'currency') {
      input.currency = value.toUpperCase();
    } else {
      input[field] = value;
    }
  }
  if (Object.keys(attributes).length) input.attributes = attributes;
  return { input, problems };
}

/** An NDJSON object → the API's input item: the aliases renamed where the field itself is absent. */
export function catalogInputFromObject(object: Record<string, unknown>): Record<string, unknown> {
  const input = { ...object };
  for (const [alias, field] of NDJSON_ALIASES) {
    if (input[field] === undefined && input[alias] !== undefined) {
      input[field] = input[alias];
      delete input[alias];
    }
  }
  return input;
}

/** One row of the file → the item to send, or its problems, each starting with "row N". Pure. */
export function catalogItemFromRow(r: FileRow): MappedRow {
  const where = `row ${r.row}`;
  if ('error' in r) return { row: r.row, problems: [`${where}: ${r.error}`] };
  const { input, problems } = 'cells' in r ? catalogInputFromCells(r.cells, where) : { input: catalogInputFromObject(r.object), problems: [] };
  const id = typeof input.id === 'string' && input.id ? input.id : undefined;
  const parsed = parseCatalogItem(input, where);
  const all = [...problems, ...(parsed.problems ?? [])];
  if (all.length || !parsed.item) return { row: r.row, ...(id ? { id } : {}), problems: all };
  return { row: r.row, id: parsed.item.id, item: parsed.item };
}

export interface CatalogImportProgress {
  rows: number;
  upserted: number;
  rejected: number;
  bytesRead: number;
  bytesTotal: number;
}

/** A row that was not stored: one line of the report. */
export interface RejectedRow {
  row: number;
  id?: string;
  problems: string[];
}

export interface CatalogImportResult extends CatalogImportProgress {
  errors: RejectedRow[];
}

export interface CatalogImportOptions {
  file: string;
  apiUrl: string;
  apiKey: string;
  format?: FileFormat;
  /** Where to write every rejected row as NDJSON ({row, id, problems}). */
  report?: string;
  /** Items per request, 1 to 1000 (default 500). */
  batch?: number;
  onProgress?: (p: CatalogImportProgress) => void;
  /** The HTTP client (default: the global fetch). */
  fetch?: typeof fetch;
  /** How to wait before a retry (default: a timer). */
  sleep?: (ms: number) => Promise<void>;
  retries?: number;
  requestTimeoutMs?: number;
}

/** The import could not go on (the API refused the key, or could not be reached): what was done until then. */
export class CatalogImportError extends Error {
  constructor(
    message: string,
    readonly result: CatalogImportResult,
  ) {
    super(message);
    this.name = 'CatalogImportError';
  }
}

/** A file's format from --format, else its extension. */
export function catalogFormat(file: string, format?: string): FileFormat {
  if (format === 'csv' || format === 'ndjson') return format;
  if (format !== undefined) throw new CatalogUsageError(`--format must be csv or ndjson, not ${format}`);
  if (/\.csv$/i.test(file)) return 'csv';
  if (/\.(ndjson|jsonl)$/i.test(file)) return 'ndjson';
  throw new CatalogUsageError(`cannot tell the format of ${file} by its name: give --format csv or --format ndjson`);
}

export class CatalogUsageError extends Error {}

/** Retry-After in seconds or as an HTTP date → milliseconds (at most 10 minutes). */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = /^\s*\d+(\.\d+)?\s*$/.test(header) ? Number(header) * 1000 : Date.parse(header) - now;
  return Number.isFinite(seconds) ? Math.min(Math.max(0, seconds), 600_000) : undefined;
}

interface Entry {
  row: number;
  id: string;
  item: CatalogItem;
}

interface ApiErrorBody {
  error?: { code?: string; message?: string; field?: string; path?: string; problems?: Array<{ field?: string; path?: string; message?: string }> };
}

export async function importCatalog(options: CatalogImportOptions): Promise<CatalogImportResult> {
  const format = catalogFormat(options.file, options.format);
  const batchSize = options.batch ?? CATALOG_BATCH.default;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > CATALOG_BATCH.max) throw new CatalogUsageError(`--batch must be a whole number from 1 to ${CATALOG_BATCH.max}, not ${batchSize}`);
  const endpoint = `${options.apiUrl.replace(/\/+$/, '')}${CATALOG_PATH}`;
  const send = options.fetch ?? fetch;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const retries = options.retries ?? CATALOG_RETRIES;
  const timeoutMs = options.requestTimeoutMs ?? 120_000;
  const progress: CatalogImportProgress = { rows: 0, upserted: 0, rejected: 0, bytesRead: 0, bytesTotal: statSync(options.file).size };
  const errors: RejectedRow[] = [];
  const counter = { bytes: 0 };
  // Whatever the API says is shown to the user: the key must not be in it.
  const redact = (text: string) => (options.apiKey ? text.split(options.apiKey).join('[key]') : text);
  const result = (): CatalogImportResult => ({ ...progress, bytesRead: counter.bytes, errors });
  const fatal = (message: string) => new CatalogImportError(`${redact(message)}; ${progress.upserted} items were stored before this`, result());
  const reject = (r: RejectedRow) => {
    errors.push(r);
    progress.rejected++;
  };

  /** One PUT, retried on 429/502/503/504 and on no answer; the last answer otherwise. */
  const put = async (entries: Entry[]): Promise<Response> => {
    const body = JSON.stringify({ items: entries.map((e) => e.item) });
    for (let attempt = 0; ; attempt++) {
      const backoff = Math.min(30_000, 500 * 2 ** attempt) * (0.75 + Math.random() / 2);
      let res: Response;
      try {
        res = await send(endpoint, { method: 'PUT', headers: { Authorization: `Bearer ${options.apiKey}`, 'Content-Type': 'application/json', Accept: 'application/json' }, body, signal: AbortSignal.timeout(timeoutMs) });
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        const why = cause?.code ?? cause?.message ?? (err as Error).message;
        if (attempt >= retries) throw fatal(`cannot reach the API at ${endpoint} (${why}) after ${attempt + 1} attempts: is --api-url (or USPA_API_URL) the address of \`uspa api\`, and is it running?`);
        await sleep(backoff);
        continue;
      }
      if ([429, 502, 503, 504].includes(res.status) && attempt < retries) {
        const wait = retryAfterMs(res.headers.get('retry-after')) ?? backoff;
        await res.body?.cancel();
        await sleep(wait);
        continue;
      }
      return res;
    }
  };

  const sendBatch = async (entries: Entry[]): Promise<void> => {
    if (entries.length === 0) return;
    const res = await put(entries);
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (res.status === 200) {
      const answer = body as { upserted?: unknown; rejected?: unknown } | undefined;
      if (typeof answer?.upserted !== 'number' || !Array.isArray(answer.rejected)) throw fatal(`the API's answer to PUT ${CATALOG_PATH} is not {upserted, rejected}: ${text.slice(0, 200)}`);
      progress.upserted += answer.upserted;
      for (const r of answer.rejected as Array<{ index?: number; id?: string; problems?: string[] }>) {
        const entry = (typeof r.index === 'number' ? entries[r.index] : undefined) ?? entries.find((e) => e.id === r.id);
        const where = entry ? `row ${entry.row}` : `item ${r.id ?? r.index}`;
        const problems = (r.problems?.length ? r.problems : ['refused by the API']).map((p) => {
          const renamed = p.replace(/^(body\.)?items\[\d+\]/, where);
          return renamed.startsWith(where) ? renamed : `${where}: ${renamed}`;
        });
        reject({ row: entry?.row ?? 0, ...((entry?.id ?? r.id) ? { id: entry?.id ?? r.id } : {}), problems });
      }
      options.onProgress?.(result());
      return;
    }
    const error = (body as ApiErrorBody | undefined)?.error;
    const said = `${res.status}${error?.code ? ` ${error.code}` : ''}: ${error?.message ?? (text.slice(0, 200) || res.statusText)}`;
    if (res.status === 413 && entries.length > 1) {
      // Too large a body: halves, until one item is too large by itself.
      const half = Math.ceil(entries.length / 2);
      await sendBatch(entries.slice(0, half));
      await sendBatch(entries.slice(half));
      return;
    }
    if (res.status === 413) {
      reject({ row: entries[0]!.row, id: entries[0]!.id, problems: [`row ${entries[0]!.row}: the item is larger than the API accepts in one request (${said})`] });
      return;
    }
    if (res.status === 400) {
      // The API refused the body for some items: report those rows, send the rest again.
      const bad = new Map<number, string[]>();
      for (const p of error?.problems ?? []) {
        const m = /^(?:body\.)?items\[(\d+)\]\.?(.*)$/.exec(p.field ?? p.path ?? '');
        const entry = m ? entries[Number(m[1])] : undefined;
        if (!m || !entry) continue;
        bad.set(Number(m[1]), [...(bad.get(Number(m[1])) ?? []), `row ${entry.row}${m[2] ? `.${m[2]}` : ''}: ${p.message ?? 'is invalid'}`]);
      }
      if (bad.size > 0) {
        for (const [i, problems] of bad) reject({ row: entries[i]!.row, id: entries[i]!.id, problems });
        await sendBatch(entries.filter((_, i) => !bad.has(i)));
        return;
      }
    }
    if (res.status === 401) throw fatal(`the API did not accept the key (${said}): give the key of an ApiKey of this namespace with --api-key or USPA_API_KEY${error?.code === 'key_expired' ? ' (this one has expired: rotate it and use the new key)' : ''}`);
    if (res.status === 403) throw fatal(`the key may not write the catalog (${said}): use the key of an ApiKey with role admin or marketer (permission catalog:write)`);
    if (res.status === 404) throw fatal(`the API at ${options.apiUrl} has no PUT ${CATALOG_PATH} (${said}): is --api-url the address of \`uspa api\`, and is it a version with the catalog?`);
    throw fatal(`the API answered PUT ${CATALOG_PATH} with ${said}${[429, 502, 503, 504].includes(res.status) ? ` after ${retries + 1} attempts` : ''}`);
  };

  let batch: Entry[] = [];
  const checkHeader = (columns: string[]) => {
    const problems = catalogHeaderProblems(columns);
    if (problems.length) throw new Error(`${options.file}: ${problems.join('; ')}`);
  };
  try {
    for await (const r of readRows(options.file, format, counter, checkHeader)) {
      if (++progress.rows % 100 === 0) options.onProgress?.(result());
      const mapped = catalogItemFromRow(r);
      if (!mapped.item) {
        reject({ row: mapped.row, ...(mapped.id ? { id: mapped.id } : {}), problems: mapped.problems ?? [] });
        continue;
      }
      batch.push({ row: mapped.row, id: mapped.item.id, item: mapped.item });
      if (batch.length >= batchSize) {
        await sendBatch(batch);
        batch = [];
      }
    }
    await sendBatch(batch);
  } finally {
    if (options.report) writeFileSync(options.report, errors.map((e) => JSON.stringify(e)).join('\n') + (errors.length ? '\n' : ''));
  }
  const done = result();
  options.onProgress?.(done);
  return done;
}

export const CATALOG_USAGE = `usage: uspa import --catalog <file.csv|file.ndjson> [--api-url <url>] [--api-key <key>] [--format csv|ndjson] [--batch <n>] [--report <file>]
  --api-url   the API (uspa api) of the namespace; default USPA_API_URL
  --api-key   the key of an ApiKey with role admin or marketer; default USPA_API_KEY (better: it stays out of the process list)
  --batch     items per request, 1 to ${CATALOG_BATCH.max} (default ${CATALOG_BATCH.default})
  --report    write every rejected row as NDJSON: {"row", "id", "problems"}
exit code 0: every row stored; 3: some rows rejected; 1: the import stopped (key refused, API unreachable); 2: usage`;

const CATALOG_OPTIONS = {
  catalog: { type: 'string' },
  'api-url': { type: 'string' },
  'api-key': { type: 'string' },
  format: { type: 'string' },
  batch: { type: 'string' },
  report: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export interface CatalogCommandDeps {
  env?: NodeJS.ProcessEnv;
  /** A line for the user (stdout). */
  out?: (line: string) => void;
  /** Progress and errors (stderr). */
  err?: (line: string) => void;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** How often progress is printed (default 1000 ms). */
  progressEveryMs?: number;
}

/** `uspa import --catalog …` (argv after `import`) → the exit code. */
export async function runCatalogImport(argv: string[], deps: CatalogCommandDeps = {}): Promise<number> {
  const env = deps.env ?? process.env;
  const out = deps.out ?? ((line: string) => console.log(line));
  const err = deps.err ?? ((line: string) => process.stderr.write(`${line}\n`));
  const started = Date.now();
  let apiKey = '';
  const redact = (text: string) => (apiKey ? text.split(apiKey).join('[key]') : text);
  let report: string | undefined;
  try {
    let values;
    try {
      const parsed = parseArgs({ args: argv, allowPositionals: true, options: CATALOG_OPTIONS });
      values = parsed.values;
      if (parsed.positionals.length) throw new CatalogUsageError(`unexpected ${parsed.positionals.map((p) => JSON.stringify(p)).join(' ')}: the file is the value of --catalog`);
    } catch (e) {
      if (e instanceof CatalogUsageError) throw e;
      throw new CatalogUsageError((e as Error).message.split('. ')[0]!);
    }
    if (values.help) {
      out(CATALOG_USAGE);
      return 0;
    }
    const file = values.catalog;
    const apiUrl = values['api-url'] ?? env.USPA_API_URL;
    apiKey = values['api-key'] ?? env.USPA_API_KEY ?? '';
    if (!file) throw new CatalogUsageError('--catalog <file> is required');
    if (!apiUrl) throw new CatalogUsageError('--api-url (or USPA_API_URL) is required: the address of the namespace\'s API (uspa api)');
    if (!/^https?:\/\/[^/]/.test(apiUrl) || !URL.canParse(apiUrl)) throw new CatalogUsageError(`--api-url must be an http(s) URL, not ${JSON.stringify(apiUrl)}`);
    if (!apiKey) throw new CatalogUsageError('--api-key (or USPA_API_KEY) is required: the key of an ApiKey with role admin or marketer');
    const batch = values.batch === undefined ? undefined : /^\d+$/.test(values.batch) ? Number(values.batch) : NaN;
    if (batch !== undefined && !(batch >= 1 && batch <= CATALOG_BATCH.max)) throw new CatalogUsageError(`--batch must be a whole number from 1 to ${CATALOG_BATCH.max}, not ${values.batch}`);
    report = values.report;
    const format = catalogFormat(file, values.format);
    let last = 0;
    let shown = '';
    const every = deps.progressEveryMs ?? 1000;
    const result = await importCatalog({
      file, apiUrl, apiKey, format, report, batch, fetch: deps.fetch, sleep: deps.sleep,
      onProgress: (p) => {
        if (Date.now() - last < every && p.bytesRead < p.bytesTotal) return;
        const pct = p.bytesTotal ? Math.round((100 * p.bytesRead) / p.bytesTotal) : 100;
        const line = `import: ${pct}% of ${p.bytesTotal} bytes, ${p.rows} rows, ${p.upserted} upserted, ${p.rejected} rejected`;
        if (line === shown) return;
        last = Date.now();
        shown = line;
        err(`${line} (${elapsed(started)})`);
      },
    });
    out(`imported ${result.upserted} of ${result.rows} catalog rows from ${file} in ${elapsed(started)}; ${result.rejected} rejected`);
    listRejected(result.errors, report, out);
    return result.rejected > 0 ? 3 : 0;
  } catch (e) {
    if (e instanceof CatalogUsageError) {
      err(`error: ${redact(e.message)}\n${CATALOG_USAGE}`);
      return 2;
    }
    if (e instanceof CatalogImportError) {
      err(`error: ${redact(e.message)}`);
      listRejected(e.result.errors, report, err);
      return 1;
    }
    err(`error: ${redact((e as Error).message ?? String(e))}`);
    return 1;
  }
}

function listRejected(errors: RejectedRow[], report: string | undefined, print: (line: string) => void): void {
  for (const e of errors.slice(0, 20)) print(`  ${e.problems.join('; ')}`);
  if (errors.length > 20) print(`  … ${errors.length - 20} more${report ? ` in ${report}` : ' (write them all with --report <file>)'}`);
}
