// A Segment's members as they leave the API: rows from ClickHouse's JSONEachRow stream become
// NDJSON lines or CSV records, identities redacted by role. Everything moves in
// batches (one ClickHouse block at a time) so a million members never sit in memory at once.
import { Transform, type TransformCallback } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import { redactIdentity } from '../access/fields.ts';

export interface Member {
  profileId: string;
  /** "type:value", present when the export asked for identities. */
  identities?: string[];
}

/** A row of ClickHouse's JSONEachRow stream: its text and a parser of it. */
export interface ClickHouseRow {
  text: string;
  json<T>(): T;
}

/** Redacts identities for roles without identifiers (member queries select profileId, identities). */
export function toMember(row: Member, identifiers: boolean): Member {
  if (row.identities === undefined || identifiers) return row;
  return { profileId: row.profileId, identities: row.identities.map(redactIdentity) };
}

/** ClickHouse rows in, Member[] batches out. */
export function membersOf(identifiers: boolean, onBatch?: (members: number) => void): Transform {
  return new Transform({
    objectMode: true,
    transform(rows: ClickHouseRow[], _enc, done: TransformCallback) {
      onBatch?.(rows.length);
      done(null, rows.map((r) => toMember(r.json<Member>(), identifiers)));
    },
  });
}

/**
 * ClickHouse rows in, one JSON object per line out. When nothing needs redacting a row's text is
 * already the line (the query names its columns as the API does): no parse, no stringify.
 */
export function ndjsonWriter(redact: boolean, onBatch?: (members: number) => void): Transform {
  return new Transform({
    writableObjectMode: true,
    transform(rows: ClickHouseRow[], _enc, done: TransformCallback) {
      onBatch?.(rows.length);
      let text = '';
      if (!redact) for (const r of rows) text += `${r.text}\n`;
      else for (const r of rows) text += `${JSON.stringify(toMember(r.json<Member>(), false))}\n`;
      done(null, text);
    },
  });
}

/** Identities in one CSV cell: space-separated "type:value" (values are ids, emails, phone numbers). */
export const CSV_IDENTITY_SEPARATOR = ' ';

export function csvColumns(withIdentities: boolean): string[] {
  return withIdentities ? ['profile_id', 'identities'] : ['profile_id'];
}

/** Member[] batches in, RFC 4180 CSV out: the header row first (also for no members), CRLF line ends. */
export function csvWriter(withIdentities: boolean): Transform {
  const columns = csvColumns(withIdentities);
  let header = true;
  const records = (batch: Member[]) => batch.map((m) => (withIdentities ? [m.profileId, (m.identities ?? []).join(CSV_IDENTITY_SEPARATOR)] : [m.profileId]));
  return new Transform({
    writableObjectMode: true,
    transform(batch: Member[], _enc, done: TransformCallback) {
      if (batch.length === 0) return done();
      const text = stringify(records(batch), { header, columns, record_delimiter: 'windows' });
      header = false;
      done(null, text);
    },
    flush(done: TransformCallback) {
      done(null, header ? stringify([], { header: true, columns, record_delimiter: 'windows' }) : undefined);
    },
  });
}
