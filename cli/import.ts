// `uspa import <file>`: a CSV or NDJSON file into a batch Source, through the collector (so rate
// limits, tracking plans and Kafka acknowledgement apply as for live traffic), with progress and a
// per-row error report. Rows without a messageId get one derived from the file and row, so running
// the same import twice stores every event once.
import { createHash } from 'node:crypto';
import { createReadStream, statSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { parse as parseCsv } from 'csv-parse';
import { EVENT_TYPES, type EventType } from '../api/event.ts';
import { LIMITS, jsonBytes, normalizeEvent } from '../collector/tracking-api.ts';

export interface ImportOptions {
  file: string;
  url: string;
  writeKey: string;
  format?: 'csv' | 'ndjson';
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

async function* rowsOf(file: string, format: 'csv' | 'ndjson', counter: { bytes: number }): AsyncGenerator<{ row: number; value?: Record<string, unknown>; error?: string }> {
  const stream = createReadStream(file);
  stream.on('data', (chunk) => (counter.bytes += chunk.length));
  if (format === 'ndjson') {
    let row = 0;
    for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
      row++;
      if (!line.trim()) continue;
      try {
        const value = JSON.parse(line) as unknown;
        if (typeof value !== 'object' || value === null || Array.isArray(value)) yield { row, error: 'line is not a JSON object' };
        else yield { row, value: value as Record<string, unknown> };
      } catch (err) {
        yield { row, error: `line is not valid JSON: ${(err as Error).message}` };
      }
    }
    return;
  }
  const parser = stream.pipe(parseCsv({ columns: true, skip_empty_lines: true, trim: true, relax_column_count: false }));
  let row = 1; // the header
  try {
    for await (const record of parser) {
      row++;
      yield { row, value: csvRowToEvent(record as Record<string, string>) };
    }
  } catch (err) {
    yield { row: row + 1, error: `CSV is malformed here, import stopped: ${(err as Error).message}` };
  }
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

  for await (const item of rowsOf(options.file, format, counter)) {
    progress.rows++;
    if (item.error || !item.value) {
      errors.push({ row: item.row, errors: [item.error ?? 'empty row'] });
      progress.rejected++;
      continue;
    }
    const event = item.value;
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
