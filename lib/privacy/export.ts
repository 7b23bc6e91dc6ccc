// Access exports (GDPR Art. 15, CCPA "right to know"): the person's rows of every store the schema
// scan finds, as NDJSON files kept in ClickHouse (privacy_exports) until they are downloaded once or
// expire, with a manifest saying what each file is. Writing a file replaces its earlier parts, so a
// retried activity leaves one copy.
import { createHash } from 'node:crypto';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import type { AccessExport, ExportFile } from '../../api/privacy.ts';
import type { Warehouse } from '../clickhouse.ts';
import { personPredicate, type PersonTable, type PersonValues } from './schema.ts';

export const EXPORT_TABLE = 'privacy_exports';
/** Parts stay well below ClickHouse's and the client's comfortable value sizes; cut at line ends. */
export const PART_BYTES = 4 * 1024 * 1024;

/** What each store holds, for the person reading the export; a table added later is described by its name. */
const STORE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  events: 'every event collected about you (page views, tracks, identifies…), as received and enriched',
  identities: 'your identities (user ids, anonymous ids, emails…) and the profile each belongs to',
  identity_edges: 'how your identities were linked (or a link refused), by which rule and which event',
  identity_traits: 'the traits each of your identities carried, with when they were seen',
  profiles: 'your profile: traits and counters, every version kept',
  dead_letters: 'events naming you that were refused (invalid, or against a tracking plan), with the reason',
  segment_members: 'the audiences (Segments) you were computed a member of, per version',
  segment_live: 'the realtime audiences you are in now',
  activation_deliveries: 'campaign and webhook deliveries to you or about you, with their outcome',
  activation_conversions: 'conversions attributed to a campaign you received',
  profile_personas: 'the persona a model placed you in',
  profile_recommendations: 'the recommendations a model made for you',
  api_audit: 'who read or changed your profile through the API, and when (by profile id)',
  consent_history: 'every consent you gave or withdrew, per purpose, with when and from where',
};

export const storeFile = (table: string): string => `stores/${table}.ndjson`;

export function storeDescription(table: string): string {
  return STORE_DESCRIPTIONS[table] ?? `the rows of table ${table} that name you`;
}

/** Stores an access export does not read: its own pending files are a copy, not data held on the person. */
export const NOT_EXPORTED: readonly string[] = [EXPORT_TABLE];

interface Part {
  request_id: string;
  file: string;
  part: number;
  content: string;
  identities: string[];
  expires_at: string;
}

const chTime = (iso: string) => iso.replace('T', ' ').replace('Z', '');

async function dropFile(warehouse: Warehouse, requestId: string, file: string): Promise<void> {
  await warehouse.command(`ALTER TABLE {db}.${EXPORT_TABLE} DELETE WHERE request_id = {r:String} AND file = {f:String} SETTINGS mutations_sync = 2`, { r: requestId, f: file });
}

/** Writes `content` (chunks that end at line ends) as the parts of one file; returns its size and hash. */
async function writeFile(warehouse: Warehouse, base: Omit<Part, 'part' | 'content'>, chunks: AsyncIterable<string> | Iterable<string>): Promise<{ rows: number; bytes: number; sha256: string }> {
  await dropFile(warehouse, base.request_id, base.file);
  const hash = createHash('sha256');
  let rows = 0;
  let bytes = 0;
  let part = 0;
  let pending: string[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    await warehouse.insert(EXPORT_TABLE, [{ ...base, part: part++, content: pending.join('') } satisfies Part]);
    pending = [];
    pendingBytes = 0;
  };
  for await (const chunk of chunks) {
    const size = Buffer.byteLength(chunk);
    if (pendingBytes + size > PART_BYTES && pending.length) await flush();
    pending.push(chunk);
    pendingBytes += size;
    hash.update(chunk);
    bytes += size;
    rows++;
  }
  await flush(); // an empty file is one empty part: the download lists it
  return { rows, bytes, sha256: hash.digest('hex') };
}

async function* ndjson(lines: AsyncIterable<string>): AsyncGenerator<string> {
  for await (const line of lines) yield `${line}\n`;
}

/** The person's rows of one store, every version (a profile's history too), as stores/<table>.ndjson. */
export async function exportStore(warehouse: Warehouse, table: PersonTable, person: PersonValues, requestId: string, expiresAt: string): Promise<ExportFile> {
  const file = storeFile(table.table);
  const lines = warehouse.lines(`SELECT * FROM {db}.${table.table} WHERE ${personPredicate(table)}`, { ...person });
  const written = await writeFile(warehouse, { request_id: requestId, file, identities: person.identities, expires_at: chTime(expiresAt) }, ndjson(lines));
  return { file, table: table.table, description: storeDescription(table.table), ...written };
}

/** The export's own documents: who it is about, the manifest of every file, and a README for a person. */
export function exportDocuments(summary: Omit<AccessExport, 'files' | 'bytes'>, stores: readonly ExportFile[]): Array<{ file: string; description: string; content: string }> {
  const person = JSON.stringify({ requested: summary.requested, identities: summary.identities, profileIds: summary.profileIds }, null, 2) + '\n';
  const personFile: ExportFile = { file: 'person.json', description: 'who this export is about: the identity asked for, and every identity and profile id linked to it', rows: 1, bytes: Buffer.byteLength(person), sha256: createHash('sha256').update(person).digest('hex') };
  const files = [personFile, ...stores];
  const manifest = JSON.stringify({ ...summary, files, bytes: files.reduce((n, f) => n + f.bytes, 0) }, null, 2) + '\n';
  const readme = [
    `# Your data held by ${summary.namespace}`,
    '',
    `This archive holds everything stored about the person known as \`${summary.requested}\` on ${summary.createdAt}: every identity linked to it (${summary.identities.length}) and every row of every store that names one of them.`,
    'Each file under `stores/` is one store, one JSON object per line (NDJSON), with the store\'s columns as they are kept; JSON held in a column (event properties, traits) is a string inside the line.',
    'manifest.json lists every file with its row count, size and SHA-256, so a copy can be checked.',
    '',
    '| file | rows | what it is |',
    '|---|---:|---|',
    ...files.map((f) => `| ${f.file} | ${f.rows} | ${f.description} |`),
    '',
  ].join('\n');
  return [
    { file: 'person.json', description: personFile.description, content: person },
    { file: 'manifest.json', description: 'this list of files, machine-readable', content: manifest },
    { file: 'README.md', description: 'what each file is, for a person', content: readme },
  ];
}

/** Writes the export's own documents and returns the summary the request's status shows. */
export async function finishExport(warehouse: Warehouse, summary: Omit<AccessExport, 'files' | 'bytes'>, stores: readonly ExportFile[]): Promise<AccessExport> {
  const docs = exportDocuments(summary, stores);
  const files: ExportFile[] = [];
  for (const doc of docs) {
    const written = await writeFile(warehouse, { request_id: summary.id, file: doc.file, identities: summary.identities, expires_at: chTime(summary.expiresAt) }, [doc.content]);
    files.push({ file: doc.file, description: doc.description, ...written, rows: doc.file === 'person.json' ? 1 : written.rows });
  }
  const all = [...files, ...stores];
  return { ...summary, files: all, bytes: all.reduce((n, f) => n + f.bytes, 0) };
}

/** The archive (tar.gz) of a finished export, streamed from ClickHouse into `out`; README.md first. */
export async function writeArchive(warehouse: Warehouse, requestId: string, out: Writable, root = `export-${requestId}`): Promise<{ files: number; bytes: number }> {
  const sizes = await warehouse.query<{ file: string; bytes: string; parts: string }>(
    `SELECT file, sum(length(content)) AS bytes, count() AS parts FROM {db}.${EXPORT_TABLE} FINAL WHERE request_id = {r:String} GROUP BY file ORDER BY file != 'README.md', file != 'manifest.json', file`,
    { r: requestId },
  );
  if (sizes.length === 0) throw new Error(`export ${requestId}: no files (expired, already downloaded, or never written)`);
  const pack = tar.pack();
  const done = pipeline(pack, createGzip(), out);
  let bytes = 0;
  for (const { file, bytes: size } of sizes) {
    const entry = pack.entry({ name: `${root}/${file}`, size: Number(size), mode: 0o644, mtime: new Date() });
    for await (const line of warehouse.lines(`SELECT content FROM {db}.${EXPORT_TABLE} FINAL WHERE request_id = {r:String} AND file = {f:String} ORDER BY part`, { r: requestId, f: file })) {
      const chunk = Buffer.from((JSON.parse(line) as { content: string }).content);
      if (!entry.write(chunk)) await new Promise<void>((resolve) => entry.once('drain', () => resolve()));
      bytes += chunk.length;
    }
    await new Promise<void>((resolve, reject) => entry.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
  pack.finalize();
  await done;
  return { files: sizes.length, bytes };
}

/** Removes an export's files: after its one download, or when the request is withdrawn. */
export async function dropExport(warehouse: Warehouse, requestId: string): Promise<void> {
  await warehouse.command(`ALTER TABLE {db}.${EXPORT_TABLE} DELETE WHERE request_id = {r:String} SETTINGS mutations_sync = 2`, { r: requestId });
}
