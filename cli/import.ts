// `uspa import <file>`: a CSV or NDJSON file into a batch Source, through the collector (so rate
// limits, tracking plans and Kafka acknowledgement apply as for live traffic), with progress and a
// per-row error report. Rows without a messageId get one derived from the file and row, so running
// the same import twice stores every event once.
import { createHash } from 'node:crypto';
import { createReadStream, statSync, writeFileSync, type ReadStream } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { parse as parseCsv, type Options as CsvOptions } from 'csv-parse';
import { EVENT_TYPES, type EventType } from '../api/event.ts';
import { LIMITS, jsonBytes, normalizeEvent } from '../collector/tracking-api.ts';

export interface ImportOptions {
  file: string;
  url: string;
  writeKey: string;
  format?: FileFormat;
  /** Where to write every rejected row as NDJSON ({row, errors}). */
  report?: string;
  onProgress?: (p: ImportProgress) => void;
}

export interface ImportProgress {
  rows: number;
  sent: number;
  rejected: number;
  bytesRead: number;
  bytesTotal: number;
}

export interface RowError {
  row: number;
  errors: string[];
}

export interface ImportResult extends ImportProgress {
  errors: RowError[];
}

/** CSV columns: type, event, userId, anonymousId, messageId, timestamp, name, groupId, previousId, properties.<x>, traits.<x>, context.<x>. */
export function csvRowToEvent(row: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [column, raw] of Object.entries(row)) {
    if (raw === '' || raw === undefined) continue;
    const dot = column.indexOf('.');
    if (dot > 0) {
      const group = column.slice(0, dot);
      const key = column.slice(dot + 1);
      const bag = (out[group] ??= {}) as Record<string, unknown>;
      bag[key] = castCell(raw);
    } else {
      out[column] = raw;
    }
  }
  out.type ??= 'track';
  return out;
}

/** Numbers and booleans in property cells become JSON numbers and booleans; ids stay strings. */
function castCell(raw: string): unknown {
  if (/^-?\d+(\.\d+)?$/.test(raw) && !/^0\d/.test(raw)) return Number(raw);
  if (raw === 'true' || raw === 'false') return raw === 'true';
  return raw;
}

export type FileFormat = 'csv' | 'ndjson';

/**
 * One row of a file, numbered as in the file (a CSV's header is row 1; a record spanning lines has
 * its first line's number): a CSV record by column, an NDJSON line's object, or why it cannot be read.
 */
export type FileRow = { row: number; cells: Record<string, string> } | { row: number; object: Record<string, unknown> } | { row: number; error: string };

/** A CSV record larger than this (its cells together) is taken for a quote that never closes. */
const MAX_CSV_RECORD_BYTES = 1 << 20;

/**
 * Streams a file's rows. A row that cannot be read (bad JSON; a CSV record with wrong quoting or the
 * wrong number of cells) is a row with an error and reading goes on. `counter.bytes` follows the
 * bytes read, for progress; `onHeader` sees a CSV's columns first (and may throw to refuse them).
 */
export async function* readRows(file: string, format: FileFormat, counter: { bytes: number }, onHeader?: (columns: string[]) => void): AsyncGenerator<FileRow> {
  const stream = createReadStream(file);
  stream.on('data', (chunk) => (counter.bytes += chunk.length));
  try {
    if (format === 'csv') {
      yield* csvRows(file, stream, onHeader);
      return;
    }
    let row = 0;
    for await (const text of createInterface({ input: stream, crlfDelay: Infinity })) {
      const line = ++row === 1 ? text.replace(/^\uFEFF/, '') : text;
      if (!line.trim()) continue;
      try {
        const value = JSON.parse(line) as unknown;
        if (typeof value !== 'object' || value === null || Array.isArray(value)) yield { row, error: 'line is not a JSON object' };
        else yield { row, object: value as Record<string, unknown> };
      } catch (err) {
        yield { row, error: `line is not valid JSON: ${(err as Error).message}` };
      }
    }
  } finally {
    stream.destroy();
  }
}

type BadRow = Extract<FileRow, { error: string }>;

/**
 * A CSV's records, parsed by csv-parse: a bad record is skipped by csv-parse (skip_records_with_error)
 * and reported here, in file order with the good ones. Known limits of csv-parse's recovery:
 * - a closing quote followed by something other than a comma keeps the cell open to the next
 *   quote, so the lines up to it belong to the bad row (and are not read as rows of their own);
 * - a quote that never closes takes the rest of the file into its row;
 * - text after a closing quote and blanks (`"a" b`), or a record over MAX_CSV_RECORD_BYTES, makes
 *   csv-parse lose its place: that row says so and reading stops there;
 * - csv-parse counts a CRLF inside a quoted cell as two lines, so later rows are numbered one more.
 */
async function* csvRows(file: string, input: ReadStream, onHeader?: (columns: string[]) => void): AsyncGenerator<FileRow> {
  let header: string[] | undefined;
  const skipped: BadRow[] = [];
  let stop: BadRow | undefined;
  /** A bad record's error; what csv-parse finds later in the same record is added when `more` says so. */
  const report = (row: number, what: string, more = false): undefined => {
    const last = skipped.at(-1);
    if (last?.row !== row) skipped.push({ row, error: `CSV is malformed here: ${what}` });
    else if (more) last.error += `; then ${what}`;
    return undefined;
  };
  // csv-parse's types cannot say that on_record turns {record, raw} into a FileRow.
  const options: CsvOptions<string[], unknown> = {
    bom: true,
    // Not `columns: true`, which would keep the last of two columns of one name.
    columns: (names: string[]) => {
      const twice = names.find((c, i) => names.indexOf(c) !== i);
      if (twice !== undefined) throw new Error(`${file}: the CSV header names the column "${twice}" twice`);
      onHeader?.(names);
      header = names;
      return names;
    },
    raw: true,
    record_delimiter: ['\r\n', '\n', '\r'],
    skip_empty_lines: true,
    trim: true,
    relax_column_count: false,
    max_record_size: MAX_CSV_RECORD_BYTES,
    on_record: (parsed, info) => {
      const { record, raw } = parsed as { record: Record<string, string>; raw: string };
      if (stop || Object.values(record).every((c) => c === '')) return null; // ",,": a spreadsheet's empty row
      return { row: firstLine(info.lines, raw), cells: record };
    },
    skip_records_with_error: true,
    on_skip: (err, raw) => {
      if (!err || stop) return;
      const row = firstLine(Number(err.lines), raw);
      if (!header) throw new Error(`${file}: the CSV header (row ${row}) cannot be read: ${err.message}`);
      const cell = Number(err.index) + 1;
      switch (err.code) {
        case 'CSV_RECORD_INCONSISTENT_COLUMNS': {
          const cells = err.record as string[];
          if (cells.every((c) => c === '')) return; // ",,,": a spreadsheet's empty row
          if (skipped.at(-1)?.row !== row) skipped.push({ row, error: `CSV row has ${cells.length} cells; the header has ${header.length} columns` });
          return;
        }
        case 'INVALID_OPENING_QUOTE':
          return report(row, `cell ${cell} has a quote but is not quoted: quote the whole cell and write the quote twice ("12"" pan") (${err.message})`);
        case 'CSV_INVALID_CLOSING_QUOTE':
          return report(row, `the closing quote of cell ${cell} is not followed by a comma (a quote inside a quoted cell is written twice: ""), so the cell goes on to the next quote and the lines up to it are part of this row (${err.message})`);
        case 'CSV_QUOTE_NOT_CLOSED':
          return report(row, `the quote opening cell ${cell} is not closed by the end of the file, so the rest of the file is part of this row`, true);
        case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
        case 'CSV_MAX_RECORD_SIZE':
          // Skipping these, csv-parse (6.2) drops the rest of the chunk and then reads stale input,
          // so reading ends here: after the rows before it (throwing would drop those not yet read).
          report(row, err.code === 'CSV_MAX_RECORD_SIZE' ? `the row is larger than ${MAX_CSV_RECORD_BYTES} bytes: is a quote not closed?` : `the closing quote of cell ${cell} is followed by text before the comma (a quote inside a quoted cell is written twice: "") (${err.message})`, true);
          stop = skipped.pop()!;
          stop.error += '; reading stopped here: the rows after it were not read';
          input.unpipe(parser);
          input.destroy();
          parser.push(null);
          return;
        default:
          return report(row, err.message);
      }
    },
  };
  const parser = parseCsv(options as CsvOptions);
  input.on('error', (err) => parser.destroy(err));
  for await (const record of input.pipe(parser) as AsyncIterable<FileRow>) {
    while (skipped.length && skipped[0]!.row < record.row) yield skipped.shift()!;
    yield record;
  }
  yield* skipped;
  if (stop) yield stop;
}

/**
 * The line a CSV record starts on. csv-parse gives the line it is on at the record's end (or at an
 * error), and the record's text so far (after the blank lines before it, and with the first
 * character of its line break, not yet counted): each line break in between is a line back.
 */
function firstLine(lines: number, raw = ''): number {
  let breaks = 0;
  for (let i = raw.search(/[^ \t\r\n]/); i >= 0 && i < raw.length - 1; i++) {
    const c = raw.charCodeAt(i);
    if (c === 10 || c === 13) breaks++;
  }
  return lines - breaks;
}

export async function importFile(options: ImportOptions): Promise<ImportResult> {
  const format = options.format ?? (options.file.endsWith('.csv') ? 'csv' : 'ndjson');
  const progress: ImportProgress = { rows: 0, sent: 0, rejected: 0, bytesRead: 0, bytesTotal: statSync(options.file).size };
  const errors: RowError[] = [];
  const counter = { bytes: 0 };
  const fileTag = createHash('sha256').update(basename(options.file)).digest('hex').slice(0, 12);
  let batch: Array<Record<string, unknown>> = [];
  let batchRows: number[] = [];
  let batchBytes = 0;

  const send = async () => {
    if (batch.length === 0) return;
    const response = await fetch(new URL('/v1/batch', options.url), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Basic ${Buffer.from(`${options.writeKey}:`).toString('base64')}` },
      body: JSON.stringify({ batch }),
    });
    if (response.status === 429) {
      const wait = Number(response.headers.get('retry-after') ?? '1');
      await new Promise((r) => setTimeout(r, wait * 1000));
      return send();
    }
    if (!response.ok) {
      const body = (await response.json().catch(() => ({}))) as { error?: string; errors?: Array<{ path: string; message: string }> };
      if (response.status === 400 && body.errors?.length) {
        // The collector refused the batch (e.g. the tracking plan): report the rows it named, re-send the rest.
        const bad = new Map<number, string[]>();
        for (const e of body.errors) {
          const i = Number(/^batch\[(\d+)\]/.exec(e.path)?.[1] ?? -1);
          const row = batchRows[i];
          if (row !== undefined) bad.set(i, [...(bad.get(i) ?? []), `${e.path.replace(/^batch\[\d+\]\.?/, '') || '(event)'}: ${e.message}`]);
        }
        if (bad.size > 0) {
          for (const [i, errs] of bad) errors.push({ row: batchRows[i]!, errors: errs });
          progress.rejected += bad.size;
          batch = batch.filter((_, i) => !bad.has(i));
          batchRows = batchRows.filter((_, i) => !bad.has(i));
          return send();
        }
      }
      throw new Error(`the collector answered ${response.status}: ${body.error ?? response.statusText}; ${progress.sent} events were sent before this`);
    }
    progress.sent += batch.length;
    batch = [];
    batchRows = [];
    batchBytes = 0;
    options.onProgress?.({ ...progress, bytesRead: counter.bytes });
  };

  for await (const item of readRows(options.file, format, counter)) {
    progress.rows++;
    if ('error' in item) {
      errors.push({ row: item.row, errors: [item.error] });
      progress.rejected++;
      continue;
    }
    const event = 'cells' in item ? csvRowToEvent(item.cells) : item.object;
    event.messageId ??= `import-${fileTag}-${item.row}-${createHash('sha256').update(JSON.stringify(event)).digest('hex').slice(0, 16)}`;
    const type = event.type as EventType;
    // Same rules as the collector, checked here so one bad row is reported, not a whole batch refused.
    const check = EVENT_TYPES.includes(type)
      ? normalizeEvent(type, event, { source: 'import', receivedAt: new Date(), newMessageId: () => '' })
      : { ok: false as const, errors: [{ path: 'type', message: `must be one of ${EVENT_TYPES.join(', ')}` }] };
    const size = jsonBytes(event);
    if (!check.ok || size > LIMITS.eventBytes) {
      errors.push({ row: item.row, errors: check.ok ? [`event is ${size} bytes; the limit is ${LIMITS.eventBytes}`] : check.errors.map((e) => `${e.path}: ${e.message}`) });
      progress.rejected++;
      continue;
    }
    if (batchBytes + size > LIMITS.batchBytes - 1024 || batch.length >= 1000) await send();
    batch.push(event);
    batchRows.push(item.row);
    batchBytes += size + 1;
  }
  await send();
  progress.bytesRead = counter.bytes;
  options.onProgress?.({ ...progress });
  if (options.report) writeFileSync(options.report, errors.map((e) => JSON.stringify(e)).join('\n') + (errors.length ? '\n' : ''));
  return { ...progress, errors };
}
