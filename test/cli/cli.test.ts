// The data commands as a user runs them: `uspa` as its own process, pointed only at a namespace,
// finds the database and topics the operator made there. The operator under test uses its own
// prefixes (not `uspa`), so a CLI that guessed names from defaults would find nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { Kafka, logLevel } from 'kafkajs';
import { repoRoot } from '../../stack/paths.ts';
import type { LocalRuntime } from '../../stack/runtime/kubelet.ts';
import { eventually } from '../support/env.ts';
import { operatorHarness, type OperatorHarness } from '../support/operator.ts';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `uspa <args>`; names a process is given by env are set wrong on purpose, so they must not be used. */
function uspa(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(repoRoot, 'bin', 'uspa.js'), ...args], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, USPA_DATABASE: 'uspa', USPA_TOPIC_PREFIX: 'uspa', ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('uspa dlq and identity in a namespace', { timeout: 400_000 }, () => {
  let h: OperatorHarness;
  let runtime: LocalRuntime;
  let dir: string;
  const user = `u-cli-${randomUUID().slice(0, 8)}`;
  const anon = `a-cli-${randomUUID().slice(0, 8)}`;
  const dead = `cli-dead-${randomUUID()}`;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'uspa-cli-'));
    h = await operatorHarness('cli');
    await h.startOperator();
    runtime = await h.startRuntime();
    await h.apply(`apiVersion: uspa.tech/v1alpha1
kind: Source
metadata: { name: web }
spec:
  type: web
  trackingPlan:
    mode: dlq
    unplanned: allow
    events:
      Order Completed: { type: object, required: [revenue] }
---
apiVersion: uspa.tech/v1alpha1
kind: Pipeline
metadata: { name: main }
spec:
  sources: [web]
  batch: { maxWaitMs: 100, profileIntervalMs: 200 }
`);
    await h.ready('sources', 'web', undefined, 120_000);
    await h.ready('pipelines', 'main', undefined, 120_000);
    const url = runtime.serviceUrl(h.namespace, 'uspa-collector')!;
    const key = Buffer.from((await h.core.readNamespacedSecret({ name: 'web-write-key', namespace: h.namespace })).data!.writeKey!, 'base64').toString();
    const post = async (path: string, body: object) => {
      const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` }, body: JSON.stringify(body) });
      assert.equal(res.status, 200, await res.text());
    };
    await post('/v1/identify', { userId: user, anonymousId: anon, traits: { plan: 'pro', email: `${user}@example.com` } });
    await post('/v1/track', { messageId: dead, userId: user, event: 'Order Completed', properties: {} });
    await eventually('the profile in ClickHouse', async () => Number((await h.warehouse.query<{ n: string }>('SELECT count() AS n FROM {db}.profiles FINAL WHERE deleted = 0 AND has(identities, {id:String})', { id: `userId:${user}` }))[0]!.n) === 1, 60_000);
    await eventually('the dead letter in ClickHouse', async () => (await h.warehouse.query('SELECT 1 FROM {db}.dead_letters WHERE message_id = {id:String}', { id: dead })).length > 0, 60_000);
  });
  after(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('identity show -n <ns> finds the person in the database the operator made for that namespace', async () => {
    assert.notEqual(h.warehouse.database, 'uspa_' + h.namespace.replace(/-/g, '_'), 'the harness uses its own database prefix');
    const run = await uspa(['identity', 'show', `userId:${user}`, '-n', h.namespace]);
    assert.equal(run.code, 0, run.stderr);
    const json = run.stdout.slice(0, run.stdout.indexOf('\n}\n') + 2);
    const profile = JSON.parse(json) as { identities: string[]; traits: Record<string, unknown> };
    assert.deepEqual([...profile.identities].sort(), [`anonymousId:${anon}`, `email:${user}@example.com`, `userId:${user}`].sort());
    assert.equal(profile.traits.plan, 'pro');
    assert.match(run.stdout, new RegExp(`link\\s+\\S+ — \\S+\\s+edge \\S+\\s+\\(identify, message `), 'the merge of the identify is listed with its rule');
  });

  test('without -n the current context\'s namespace is used, like kubectl', async () => {
    const kc = new KubeConfig();
    kc.loadFromDefault();
    const contexts = kc.getContexts().map((c) => (c.name === kc.getCurrentContext() ? { ...c, namespace: h.namespace } : c));
    const file = join(dir, 'kubeconfig');
    const withNamespace = new KubeConfig();
    withNamespace.loadFromOptions({ clusters: kc.getClusters(), users: kc.getUsers(), contexts, currentContext: kc.getCurrentContext() });
    writeFileSync(file, withNamespace.exportConfig(), { mode: 0o600 });
    const run = await uspa(['identity', 'show', `email:${user}@example.com`], { KUBECONFIG: file });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`"userId:${user}"`));
  });

  test('dlq list -n <ns> lists the dead letter with its reason; dlq replay sends it to the topic Source status records', async () => {
    const list = await uspa(['dlq', 'list', '-n', h.namespace]);
    assert.equal(list.code, 0, list.stderr);
    const lines = list.stdout.trim().split('\n');
    assert.equal(lines.length, 2, list.stdout);
    assert.match(lines[0]!, new RegExp(`\\s+web\\s+tracking_plan_violation\\s+${dead}\\s+properties\\.revenue: is required$`));
    assert.equal(lines[1], `1 dead letter(s) not yet replayed in namespace ${h.namespace}`);

    const replay = await uspa(['dlq', 'replay', '--source', 'web', '-n', h.namespace]);
    assert.equal(replay.code, 0, replay.stderr);
    assert.match(replay.stdout, new RegExp(`^replayed 1 event\\(s\\) in namespace ${h.namespace} in .+; skipped 0\\n  filter: source web, reason \\(any\\), since \\(any time\\); dead letters not replayed before\\n  replayed 1  web  tracking_plan_violation  ${dead}\\n$`));
    await eventually('the replayed event in the event log', async () => (await h.warehouse.query('SELECT 1 FROM {db}.events WHERE message_id = {id:String}', { id: dead })).length === 1, 60_000);
    const after = await uspa(['dlq', 'list', '-n', h.namespace]);
    assert.equal(after.stdout, `0 dead letter(s) not yet replayed in namespace ${h.namespace}\n`);
  });

  test('dlq replay --dry-run reports what it would replay per Source and cause, with the filter, and sends nothing', async () => {
    const source = await h.get<{ status: { topic: string; deadLetterTopic: string } }>('sources', 'web');
    const { topic, deadLetterTopic } = source.status!;
    const id = (n: number) => `cli-dry-${n}-${randomUUID().slice(0, 8)}`;
    const ids = [id(1), id(2), id(3), id(4)];
    const letter = (messageId: string, reason: string, payload: unknown, at: number) => ({
      key: messageId,
      value: JSON.stringify({ stage: 'pipeline:main', source: 'web', reason, errors: [`${reason} here`], payload, messageId, failedAt: new Date(Date.now() - 60_000 + at).toISOString() }),
    });
    const producer = new Kafka({ clientId: 'uspa-tests', brokers: h.settings.kafkaBrokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({ topic: deadLetterTopic, messages: [
      letter(ids[0]!, 'tracking_plan_violation', { type: 'track', event: 'Order Completed', messageId: ids[0], userId: user, properties: {} }, 1),
      letter(ids[1]!, 'no_identity', { type: 'track', event: 'Viewed', messageId: ids[1], properties: {} }, 2),
      letter(ids[2]!, 'tracking_plan_violation', { type: 'track', event: 'Order Completed', messageId: ids[2], userId: user, properties: {} }, 3),
      letter(ids[3]!, 'invalid_json', '{"type": "tra', 4),
    ] });
    await producer.disconnect();
    await eventually('the dead letters mirrored into ClickHouse', async () => Number((await h.warehouse.query<{ n: string }>('SELECT uniqExact(message_id) AS n FROM {db}.dead_letters WHERE message_id IN {ids:Array(String)}', { ids }))[0]!.n) === 4, 60_000);
    const offsets = async () => (await h.kafka.fetchTopicOffsets(topic)).map((p) => p.high).join(',');
    const before = await offsets();

    const all = await uspa(['dlq', 'replay', '--dry-run', '-n', h.namespace]);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.stdout, [
      `dry run: would replay 3 event(s) in namespace ${h.namespace}; skip 1; nothing was sent`,
      '  filter: source (any), reason (any), since (any time); dead letters not replayed before',
      `  would replay 2  web  tracking_plan_violation  ${ids[0]}, ${ids[2]}`,
      `  would replay 1  web  no_identity  ${ids[1]}`,
      `  would skip 1  web  invalid_json  ${ids[3]}  (the dead letter holds no event (unparseable input); fix and re-send it at the source)`,
      '',
    ].join('\n'));
    assert.equal(await offsets(), before, 'nothing was produced to the Source\'s event topic');
    const one = await uspa(['dlq', 'replay', '--dry-run', '--reason', 'no_identity', '--source', 'web', '-n', h.namespace]);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(one.stdout, [
      `dry run: would replay 1 event(s) in namespace ${h.namespace}; skip 0; nothing was sent`,
      '  filter: source web, reason no_identity, since (any time); dead letters not replayed before',
      `  would replay 1  web  no_identity  ${ids[1]}`,
      '',
    ].join('\n'));

    assert.equal(await offsets(), before, 'nothing was produced to the Source\'s event topic');
    const marked = await h.warehouse.query('SELECT message_id FROM {db}.dead_letter_replays WHERE message_id IN {ids:Array(String)}', { ids });
    assert.deepEqual(marked, [], 'no dead letter is marked as replayed');
    const list = await uspa(['dlq', 'list', '-n', h.namespace]);
    assert.match(list.stdout, /\n4 dead letter\(s\) not yet replayed in namespace /);
  });

  test('identity unmerge -n <ns> reaches the Pipeline\'s worker through its control topic', async () => {
    const edges = await h.warehouse.query<{ id: string }>("SELECT id FROM {db}.identity_edges FINAL WHERE action = 'link' AND (a = {id:String} OR b = {id:String})", { id: `anonymousId:${anon}` });
    assert.equal(edges.length, 1);
    const run = await uspa(['identity', 'unmerge', '--edge', edges[0]!.id, '-n', h.namespace, '--reason', 'test']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^unmerged: edge ${edges[0]!.id} undone by \\S+ at .+ \\(Pipeline main in namespace ${h.namespace}\\)\\n$`));
  });

  test('errors say what is wrong and what to run', async () => {
    const empty = `${h.namespace}-none`;
    const none = await uspa(['identity', 'show', `userId:${user}`, '-n', empty]);
    assert.equal(none.code, 1);
    assert.equal(none.stderr, `error: namespace ${empty} has no Pipeline (a Pipeline stores the profiles and dead letters); kubectl get pipelines -n ${empty}, or choose another namespace with -n\n`);
    const typo = await uspa(['dlq', 'list', '--source', 'wbe', '-n', h.namespace]);
    assert.equal(typo.code, 1);
    assert.equal(typo.stderr, `error: namespace ${h.namespace} has no Source wbe; it has: web\n`);
    const nobody = await uspa(['identity', 'show', 'userId:nobody', '-n', h.namespace]);
    assert.equal(nobody.code, 0);
    assert.equal(nobody.stdout, `no profile holds userId:nobody in namespace ${h.namespace} (identities look like userId:u-1, email:ada@example.com)\n`);
  });
});
