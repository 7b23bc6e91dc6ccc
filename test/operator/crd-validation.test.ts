// The uspa.tech CRDs on the real kube-apiserver: crds/*.yaml install and become Established, the
// examples are accepted, and invalid resources are refused by the OpenAPI schema or a CEL rule with
// the offending field named. Also what a platform engineer sees: kubectl explain, the printer
// columns, short names and the `uspa` category.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { eventually, required, unique } from '../support/env.ts';
import { GROUP, KINDS, VERSION } from '../../api/v1alpha1/index.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CRDS = join(ROOT, 'crds');
const EXAMPLES = join(ROOT, 'examples');
const KUBECTL = process.env.USPA_KUBECTL || 'kubectl';

type Kind = 'Source' | 'Pipeline' | 'Segment' | 'Activation';
type Json = Record<string, unknown>;

const kc = new KubeConfig();
let custom: CustomObjectsApi;
let namespace: string;
// A discovery cache of our own: a stale one (from before the CRDs existed) would hide the kinds.
const cacheDir = mkdtempSync(join(tmpdir(), 'uspa-kubectl-cache-'));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function kubectl(args: string[], input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(KUBECTL, ['--cache-dir', cacheDir, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

async function kubectlOk(args: string[], input?: string): Promise<string> {
  const run = await kubectl(args, input);
  assert.equal(run.code, 0, `kubectl ${args.join(' ')} failed:\n${run.stderr}${run.stdout}`);
  return run.stdout;
}

function pluralOf(kind: Kind): string {
  return KINDS.find((k) => k.kind === kind)!.plural;
}

function resource(kind: Kind, name: string, spec: Json): Json {
  return { apiVersion: `${GROUP}/${VERSION}`, kind, metadata: { name }, spec };
}

async function create(kind: Kind, name: string, spec: Json, dryRun = false): Promise<Json> {
  return (await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: pluralOf(kind), body: resource(kind, name, spec), dryRun: dryRun ? 'All' : undefined })) as Json;
}

async function read(kind: Kind, name: string): Promise<{ spec: Json; metadata: { resourceVersion: string } }> {
  return (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: pluralOf(kind), name })) as { spec: Json; metadata: { resourceVersion: string } };
}

interface Refusal {
  message: string;
  /** One entry per invalid field. */
  causes: Array<{ field?: string; message?: string }>;
}

/** The API server's answer to a refused request; fails when the request was accepted. */
async function refusal(request: Promise<unknown>): Promise<Refusal> {
  try {
    await request;
  } catch (err) {
    const { code, body } = err as { code?: number; body?: unknown };
    assert.equal(code, 422, `expected 422 Invalid, got ${code}: ${String(body)}`);
    const status = (typeof body === 'string' ? JSON.parse(body) : body) as { message: string; details?: { causes?: Refusal['causes'] } };
    // When a field has the wrong type or is missing, the API server skips CEL and says so in a cause of its own.
    const causes = (status.details?.causes ?? []).filter((c) => !c.message?.includes('some validation rules were not checked'));
    return { message: status.message, causes };
  }
  assert.fail('the API server accepted an invalid resource');
}

/**
 * Asserts that `spec` is refused for exactly one field, `expected[0]` names that field (as the
 * message does: "spec.topic.partitions" or "spec.webhook: Required value"), and the message
 * contains every string of `expected`.
 */
async function assertRefused(kind: Kind, spec: Json, expected: string[]): Promise<void> {
  const { message, causes } = await refusal(create(kind, 'invalid', spec, true));
  for (const e of expected) assert.ok(message.includes(e), `expected the error to contain ${JSON.stringify(e)}, got:\n${message}`);
  assert.equal(causes.length, 1, `expected one invalid field, got:\n${message}`);
  const field = causes[0]!.field ?? '';
  assert.ok(field && (expected[0] === field || expected[0]!.startsWith(`${field}:`)), `expected the invalid field to be ${expected[0]}, got ${field}:\n${message}`);
}

const whitespace = (s: string) => s.replace(/\s+/g, ' ').trim();

// Minimal valid specs; each invalid case below changes one thing.
const SOURCE = { type: 'server' };
const PIPELINE = { sources: ['web'] };
const SEGMENT = { rule: { trait: 'plan', op: 'eq', value: 'pro' } };
const ACTIVATION = { segment: 'pro-users', trigger: { type: 'segmentEntered' }, destination: { type: 'webhook', webhook: { url: 'https://hooks.example.com/x' } } };
const WEBHOOK_SOURCE = { type: 'webhook', webhook: { type: 'track', event: { path: 'type' }, userId: { path: 'data.user' } } };

interface Case {
  name: string;
  spec: Json;
  expect: string[];
}

const CASES: Record<Kind, Case[]> = {
  Source: [
    { name: 'type is required', spec: {}, expect: ['spec.type: Required value'] },
    { name: 'bad enum: type', spec: { type: 'desktop' }, expect: ['spec.type: Unsupported value: "desktop"', '"web"'] },
    { name: 'out of bounds: topic.partitions 0', spec: { ...SOURCE, topic: { partitions: 0 } }, expect: ['spec.topic.partitions', 'greater than or equal to 1'] },
    { name: 'out of bounds: topic.partitions 1001', spec: { ...SOURCE, topic: { partitions: 1001 } }, expect: ['spec.topic.partitions', 'less than or equal to 1000'] },
    { name: 'out of bounds: topic.replicationFactor 6', spec: { ...SOURCE, topic: { replicationFactor: 6 } }, expect: ['spec.topic.replicationFactor'] },
    { name: 'out of bounds: deadLetter.retentionHours 0', spec: { ...SOURCE, deadLetter: { retentionHours: 0 } }, expect: ['spec.deadLetter.retentionHours'] },
    { name: 'wrong type: topic.partitions "3"', spec: { ...SOURCE, topic: { partitions: '3' } }, expect: ['spec.topic.partitions', 'integer'] },
    { name: 'bad pattern: writeKeySecretRef.name', spec: { ...SOURCE, writeKeySecretRef: { name: 'Write_Key' } }, expect: ['spec.writeKeySecretRef.name', 'should match'] },
    { name: 'missing: writeKeySecretRef.name', spec: { ...SOURCE, writeKeySecretRef: { key: 'k' } }, expect: ['spec.writeKeySecretRef.name: Required value'] },
    { name: 'missing: trackingPlan.mode', spec: { ...SOURCE, trackingPlan: { events: {} } }, expect: ['spec.trackingPlan.mode: Required value'] },
    { name: 'bad enum: trackingPlan.unplanned', spec: { ...SOURCE, trackingPlan: { mode: 'dlq', unplanned: 'drop' } }, expect: ['spec.trackingPlan.unplanned: Unsupported value'] },
    { name: 'not an object: trackingPlan.events value', spec: { ...SOURCE, trackingPlan: { mode: 'dlq', events: { Signup: 'yes' } } }, expect: ['spec.trackingPlan.events.Signup'] },
    { name: 'out of bounds: rateLimit.eventsPerSecond 0', spec: { ...SOURCE, rateLimit: { eventsPerSecond: 0 } }, expect: ['spec.rateLimit.eventsPerSecond', 'greater than 0'] },
    { name: 'missing: consent.required', spec: { ...SOURCE, consent: {} }, expect: ['spec.consent.required: Required value'] },
    { name: 'CEL: rateLimit.burst below eventsPerSecond', spec: { ...SOURCE, rateLimit: { eventsPerSecond: 100, burst: 10 } }, expect: ['spec.rateLimit.burst', 'rateLimit.burst must be at least eventsPerSecond'] },
    { name: 'CEL: webhook Source without spec.webhook', spec: { type: 'webhook' }, expect: ['spec.webhook: Required value', 'spec.webhook is required when type is webhook'] },
    { name: 'CEL: spec.webhook on a web Source', spec: { ...WEBHOOK_SOURCE, type: 'web' }, expect: ['spec.webhook: Forbidden', 'spec.webhook is only allowed when type is webhook'] },
    { name: 'CEL: track webhook without event', spec: { type: 'webhook', webhook: { type: 'track', userId: { path: 'u' } } }, expect: ['spec.webhook.event: Required value', 'webhook.event is required when webhook.type is track'] },
    { name: 'CEL: field mapping with path and value', spec: { type: 'webhook', webhook: { ...WEBHOOK_SOURCE.webhook, userId: { path: 'a', value: 'b' } } }, expect: ['spec.webhook.userId', 'set exactly one of path or value'] },
    { name: 'CEL: field mapping with neither path nor value (in a map)', spec: { type: 'webhook', webhook: { ...WEBHOOK_SOURCE.webhook, properties: { amount: { format: 'unix' } } } }, expect: ['spec.webhook.properties[amount]', 'set exactly one of path or value'] },
    { name: 'bad enum: webhook.type', spec: { type: 'webhook', webhook: { type: 'page', event: { path: 'x' } } }, expect: ['spec.webhook.type: Unsupported value'] },
    { name: 'bad enum: field mapping format', spec: { type: 'webhook', webhook: { ...WEBHOOK_SOURCE.webhook, timestamp: { path: 't', format: 'rfc822' } } }, expect: ['spec.webhook.timestamp.format: Unsupported value'] },
    { name: 'empty: field mapping path', spec: { type: 'webhook', webhook: { ...WEBHOOK_SOURCE.webhook, userId: { path: '' } } }, expect: ['spec.webhook.userId.path'] },
  ],
  Pipeline: [
    { name: 'sources is required', spec: {}, expect: ['spec.sources: Required value'] },
    { name: 'sources must not be empty', spec: { sources: [] }, expect: ['spec.sources', 'should have at least 1 items'] },
    { name: 'sources: no repeats (list-type set)', spec: { sources: ['web', 'web'] }, expect: ['spec.sources[1]: Duplicate value: "web"'] },
    { name: 'bad pattern: a Source name', spec: { sources: ['Web_App'] }, expect: ['spec.sources[0]', 'should match'] },
    { name: 'too many sources', spec: { sources: Array.from({ length: 51 }, (_, i) => `s${i}`) }, expect: ['spec.sources', 'must have at most 50 items'] },
    { name: 'out of bounds: replicas 2', spec: { ...PIPELINE, replicas: 2 }, expect: ['spec.replicas', 'less than or equal to 1'] },
    { name: 'bad pattern: retention "2 years"', spec: { ...PIPELINE, retention: '2 years' }, expect: ['spec.retention', 'should match'] },
    { name: 'out of bounds: batch.maxEvents 0', spec: { ...PIPELINE, batch: { maxEvents: 0 } }, expect: ['spec.batch.maxEvents', 'greater than or equal to 1'] },
    { name: 'out of bounds: batch.profileIntervalMs 5', spec: { ...PIPELINE, batch: { profileIntervalMs: 5 } }, expect: ['spec.batch.profileIntervalMs', 'greater than or equal to 10'] },
    { name: 'bad pattern: urlTopics match', spec: { ...PIPELINE, enrich: { urlTopics: [{ match: 'blog/**', topic: 'blog' }] } }, expect: ['spec.enrich.urlTopics[0].match', 'should match'] },
    { name: 'missing: urlTopics topic', spec: { ...PIPELINE, enrich: { urlTopics: [{ match: '/blog/**' }] } }, expect: ['spec.enrich.urlTopics[0].topic: Required value'] },
    { name: 'identity.keys must not be empty', spec: { ...PIPELINE, identity: { keys: [] } }, expect: ['spec.identity.keys', 'should have at least 1 items'] },
    { name: 'identity.keys unique by name (list-type map)', spec: { ...PIPELINE, identity: { keys: [{ name: 'email' }, { name: 'email', limit: 2 }] } }, expect: ['spec.identity.keys[1]: Duplicate value'] },
    { name: 'out of bounds: identity key limit 0', spec: { ...PIPELINE, identity: { keys: [{ name: 'email', limit: 0 }] } }, expect: ['spec.identity.keys[0].limit'] },
    { name: 'CEL: the reserved identity key name previousId', spec: { ...PIPELINE, identity: { keys: [{ name: 'previousId', path: 'previousId' }] } }, expect: ['spec.identity.keys[0].name', 'identity key name previousId is reserved'] },
    { name: 'CEL: custom identity key without path', spec: { ...PIPELINE, identity: { keys: [{ name: 'customerNumber' }] } }, expect: ['spec.identity.keys[0].path: Required value', 'identity key path is required unless name is one of'] },
    { name: 'out of bounds: identity.maxProfilesPerMerge 0', spec: { ...PIPELINE, identity: { maxProfilesPerMerge: 0 } }, expect: ['spec.identity.maxProfilesPerMerge'] },
    { name: 'bad quantity: resources.requests.cpu', spec: { ...PIPELINE, resources: { requests: { cpu: 'lots' } } }, expect: ['spec.resources.requests.cpu', 'should match'] },
  ],
  Segment: [
    { name: 'rule is required', spec: { mode: 'batch' }, expect: ['spec.rule: Required value'] },
    { name: 'rule must be an object', spec: { rule: 'plan = pro' }, expect: ['spec.rule', 'must be of type object'] },
    { name: 'bad enum: mode', spec: { ...SEGMENT, mode: 'streaming' }, expect: ['spec.mode: Unsupported value: "streaming"'] },
    { name: 'too long: description', spec: { ...SEGMENT, description: 'x'.repeat(1025) }, expect: ['spec.description: Too long'] },
    { name: 'bad pattern: refresh.interval', spec: { ...SEGMENT, refresh: { interval: '1 hour' } }, expect: ['spec.refresh.interval', 'should match'] },
    { name: 'bad pattern: refresh.cron', spec: { ...SEGMENT, refresh: { cron: 'every day' } }, expect: ['spec.refresh.cron', 'should match'] },
    { name: 'CEL: refresh.interval and refresh.cron', spec: { ...SEGMENT, refresh: { interval: '1h', cron: '0 * * * *' } }, expect: ['spec.refresh', 'set either refresh.interval or refresh.cron, not both'] },
  ],
  Activation: [
    { name: 'trigger is required', spec: { destination: ACTIVATION.destination }, expect: ['spec.trigger: Required value'] },
    { name: 'destination is required', spec: { segment: 'pro-users', trigger: ACTIVATION.trigger }, expect: ['spec.destination: Required value'] },
    { name: 'bad enum: trigger.type', spec: { ...ACTIVATION, trigger: { type: 'pageView' } }, expect: ['spec.trigger.type: Unsupported value'] },
    { name: 'bad enum: destination.type', spec: { ...ACTIVATION, destination: { type: 'sms' } }, expect: ['spec.destination.type: Unsupported value'] },
    { name: 'bad pattern: segment', spec: { ...ACTIVATION, segment: 'Pro Users' }, expect: ['spec.segment', 'should match'] },
    { name: 'bad pattern: webhook url', spec: { ...ACTIVATION, destination: { type: 'webhook', webhook: { url: 'ftp://example.com' } } }, expect: ['spec.destination.webhook.url', 'should match'] },
    { name: 'out of bounds: webhook timeoutSeconds 61', spec: { ...ACTIVATION, destination: { type: 'webhook', webhook: { url: 'https://x', timeoutSeconds: 61 } } }, expect: ['spec.destination.webhook.timeoutSeconds', 'less than or equal to 60'] },
    { name: 'bad pattern: kafka topic', spec: { ...ACTIVATION, destination: { type: 'kafka', kafka: { topic: 'bad topic!' } } }, expect: ['spec.destination.kafka.topic', 'should match'] },
    { name: 'missing: email subject', spec: { ...ACTIVATION, destination: { type: 'email', email: { smtpSecretRef: { name: 'smtp' }, from: 'a@b.example' } } }, expect: ['spec.destination.email.subject: Required value'] },
    { name: 'missing: email smtpSecretRef', spec: { ...ACTIVATION, destination: { type: 'email', email: { from: 'a@b.example', subject: 'Hi' } } }, expect: ['spec.destination.email.smtpSecretRef: Required value'] },
    { name: 'out of bounds: holdoutPercent 51', spec: { ...ACTIVATION, holdoutPercent: 51 }, expect: ['spec.holdoutPercent', 'less than or equal to 50'] },
    { name: 'out of bounds: variant weight 0', spec: { ...ACTIVATION, variants: [{ name: 'a', weight: 0 }] }, expect: ['spec.variants[0].weight', 'greater than or equal to 1'] },
    { name: 'variants unique by name (list-type map)', spec: { ...ACTIVATION, variants: [{ name: 'a', weight: 1 }, { name: 'a', weight: 2 }] }, expect: ['spec.variants[1]: Duplicate value'] },
    { name: 'too many variants', spec: { ...ACTIVATION, variants: Array.from({ length: 11 }, (_, i) => ({ name: `v${i}`, weight: 1 })) }, expect: ['spec.variants', 'must have at most 10 items'] },
    { name: 'bad pattern: quietHours.start', spec: { ...ACTIVATION, quietHours: { start: '25:00', end: '08:00' } }, expect: ['spec.quietHours.start', 'should match'] },
    { name: 'bad pattern: frequencyCap.per', spec: { ...ACTIVATION, frequencyCap: { max: 1, per: '1 week' } }, expect: ['spec.frequencyCap.per', 'should match'] },
    { name: 'missing: consent.category', spec: { ...ACTIVATION, consent: {} }, expect: ['spec.consent.category: Required value'] },
    { name: 'bad enum: trigger.event.where op', spec: { ...ACTIVATION, segment: undefined, trigger: { type: 'event', event: { name: 'Signed Up', where: [{ property: 'plan', op: 'like', value: 'p' }] } } }, expect: ['spec.trigger.event.where[0].op: Unsupported value'] },
    { name: 'too long: template.body', spec: { ...ACTIVATION, template: { body: 'x'.repeat(65537) } }, expect: ['spec.template.body: Too long'] },
    { name: 'CEL: webhook destination without webhook', spec: { ...ACTIVATION, destination: { type: 'webhook' } }, expect: ['spec.destination.webhook: Required value', 'spec.destination.webhook is required when destination.type is webhook'] },
    { name: 'CEL: kafka destination without kafka', spec: { ...ACTIVATION, destination: { type: 'kafka' } }, expect: ['spec.destination.kafka: Required value', 'spec.destination.kafka is required when destination.type is kafka'] },
    { name: 'CEL: email destination without email', spec: { ...ACTIVATION, destination: { type: 'email' } }, expect: ['spec.destination.email: Required value', 'spec.destination.email is required when destination.type is email'] },
    { name: 'CEL: a destination block that does not match the type', spec: { ...ACTIVATION, destination: { type: 'kafka', kafka: { topic: 't' }, webhook: { url: 'https://x' } } }, expect: ['spec.destination', 'set only the destination block that matches destination.type'] },
    { name: 'CEL: event trigger without trigger.event', spec: { ...ACTIVATION, trigger: { type: 'event' } }, expect: ['spec.trigger.event: Required value', 'spec.trigger.event is required when trigger.type is event'] },
    { name: 'CEL: trigger.event on a segment trigger', spec: { ...ACTIVATION, trigger: { type: 'segmentEntered', event: { name: 'x' } } }, expect: ['spec.trigger.event: Forbidden', 'spec.trigger.event is only allowed when trigger.type is event'] },
    { name: 'CEL: segmentEntered without segment', spec: { ...ACTIVATION, segment: undefined }, expect: ['spec.segment: Required value', 'spec.segment is required for segment triggers and audience syncs'] },
    { name: 'CEL: segmentExited without segment', spec: { ...ACTIVATION, segment: undefined, trigger: { type: 'segmentExited' } }, expect: ['spec.segment: Required value', 'spec.segment is required for segment triggers and audience syncs'] },
    { name: 'CEL: schedule trigger without segment', spec: { ...ACTIVATION, segment: undefined, trigger: { type: 'schedule', schedule: { interval: '1h' } } }, expect: ['spec.segment: Required value', 'spec.segment is required for segment triggers and audience syncs'] },
    { name: 'CEL: schedule trigger without trigger.schedule', spec: { ...ACTIVATION, trigger: { type: 'schedule' } }, expect: ['spec.trigger.schedule: Required value', 'spec.trigger.schedule is required when trigger.type is schedule'] },
    { name: 'CEL: trigger.schedule on an event trigger', spec: { ...ACTIVATION, trigger: { type: 'event', event: { name: 'x' }, schedule: { interval: '1h' } } }, expect: ['spec.trigger.schedule: Forbidden', 'spec.trigger.schedule is only allowed when trigger.type is schedule'] },
    { name: 'CEL: trigger.schedule with interval and cron', spec: { ...ACTIVATION, trigger: { type: 'schedule', schedule: { interval: '1h', cron: '@daily' } } }, expect: ['spec.trigger.schedule', 'set exactly one of trigger.schedule.interval or trigger.schedule.cron'] },
    { name: 'CEL: trigger.schedule with neither interval nor cron', spec: { ...ACTIVATION, trigger: { type: 'schedule', schedule: {} } }, expect: ['spec.trigger.schedule', 'set exactly one of trigger.schedule.interval or trigger.schedule.cron'] },
    { name: 'CEL: trigger.unless on a segment trigger', spec: { ...ACTIVATION, trigger: { type: 'segmentEntered', unless: { event: 'Order Completed', within: '1h' } } }, expect: ['spec.trigger.unless: Forbidden', 'spec.trigger.unless is only allowed with event triggers'] },
  ],
};

const VALID: Record<Kind, Json> = { Source: SOURCE, Pipeline: PIPELINE, Segment: SEGMENT, Activation: ACTIVATION };

describe('uspa.tech CRDs on the real kube-apiserver', { timeout: 300_000 }, () => {
  before(async () => {
    required('KUBECONFIG');
    kc.loadFromDefault();
    custom = kc.makeApiClient(CustomObjectsApi);
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    const core = kc.makeApiClient(CoreV1Api);

    // Exactly what ships: the committed files, server-side applied as Helm or an admin would.
    await kubectlOk(['apply', '--server-side', '--force-conflicts', '--field-manager=uspa-crds', '-f', CRDS]);
    for (const { kind, crd } of KINDS) {
      await eventually(`the ${kind} CRD to be Established`, async () => {
        const current = await ext.readCustomResourceDefinition({ name: crd.metadata.name });
        const established = current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
        return established && current.status?.acceptedNames?.kind === kind;
      });
    }
    namespace = unique('crds');
    // Labelled, so a namespace left behind by a killed run can be found: kubectl get ns -l uspa.tech/test=crds
    await core.createNamespace({ body: { metadata: { name: namespace, labels: { 'uspa.tech/test': 'crds' } } } });
    for (const { plural } of KINDS) {
      await eventually(`${plural} to be served`, async () => {
        await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural });
        return true;
      });
    }
  });

  after(async () => {
    rmSync(cacheDir, { recursive: true, force: true });
    if (namespace) await kc.makeApiClient(CoreV1Api).deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  test('examples/*.yaml are accepted, and the API server fills in the defaults', async () => {
    const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml')).sort();
    assert.ok(files.includes('quickstart.yaml'));
    for (const file of files) await kubectlOk(['apply', '-n', namespace, '-f', join(EXAMPLES, file)]);

    const web = await read('Source', 'web');
    assert.deepEqual(web.spec, { type: 'web', suspend: false, topic: { partitions: 3, retentionHours: 168, replicationFactor: 1 } });
    const backend = await read('Source', 'backend');
    assert.deepEqual(backend.spec.rateLimit, { eventsPerSecond: 500, burst: 2000 });
    const main = await read('Pipeline', 'main');
    assert.deepEqual(main.spec, { sources: ['web', 'backend'], replicas: 1, suspend: false, retention: '730d' });
    const shop = await read('Pipeline', 'shop');
    assert.deepEqual(shop.spec.batch, { maxEvents: 10000, maxWaitMs: 2000, profileIntervalMs: 5000 });
    const pro = await read('Segment', 'pro-users');
    assert.equal(pro.spec.mode, 'batch');
    assert.equal(pro.spec.refresh, undefined, 'refresh.interval is defaulted by the operator, not the schema');
    const welcome = await read('Activation', 'welcome-pro');
    assert.deepEqual(welcome.spec.trigger, { type: 'segmentEntered', sync: 'diff' });
    assert.deepEqual(welcome.spec.destination, { type: 'webhook', webhook: { url: 'https://hooks.example.com/uspa/welcome-pro', timeoutSeconds: 10 } });
    assert.equal(welcome.spec.holdoutPercent, 0);
    const reminder = await read('Activation', 'cart-reminder');
    assert.deepEqual((reminder.spec.destination as { email: Json }).email.smtpSecretRef, { name: 'smtp', key: 'url' });
    assert.equal((reminder.spec.destination as { email: Json }).email.to, '{{ traits.email }}');
  });

  for (const kind of Object.keys(CASES) as Kind[]) {
    test(`${kind}: the minimal valid spec is accepted, and each invalid one is refused naming its field`, async (t) => {
      await create(kind, `valid-${kind.toLowerCase()}`, VALID[kind], true);
      for (const c of CASES[kind]) await t.test(c.name, () => assertRefused(kind, c.spec, c.expect));
    });
  }

  test('metadata.name must be a DNS-1123 label (CEL on metadata.name)', async () => {
    const { message } = await refusal(create('Source', 'web.v2', SOURCE, true));
    assert.ok(message.includes('metadata.name must be a DNS-1123 label'), message);
    await create('Source', 'web-v2', SOURCE, true);
  });

  test('transition rule: topic.partitions can grow but never shrink, not even by removing topic', async () => {
    const name = 'grows';
    await create('Source', name, { type: 'server', topic: { partitions: 6 } });
    const patch = (body: unknown) =>
      custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'sources', name, body: body as object });

    const { message: shrink } = await refusal(patch([{ op: 'replace', path: '/spec/topic/partitions', value: 3 }]));
    assert.match(shrink, /spec\.topic\.partitions: .*topic\.partitions cannot be decreased \(Kafka cannot remove partitions\)/);
    // Without topic the defaults (3 partitions) come back: that is a decrease too.
    const { message: removed } = await refusal(patch([{ op: 'remove', path: '/spec/topic' }]));
    assert.ok(removed.includes('topic.partitions cannot be decreased'), removed);

    await patch([{ op: 'replace', path: '/spec/topic/partitions', value: 8 }]);
    const grown = await read('Source', name);
    assert.deepEqual(grown.spec.topic, { partitions: 8, retentionHours: 168, replicationFactor: 1 });
    // Other fields of the topic still change freely.
    await patch([{ op: 'replace', path: '/spec/topic/retentionHours', value: 24 }]);
  });

  test('status: the conditions schema is enforced on the status subresource, and READY shows the Ready condition', async () => {
    const patchStatus = (status: Json) =>
      custom.patchNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace, plural: 'sources', name: 'web', body: [{ op: 'add', path: '/status', value: status }] });
    const condition = { type: 'Ready', status: 'True', reason: 'TopicReady', message: '', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), observedGeneration: 1 };

    const { message: bad } = await refusal(patchStatus({ conditions: [{ ...condition, status: 'Maybe' }] }));
    assert.ok(bad.includes('status.conditions[0].status: Unsupported value: "Maybe"'), bad);
    const { message: duplicate } = await refusal(patchStatus({ conditions: [condition, { ...condition, status: 'False' }] }));
    assert.ok(duplicate.includes('status.conditions[1]: Duplicate value'), duplicate);
    const { message: noReason } = await refusal(patchStatus({ conditions: [{ ...condition, reason: undefined }] }));
    assert.ok(noReason.includes('status.conditions[0].reason: Required value'), noReason);

    await patchStatus({ observedGeneration: 1, topic: 'uspa.events.web', deadLetterTopic: 'uspa.dead-letters.web', partitions: 3, writeKeySecret: 'web-write-key', endpoint: '/v1/batch', conditions: [condition] });
    const out = await kubectlOk(['get', 'source', 'web', '-n', namespace, '-o', 'wide']);
    const [header, row] = out.trim().split('\n').map((l) => l.trim().split(/\s+/));
    assert.deepEqual(header, ['NAME', 'TYPE', 'TOPIC', 'PARTITIONS', 'READY', 'AGE', 'WRITE-KEY-SECRET', 'DEAD-LETTER-TOPIC']);
    assert.deepEqual([...row!.slice(0, 5), ...row!.slice(6)], ['web', 'web', 'uspa.events.web', '3', 'True', 'web-write-key', 'uspa.dead-letters.web']);
  });

  test('kubectl get shows the printer columns, and the short names and the uspa category find every kind', async () => {
    const out = await kubectlOk(['get', 'sources,pipelines,segments,activations', '-n', namespace]);
    const headers = out.split('\n').filter((l) => l.startsWith('NAME')).map((l) => l.trim().split(/\s+/));
    assert.deepEqual(headers, [
      ['NAME', 'TYPE', 'TOPIC', 'PARTITIONS', 'READY', 'AGE'],
      ['NAME', 'SOURCES', 'READY-REPLICAS', 'LAG', 'RETENTION', 'READY', 'AGE'],
      ['NAME', 'MODE', 'SIZE', 'LAST-COMPUTED', 'READY', 'AGE'],
      ['NAME', 'TRIGGER', 'DESTINATION', 'SENT', 'FAILED', 'READY', 'AGE'],
    ]);
    const wide = await kubectlOk(['get', 'pipelines,segments,activations', '-n', namespace, '-o', 'wide']);
    const wideHeaders = wide.split('\n').filter((l) => l.startsWith('NAME')).map((l) => l.trim().split(/\s+/).slice(-2));
    assert.deepEqual(wideHeaders, [['AGE', 'SCHEMA'], ['AGE', 'SCHEDULE'], ['SUPPRESSED', 'SEGMENT']]);
    assert.match(out, /^activation\.uspa\.tech\/welcome-pro\s+segmentEntered\s+webhook\s/m);

    const expected = ['source.uspa.tech/web', 'source.uspa.tech/backend', 'pipeline.uspa.tech/main', 'segment.uspa.tech/pro-users', 'segment.uspa.tech/recent-buyers', 'activation.uspa.tech/welcome-pro'];
    const byCategory = (await kubectlOk(['get', 'uspa', '-n', namespace, '-o', 'name'])).split('\n');
    const byShortName = (await kubectlOk(['get', 'src,pl,seg,act', '-n', namespace, '-o', 'name'])).split('\n');
    for (const name of expected) {
      assert.ok(byCategory.includes(name), `kubectl get uspa lacks ${name}`);
      assert.ok(byShortName.includes(name), `kubectl get src,pl,seg,act lacks ${name}`);
    }
  });

  test('kubectl explain prints the descriptions written in api/v1alpha1', async () => {
    const topic = KINDS.find((k) => k.kind === 'Source')!.crd.spec.versions[0]!.schema.openAPIV3Schema.properties!.spec!.properties!.topic!;
    // The OpenAPI document is published a moment after the CRD changes.
    await eventually('kubectl explain source.spec.topic to show the description', async () => {
      const run = await kubectl(['explain', 'source.spec.topic']);
      return run.code === 0 && whitespace(run.stdout).includes(whitespace(topic.description!)) && run.stdout.includes('partitions');
    }, 30_000);
    const partitions = whitespace(await kubectlOk(['explain', 'source.spec.topic.partitions']));
    assert.ok(partitions.includes('Can be raised, never lowered (Kafka cannot remove partitions). Minimum 1, maximum 1000, default 3.'), partitions);
    const type = await kubectlOk(['explain', 'activation.spec.trigger.type']);
    assert.match(type, /ENUM:\s+event\s+segmentEntered\s+segmentExited\s+schedule/);
  });
});
