// `helm upgrade` from the previous chart version onto the real API server, with the values a user
// of that version had: the previous chart is the newest commit whose Chart.yaml has another version
// (git archive), so this keeps testing the step users take as the chart moves on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { required, unique } from '../support/env.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHART = `${ROOT}helm/uspa`;
const HELM = process.env.USPA_HELM || 'helm';
const KUBECTL = process.env.USPA_KUBECTL || 'kubectl';
const CRD_NAMES = ['sources', 'pipelines', 'segments', 'activations'].map((plural) => `${plural}.uspa.tech`);
const PASSWORD = 'pw-upgrade-3c9d';

function run(cmd: string, args: string[], options: { cwd?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: options.cwd ?? ROOT, maxBuffer: 32 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code === 'string') reject(new Error(`${cmd} could not be run (${err.code}): eval "$(npm run -s uspa -- stack env)"`));
      else resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function ok(cmd: string, args: string[], options: { cwd?: string } = {}): Promise<string> {
  const r = await run(cmd, args, options);
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** The newest commit whose chart has another version than the working tree's, and that version. */
async function previousChart(): Promise<{ commit: string; version: string }> {
  const current = (parse(await ok('git', ['show', 'HEAD:helm/uspa/Chart.yaml'])) as { version: string }).version;
  for (const commit of (await ok('git', ['log', '--format=%H', '--', 'helm/uspa/Chart.yaml'])).trim().split('\n')) {
    const version = (parse(await ok('git', ['show', `${commit}:helm/uspa/Chart.yaml`])) as { version: string }).version;
    if (version !== current) return { commit, version };
  }
  throw new Error(`no commit has a chart version other than ${current}`);
}

test('helm upgrade from the previous chart version keeps the release working; a removed value fails it, naming the replacement', { timeout: 300_000 }, async (t) => {
  required('KUBECONFIG');
  const namespace = unique('helm-up');
  const release = unique('uspa');
  const dir = await mkdtemp(join(tmpdir(), 'uspa-upgrade-'));
  t.after(async () => {
    await run(HELM, ['uninstall', release, '--namespace', namespace, '--wait=false']);
    await run(KUBECTL, ['delete', 'clusterrole,clusterrolebinding', '-l', `app.kubernetes.io/instance=${release}`, '--ignore-not-found', '--wait=false']);
    await run(KUBECTL, ['delete', 'namespace', namespace, '--ignore-not-found', '--wait=false']);
    await rm(dir, { recursive: true, force: true });
  });

  const previous = await previousChart();
  await ok('bash', ['-c', `git archive ${previous.commit} helm/uspa | tar -x -C ${dir}`]);
  const oldChart = join(dir, 'helm/uspa');
  assert.equal((parse(await ok('cat', [join(oldChart, 'Chart.yaml')])) as { version: string }).version, previous.version);

  // What a user of the previous version had: engines, a password, one replica, their own resources.
  const values = {
    kafka: { brokers: ['kafka.invalid:9092'] },
    clickhouse: { url: 'http://clickhouse.invalid:8123', user: 'uspa', password: PASSWORD },
    temporal: { address: 'temporal.invalid:7233', namespace: 'uspa' },
    replicas: 1,
    leaderElection: true,
    resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '384Mi' } },
  };
  const valuesFile = join(dir, 'values.yaml');
  await writeFile(valuesFile, stringify(values));
  const crds = await run(KUBECTL, ['get', 'crd', ...CRD_NAMES, '-o', 'name']);
  const skipCrds = crds.code === 0 && CRD_NAMES.every((n) => crds.stdout.includes(n)) ? ['--skip-crds'] : [];
  const installed = await ok(HELM, ['install', release, oldChart, '--namespace', namespace, '--create-namespace', '--wait=false', ...skipCrds, '-f', valuesFile]);
  assert.match(installed, /STATUS: deployed/);

  const deployment = async () => JSON.parse(await ok(KUBECTL, ['get', 'deployment', 'uspa-operator', '-n', namespace, '-o', 'json'])) as { metadata: { labels: Record<string, string> }; spec: { replicas: number; template: { spec: { containers: Array<{ env: Array<{ name: string; value?: string }>; resources: unknown }> } } } };
  const envOf = async () => new Map((await deployment()).spec.template.spec.containers[0]!.env.map((e) => [e.name, e.value]));
  assert.equal((await deployment()).metadata.labels['helm.sh/chart'], `uspa-${previous.version}`);

  // The upgrade as README says it: the new chart's defaults, the user's values on top. (Plain
  // --reuse-values would keep the previous chart's defaults too, without the values this version added.)
  const upgraded = await ok(HELM, ['upgrade', release, CHART, '--namespace', namespace, '--reset-then-reuse-values', '--wait=false']);
  assert.match(upgraded, /STATUS: deployed/);
  assert.match(upgraded, /REVISION: 2/);
  const current = (parse(await ok('cat', [join(CHART, 'Chart.yaml')])) as { version: string }).version;
  const after = await deployment();
  assert.equal(after.metadata.labels['helm.sh/chart'], `uspa-${current}`);
  assert.equal(after.spec.replicas, 1, 'the user\'s replicas survived the upgrade');
  assert.deepEqual(after.spec.template.spec.containers[0]!.resources, values.resources, 'the user\'s resources survived the upgrade');
  const env = await envOf();
  assert.equal(env.get('KAFKA_BROKERS'), 'kafka.invalid:9092');
  assert.equal(env.get('TEMPORAL_NAMESPACE'), 'uspa');
  assert.equal(env.get('CLICKHOUSE_USER'), 'uspa');
  assert.equal(env.get('USPA_APPLY_CRDS'), 'true', 'the new chart\'s defaults apply to values the old chart did not have');
  assert.ok(JSON.parse(env.get('USPA_WORKLOADS') ?? '{}').collector?.podDisruptionBudget?.enabled, 'USPA_WORKLOADS carries the new defaults');
  const secret = JSON.parse(await ok(KUBECTL, ['get', 'secret', 'uspa-operator-clickhouse', '-n', namespace, '-o', 'json'])) as { data: { password: string } };
  assert.equal(Buffer.from(secret.data.password, 'base64').toString(), PASSWORD, 'the password Secret survived the upgrade');
  const clusterRole = await ok(KUBECTL, ['get', 'clusterrole', `uspa-operator-${namespace}-${release}`, '-o', 'json']);
  assert.match(clusterRole, /customresourcedefinitions/, 'the upgraded ClusterRole lets the operator apply its CRDs');

  // A user who had set a value this version removed: the upgrade fails saying what replaced it, and the release stays as it was.
  await writeFile(valuesFile, stringify({ ...values, workloadImage: 'registry.example/uspa:0.1.0' }));
  const refused = await run(HELM, ['upgrade', release, CHART, '--namespace', namespace, '-f', valuesFile, '--wait=false']);
  assert.notEqual(refused.code, 0, 'an upgrade with workloadImage was accepted');
  assert.match(refused.stderr, /values: workloadImage was removed; use workloads\.image \(chart 0\.2\.0\) instead/);
  const history = JSON.parse(await ok(HELM, ['history', release, '--namespace', namespace, '-o', 'json'])) as Array<{ revision: number; status: string }>;
  assert.deepEqual(history.map((h) => [h.revision, h.status]), [[1, 'superseded'], [2, 'deployed']], 'the refused upgrade left no revision behind');

  // The same user with the key renamed: accepted, and the image reaches the operator as USPA_IMAGE.
  await writeFile(valuesFile, stringify({ ...values, workloads: { image: 'registry.example/uspa:0.1.0' } }));
  await ok(HELM, ['upgrade', release, CHART, '--namespace', namespace, '-f', valuesFile, '--wait=false']);
  assert.equal((await envOf()).get('USPA_IMAGE'), 'registry.example/uspa:0.1.0');
});
