import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { text } from 'node:stream/consumers';
import { parse } from 'csv-parse/sync';
import { csvWriter, membersOf, ndjsonWriter, toMember, type Member, type MemberRow } from './writers.ts';

const rows = (xs: MemberRow[]) => xs.map((x) => ({ json: <T>() => x as T }));

async function write(batches: Member[][], writer: NodeJS.ReadWriteStream): Promise<string> {
  const out = Readable.from(batches).pipe(writer as never) as Readable;
  return text(out);
}

test('identities are redacted for roles without identifiers; pseudonymous ids stay', () => {
  const row = { profile_id: 'p-1', identities: ['userId:u-1', 'email:ada@example.com', 'phone:+4912345'] };
  assert.deepEqual(toMember(row, true), { profileId: 'p-1', identities: ['userId:u-1', 'email:ada@example.com', 'phone:+4912345'] });
  assert.deepEqual(toMember(row, false), { profileId: 'p-1', identities: ['userId:u-1', 'email:[redacted]', 'phone:[redacted]'] });
  assert.deepEqual(toMember({ profile_id: 'p-2' }, false), { profileId: 'p-2' });
});

test('membersOf turns ClickHouse row blocks into member batches', async () => {
  const out: Member[][] = [];
  await pipeline(Readable.from([rows([{ profile_id: 'a', identities: ['email:a@x.io'] }]), rows([{ profile_id: 'b', identities: [] }])]), membersOf(false), async function* (source) {
    for await (const batch of source) out.push(batch as Member[]);
  });
  assert.deepEqual(out, [[{ profileId: 'a', identities: ['email:[redacted]'] }], [{ profileId: 'b', identities: [] }]]);
});

test('NDJSON: one JSON object per line, every member once, across batches', async () => {
  const body = await write([[{ profileId: 'a' }, { profileId: 'b"\n' }], [], [{ profileId: 'c', identities: ['userId:u'] }]], ndjsonWriter());
  const lines = body.split('\n');
  assert.equal(lines.pop(), '', 'ends with a newline');
  assert.deepEqual(lines.map((l) => JSON.parse(l)), [{ profileId: 'a' }, { profileId: 'b"\n' }, { profileId: 'c', identities: ['userId:u'] }]);
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
