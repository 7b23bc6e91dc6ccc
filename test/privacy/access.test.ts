// Access exports on the real engines: the person of erase.test.ts (events from two Sources, a merge,
// dead letters, a row in every other store the scan finds) exported into privacy_exports and
// streamed as a tar.gz: every store has its file with exactly the person's rows, nobody else's, the
// manifest's hashes match, a retried export leaves one copy, and an erasure removes a pending export.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import type { AccessExport, ExportFile } from '../../api/privacy.ts';
import { countRows, eraseStore, storesOf } from '../../lib/privacy/erase.ts';
import { dropExport, EXPORT_TABLE, exportStore, finishExport, NOT_EXPORTED, storeFile, writeArchive } from '../../lib/privacy/export.ts';
import type { PersonTable, PersonValues } from '../../lib/privacy/schema.ts';
import { unique } from '../support/env.ts';
import { startProduct, type Product } from '../support/product.ts';
import { eventsOf, people, seedPeople, SEEDED_SOURCES } from './support.ts';

let product: Product;
const tag = unique('a').replace(/[^a-z0-9]/g, '');
const { ada, bob } = people(tag);
const { send } = eventsOf(() => product, tag);

/** The archive's files by path (without the top folder), as text. */
async function unpack(archive: Buffer): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const extract = tar.extract();
  const source = new PassThrough();
  source.end(archive);
  source.pipe(createGunzip()).pipe(extract);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    files.set(entry.header.name.replace(/^[^/]+\//, ''), Buffer.concat(chunks).toString('utf8'));
  }
  return files;
}

async function archiveOf(requestId: string): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await writeArchive(product.warehouse, requestId, out);
  return Buffer.concat(chunks);
}

describe('access export', { concurrency: false, timeout: 300_000 }, () => {
  let tables: PersonTable[];
  let adaValues: PersonValues;
  let stored: string[];

  const exportAda = async (requestId: string): Promise<AccessExport> => {
    const files: ExportFile[] = [];
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    for (const t of tables) files.push(await exportStore(product.warehouse, t, adaValues, requestId, expiresAt));
    const summary = { version: 1 as const, id: requestId, namespace: 'test', database: product.database, requested: `email:${ada.email}`, identities: adaValues.identities, profileIds: adaValues.profiles, createdAt: new Date().toISOString(), expiresAt };
    return finishExport(product.warehouse, summary, files);
  };

  before(async () => {
    product = await startProduct(SEEDED_SOURCES);
    const seeded = await seedPeople(product, ada, bob, send);
    tables = seeded.tables.filter((t) => !NOT_EXPORTED.includes(t.table));
    adaValues = seeded.adaValues;
    stored = seeded.stored;
  });
  after(() => product?.close());

  test('every store has its file with exactly the person\'s rows; the manifest and README describe them', async () => {
    const summary = await exportAda(`x1-${tag}`);
    const files = await unpack(await archiveOf(`x1-${tag}`));
    assert.deepEqual([...files.keys()].slice(0, 2), ['README.md', 'manifest.json'], 'the README comes first');
    for (const t of tables) {
      const content = files.get(storeFile(t.table));
      assert.ok(content !== undefined, `${t.table} has a file`);
      const lines = content.split('\n').filter(Boolean);
      assert.equal(lines.length, await countRows(product.warehouse, t, adaValues), `${t.table}: as many lines as Ada's rows`);
      assert.ok(lines.length > 0, `${t.table} holds Ada (else the test proves nothing there)`);
      for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `${t.table}: each line is JSON`);
      assert.ok(!content.includes(bob.user) && !content.includes(bob.anon), `${t.table}: nothing of Bob's`);
    }
    const events = files.get(storeFile('events'))!;
    const adaEvents = stored.filter((_, i) => i !== 2 && i !== 3); // Bob's identify and track are the 3rd and 4th
    for (const id of adaEvents) assert.ok(events.includes(`"message_id":"${id}"`), `event ${id} of Ada is in the export`);
    assert.ok(files.get(storeFile('dead_letters'))!.includes(ada.user), "Ada's dead letter is in the export");

    const manifest = JSON.parse(files.get('manifest.json')!) as AccessExport;
    assert.deepEqual(manifest.identities, adaValues.identities);
    for (const f of manifest.files) {
      const content = files.get(f.file);
      assert.ok(content !== undefined, `${f.file} of the manifest is in the archive`);
      assert.equal(createHash('sha256').update(content).digest('hex'), f.sha256, `${f.file}: the manifest's hash`);
    }
    assert.deepEqual(JSON.parse(files.get('person.json')!).identities, adaValues.identities);
    assert.match(files.get('README.md')!, /\| stores\/events\.ndjson \| \d+ \| every event collected about you/);
    assert.equal(summary.files.length, tables.length + 3, 'a file per store, person.json, manifest.json, README.md');
  });

  test('a retried export replaces its files (one copy); a dropped export cannot be streamed', async () => {
    await exportAda(`x2-${tag}`);
    const first = await unpack(await archiveOf(`x2-${tag}`));
    await exportAda(`x2-${tag}`);
    const again = await unpack(await archiveOf(`x2-${tag}`));
    const lines = (content: string | undefined) => (content ?? '').split('\n').filter(Boolean).sort();
    // A background merge between the two may fold older versions of a row away: the retry holds
    // rows of the first export, each once — never a second copy.
    for (const t of tables) {
      const before = new Set(lines(first.get(storeFile(t.table))));
      const now = lines(again.get(storeFile(t.table)));
      assert.equal(new Set(now).size, now.length, `${t.table}: no row twice`);
      for (const line of now) assert.ok(before.has(line), `${t.table}: a row the first export did not have: ${line.slice(0, 200)}`);
      if (before.size > 0) assert.ok(now.length > 0, `${t.table}: the retry kept the rows`);
    }
    await dropExport(product.warehouse, `x2-${tag}`);
    await assert.rejects(archiveOf(`x2-${tag}`), /no files \(expired, already downloaded, or never written\)/);
  });

  test('an erasure of the person removes their pending export (the schema scan finds it)', async () => {
    await exportAda(`x3-${tag}`);
    const store = (await storesOf(product.warehouse)).find((t) => t.table === EXPORT_TABLE);
    assert.ok(store, 'the export table is a store of the erasure');
    assert.ok((await countRows(product.warehouse, store, adaValues)) > 0);
    const receipt = await eraseStore(product.warehouse, store, adaValues, 'delete');
    assert.equal(receipt.after, 0);
    await assert.rejects(archiveOf(`x3-${tag}`), /no files/);
  });
});
