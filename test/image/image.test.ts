// The container image, as `npm run image` builds it from the Dockerfile (reused when its inputs did
// not change): it runs as a fixed non-root user, holds the production dependencies only and no
// tests, sources, git or secrets, and every role starts in it — on a read-only root filesystem with
// no writable folder at all, on the host network to reach the stack's engines — and answers
// /healthz and /readyz. Its size and the roles' start-up times go to test/bench/results/image.json.
// USPA_TEST_IMAGE=<image in containers storage> checks that image instead (e.g. one built by Docker).
// @serial: builds the image (buildah on vfs storage copies whole root filesystems: CPU and disk heavy)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Kafka, logLevel } from 'kafkajs';
import { Warehouse, clickhouseSettingsFromEnv } from '../../lib/clickhouse.ts';
import { repoRoot } from '../../stack/paths.ts';
import { freePort } from '../../stack/runtime/pod-process.ts';
import { eventually, required, unique } from '../support/env.ts';
import { installCrds, kubectl } from '../support/operator.ts';

// As checked on this kind of machine: vfs storage, runc (crun refuses hybrid cgroups), limits at
// or below the hard ones.
const PODMAN = ['--storage-driver', 'vfs', '--runtime', 'runc'];
const LIMITS = ['--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=8192:8192'];
const ROLE_START_MS = 120_000;

function run(cmd: string, args: string[], timeoutMs = 120_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function podman(args: string[], timeoutMs?: number): Promise<string> {
  const r = await run('podman', [...PODMAN, ...args], timeoutMs);
  if (r.code !== 0) throw new Error(`podman ${args.join(' ')} failed (${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/** `npm run image`, quiet unless it fails: the image's name, the archive, the size as reported. */
async function buildImage(): Promise<{ image: string; archive: string; size: string; seconds: number }> {
  const started = Date.now();
  const child = spawn('bash', [join(repoRoot, 'scripts/image.sh')], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number>((r) => child.once('exit', (c) => r(c ?? 1)));
  if (code !== 0) throw new Error(`npm run image failed (${code}):\n${out.split('\n').slice(-30).join('\n')}`);
  const image = /^image\s+(\S+) \(([^;]+);/m.exec(out);
  const archive = /^archive\s+(\S+) /m.exec(out);
  assert.ok(image && archive, `npm run image names the image and the archive:\n${out}`);
  return { image: image[1]!, size: image[2]!, archive: archive[1]!, seconds: (Date.now() - started) / 1000 };
}

/** Runs a script of node in the image (its entrypoint replaced), as its own user. */
async function nodeIn(image: string, script: string): Promise<string> {
  return podman(['run', '--rm', ...LIMITS, '--network', 'none', '--entrypoint', 'node', image, '-e', script]);
}

describe('container image', { timeout: 1_800_000 }, () => {
  let built: Awaited<ReturnType<typeof buildImage>>;
  const suffix = unique('img').replace(/[^a-z0-9-]/g, '');
  const namespace = suffix;
  const database = `test_${suffix.replace(/-/g, '_')}`;
  const topicPrefix = `test-${suffix}`;
  const containers: string[] = [];
  const startup: Record<string, number> = {};
  let files: string;

  before(async () => {
    for (const v of ['KUBECONFIG', 'KAFKA_BROKERS', 'CLICKHOUSE_URL', 'TEMPORAL_ADDRESS']) required(v);
    assert.equal(process.getuid?.(), 0, 'building and running the image here needs root (buildah and podman with vfs storage)');
    for (const tool of ['buildah', 'podman', 'runc']) assert.equal((await run('sh', ['-c', `command -v ${tool}`])).code, 0, `${tool} is not installed: apt-get install buildah podman runc`);
    const given = process.env.USPA_TEST_IMAGE;
    built = given ? { image: given, archive: '', size: (await podman(['image', 'inspect', '--format', '{{.Size}}', given])).trim() + ' B', seconds: 0 } : await buildImage();
    // Files the containers read, readable by the image's user: the workload configuration and a
    // kubeconfig (the stack's, which is root's alone). Removed after.
    files = mkdtempSync(join(tmpdir(), 'uspa-image-'));
    chmodSync(files, 0o755);
    writeFileSync(join(files, 'kubeconfig'), readFileSync(required('KUBECONFIG')), { mode: 0o644 });
    await installCrds();
    await kubectl(['create', 'namespace', namespace]);
  });

  after(async () => {
    for (const c of containers) await run('podman', [...PODMAN, 'rm', '-f', '-t', '2', c]);
    if (files) rmSync(files, { recursive: true, force: true });
    await kubectl(['delete', 'namespace', namespace, '--wait=false']).catch(() => undefined);
    const warehouse = new Warehouse(clickhouseSettingsFromEnv(process.env));
    await warehouse.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
    await warehouse.close();
    const admin = new Kafka({ clientId: 'uspa-test-cleanup', brokers: required('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(`${topicPrefix}.`) || t.startsWith(`uspa.${namespace}.`));
    if (mine.length) await admin.deleteTopics({ topics: mine }).catch(() => undefined);
    await admin.disconnect();
    if (built) {
      const results = join(repoRoot, 'test/bench/results');
      mkdirSync(results, { recursive: true });
      writeFileSync(join(results, 'image.json'), JSON.stringify({ measuredAt: new Date().toISOString(), image: built.image, size: built.size, archive: built.archive, buildSeconds: built.seconds, startupSeconds: startup }, null, 2) + '\n');
    }
  });

  test('is tagged with the package version and written as an archive, and its size is reported', { skip: process.env.USPA_TEST_IMAGE && 'USPA_TEST_IMAGE is given' }, (t) => {
    const version = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version as string;
    assert.equal(built.image, `localhost/uspa:${version}`);
    assert.ok(readFileSync(built.archive).subarray(0, 512).length === 512, 'the archive exists');
    t.diagnostic(`image ${built.image}: ${built.size}; archive ${built.archive}; npm run image took ${built.seconds.toFixed(0)} s`);
  });

  test('runs as a fixed non-root user, the uspa command as its entrypoint', async () => {
    const [config] = JSON.parse(await podman(['image', 'inspect', built.image])) as Array<{ Config: { User?: string; Entrypoint?: string[] } }>;
    assert.match(config!.Config.User ?? '', /^[1-9]\d*(:\d+)?$/, 'the image names its user by number, so runAsNonRoot can check it');
    assert.deepEqual(config!.Config.Entrypoint, ['node', '/app/bin/uspa.js']);
    assert.notEqual(Number(await nodeIn(built.image, 'console.log(process.getuid())')), 0);
    const usage = await podman(['run', '--rm', ...LIMITS, '--network', 'none', built.image, '--help']);
    for (const role of ['uspa operator', 'uspa collector', 'uspa api', 'uspa pipeline', 'uspa worker <segments|activations|models|enrichment|privacy>']) assert.ok(usage.includes(role), `usage names ${role}`);
  });

  test('holds the production dependencies only', async () => {
    const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const dev = Object.entries(lock.packages).filter(([path, p]) => path.startsWith('node_modules/') && p.dev).map(([path]) => path);
    const prod = ['node_modules/@temporalio/worker', 'node_modules/kafkajs', 'node_modules/@kubernetes/client-node', 'node_modules/geoip-lite'];
    for (const named of ['typescript', 'eslint', 'playwright-core', '@temporalio/testing']) assert.ok(dev.includes(`node_modules/${named}`), `${named} is a dev dependency`);
    // tsx (and its esbuild) runs the TypeScript of a checkout; the image runs compiled JavaScript.
    const absentToo = ['node_modules/tsx', 'node_modules/esbuild'];
    const present = JSON.parse(await nodeIn(built.image, `const fs = require('fs'); console.log(JSON.stringify(${JSON.stringify([...dev, ...absentToo, ...prod])}.filter((p) => fs.existsSync('/app/' + p))))`)) as string[];
    assert.deepEqual(present.filter((p) => !prod.includes(p)), [], 'no dev dependency (nor tsx) is in the image');
    assert.deepEqual(present.filter((p) => prod.includes(p)), prod, 'the production dependencies are');
  });

  test('holds no tests, TypeScript sources, git, env or key files', async () => {
    const { bad, compiled } = JSON.parse(
      await nodeIn(
        built.image,
        `const fs = require('fs'), path = require('path'); const bad = [];
         const walk = (dir, inModules) => { for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
           const p = path.join(dir, e.name);
           if (e.isDirectory()) { if (e.name === '.git' || (!inModules && e.name === 'test')) bad.push(p + '/'); walk(p, inModules || e.name === 'node_modules'); continue; }
           if (/^\\.env(\\..*)?$/.test(e.name) || /\\.(pem|key)$/.test(e.name) || /^id_(rsa|ed25519|ecdsa)$/.test(e.name)) { if (!inModules || e.name.startsWith('.env')) bad.push(p); }
           else if (!inModules && (/\\.test\\.[jt]s$/.test(e.name) || /\\.ts$/.test(e.name))) bad.push(p);
         } };
         walk('/app', false); console.log(JSON.stringify({ bad, compiled: fs.existsSync('/app/cli/main.js') }));`,
      ),
    ) as { bad: string[]; compiled: boolean };
    assert.deepEqual(bad, []);
    assert.ok(compiled, 'the code is there, compiled');
  });

  // --- each role, in a container ---------------------------------------------------------------

  /**
   * Starts a role detached and waits until each probe answers 200; returns the container and port.
   * Its start-up time counts from the container's start (vfs storage spends seconds before that,
   * copying the image's files for the container).
   */
  async function startRole(role: string, args: string[], env: Record<string, string>, probes: string[]): Promise<{ name: string; port: number }> {
    const port = await freePort();
    const name = `uspa-test-${role}-${suffix}`.slice(0, 63);
    const envArgs = Object.entries({ PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env }).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    const started = Date.now();
    // --read-only with no tmpfs: the workloads' securityContext (readOnlyRootFilesystem) without the chart's emptyDir.
    await podman(['run', '-d', '--name', name, '--read-only', '--read-only-tmpfs=false', '--network', 'host', ...LIMITS, '-v', `${files}:/etc/uspa:ro`, ...envArgs, built.image, ...args]);
    containers.push(name);
    for (const probe of probes) {
      const outcome = await eventually(
        `${role} ${probe} (logs: podman --storage-driver vfs logs ${name})`,
        async () => {
          const state = (await podman(['inspect', '--format', '{{.State.Status}}', name])).trim();
          if (state !== 'running') return { exited: `the container is ${state}: ${(await run('podman', [...PODMAN, 'logs', '--tail', '20', name])).stderr}` };
          const res = await fetch(`http://127.0.0.1:${port}${probe}`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
          return res?.status === 200 && { exited: undefined };
        },
        ROLE_START_MS,
      );
      if (outcome.exited) throw new Error(`${role} did not answer ${probe}: ${outcome.exited}`);
    }
    const startedAt = Date.parse(JSON.parse(await podman(['inspect', '--format', '{{json .State.StartedAt}}', name])) as string);
    startup[role] = Math.round((Date.now() - (Number.isFinite(startedAt) ? startedAt : started)) / 100) / 10;
    return { name, port };
  }

  /** SIGTERM as the kubelet sends it: node is PID 1 and must stop by itself within the grace period. */
  async function stopRole(name: string): Promise<number> {
    const started = Date.now();
    await podman(['stop', '-t', '25', name], 60_000);
    const code = Number((await podman(['inspect', '--format', '{{.State.ExitCode}}', name])).trim());
    assert.ok(Date.now() - started < 20_000, `${name} stopped on SIGTERM, not only when killed`);
    return code;
  }

  const engines = () => ({
    KAFKA_BROKERS: required('KAFKA_BROKERS'),
    CLICKHOUSE_URL: required('CLICKHOUSE_URL'),
    CLICKHOUSE_USER: process.env.CLICKHOUSE_USER ?? 'default',
    CLICKHOUSE_PASSWORD: process.env.CLICKHOUSE_PASSWORD ?? '',
    TEMPORAL_ADDRESS: required('TEMPORAL_ADDRESS'),
    TEMPORAL_NAMESPACE: process.env.TEMPORAL_NAMESPACE ?? 'default',
  });
  const writeKey = randomBytes(18).toString('base64url');
  const writeConfig = () =>
    writeFileSync(join(files, 'config.yaml'), stringify({ sources: [{ name: 'web', type: 'web', writeKey }], pipelines: [{ name: 'main', sources: ['web'] }] }), { mode: 0o644 });

  test('collector: ready, takes an event', async (t) => {
    writeConfig();
    const { name, port } = await startRole('collector', ['collector'], { USPA_CONFIG: '/etc/uspa/config.yaml', USPA_TOPIC_PREFIX: topicPrefix, KAFKA_BROKERS: required('KAFKA_BROKERS') }, ['/healthz', '/readyz']);
    const res = await fetch(`http://127.0.0.1:${port}/v1/track`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}` },
      body: JSON.stringify({ userId: 'u-1', event: 'Signed Up' }),
    });
    assert.equal(res.status, 200, await res.text());
    assert.equal(await stopRole(name), 0);
    t.diagnostic(`collector ready in ${startup.collector} s`);
  });

  test('pipeline: ready (ClickHouse migrated, Kafka consumer running)', async (t) => {
    writeConfig();
    const { name } = await startRole('pipeline', ['pipeline'], { ...engines(), USPA_CONFIG: '/etc/uspa/config.yaml', USPA_PIPELINE: 'main', USPA_TOPIC_PREFIX: topicPrefix, USPA_DATABASE: database }, ['/healthz', '/readyz']);
    await stopRole(name);
    t.diagnostic(`pipeline ready in ${startup.pipeline} s`);
  });

  test('api: ready (ApiKeys watched, ClickHouse migrated, profile changes consumed), serves its OpenAPI document, refuses a call without a key', async (t) => {
    writeConfig();
    const { name, port } = await startRole('api', ['api'], { ...engines(), USPA_CONFIG: '/etc/uspa/config.yaml', USPA_NAMESPACE: namespace, USPA_TOPIC_PREFIX: topicPrefix, USPA_DATABASE: database, KUBECONFIG: '/etc/uspa/kubeconfig' }, ['/healthz', '/readyz']);
    const document = (await (await fetch(`http://127.0.0.1:${port}/openapi.json`)).json()) as { openapi: string };
    assert.equal(document.openapi, '3.1.0');
    assert.equal((await fetch(`http://127.0.0.1:${port}/v1/whoami`)).status, 401);
    assert.equal(await stopRole(name), 0);
    t.diagnostic(`api ready in ${startup.api} s`);
  });

  test('operator: ready (caches synced) on one namespace', async (t) => {
    const { name } = await startRole(
      'operator',
      ['operator'],
      { ...engines(), KUBECONFIG: '/etc/uspa/kubeconfig', USPA_WATCH_NAMESPACE: namespace, POD_NAMESPACE: namespace, USPA_LEADER_ELECTION: 'false', USPA_TOPIC_PREFIX: topicPrefix, USPA_DATABASE_PREFIX: database, USPA_CLICKHOUSE_NAMESPACE_USERS: 'false' },
      ['/healthz', '/readyz'],
    );
    assert.equal(await stopRole(name), 0);
    t.diagnostic(`operator ready in ${startup.operator} s`);
  });

  for (const kind of ['segments', 'activations', 'models', 'enrichment', 'privacy']) {
    test(`worker ${kind}: ready (workflows bundled at start, polling its task queue)`, async (t) => {
      const { name } = await startRole(
        `worker-${kind}`,
        ['worker', kind],
        { ...engines(), USPA_NAMESPACE: namespace, USPA_TOPIC_PREFIX: topicPrefix, USPA_DATABASE: database, KUBECONFIG: '/etc/uspa/kubeconfig', USPA_WEBHOOK_PRIVATE_ADDRESSES: 'deny', USPA_PRIVACY_SIGNING_KEY: 'image-test-signing-key-0123456789abcdef' },
        ['/healthz', '/readyz'],
      );
      await stopRole(name);
      t.diagnostic(`worker ${kind} ready in ${startup[`worker-${kind}`]} s`);
    });
  }
});
