// Two operator processes with leader election on a Lease: one reconciles, the other waits; when the
// leader is killed (SIGKILL, no goodbye) the standby takes over; a graceful stop hands the lease back.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { repoRoot } from '../../stack/paths.ts';
import { eventually } from '../support/env.ts';
import { kubectl, operatorHarness, type OperatorHarness } from '../support/operator.ts';

describe('operator leader election', { timeout: 300_000 }, () => {
  let h: OperatorHarness;
  const procs = new Map<string, ChildProcess>();
  before(async () => {
    h = await operatorHarness('lead');
  });
  after(async () => {
    for (const p of procs.values()) p.kill('SIGKILL');
    await h.startOperator(); // finalizers of what is left are handled while the namespace is cleaned up
    await h.close();
  });

  const start = (identity: string) => {
    const log = createWriteStream(join(tmpdir(), `uspa-${h.namespace}-${identity}.log`));
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'uspa.js'), 'operator'], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', POD_NAME: identity, POD_NAMESPACE: h.namespace, USPA_WATCH_NAMESPACE: h.namespace, USPA_LEADER_ELECTION: 'true', USPA_TOPIC_PREFIX: h.settings.topicPrefix, USPA_DATABASE_PREFIX: h.settings.databasePrefix, USPA_CLICKHOUSE_NAMESPACE_USERS: String(h.settings.namespaceUsers) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    procs.set(identity, child);
  };
  const holder = async () => JSON.parse(await kubectl(['get', 'lease', 'uspa-operator', '-n', h.namespace, '-o', 'json'])).spec.holderIdentity as string | undefined;
  const segment = (name: string) => h.apply(`apiVersion: uspa.tech/v1alpha1\nkind: Segment\nmetadata: { name: ${name} }\nspec: { rule: { trait: plan, op: eq, value: ${name} } }\n`);
  const reporters = async (name: string) => {
    const events = JSON.parse(await kubectl(['get', 'events', '-n', h.namespace, '--field-selector', `involvedObject.name=${name}`, '-o', 'json'])).items as Array<{ reportingInstance?: string }>;
    return new Set(events.map((e) => e.reportingInstance));
  };

  test('one replica leads and reconciles; the standby does nothing', async () => {
    start('operator-a');
    start('operator-b');
    const leader = await eventually('a leader', holder, 60_000);
    assert.ok(['operator-a', 'operator-b'].includes(leader));
    await segment('one');
    await h.ready('segments', 'one');
    assert.deepEqual([...(await reporters('one'))], [leader], 'only the leader recorded Events');
  });

  test('the standby takes over when the leader is killed, and picks up what changed meanwhile', async () => {
    const leader = (await holder())!;
    const standby = leader === 'operator-a' ? 'operator-b' : 'operator-a';
    const killedAt = Date.now();
    procs.get(leader)!.kill('SIGKILL');
    await segment('two');
    await eventually(`${standby} to hold the lease`, async () => (await holder()) === standby, 60_000);
    await h.ready('segments', 'two');
    const takeoverMs = Date.now() - killedAt;
    console.log(`failover: ${standby} reconciled a new Segment ${(takeoverMs / 1000).toFixed(1)} s after ${leader} was killed`);
    assert.deepEqual([...(await reporters('two'))], [standby]);
  });

  test('a graceful stop (SIGTERM) hands the lease back at once', async () => {
    const leader = (await holder())!;
    const child = procs.get(leader)!;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, 'exit code 0 after a clean shutdown');
    const lease = JSON.parse(await kubectl(['get', 'lease', 'uspa-operator', '-n', h.namespace, '-o', 'json'])).spec;
    assert.equal(lease.holderIdentity, undefined, 'released');
    assert.equal(lease.leaseDurationSeconds, 1);
  });
});
