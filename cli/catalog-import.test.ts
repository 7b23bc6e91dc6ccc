import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { catalogHeaderProblems, catalogItemFromRow, importCatalog, parseAvailable, retryAfterMs, runCatalogImport, type CatalogCommandDeps } from './catalog-import.ts';
import { readRows, type FileRow } from './import.ts';

const csvRow = (row: number, cells: Record<string, string>): FileRow => ({ row, cells });

describe('catalog rows → items', () => {
  test('CSV aliases, whatever their case: product_id, name, image_url; category path; tags by | or ;', () => {
    const m = catalogItemFromRow(csvRow(2, { 'Product ID': 'sku-1', Name: 'Trail shoe', Category: 'Shoes > Running', Price: '89.90', currency: 'eur', tags: 'trail| waterproof ;;sale', 'Image-URL': 'https://cdn.example.com/1.jpg', url: '/p/sku-1' }));
    assert.deepEqual(m, {
      row: 2,
      id: 'sku-1',
      item: { id: 'sku-1', title: 'Trail shoe', category: ['Shoes', 'Running'], price: 89.9, currency: 'EUR', tags: ['trail', 'waterproof', 'sale'], url: '/p/sku-1', image: 'https://cdn.example.com/1.jpg', available: true, attributes: {} },
    });
    assert.equal(catalogItemFromRow(csvRow(3, { sku: 'S-9', title: 'Sock' })).item?.id, 'S-9', 'sku names the item too');
  });

  test('empty cells are absent; every other column is an attribute, kept as text', () => {
    const m = catalogItemFromRow(csvRow(2, { id: 'a', title: 'A', price: '', category: '', brand: 'Acme', ean: '00123', weight_kg: '1.5', colour: '' }));
    assert.deepEqual(m.item, { id: 'a', title: 'A', category: [], tags: [], available: true, attributes: { brand: 'Acme', ean: '00123', weight_kg: '1.5' } });
  });

  test('when several aliases of a field are columns, the first with a value names it and the others are attributes', () => {
    assert.deepEqual(catalogItemFromRow(csvRow(2, { id: 'p-1', sku: 'ACME-1', title: 'A' })).item?.attributes, { sku: 'ACME-1' });
    assert.equal(catalogItemFromRow(csvRow(3, { id: '', sku: 'ACME-2', title: 'B' })).item?.id, 'ACME-2');
  });

  test('available: yes/no, 1/0, true/false, in stock/out of stock in any case; anything else is a row error', () => {
    for (const yes of ['true', 'TRUE', '1', 'yes', 'Y', 'in stock', 'In Stock', 'in_stock', 'InStock', 'available']) assert.equal(parseAvailable(yes), true, yes);
    for (const no of ['false', '0', 'no', 'N', 'out of stock', 'OUT_OF_STOCK', 'out-of-stock', 'unavailable']) assert.equal(parseAvailable(no), false, no);
    for (const garbage of ['maybe', '2', 'preorder', '']) assert.equal(parseAvailable(garbage), undefined, garbage);
    assert.equal(catalogItemFromRow(csvRow(4, { id: 'a', title: 'A', available: 'Out of stock' })).item?.available, false);
    assert.deepEqual(catalogItemFromRow(csvRow(5, { id: 'a', title: 'A', available: 'soon' })).problems, ['row 5.available: "soon" is not one of true, false, 1, 0, yes, no, in stock, out of stock']);
  });

  test('every problem of a row at once, each naming the row, in the words of the API\'s validator', () => {
    const m = catalogItemFromRow(csvRow(7, { id: 'b', title: '', price: '12,50', currency: 'euro', url: 'shop.example.com/b' }));
    assert.equal(m.id, 'b');
    assert.equal(m.item, undefined);
    assert.deepEqual(m.problems, [
      'row 7.price: "12,50" is not a number (write 19.99)',
      'row 7.title: is required',
      'row 7.currency: must match pattern "^[A-Z]{3}$"',
      'row 7.url: must match pattern "^(https?://|/)"',
    ]);
    assert.deepEqual(catalogItemFromRow(csvRow(8, { id: 'c', title: 'C', price: '-1' })).problems, ['row 8.price: must be >= 0']);
    assert.deepEqual(catalogItemFromRow({ row: 9, error: 'line is not valid JSON: oops' }).problems, ['row 9: line is not valid JSON: oops']);
  });

  test('NDJSON rows are the API\'s items, with product_id, sku, name and image_url accepted; JSON types are kept and checked', () => {
    const m = catalogItemFromRow({ row: 1, object: { product_id: 'p-1', name: 'Mug', image_url: '/i/p-1.png', category: ['Home', 'Kitchen'], available: false, attributes: { capacity_ml: 350, dishwasher: true } } });
    assert.deepEqual(m.item, { id: 'p-1', title: 'Mug', image: '/i/p-1.png', category: ['Home', 'Kitchen'], tags: [], available: false, attributes: { capacity_ml: 350, dishwasher: true } });
    assert.deepEqual(catalogItemFromRow({ row: 2, object: { id: 'p-2', title: 'T', available: 'yes', colour: 'red' } }).problems, ['row 2: has unknown field "colour"', 'row 2.available: must be boolean']);
    assert.deepEqual(catalogItemFromRow({ row: 3, object: { id: 'p-3', product_id: 'x', title: 'T' } }).problems, ['row 3: has unknown field "product_id"'], 'an alias beside its field is not guessed at');
  });

  test('a CSV header that would refuse every row is named before anything is sent', () => {
    assert.deepEqual(catalogHeaderProblems(['sku', 'Name', 'Image URL', 'brand']), []);
    assert.deepEqual(catalogHeaderProblems(['title', 'Brand Name', '2nd colour']), [
      'the header has no id column (id, product_id, sku)',
      'column "Brand Name" is no item field, and an attribute\'s name is letters, digits and _ (not first), at most 128: rename it, e.g. "Brand_Name"',
      'column "2nd colour" is no item field, and an attribute\'s name is letters, digits and _ (not first), at most 128: rename it, e.g. "_2nd_colour"',
    ]);
  });

  test('Retry-After in seconds or as an HTTP date', () => {
    assert.equal(retryAfterMs('2'), 2000);
    assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 7_000), 3000);
    assert.equal(retryAfterMs('soon'), undefined);
    assert.equal(retryAfterMs(null), undefined);
  });
});

describe('the file reader shared with the event import', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'uspa-catalog-read-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const rows = async (text: string) => {
    const file = join(dir, `f-${Math.random().toString(36).slice(2)}.csv`);
    writeFileSync(file, text);
    const out: FileRow[] = [];
    for await (const r of readRows(file, 'csv', { bytes: 0 })) out.push(r);
    return out;
  };

  test('rows are numbered as in the file; a quoted cell may span lines, hold commas and doubled quotes; a BOM and CRLF are read', async () => {
    assert.deepEqual(await rows('\uFEFFid,title\r\na,"A, ""the"" one"\r\n\r\nb,"two\nlines"\nc, C \n,\n'), [
      { row: 2, cells: { id: 'a', title: 'A, "the" one' } },
      { row: 4, cells: { id: 'b', title: 'two\nlines' } },
      { row: 6, cells: { id: 'c', title: 'C' } },
    ]);
  });

  const shape = (got: FileRow[]) => got.map((r) => [r.row, 'error' in r ? 'error' : 'cells']);
  const errorOf = (r: FileRow | undefined) => (r && 'error' in r ? r.error : '');

  test('a malformed row is a row error and reading goes on', async () => {
    const got = await rows('id,title\nb,Pan 12" wide\nc,C\nd,D,extra\n,,,\n  ,  \ne,"E"\n');
    assert.deepEqual(shape(got), [[2, 'error'], [3, 'cells'], [4, 'error'], [7, 'cells']], 'the empty rows ",,," and "  ,  " are skipped');
    assert.match(errorOf(got[0]), /^CSV is malformed here: cell 2 has a quote but is not quoted: quote the whole cell and write the quote twice/);
    assert.equal(errorOf(got[2]), 'CSV row has 3 cells; the header has 2 columns');
  });

  test('what csv-parse cannot recover from: a cell kept open to the next quote, a quote never closed, text after a closing quote', async () => {
    // A closing quote followed by text keeps the cell open to the next quote: the lines up to it are that row's.
    const open = await rows('id,title\na,"A"x\nb,B\nc,"C"\nd,D\n');
    assert.deepEqual(shape(open), [[2, 'error'], [5, 'cells']]);
    assert.match(errorOf(open[0]), /^CSV is malformed here: the closing quote of cell 2 is not followed by a comma .* got "x" at line 2/);
    // A quote never closed: one row, where it opened, takes the rest of the file.
    const unclosed = await rows('id,title\nb,B\ne,"never closed\nf,F\n');
    assert.deepEqual(shape(unclosed), [[2, 'cells'], [3, 'error']]);
    assert.match(errorOf(unclosed[1]), /the quote opening cell 2 is not closed by the end of the file, so the rest of the file is part of this row/);
    // Text after a closing quote and a blank: csv-parse loses its place, so reading stops, and the row says so.
    const stopped = await rows('id,title\nb,B\nc,"Pan" wide\nd,D\n');
    assert.deepEqual(shape(stopped), [[2, 'cells'], [3, 'error']]);
    assert.match(errorOf(stopped[1]), /the closing quote of cell 2 is followed by text before the comma .*; reading stopped here: the rows after it were not read$/);
  });

  test('a header that cannot be read, or names a column twice, stops the reading', async () => {
    await assert.rejects(rows('id,"ti"tle\na,A\n'), /the CSV header \(row 1\) cannot be read: Invalid Closing Quote/);
    await assert.rejects(rows('\nid,title,id\na,A,b\n'), /the CSV header names the column "id" twice/);
  });
});

interface Seen {
  auth: string | undefined;
  type: string | undefined;
  items: Array<Record<string, unknown>>;
}

describe('importCatalog against an HTTP API', () => {
  let server: Server;
  let url = '';
  let dir: string;
  let seen: Seen[] = [];
  let answer: (items: Array<Record<string, unknown>>, n: number, req: IncomingMessage) => { status: number; body?: unknown; headers?: Record<string, string> };
  const KEY = 'uspa_k_test_0123456789abcdef';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'uspa-catalog-'));
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        assert.equal(`${req.method} ${req.url}`, 'PUT /base/v1/catalog/items');
        const items = (JSON.parse(Buffer.concat(chunks).toString()) as { items: Array<Record<string, unknown>> }).items;
        seen.push({ auth: req.headers.authorization, type: req.headers['content-type'], items });
        const a = answer(items, seen.length, req);
        res.writeHead(a.status, { 'Content-Type': 'application/json', ...a.headers });
        res.end(JSON.stringify(a.body ?? {}));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/base`;
  });
  after(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  /** Stores everything except the ids in `refuse`, as the API does. */
  const storing = (refuse: string[] = []) => (items: Array<Record<string, unknown>>) => {
    const rejected = items.flatMap((item, index) => (refuse.includes(item.id as string) ? [{ index, id: item.id, problems: [`body.items[${index}].id: is refused here`] }] : []));
    return { status: 200, body: { upserted: items.length - rejected.length, rejected } };
  };
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const command = async (args: string[], extra: CatalogCommandDeps = {}) => {
    const out: string[] = [];
    const err: string[] = [];
    const sleeps: number[] = [];
    const code = await runCatalogImport(args, { env: { USPA_API_URL: url, USPA_API_KEY: KEY }, out: (l) => out.push(l), err: (l) => err.push(l), sleep: async (ms) => void sleeps.push(ms), progressEveryMs: 0, ...extra });
    const printed = [...out, ...err].join('\n');
    assert.ok(!printed.includes(KEY), 'the key is never printed');
    return { code, out: out.join('\n'), err: err.join('\n'), sleeps };
  };

  const CSV = [
    'id,title,category,price,currency,tags,available,brand',
    'sku-1,Road shoe,Shoes > Running,120,EUR,road|light,yes,Acme',
    'sku-2,Broken,Shoes,-5,EUR,,yes,Acme',
    'sku-3,"Bad "quote",Shoes,10,EUR,,yes,Acme',
    'sku-4,Refused one,Shoes,10,EUR,,no,Acme',
    'sku-5,Trail shoe,Shoes > Trail,99.5,EUR,trail;mud,in stock,Acme',
    'sku-6,Sock,Accessories,5,EUR,,1,',
    '',
  ].join('\n');

  test('batches; local and API rejections by row number; 429 waits for Retry-After; the report; exit code 3', async () => {
    seen = [];
    const store = storing(['sku-4']);
    answer = (items, n) => (n === 1 ? { status: 429, headers: { 'Retry-After': '1' }, body: { error: { code: 'rate_limited', message: 'slow down' } } } : store(items));
    const report = join(dir, 'report.ndjson');
    const run = await command(['--catalog', file('items.csv', CSV), '--batch', '2', '--report', report]);
    assert.equal(run.code, 3, run.err);
    assert.deepEqual(run.sleeps, [1000], 'one wait, as long as Retry-After said');
    assert.deepEqual(seen.map((s) => s.items.map((i) => i.id)), [['sku-1', 'sku-4'], ['sku-1', 'sku-4'], ['sku-5', 'sku-6']], 'invalid rows never reach the API; the refused batch is sent again');
    assert.ok(seen.every((s) => s.auth === `Bearer ${KEY}` && s.type === 'application/json'));
    assert.deepEqual(seen[1]!.items[0], { id: 'sku-1', title: 'Road shoe', category: ['Shoes', 'Running'], price: 120, currency: 'EUR', tags: ['road', 'light'], available: true, attributes: { brand: 'Acme' } });
    assert.deepEqual(seen[2]!.items[1], { id: 'sku-6', title: 'Sock', category: ['Accessories'], price: 5, currency: 'EUR', tags: [], available: true, attributes: {} });

    const lines = readFileSync(report, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { row: number; id?: string; problems: string[] });
    assert.deepEqual(lines.map((l) => [l.row, l.id]), [[3, 'sku-2'], [4, undefined], [5, 'sku-4']]);
    assert.deepEqual(lines[0]!.problems, ['row 3.price: must be >= 0']);
    assert.match(lines[1]!.problems[0]!, /^row 4: CSV is malformed here: the closing quote of cell 2/);
    assert.deepEqual(lines[2]!.problems, ['row 5.id: is refused here'], 'the API\'s items[i] is the file\'s row');

    assert.match(run.out, /^imported 3 of 6 catalog rows from .*items\.csv in \d+s; 3 rejected\n  row 3\.price: must be >= 0\n  row 4: CSV is malformed here: .*\n  row 5\.id: is refused here$/);
    assert.match(run.err, /^import: \d+% of \d+ bytes, \d+ rows, \d+ upserted, \d+ rejected \(\d+s\)$/m);
    assert.match(run.err, /import: 100% of \d+ bytes, 6 rows, 3 upserted, 3 rejected/);
  });

  test('every row stored: exit 0, one request per batch of 500 by default', async () => {
    seen = [];
    answer = storing();
    const lines = Array.from({ length: 1200 }, (_, i) => JSON.stringify({ product_id: `p-${i}`, name: `Item ${i}`, category: 'A > B' }));
    const run = await command(['--catalog', file('many.ndjson', lines.join('\n') + '\n')]);
    assert.equal(run.code, 0, run.err);
    assert.deepEqual(seen.map((s) => s.items.length), [500, 500, 200]);
    assert.match(run.out, /^imported 1200 of 1200 catalog rows/);
  });

  test('503 without Retry-After backs off and retries; a body too large (413) is sent in halves', async () => {
    seen = [];
    const store = storing();
    answer = (items, n) => (n === 1 ? { status: 503, body: { error: { code: 'unavailable', message: 'busy' } } } : items.length > 1 ? { status: 413, body: { error: { code: 'invalid_request', message: 'too large' } } } : store(items));
    const run = await command(['--catalog', file('three.csv', 'sku,name\na,A\nb,B\nc,C\n')]);
    assert.equal(run.code, 0, run.err);
    assert.equal(run.sleeps.length, 1);
    assert.ok(run.sleeps[0]! >= 375 && run.sleeps[0]! <= 625, `a first backoff of about 500 ms, not ${run.sleeps[0]}`);
    assert.deepEqual(seen.map((s) => s.items.map((i) => i.id).join()), ['a,b,c', 'a,b,c', 'a,b', 'a', 'b', 'c']);
  });

  test('a 400 naming items: those rows are reported, the others sent again', async () => {
    seen = [];
    const store = storing();
    answer = (items) => (items.some((i) => i.id === 'b') ? { status: 400, body: { error: { code: 'invalid_request', message: 'body.items[1].title: too odd', problems: [{ field: 'body.items[1].title', message: 'too odd' }] } } } : store(items));
    const run = await command(['--catalog', file('four.csv', 'id,title\na,A\nb,B\nc,C\n')]);
    assert.equal(run.code, 3);
    assert.deepEqual(seen.map((s) => s.items.map((i) => i.id).join()), ['a,b,c', 'a,c']);
    assert.match(run.out, /imported 2 of 3 .*; 1 rejected\n  row 3\.title: too odd$/);
  });

  test('401 and 403 stop the import with what to fix, without printing the key even when the API repeats it', async () => {
    answer = (_items, _n, req) => ({ status: 401, body: { error: { code: 'unauthenticated', message: `no ApiKey has the key ${req.headers.authorization}` } } });
    const unauthenticated = await command(['--catalog', file('one.csv', 'id,title\na,A\n')]);
    assert.equal(unauthenticated.code, 1);
    assert.match(unauthenticated.err, /^error: the API did not accept the key \(401 unauthenticated: no ApiKey has the key Bearer \[key\]\): give the key of an ApiKey of this namespace with --api-key or USPA_API_KEY; 0 items were stored before this$/);

    answer = () => ({ status: 403, body: { error: { code: 'forbidden', message: 'role analyst lacks catalog:write' } } });
    const forbidden = await command(['--catalog', file('one.csv', 'id,title\na,A\n')]);
    assert.equal(forbidden.code, 1);
    assert.match(forbidden.err, /the key may not write the catalog \(403 forbidden: role analyst lacks catalog:write\): use the key of an ApiKey with role admin or marketer \(permission catalog:write\)/);
  });

  test('an API that cannot be reached: a bounded number of attempts, then exit 1; the report holds the rows rejected until then', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const report = join(dir, 'unreachable.ndjson');
    const run = await command(['--catalog', file('two.csv', 'id,title\na,\nb,B\n'), '--api-url', `http://127.0.0.1:${port}`, '--report', report]);
    assert.equal(run.code, 1);
    assert.equal(run.sleeps.length, 5);
    assert.match(run.err, new RegExp(`^error: cannot reach the API at http://127.0.0.1:${port}/v1/catalog/items \\(ECONNREFUSED\\) after 6 attempts: .*; 0 items were stored before this\\n  row 2.title: is required$`));
    assert.deepEqual(readFileSync(report, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { row: number }).row), [2]);
  });

  test('usage errors (exit 2) and a header no row could pass (exit 1, nothing sent)', async () => {
    seen = [];
    answer = storing();
    const items = file('ok.csv', 'id,title\na,A\n');
    assert.equal((await command(['--catalog', items], { env: { USPA_API_URL: url } })).code, 2, 'no key');
    assert.match((await command(['--catalog', items, '--batch', '1001'])).err, /^error: --batch must be a whole number from 1 to 1000, not 1001/);
    assert.match((await command(['--catalog', file('items.txt', '')])).err, /cannot tell the format of .*items\.txt by its name: give --format csv or --format ndjson/);
    assert.equal((await command(['--catalog', items, 'extra'])).code, 2);
    const header = await command(['--catalog', file('bad-header.csv', 'id,title,Brand Name\na,A,Acme\n')]);
    assert.equal(header.code, 1);
    assert.match(header.err, /column "Brand Name" is no item field/);
    assert.equal(seen.length, 0);
  });

  test('the sending loop takes any fetch-like function', async () => {
    const calls: string[] = [];
    const result = await importCatalog({
      file: file('fetch.ndjson', '{"id":"x","title":"X"}\n{"id":"y"\n'),
      apiUrl: 'http://api.invalid/',
      apiKey: KEY,
      fetch: async (input, init) => {
        calls.push(`${init?.method} ${String(input)}`);
        return new Response(JSON.stringify({ upserted: 1, rejected: [] }), { status: 200, headers: { 'Content-Type': 'application/json' } });
      },
    });
    assert.deepEqual(calls, ['PUT http://api.invalid/v1/catalog/items']);
    assert.deepEqual({ rows: result.rows, upserted: result.upserted, rejected: result.rejected }, { rows: 2, upserted: 1, rejected: 1 });
    assert.match(result.errors[0]!.problems[0]!, /^row 2: line is not valid JSON/);
  });
});
