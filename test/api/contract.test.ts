// The API's contract without engines: the OpenAPI document made from the operations is a valid
// OpenAPI 3.1 document, every operation declares its permission and its errors, the routes express
// serves are exactly the document's, and the committed typed client is generated from it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { compileErrors, validate } from '@readme/openapi-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Registry } from 'prom-client';
import { ROLES } from '../../gateway/access/roles.ts';
import { createGateway, OPENAPI_PATH } from '../../gateway/app.ts';
import { expressPath } from '../../gateway/http/operation.ts';
import { clientTypes, offlineContext, offlineDocument } from '../../gateway/openapi/print.ts';
import { allOperations } from '../../gateway/routes/index.ts';
import { createLogger } from '../../lib/log.ts';

const CLIENT_FILE = new URL('../../api/client/openapi.ts', import.meta.url);
// Besides the operations: probes, the document, and the dashboard's pages (gateway/ui.ts).
const PROBES = ['get /healthz', 'get /readyz', 'get /metrics', `get ${OPENAPI_PATH}`, 'get /', 'get /ui,/ui/*path'];

type DocOperation = { operationId?: string; description?: string; 'x-uspa-permission'?: string; 'x-uspa-roles'?: string[]; responses: Record<string, { content?: Record<string, { schema?: Record<string, unknown> }> }>; parameters?: { schema: unknown }[]; requestBody?: { content: Record<string, { schema: unknown }> } };

function operationsOf(document: Record<string, unknown>): { method: string; path: string; op: DocOperation }[] {
  return Object.entries(document.paths as Record<string, Record<string, DocOperation>>).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ method, path, op })));
}

/** The document, made as `npm run gen:client` makes it; fails naming a module that touches its context too early. */
function documentOrFail(): Record<string, unknown> {
  try {
    return offlineDocument();
  } catch (err) {
    assert.fail(`the OpenAPI document cannot be made without engines: ${(err as Error).message}\n${(err as Error).stack?.split('\n').slice(1, 4).join('\n')}`);
  }
}

test('contract: the offline context refuses every use, so a route module cannot touch engines while declaring its operations', () => {
  const ctx = offlineContext();
  assert.throws(() => ctx.warehouse, /read ctx\.warehouse while building its operations/);
  assert.throws(() => ctx.kc, /read ctx\.kc/);
});

test('contract: the committed typed client (api/client/openapi.ts) is generated from the current document', async () => {
  const fresh = await clientTypes(documentOrFail());
  const committed = readFileSync(CLIENT_FILE, 'utf8');
  if (committed === fresh) return;
  const a = committed.split('\n');
  const b = fresh.split('\n');
  const line = a.findIndex((l, i) => l !== b[i]);
  assert.fail(`api/client/openapi.ts is out of date with the API's operations: run \`npm run gen:client\` and commit the result.\nFirst difference at line ${line + 1}:\n  committed: ${a[line] ?? '(end of file)'}\n  generated: ${b[line] ?? '(end of file)'}`);
});

test('contract: the document is a valid OpenAPI 3.1 document and each of its schemas a valid JSON Schema 2020-12', async () => {
  const document = documentOrFail();
  assert.equal(document.openapi, '3.1.0');
  const result = await validate(structuredClone(document) as never);
  assert.ok(result.valid, result.valid ? '' : compileErrors(result));
  assert.deepEqual(result.warnings, []);
  // The OpenAPI schema accepts any object as a Schema Object: check them against the JSON Schema meta-schema too.
  const ajv = new Ajv2020({ strict: false });
  const check = (schema: unknown, where: string) => assert.ok(ajv.validateSchema(schema as object), `${where}: ${ajv.errorsText(ajv.errors)}`);
  check((document.components as { schemas: Record<string, unknown> }).schemas.Error, 'components.schemas.Error');
  for (const { method, path, op } of operationsOf(document)) {
    for (const [i, p] of (op.parameters ?? []).entries()) check(p.schema, `${method} ${path} parameters[${i}]`);
    for (const [type, c] of Object.entries(op.requestBody?.content ?? {})) check(c.schema, `${method} ${path} requestBody ${type}`);
    for (const [status, r] of Object.entries(op.responses)) for (const [type, c] of Object.entries(r.content ?? {})) check(c.schema, `${method} ${path} ${status} ${type}`);
  }
});

test('contract: every operation has a unique operationId, a permission or "any key", a success response and its 4xx errors in the Error schema', () => {
  const ops = operationsOf(documentOrFail());
  assert.ok(ops.length >= 2, `operations: ${ops.map((o) => o.op.operationId).join(', ')}`);
  const ids = ops.map((o) => o.op.operationId);
  assert.equal(new Set(ids).size, ids.length, `duplicate operationId: ${ids.join(', ')}`);
  for (const { method, path, op } of ops) {
    const name = `${method.toUpperCase()} ${path}`;
    assert.match(op.operationId ?? '', /^[a-z][A-Za-z0-9]+$/, `${name}: operationId`);
    if (op['x-uspa-permission']) assert.match(op.description ?? '', new RegExp(`Permission \`${op['x-uspa-permission']}\``), `${name}: the description names its permission`);
    else {
      assert.match(op.description ?? '', /Any valid key\./, `${name}: no permission, so any key — and it says so`);
      assert.deepEqual(op['x-uspa-roles'], [...ROLES], `${name}: any key means every role`);
    }
    assert.ok((op['x-uspa-roles'] ?? []).length > 0, `${name}: some role may call it`);
    const statuses = Object.keys(op.responses);
    assert.ok(statuses.some((s) => /^2\d\d$/.test(s)), `${name}: a 2xx response`);
    for (const required of ['400', '401', '403', '429']) assert.ok(statuses.includes(required), `${name}: declares ${required}`);
    if (path.includes('{')) assert.ok(statuses.includes('404'), `${name}: a path parameter can name nothing: declares 404`);
    for (const status of statuses.filter((s) => /^[45]\d\d$/.test(s))) {
      assert.deepEqual(op.responses[status]!.content, { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } }, `${name} ${status}: the one error shape`);
    }
  }
});

test('contract: express serves exactly the routes of the document (besides the probes and the document), and serves the document printed without engines', async () => {
  const document = documentOrFail();
  const quiet = createLogger('api', 'silent', new Writable({ write: (_c, _e, done) => done() }));
  const app = createGateway({
    keys: { authenticate: () => assert.fail('no call is made'), allowsOrigin: () => false, synced: true },
    operations: allOperations(offlineContext()),
    audit: { record: () => undefined },
    log: quiet,
    registry: new Registry(),
    ready: () => undefined,
  });
  const router = (app as unknown as { router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] } }).router;
  const served = router.stack.flatMap((layer) => (layer.route ? Object.keys(layer.route.methods).map((m) => `${m} ${layer.route!.path}`) : []));
  assert.equal(new Set(served).size, served.length, `a route is mounted twice: ${served.join(', ')}`);
  const documented = operationsOf(document).map(({ method, path }) => `${method} ${expressPath(path)}`);
  const routes = served.filter((r) => !PROBES.includes(r));
  assert.deepEqual([...routes].sort(), [...documented].sort(), 'routes served but not documented, or documented but not served');
  for (const probe of PROBES) assert.ok(served.includes(probe), `${probe} is served`);

  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${OPENAPI_PATH}`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), document, 'the served document is the one gen:client and this test read');
  } finally {
    server.close();
  }
});
