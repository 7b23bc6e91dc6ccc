import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { text } from 'node:stream/consumers';
import { parse } from 'csv-parse/sync';
import { csvWriter, membersOf, ndjsonWriter, toMember, type ClickHouseRow, type Member } from './writers.ts';

/** Rows as the ClickHouse client streams them: the JSONEachRow text of each, and its parser. */
const rows = (xs: Member[]): ClickHouseRow[] => xs.map((x) => ({ text: JSON.stringify(x), json: <T>() => JSON.parse(JSON.stringify(x)) as T }));

async function write(batches: Member[][], writer: NodeJS.ReadWriteStream): Promise<string> {
  const out = Readable.from(batches).pipe(writer as never) as Readable;
  return text(out);
}

test('identities are redacted for roles without identifiers; pseudonymous ids stay', () => {
  const row = { profileId: 'p-1', identities: ['userId:u-1', 'email:ada@example.com', 'phone:+4912345'] };
  assert.deepEqual(toMember(row, true), { profileId: 'p-1', identities: ['userId:u-1', 'email:ada@example.com', 'phone:+4912345'] });
  assert.deepEqual(toMember(row, false), { profileId: 'p-1', identities: ['userId:u-1', 'email:[redacted]', 'phone:[redacted]'] });
  assert.deepEqual(toMember({ profileId: 'p-2' }, false), { profileId: 'p-2' });
});

test('membersOf turns ClickHouse row blocks into member batches', async () => {
  const out: Member[][] = [];
  await pipeline(Readable.from([rows([{ profileId: 'a', identities: ['email:a@x.io'] }]), rows([{ profileId: 'b', identities: [] }])]), membersOf(false), async function* (source) {
    for await (const batch of source) out.push(batch as Member[]);
  });
  assert.deepEqual(out, [[{ profileId: 'a', identities: ['email:[redacted]'] }], [{ profileId: 'b', identities: [] }]]);
});

test('NDJSON: one JSON object per line, every member once, across batches; redacted when asked', async () => {
  const members = [{ profileId: 'a', identities: ['email:a@x.io'] }, { profileId: 'b"\n' }, { profileId: 'c', identities: ['userId:u'] }];
  const lines = async (redact: boolean) => {
    const body = await text(Readable.from([rows(members.slice(0, 2)), [], rows(members.slice(2))]).pipe(ndjsonWriter(redact)));
    const all = body.split('\n');
    assert.equal(all.pop(), '', 'ends with a newline');
    return all.map((l) => JSON.parse(l) as Member);
  };
  assert.deepEqual(await lines(false), members);
  assert.deepEqual(await lines(true), [{ profileId: 'a', identities: ['email:[redacted]'] }, { profileId: 'b"\n' }, { profileId: 'c', identities: ['userId:u'] }]);
});

test('CSV: one header row, RFC 4180 quoting of commas, quotes and line breaks, CRLF', async () => {
  const hostile = 'p,"1"\nx';
  const body = await write([[{ profileId: hostile, identities: ['email:a@x.io', 'userId:u,1'] }], [{ profileId: 'p-2', identities: [] }]], csvWriter(true));
  assert.ok(body.startsWith('profile_id,identities\r\n'), body);
  assert.equal(body.match(/profile_id,identities/g)?.length, 1, 'header once, not per batch');
  assert.ok(body.includes('"p,""1""\nx"'), 'quotes doubled inside a quoted field');
  const records = parse(body, { columns: true }) as Array<Record<string, string>>;
  assert.deepEqual(records, [
    { profile_id: hostile, identities: 'email:a@x.io userId:u,1' },
    { profile_id: 'p-2', identities: '' },
  ]);
});

test('CSV of no members is the header row alone; without identities one column', async () => {
  assert.equal(await write([], csvWriter(true)), 'profile_id,identities\r\n');
  assert.equal(await write([[]], csvWriter(false)), 'profile_id\r\n');
  assert.equal(await write([[{ profileId: 'a' }]], csvWriter(false)), 'profile_id\r\na\r\n');
});
