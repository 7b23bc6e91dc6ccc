// PrivacyRequest on the real API server, with the operator and its privacy worker running as a pod
// of the local runtime: the request is carried out by the namespace's privacy worker, its status
// follows, the signed receipt lands in status and verifies with the key the operator made; an
// access request's export is downloaded once by the CLI; the API server refuses a malformed
// identity and any change to a request.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PRIVACY_SIGNING_SECRET, PRIVACY_SIGNING_SECRET_KEY, workerWorkload } from '../../api/names.ts';
import type { ErasureReceipt } from '../../api/privacy.ts';
import { GROUP, VERSION } from '../../api/v1alpha1/index.ts';
import { migrate } from '../../lib/schema.ts';
import { createLogger } from '../../lib/log.ts';
import { verifyReceipt } from '../../lib/privacy/verify.ts';
import { eventually } from '../support/env.ts';
import { kubectl, operatorHarness, type OperatorHarness } from '../support/operator.ts';

const yaml = String.raw;
const USPA = fileURLToPath(new URL('../../bin/uspa.js', import.meta.url));

/** The CLI as a user runs it; asynchronous, so the operator in this process keeps working meanwhile. */
function uspa(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [USPA, ...args], { encoding: 'utf8' }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

describe('PrivacyRequest', { timeout: 600_000 }, () => {
  let h: OperatorHarness;
  before(async () => {
    h = await operatorHarness('privacy');
    await migrate(h.warehouse, createLogger('test', 'warn'));
    // Ada's rows as the pipeline writes them; Bob's beside them.
    for (const [who, profile] of [['ada', 'p-ada'], ['bob', 'p-bob']]) {
      await h.warehouse.insert('identities', [{ identity: `userId:${who}`, profile_id: profile, first_seen: '2026-11-01 00:00:00.000', version: 1 }, { identity: `email:${who}@example.com`, profile_id: profile, first_seen: '2026-11-01 00:00:00.000', version: 1 }]);
      await h.warehouse.insert('events', [{ message_id: `m-${who}`, source: 'web', type: 'track', event: 'Viewed', timestamp: '2026-11-01 00:00:00.000', received_at: '2026-11-01 00:00:00.000', identity: `userId:${who}`, profile_id: profile, user_id: who, properties: '{}', context: '{}' }]);
    }
    await h.startOperator();
    await h.startRuntime();
  });
  after(async () => h?.close());

  test('the API server refuses an identity that is not <type>:<value>, an unknown mode, and any change to a request', async () => {
    const create = (name: string, spec: object) => h.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: h.namespace, plural: 'privacyrequests', body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'PrivacyRequest', metadata: { name }, spec } });
    const refusal = (spec: object) => create('refused', spec).then(() => '', (e: { body?: unknown }) => String((JSON.parse(String(e.body ?? '{}')) as { message?: string }).message));
    assert.match(await refusal({ identity: 'ada@example.com' }), /spec\.identity.*should match/);
    assert.match(await refusal({ identity: 'email:ada@example.com', mode: 'shred' }), /spec\.mode.*Unsupported value: "shred"/);
    await create('fixed', { identity: 'email:nobody@example.com', mode: 'delete', suspend: true });
    const change = await kubectl(['patch', 'privacyrequests.uspa.tech', 'fixed', '-n', h.namespace, '--type=merge', '-p', '{"spec":{"identity":"email:other@example.com"}}']).then(() => '', (e: Error) => e.message);
    assert.match(change, /a PrivacyRequest cannot be changed once made: create another one/);
  });

  test('an erasure runs on the privacy worker pod, status follows it, and the signed receipt verifies with the namespace key', async () => {
    await h.apply(yaml`apiVersion: uspa.tech/v1alpha1
kind: PrivacyRequest
metadata: { name: ada }
spec:
  identity: email:ada@example.com
  reference: ticket-4711
`);
    // The worker pod starts with the first request and bundles its workflows first: minutes under load.
    await h.ready('privacyrequests', 'ada', 'Completed', 420_000);
    const request = await h.get<{ status: { phase: string; rowsDeleted: number; identities: number; receipt: ErasureReceipt } }>('privacyrequests', 'ada');
    assert.equal(request.status.phase, 'Completed');
    assert.equal(request.status.identities, 2);
    assert.equal(request.status.rowsDeleted, 3, 'two identity rows and one event');
    assert.equal(request.status.receipt.mode, 'suppress_with_delete');
    const secret = await h.core.readNamespacedSecret({ name: PRIVACY_SIGNING_SECRET, namespace: h.namespace });
    const key = Buffer.from(secret.data![PRIVACY_SIGNING_SECRET_KEY]!, 'base64').toString();
    assert.equal((await verifyReceipt(h.warehouse, request.status.receipt, key)).ok, true);
    assert.equal((await verifyReceipt(h.warehouse, { ...request.status.receipt, identities: ['userId:bob'] }, key)).signature, false);
    const bob = await h.warehouse.query<{ n: string }>("SELECT count() AS n FROM {db}.events WHERE user_id = 'bob'");
    assert.equal(Number(bob[0]!.n), 1, "Bob's event stays");
    const table = await kubectl(['get', 'privacyrequests.uspa.tech', 'ada', '-n', h.namespace]);
    assert.match(table, /ada\s+erase\s+Completed\s+done\s+3\s+True/, 'no mode given: the operator applies suppress_with_delete (the receipt says so)');
    const events = await kubectl(['get', 'events', '-n', h.namespace, '--field-selector', 'reason=Completed,involvedObject.name=ada', '-o', 'jsonpath={.items[*].message}']);
    assert.match(events, /2 identities, 3 rows deleted/);
    assert.ok(!events.includes('ada@example.com'), 'the Event names no identity');
    await eventually('the privacy worker Deployment owned by the requests', async () => ((await h.apps.readNamespacedDeployment({ name: workerWorkload('privacy'), namespace: h.namespace })).metadata?.ownerReferences ?? []).some((o) => o.kind === 'PrivacyRequest'));
  });

  test('uspa privacy access follows an access request to its export and downloads it once; a second download is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'uspa-export-'));
    const file = join(dir, 'bob.tar.gz');
    const exported = await uspa(['privacy', 'access', 'email:bob@example.com', '-n', h.namespace, '--name', 'bob-access', '--reference', 'ticket-4713', '--out', file]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /^exported: PrivacyRequest bob-access in namespace \S+: 2 identities, \d+ files \(3 rows\) in .*; downloaded once into .*bob\.tar\.gz/m);
    assert.match(exported.stderr, /privacy: Completed: done \(\d+\/\d+ stores\)/, 'progress followed to the end (steps are sampled every 2 s)');
    const listing = await new Promise<string>((resolve, reject) => execFile('tar', ['-tzf', file], (err, out) => (err ? reject(err) : resolve(out))));
    for (const f of ['README.md', 'manifest.json', 'person.json', 'stores/events.ndjson', 'stores/identities.ndjson']) assert.ok(listing.includes(`export-bob-access/${f}`), `${f} in the archive: ${listing}`);
    const events = await new Promise<string>((resolve, reject) => execFile('tar', ['-xzOf', file, 'export-bob-access/stores/events.ndjson'], (err, out) => (err ? reject(err) : resolve(out))));
    assert.match(events, /"message_id":"m-bob"/);
    assert.ok(!events.includes('m-ada'), 'nobody else');
    const table = await kubectl(['get', 'privacyrequests.uspa.tech', 'bob-access', '-n', h.namespace]);
    assert.match(table, /bob-access\s+access\s+Completed\s+done\s+True/);
    const again = await uspa(['privacy', 'download', 'bob-access', '-n', h.namespace, '--out', join(dir, 'again.tar.gz')]);
    assert.equal(again.code, 1, again.stdout);
    assert.match(again.stderr, /was downloaded at .*; it is downloaded once/);
  });

  test('uspa privacy erase follows the request to its receipt; verify checks it, and a tampered copy fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'uspa-receipt-'));
    const file = join(dir, 'bob.json');
    const erased = await uspa(['privacy', 'erase', 'email:bob@example.com', '-n', h.namespace, '--reference', 'ticket-4712', '--receipt', file]);
    assert.equal(erased.code, 0, erased.stderr);
    assert.match(erased.stdout, /^erased: PrivacyRequest erase-[0-9a-f]{10} in namespace \S+: 2 identities, 3 rows deleted from \d+ stores in .*; signed receipt in /m);
    assert.match(erased.stderr, /privacy: Completed: done/);
    const verified = await uspa(['privacy', 'verify', file]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /signature: valid/);
    assert.match(verified.stdout, /^verified$/m);
    const receipt = JSON.parse(readFileSync(file, 'utf8')) as ErasureReceipt;
    writeFileSync(file, JSON.stringify({ ...receipt, stores: receipt.stores.map((s) => ({ ...s, before: s.before + 1 })) }));
    const tampered = await uspa(['privacy', 'verify', file]);
    assert.equal(tampered.code, 1);
    assert.match(tampered.stdout, /signature: DOES NOT MATCH/);
    // The receipt's identities can be collected again (a request made in error): tombstones on the suppression list.
    writeFileSync(file, JSON.stringify(receipt));
    const lifted = await uspa(['privacy', 'unsuppress', '--receipt', file, '-n', h.namespace]);
    assert.equal(lifted.code, 0, lifted.stderr);
    assert.match(lifted.stdout, /^unsuppressed: 2 identities of namespace \S+ are collected again/m);
    const bad = await uspa(['privacy', 'erase', 'bob@example.com', '-n', h.namespace]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /identity "bob@example.com" is not <type>:<value>/);
  });
});
