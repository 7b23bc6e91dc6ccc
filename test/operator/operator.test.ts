// The operator against the real API server, Kafka, ClickHouse and Temporal: what each kind turns
// into, drift repair, references that heal, finalizers, restart without duplicate side effects.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { MIGRATIONS } from '../../api/tables/migrations.ts';
import { eventually } from '../support/env.ts';
import { kubectl, operatorHarness, type OperatorHarness } from '../support/operator.ts';

const yaml = String.raw;

describe('operator', { timeout: 600_000 }, () => {
  let h: OperatorHarness;
  before(async () => {
    h = await operatorHarness('op');
    await h.startOperator();
  });
  after(async () => h?.close());

  const topics = async () => new Set(await h.kafka.listTopics());
  const topicOf = (source: string) => `${h.settings.topicPrefix}.${h.namespace}.events.${source}`;
  const dlqOf = (source: string) => `${h.settings.topicPrefix}.${h.namespace}.dead-letters.${source}`;

  test('Source: topics with the spec\'s partitions and retention, a generated write key that never reaches status, logs or Events, the shared collector', async () => {
    // An existing topic with a min.insync.replicas its replication factor (1) can never satisfy.
    await h.kafka.createTopics({ topics: [{ topic: topicOf('web'), numPartitions: 4, replicationFactor: 1, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }] });
    await h.apply(yaml`
apiVersion: uspa.tech/v1alpha1
kind: Source
metadata: { name: web }
spec:
  type: web
  topic: { partitions: 4, retentionHours: 48 }
  deadLetter: { retentionHours: 24 }
`);
    const c = await h.ready('sources', 'web', 'CollectorNotAvailable');
    assert.equal(c.status, 'False', 'no workload runs yet: not Ready, and it says why');
    const source = await h.get('sources', 'web');
    assert.equal(source.status!.topic, topicOf('web'));
    assert.equal(source.status!.deadLetterTopic, dlqOf('web'));
    assert.equal(source.status!.partitions, 4);
    assert.equal(source.status!.writeKeySecret, 'web-write-key');
    assert.equal(source.status!.observedGeneration, 1);
    const existing = await topics();
    assert.deepEqual([topicOf('web'), dlqOf('web')].filter((t) => !existing.has(t)), [], 'topics missing in Kafka');
    const meta = await h.kafka.fetchTopicMetadata({ topics: [topicOf('web')] });
    assert.equal(meta.topics[0]!.partitions.length, 4);
    const configs = await h.kafka.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: dlqOf('web'), configNames: ['retention.ms'] }] });
    assert.equal(configs.resources[0]!.configEntries[0]!.configValue, String(24 * 3_600_000));
    // min.insync.replicas follows the replication factor (1 → 1), set on the new topic and corrected on the existing one.
    const insync = await h.kafka.describeConfigs({ includeSynonyms: false, resources: [topicOf('web'), dlqOf('web')].map((name) => ({ type: 2, name, configNames: ['min.insync.replicas'] })) });
    const insyncOf = (t: string) => insync.resources.find((r) => r.resourceName === t)?.configEntries.map((c) => [c.configValue, c.isDefault]);
    assert.deepEqual([insyncOf(topicOf('web')), insyncOf(dlqOf('web'))], [[['1', false]], [['1', false]]]);

    const secret = await h.core.readNamespacedSecret({ name: 'web-write-key', namespace: h.namespace });
    const key = Buffer.from(secret.data!.writeKey!, 'base64').toString();
    assert.ok(key.length >= 24);
    assert.equal(secret.metadata!.ownerReferences![0]!.kind, 'Source');
    const events = await kubectl(['get', 'events', '-n', h.namespace, '-o', 'json']);
    assert.match(events, /WriteKeyGenerated/);
    for (const text of [JSON.stringify(source), events, h.logs.join('')]) assert.ok(!text.includes(key), 'the write key leaked');

    const deployment = await h.apps.readNamespacedDeployment({ name: 'uspa-collector', namespace: h.namespace });
    assert.deepEqual(deployment.spec!.template.spec!.containers[0]!.args, ['collector']);
    const keyEnv = deployment.spec!.template.spec!.containers[0]!.env!.find((e) => e.name === 'USPA_WRITE_KEY_WEB')!;
    assert.equal(keyEnv.value, undefined, 'the key reaches the pod only as a Secret ref');
    assert.equal(keyEnv.valueFrom?.secretKeyRef?.name, 'web-write-key');
    assert.equal(keyEnv.valueFrom?.secretKeyRef?.key, 'writeKey');
    assert.equal(deployment.metadata!.ownerReferences![0]!.name, 'web');
    const config = await h.core.readNamespacedConfigMap({ name: 'uspa-collector', namespace: h.namespace });
    assert.match(config.data!['config.yaml']!, /name: web/);
    await h.core.readNamespacedService({ name: 'uspa-collector', namespace: h.namespace });
  });

  test('Source update: partitions grow in Kafka; status follows the new generation', async () => {
    await kubectl(['patch', 'source', 'web', '-n', h.namespace, '--type=merge', '-p', '{"spec":{"topic":{"partitions":6}}}']);
    await eventually('6 partitions in Kafka and in status', async () => {
      const s = await h.get('sources', 'web');
      const meta = await h.kafka.fetchTopicMetadata({ topics: [topicOf('web')] });
      return s.status!.partitions === 6 && s.status!.observedGeneration === 2 && meta.topics[0]!.partitions.length === 6;
    });
  });

  test('Source with a missing write-key Secret: Ready=False SecretNotFound, left out of the collector; heals when the Secret appears', async () => {
    await h.apply(yaml`
apiVersion: uspa.tech/v1alpha1
kind: Source
metadata: { name: app }
spec:
  type: mobile
  writeKeySecretRef: { name: app-credentials, key: key }
`);
    const c = await h.ready('sources', 'app', 'SecretNotFound');
    assert.match(c.message, /app-credentials/);
    const config = await h.core.readNamespacedConfigMap({ name: 'uspa-collector', namespace: h.namespace });
    assert.doesNotMatch(config.data!['config.yaml']!, /name: app\b/, 'a broken Source must not break the shared collector');
    await h.core.createNamespacedSecret({ namespace: h.namespace, body: { metadata: { name: 'app-credentials' }, stringData: { key: 'k'.repeat(32) } } });
    await h.ready('sources', 'app', 'CollectorNotAvailable');
    await eventually('the collector to serve app', async () => /name: app\b/.test((await h.core.readNamespacedConfigMap({ name: 'uspa-collector', namespace: h.namespace })).data!['config.yaml']!));
  });

  test('Source requiring a consent purpose no Pipeline reading it declares: Degraded UndeclaredPurpose naming what is declared; heals when fixed', async () => {
    await h.apply(yaml`
apiVersion: uspa.tech/v1alpha1
kind: Source
metadata: { name: kiosk }
spec: { type: web, consent: { required: false, purpose: analytcs } }
---
apiVersion: uspa.tech/v1alpha1
kind: Pipeline
metadata: { name: kiosk-main }
spec:
  sources: [kiosk]
  consent: { purposes: [{ name: analytics }, { name: marketing }] }
`);
    const c = await h.ready('sources', 'kiosk', 'UndeclaredPurpose');
    assert.equal(c.status, 'False');
    assert.match(c.message, /"analytcs" is not declared by Pipeline kiosk-main \(spec\.consent\.purposes: analytics, marketing\)/);
    await h.apply(yaml`
apiVersion: uspa.tech/v1alpha1
kind: Source
metadata: { name: kiosk }
spec: { type: web, consent: { required: false, purpose: analytics } }
`);
    const healed = await h.ready('sources', 'kiosk', 'CollectorNotAvailable');
    assert.doesNotMatch(healed.message, /purpose/);
    // Gone again: the namespace's retention is the longest of its Pipelines', which the next tests set.
    await kubectl(['delete', 'pipelines.uspa.tech/kiosk-main', 'sources.uspa.tech/kiosk', '-n', h.namespace, '--wait=true', '--timeout=60s']);
  });

  test('Pipeline: a missing Source gives SourceNotFound and heals by itself; schema in ClickHouse; workers as a Deployment', async () => {
    await h.apply(yaml`
apiVersion: uspa.tech/v1alpha1
kind: Pipeline
metadata: { name: main }
spec:
  sources: [web, backend]
  batch: { maxWaitMs: 200 }
`);
    const c = await h.ready('pipelines', 'main', 'SourceNotFound');
    assert.match(c.message, /"backend"/);
    await h.apply(yaml`
apiVersion: uspa.tech/v1alpha1
kind: Source
metadata: { name: backend }
spec: { type: server }
`);
    await h.ready('pipelines', 'main', 'WorkersNotReady');
    const p = await h.get('pipelines', 'main');
    assert.equal(p.status!.schemaVersion, Math.max(...MIGRATIONS.map((m) => m.version)));
    assert.equal(p.status!.deployment, 'uspa-pipeline-main');
    const tables = (await h.warehouse.query<{ name: string }>('SELECT name FROM system.tables WHERE database = {db:String}', { db: h.warehouse.database })).map((r) => r.name);
    for (const t of ['events', 'profiles', 'identities', 'segment_versions', 'activation_deliveries']) assert.ok(tables.includes(t), `table ${t}`);
    const d = await h.apps.readNamespacedDeployment({ name: 'uspa-pipeline-main', namespace: h.namespace });
    const env = Object.fromEntries(d.spec!.template.spec!.containers[0]!.env!.map((e) => [e.name, e.value ?? e.valueFrom]));
    assert.equal(env.USPA_PIPELINE, 'main');
    assert.equal(env.USPA_DATABASE, h.warehouse.database);
    assert.equal(JSON.stringify(env.CLICKHOUSE_PASSWORD), JSON.stringify({ secretKeyRef: { key: 'CLICKHOUSE_PASSWORD', name: 'uspa-pipeline-main-clickhouse' } }));
    assert.ok(!JSON.stringify(d).includes(h.settings.clickhouse.password) || h.settings.clickhouse.password === '', 'no password in the Deployment');
    const config = (await h.core.readNamespacedConfigMap({ name: 'uspa-pipeline-main', namespace: h.namespace })).data!['config.yaml']!;
    assert.match(config, /maxWaitMs: 200/);
    assert.doesNotMatch(config, /writeKey/);
  });

  test('Pipeline retention: a TTL on the events table (2 years by default), changed with the spec, in status; forever removes it', async () => {
    const ttl = async () => {
      const [row] = await h.warehouse.query<{ q: string }>("SELECT create_table_query AS q FROM system.tables WHERE database = {db:String} AND name = 'events'", { db: h.warehouse.database });
      return /TTL toDateTime\(timestamp\) \+ toIntervalSecond\((\d+)\)/.exec(row!.q)?.[1];
    };
    await eventually('retention 730d in status', async () => (await h.get('pipelines', 'main')).status!.retention === '730d');
    assert.equal(await ttl(), String(730 * 86_400));
    // Two events, 100 days and 1 day old: a 30-day retention deletes the first only, already stored.
    const day = 86_400_000;
    const at = (ms: number) => new Date(Date.now() - ms).toISOString().replace('T', ' ').replace('Z', '');
    await h.warehouse.command(`INSERT INTO {db}.events (message_id, timestamp, received_at) VALUES ('old', '${at(100 * day)}', now64(3)), ('recent', '${at(day)}', now64(3))`);
    await kubectl(['patch', 'pipeline', 'main', '-n', h.namespace, '--type=merge', '-p', '{"spec":{"retention":"30d"}}']);
    await eventually('retention 30d in status', async () => (await h.get('pipelines', 'main')).status!.retention === '30d');
    assert.equal(await ttl(), String(30 * 86_400));
    const kept = async () => (await h.warehouse.query<{ message_id: string }>("SELECT message_id FROM {db}.events WHERE message_id IN ('old', 'recent') ORDER BY message_id")).map((r) => r.message_id);
    await eventually('the 100-day-old event to be deleted', async () => (await kept()).join() === 'recent', 30_000);
    await kubectl(['patch', 'pipeline', 'main', '-n', h.namespace, '--type=merge', '-p', '{"spec":{"retention":"forever"}}']);
    await eventually('retention forever in status', async () => (await h.get('pipelines', 'main')).status!.retention === 'forever');
    assert.equal(await ttl(), undefined);
    await assert.rejects(kubectl(['patch', 'pipeline', 'main', '-n', h.namespace, '--type=merge', '-p', '{"spec":{"retention":"2 years"}}']), /spec\.retention/);
    await h.warehouse.command("DELETE FROM {db}.events WHERE message_id = 'recent'");
  });

  test('changing spec.enrich starts one backfill workflow for the new rules, shown in status', async () => {
    const first = (await h.get('pipelines', 'main')).status!.backfill as { revision: string; state: string; workflowId: string };
    assert.equal(first.state, 'Completed', 'a new Pipeline has no history to re-enrich');
    await kubectl(['patch', 'pipeline', 'main', '-n', h.namespace, '--type=merge', '-p', '{"spec":{"enrich":{"urlTopics":[{"match":"/shoes/**","topic":"shoes"}]}}}']);
    const running = await eventually('a running backfill', async () => {
      const b = (await h.get('pipelines', 'main')).status!.backfill as { revision: string; state: string; workflowId: string };
      return b.revision !== first.revision && b.state === 'Running' ? b : undefined;
    });
    const description = await h.temporal.workflow.getHandle(running.workflowId).describe();
    assert.equal(description.type, 'backfillEnrichment');
    assert.equal(description.taskQueue, `uspa-enrichment.${h.namespace}`);
    assert.match(await kubectl(['get', 'events', '-n', h.namespace, '--field-selector', 'reason=BackfillStarted', '-o', 'name']), /event/);
    await h.temporal.workflow.getHandle(running.workflowId).terminate('test over');
  });

  test('drift: an owned Deployment deleted or scaled by hand is put back', async () => {
    const before = await h.apps.readNamespacedDeployment({ name: 'uspa-collector', namespace: h.namespace });
    await h.apps.deleteNamespacedDeployment({ name: 'uspa-collector', namespace: h.namespace });
    await eventually('the collector Deployment to come back', async () => {
      const d = await h.apps.readNamespacedDeployment({ name: 'uspa-collector', namespace: h.namespace });
      return d.metadata!.uid !== before.metadata!.uid;
    });
    await kubectl(['scale', 'deployment/uspa-pipeline-main', '-n', h.namespace, '--replicas=3']);
    await eventually('the pipeline Deployment back at 1 replica', async () => (await h.apps.readNamespacedDeployment({ name: 'uspa-pipeline-main', namespace: h.namespace })).spec!.replicas === 1);
  });

  test('Segment: compiled query in status, a Temporal schedule; invalid rules, missing references and cycles are reported and heal', async () => {
    await h.apply(yaml`
apiVersion: uspa.tech/v1alpha1
kind: Segment
metadata: { name: buyers }
spec:
  rule: { event: Order Completed, atLeast: 2, within: 30d }
  refresh: { interval: 15m }
---
apiVersion: uspa.tech/v1alpha1
kind: Segment
metadata: { name: vip }
spec:
  rule:
    all:
      - { segment: buyers }
      - { segment: big-spenders }
`);
    await h.ready('segments', 'buyers');
    const buyers = await h.get('segments', 'buyers');
    assert.match(String(buyers.status!.compiledQuery), /FROM \{db\}\.profiles/);
    assert.match(String(buyers.status!.compiledQuery), /'Order Completed'/);
    const schedule = await h.temporal.schedule.getHandle(`uspa-segment-${h.namespace}-buyers`).describe();
    assert.equal(schedule.action.type === 'startWorkflow' && schedule.action.workflowType, 'computeSegment');
    assert.equal(schedule.spec.intervals?.[0]?.every, 15 * 60_000);

    const missing = await h.ready('segments', 'vip', 'SegmentNotFound');
    assert.match(missing.message, /"big-spenders"/);
    await h.apply(yaml`
apiVersion: uspa.tech/v1alpha1
kind: Segment
metadata: { name: big-spenders }
spec:
  rule: { profile: lifetime_revenue, op: gt, value: 1000 }
`);
    await h.ready('segments', 'vip');

    // A cycle: buyers now refers to vip, which refers to buyers.
    const setRule = (rule: object) => kubectl(['patch', 'segment', 'buyers', '-n', h.namespace, '--type=json', '-p', JSON.stringify([{ op: 'replace', path: '/spec/rule', value: rule }])]);
    await setRule({ any: [{ segment: 'vip' }] });
    const cycle = await h.ready('segments', 'buyers', 'ReferenceCycle');
    assert.match(cycle.message, /buyers → vip → buyers|vip → buyers → vip/);
    await setRule({ trait: 'plan', op: 'equals', value: 'pro' });
    const invalid = await h.ready('segments', 'buyers', 'InvalidRule');
    assert.match(invalid.message, /unknown operator "equals"/);
    assert.equal((await h.get('segments', 'buyers')).status!.compiledQuery, undefined, 'no stale query shown for an invalid rule');
    await setRule({ trait: 'plan', op: 'eq', value: 'pro' });
    await h.ready('segments', 'buyers');
  });

  test('Activation: template errors at apply time; schedule for audience syncs; registration for event triggers', async () => {
    await h.apply(yaml`
apiVersion: uspa.tech/v1alpha1
kind: Activation
metadata: { name: sync }
spec:
  segment: buyers
  trigger: { type: schedule, schedule: { interval: 1h } }
  destination: { type: kafka, kafka: { topic: ${h.settings.topicPrefix}.${h.namespace}.out.audience-sync } }
---
apiVersion: uspa.tech/v1alpha1
kind: Activation
metadata: { name: abandoned-cart }
spec:
  trigger:
    type: event
    event: { name: Product Added }
    delay: 30m
    unless: { event: Order Completed, within: 30m }
  destination: { type: webhook, webhook: { url: "https://example.com/hook" } }
  template: { body: "Hi {{ traits.firstName " }
`);
    // No activations worker runs here: the operator has done its part and waits for the worker's report.
    await h.ready('activations', 'sync', 'WaitingForWorker');
    const sync = await h.get('activations', 'sync');
    assert.equal(sync.status!.schedule, `uspa-activation-${h.namespace}-sync`);
    assert.equal(sync.status!.sent, 0);
    const schedule = await h.temporal.schedule.getHandle(`uspa-activation-${h.namespace}-sync`).describe();
    assert.equal(schedule.action.type === 'startWorkflow' && schedule.action.workflowType, 'syncAudience');

    const bad = await h.ready('activations', 'abandoned-cart', 'TemplateInvalid');
    assert.match(bad.message, /spec\.template\.body/);
    await kubectl(['patch', 'activation', 'abandoned-cart', '-n', h.namespace, '--type=merge', '-p', '{"spec":{"template":{"body":"Hi {{ traits.firstName }}"}}}']);
    await h.ready('activations', 'abandoned-cart', 'WaitingForWorker');
    const triggers = (await h.core.readNamespacedConfigMap({ name: 'uspa-triggers', namespace: h.namespace })).data!['triggers.yaml']!;
    assert.match(triggers, /activation: abandoned-cart/);
    assert.match(triggers, /Product Added/);
  });

  test('Pipeline status shows consumer lag; suspend scales the workers to zero', async () => {
    const producer = new Kafka({ clientId: 'uspa-tests', brokers: h.settings.kafkaBrokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({ topic: topicOf('backend'), messages: Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, value: JSON.stringify({ i }) })) });
    await producer.disconnect();
    await kubectl(['patch', 'pipeline', 'main', '-n', h.namespace, '--type=merge', '-p', '{"spec":{"suspend":true}}']);
    await h.ready('pipelines', 'main', 'Suspended');
    await eventually('lag 5 in status', async () => (await h.get('pipelines', 'main')).status!.consumerLag === 5, 30_000);
    assert.equal((await h.apps.readNamespacedDeployment({ name: 'uspa-pipeline-main', namespace: h.namespace })).spec!.replicas, 0);
    await kubectl(['patch', 'pipeline', 'main', '-n', h.namespace, '--type=merge', '-p', '{"spec":{"suspend":false}}']);
    // Within the informers' promised bound: a watch that stalls without an error (seen in CI, cause
    // unknown) is caught at the next resync (60 s here) and listed again, not only on the next event.
    await h.ready('pipelines', 'main', 'WorkersNotReady', 120_000);
  });

  test('an Activation waits for its Segment and heals when it appears', async () => {
    await h.apply(yaml`
apiVersion: uspa.tech/v1alpha1
kind: Activation
metadata: { name: welcome }
spec:
  segment: newcomers
  trigger: { type: segmentEntered }
  destination: { type: kafka, kafka: { topic: ${h.settings.topicPrefix}.${h.namespace}.out.welcome } }
`);
    const c = await h.ready('activations', 'welcome', 'SegmentNotFound');
    assert.match(c.message, /"newcomers"/);
    await h.apply(yaml`
apiVersion: uspa.tech/v1alpha1
kind: Segment
metadata: { name: newcomers }
spec: { rule: { profile: event_count, op: lt, value: 3 } }
`);
    await h.ready('activations', 'welcome', 'WaitingForWorker');
  });

  test('/metrics counts reconciles, errors and durations per kind; /readyz says ready', async () => {
    const base = `http://127.0.0.1:${h.operator!.port}`;
    const metrics = await (await fetch(`${base}/metrics`)).text();
    for (const kind of ['Source', 'Pipeline', 'Segment', 'Activation']) assert.match(metrics, new RegExp(`uspa_operator_reconciles_total\\{[^}]*kind="${kind}"[^}]*\\} [1-9]`));
    assert.match(metrics, /uspa_operator_reconcile_seconds_bucket\{/);
    assert.match(metrics, /uspa_operator_queue_depth\{/);
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
  });

  test('kubectl get shows useful columns for all four kinds', async () => {
    const out = await kubectl(['get', 'sources,pipelines,segments,activations', '-n', h.namespace]);
    assert.match(out, /TYPE\s+TOPIC\s+PARTITIONS\s+READY\s+AGE/);
    assert.match(out, new RegExp(`web\\s+web\\s+${topicOf('web').replace(/\./g, '\\.')}\\s+6`));
    assert.match(out, /SOURCES\s+READY-REPLICAS\s+LAG\s+RETENTION/);
    assert.match(out, /MODE\s+SIZE\s+LAST-COMPUTED/);
    assert.match(out, /TRIGGER\s+DESTINATION\s+SENT\s+FAILED/);
    assert.match(out, /sync\s+schedule\s+kafka\s+0\s+0\s+False/, 'not Ready: no activations worker runs here to report it loaded');
  });

  test('a restarted operator converges with no duplicate side effects', async () => {
    const snapshot = async () => ({
      deployments: (await h.apps.listNamespacedDeployment({ namespace: h.namespace })).items.map((d) => `${d.metadata!.name}@${d.metadata!.generation}`).sort(),
      secret: (await h.core.readNamespacedSecret({ name: 'web-write-key', namespace: h.namespace })).data!.writeKey,
      events: (await kubectl(['get', 'events', '-n', h.namespace, '--field-selector', 'reason=ScheduleCreated', '-o', 'name'])).trim().split('\n').length,
      generated: await kubectl(['get', 'events', '-n', h.namespace, '--field-selector', 'reason=WriteKeyGenerated', '-o', 'jsonpath={.items[*].count}']),
      schedules: await Promise.all(['buyers', 'vip', 'big-spenders'].map(async (s) => (await h.temporal.schedule.getHandle(`uspa-segment-${h.namespace}-${s}`).describe()).info.createdAt.toISOString())),
    });
    const before = await snapshot();
    await h.stopOperator();
    const reconcilesBefore = h.logs.length;
    await h.startOperator();
    await eventually('the new operator to have reconciled everything', async () => h.logs.slice(reconcilesBefore).some((l) => l.includes('caches synced')));
    await new Promise((r) => setTimeout(r, 3_000));
    assert.deepEqual(await snapshot(), before, 'deployment generations, the write key, schedules and events unchanged');
  });

  test('deletion: finalizers delete topics and schedules; owned objects are garbage-collected', async () => {
    await kubectl(['delete', 'segment', 'vip', '-n', h.namespace, '--wait=true', '--timeout=60s']);
    await assert.rejects(h.temporal.schedule.getHandle(`uspa-segment-${h.namespace}-vip`).describe(), /not found/i);
    await kubectl(['delete', 'activation', 'sync', '-n', h.namespace, '--wait=true', '--timeout=60s']);
    await assert.rejects(h.temporal.schedule.getHandle(`uspa-activation-${h.namespace}-sync`).describe(), /not found/i);

    await kubectl(['delete', 'pipeline', 'main', '-n', h.namespace, '--wait=true', '--timeout=60s']);
    await eventually('the pipeline Deployment to be garbage-collected', async () => {
      try {
        await h.apps.readNamespacedDeployment({ name: 'uspa-pipeline-main', namespace: h.namespace });
        return false;
      } catch (err) {
        return (err as { code?: number }).code === 404;
      }
    });
    await kubectl(['delete', 'source', 'app', '-n', h.namespace, '--wait=true', '--timeout=60s']);
    const left = await topics();
    assert.ok(!left.has(topicOf('app')) && !left.has(dlqOf('app')), 'the Source\'s topics are deleted with it');
    assert.ok(left.has(topicOf('web')), 'other Sources keep theirs');
    assert.doesNotMatch((await h.core.readNamespacedConfigMap({ name: 'uspa-collector', namespace: h.namespace })).data!['config.yaml']!, /name: app\b/);
  });
});
