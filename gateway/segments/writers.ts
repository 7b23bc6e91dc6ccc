// A Segment's members as they leave the API: rows from ClickHouse's JSONEachRow stream become
// members (identities redacted by role), then NDJSON lines or CSV records. Everything moves in
// batches (one ClickHouse block at a time) so a million members never sit in memory at once.
import { Transform, type TransformCallback } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import { redactIdentity } from '../access/fields.ts';

export interface Member {
  profileId: string;
  /** "type:value", present when the export asked for identities. */
  identities?: string[];
}

/** What a member query returns per row. */
export interface MemberRow {
  profile_id: string;
  identities?: string[];
}

export function toMember(row: MemberRow, identifiers: boolean): Member {
  if (row.identities === undefined) return { profileId: row.profile_id };
  return { profileId: row.profile_id, identities: identifiers ? row.identities : row.identities.map(redactIdentity) };
}

/** ClickHouse result rows (each with .json()) in, Member[] batches out. */
export function membersOf(identifiers: boolean, onBatch?: (members: number) => void): Transform {
  return new Transform({
    objectMode: true,
    transform(rows: Array<{ json<T>(): T }>, _enc, done: TransformCallback) {
      onBatch?.(rows.length);
      done(null, rows.map((r) => toMember(r.json<MemberRow>(), identifiers)));
    },
  });
}

/** Member[] batches in, one JSON object per line out. */
export function ndjsonWriter(): Transform {
  return new Transform({
    writableObjectMode: true,
    transform(batch: Member[], _enc, done: TransformCallback) {
      let text = '';
      for (const m of batch) text += `${JSON.stringify(m)}\n`;
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
