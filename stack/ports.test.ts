import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PortBook, portIsFree } from './ports.ts';
import { StackError } from './errors.ts';

const file = () => join(mkdtempSync(join(tmpdir(), 'uspa-ports-')), 'ports.json');

test('ports: a remembered port is reused when free, and saved with the new ones', async () => {
  const f = file();
  const first = new PortBook(f, {});
  const kafka = await first.get('kafka');
  const temporal = await first.get('temporal');
  assert.notEqual(kafka, temporal);
  first.save();
  const second = new PortBook(f, {});
  assert.equal(await second.get('kafka'), kafka);
  assert.deepEqual(Object.keys(JSON.parse(readFileSync(f, 'utf8')) as object).sort(), ['kafka', 'temporal']);
});

test('ports: a remembered port that is now taken is replaced by a free one', async (t) => {
  const holder = createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
  t.after(() => holder.close());
  const busy = (holder.address() as AddressInfo).port;
  const f = file();
  writeFileSync(f, JSON.stringify({ clickhouse: busy }));
  const port = await new PortBook(f, {}).get('clickhouse');
  assert.notEqual(port, busy);
  assert.equal(await portIsFree(port), true);
});

test('ports: a pinned port in use, or not a port at all, is a StackError naming the variable', async (t) => {
  const holder = createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
  t.after(() => holder.close());
  const busy = (holder.address() as AddressInfo).port;
  await assert.rejects(new PortBook(file(), { USPA_PORT_KAFKA_CONTROLLER: String(busy) }).get('kafka-controller'), (err: unknown) =>
    err instanceof StackError && err.message.includes(`port ${busy}`) && err.message.includes('USPA_PORT_KAFKA_CONTROLLER'),
  );
  await assert.rejects(new PortBook(file(), { USPA_PORT_ETCD: 'http' }).get('etcd'), (err: unknown) =>
    err instanceof StackError && err.message === 'USPA_PORT_ETCD=http is not a TCP port',
  );
});

test('ports: two engines never get the same port in one stack', async () => {
  const book = new PortBook(file(), {});
  const ports = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((k) => book.get(k)));
  assert.equal(new Set(ports).size, ports.length);
});
