// `uspa import --catalog` as a user runs it: `uspa` as its own process, pointed at the API of a
// namespace (the gateway of test/support/gateway.ts on the real engines) with a marketer's key in
// USPA_API_KEY. A CSV with one row the importer refuses: exit 3, the report names that row, the
// other rows are items the API serves back, category path and attributes as the file gave them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../stack/paths.ts';
import { eventually } from '../support/env.ts';
import { startApi, type ApiHarness } from '../support/gateway.ts';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function uspa(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(repoRoot, 'bin', 'uspa.js'), ...args], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

interface StoredItem {
  id: string;
  title: string;
  category: string[];
  price?: number;
  currency?: string;
  tags: string[];
  available: boolean;
  attributes: Record<string, unknown>;
}

describe('uspa import --catalog through the API', { timeout: 300_000 }, () => {
  let h: ApiHarness;
  let marketer = '';
  let admin = '';
  let dir = '';
  const run = randomUUID().slice(0, 8);
  const id = (n: number) => `sku-${run}-${n}`;
  const item = (n: number) => `/v1/catalog/items/${encodeURIComponent(id(n))}`;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'uspa-catalog-'));
    h = await startApi();
    marketer = await h.key('marketer', {}, 'catalog-marketer');
    admin = await h.key('admin', {}, 'catalog-admin');
  });
  after(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a CSV with one bad row: exit 3, the report names the row, the rest stored with their category path', async () => {
    const csv = join(dir, 'catalog.csv');
    writeFileSync(csv, [
      'sku,name,category,price,currency,tags,available,brand',
      `${id(1)},Road shoe,Shoes > Running,120,EUR,road|light,in stock,Acme`,
      `${id(2)},Broken price,Shoes > Running,-5,EUR,,yes,Acme`,
      `${id(3)},Sock,Accessories,5,EUR,,no,`,
      '',
    ].join('\n'));
    const report = join(dir, 'rejected.ndjson');
    const result = await uspa(['import', '--catalog', csv, '--api-url', h.url, '--report', report], { USPA_API_KEY: marketer });
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stdout, /^imported 2 of 3 catalog rows from .*catalog\.csv in \S+; 1 rejected\n {2}row 3\.price: must be >= 0\n$/);
    assert.ok(!result.stdout.includes(marketer) && !result.stderr.includes(marketer), 'the key is never printed');
    const lines = readFileSync(report, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { row: number; id?: string; problems: string[] });
    assert.deepEqual(lines, [{ row: 3, id: id(2), problems: ['row 3.price: must be >= 0'] }]);

    const stored = await eventually('the first item through the API', async () => {
      const res = await h.call<StoredItem>(admin, 'get', item(1));
      return res.status === 200 ? res.body : undefined;
    }, 15_000);
    assert.equal(stored.id, id(1));
    assert.equal(stored.title, 'Road shoe');
    assert.deepEqual(stored.category, ['Shoes', 'Running']);
    assert.equal(stored.price, 120);
    assert.equal(stored.currency, 'EUR');
    assert.deepEqual(stored.tags, ['road', 'light']);
    assert.equal(stored.available, true);
    assert.deepEqual(stored.attributes, { brand: 'Acme' });
    const sock = await h.call<StoredItem>(admin, 'get', item(3));
    assert.equal(sock.status, 200, sock.text);
    assert.deepEqual([sock.body.category, sock.body.available, sock.body.attributes], [['Accessories'], false, {}]);
    assert.equal((await h.call(admin, 'get', item(2))).status, 404, 'the refused row never reached the API');
  });

  test('a key that may not write the catalog stops the import (exit 1) with what to fix', async () => {
    const reader = await h.key('reader', {}, 'catalog-reader');
    const csv = join(dir, 'one.csv');
    writeFileSync(csv, `id,title\n${id(9)},Nine\n`);
    const result = await uspa(['import', '--catalog', csv, '--api-url', h.url], { USPA_API_KEY: reader });
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stderr, /the key may not write the catalog \(403 forbidden: .*\): use the key of an ApiKey with role admin or marketer \(permission catalog:write\)/);
    assert.ok(!result.stderr.includes(reader));
  });
});
