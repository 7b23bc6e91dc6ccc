// backfillEnrichment on the dev server against the real ClickHouse: new rules re-enrich the stored
// history, a chunk resumes from its last heartbeat, the workflow replays deterministically.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, Connection } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { Warehouse, clickhouseSettingsFromEnv } from '../../lib/clickhouse.ts';
import { createLogger } from '../../lib/log.ts';
import { migrate } from '../../lib/schema.ts';
import { taskQueue } from '../../api/names.ts';
import { backfillEnrichment } from '../../workflows/enrichment.ts';
import { WORKFLOWS_PATH, startEnrichmentWorker } from '../../workers/enrichment/main.ts';
import { required, unique } from '../support/env.ts';

Runtime.install({ logger: new DefaultLogger('WARN') });
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';

describe('backfillEnrichment', { timeout: 180_000 }, () => {
  const namespace = unique('enr');
  const database = `t_${namespace.replace(/-/g, '_')}`;
  const env = { ...process.env, USPA_DATABASE: database, LOG_LEVEL: 'warn' };
  let w: Warehouse;
  let worker: Awaited<ReturnType<typeof startEnrichmentWorker>>;
  let connection: Connection;
  let client: Client;
  const N = 500;

  before(async () => {
    required('TEMPORAL_ADDRESS');
    w = new Warehouse({ ...clickhouseSettingsFromEnv(env), database });
    await migrate(w, createLogger('test', 'warn'));
    // Stored while the Pipeline did no user-agent parsing and had no URL topics.
    await w.command(`INSERT INTO {db}.events (message_id, source, type, event, timestamp, received_at, identity, profile_id, properties, context, ingested_at)
      SELECT concat('m', leftPad(toString(number), 5, '0')), if(number % 10 = 0, 'other', 'web'), 'page', '', now64(3) - toIntervalDay(number % 70), now64(3), concat('userId:u', toString(number % 50)), concat('p', toString(number % 50)), '{}',
        concat('{"userAgent":"${CHROME}","page":{"url":"https://shop.example/', ['shoes','bags'][number % 2 + 1], '/item-', toString(number), '"}}'), now64(3) - toIntervalHour(1)
      FROM numbers({n:UInt64})`, { n: N });
    worker = await startEnrichmentWorker({ namespace, env });
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
    client = new Client({ connection });
  });
  after(async () => {
    await worker?.close();
    await connection?.close();
    await w?.command('DROP DATABASE IF EXISTS {db}');
    await w?.close();
  });

  const enrich = { userAgent: true, geoip: false, urlTopics: [{ match: '/shoes/**', topic: 'shoes' }] };
  let workflowId = '';

  test('the history of the Pipeline\'s Sources is re-enriched with the new rules, each event once', async () => {
    workflowId = unique('backfill');
    const result = await client.workflow.execute(backfillEnrichment, { taskQueue: taskQueue('enrichment', namespace), workflowId, args: [{ namespace, pipeline: 'main', database, sources: ['web'], enrich, revision: 'r2' }] });
    assert.equal(result.total, N * 0.9, 'only the Pipeline\'s Sources');
    assert.equal(result.processed, N * 0.9);
    assert.ok(result.chunks >= 3, 'one chunk per month at least');
    const [row] = await w.query<{ n: string; chrome: string; shoes: string; other: string }>(
      "SELECT count() AS n, countIf(browser_name = 'Chrome') AS chrome, countIf(has(page_topics, 'shoes')) AS shoes, countIf(source = 'other' AND browser_name != '') AS other FROM {db}.events FINAL",
    );
    assert.equal(Number(row!.n), N, 'no event duplicated');
    assert.equal(Number(row!.chrome), N * 0.9);
    assert.equal(Number(row!.shoes), N / 2 - N / 10, 'even numbers are shoes; multiples of 10 are the other Source');
    assert.equal(Number(row!.other), 0, 'other Sources untouched');
  });

  test('a chunk retried after a crash resumes after its last heartbeat', async () => {
    const plan = (await new MockActivityEnvironment().run(worker.activities.planBackfill, { database, sources: ['web'] })) as { chunks: Array<{ month: number; bucket: number; buckets: number }> };
    const chunk = plan.chunks[0]!;
    const all = (await new MockActivityEnvironment().run(worker.activities.reenrichChunk, { database, sources: ['web'], enrich, chunk })) as number;
    const [mid] = await w.query<{ id: string }>(
      'SELECT message_id AS id FROM {db}.events FINAL WHERE source = {s:String} AND toYYYYMM(timestamp) = {m:UInt32} ORDER BY message_id LIMIT 1 OFFSET {o:UInt32}',
      { s: 'web', m: chunk.month, o: Math.floor(all / 2) - 1 },
    );
    const rest = (await new MockActivityEnvironment({ heartbeatDetails: { after: mid!.id } }).run(worker.activities.reenrichChunk, { database, sources: ['web'], enrich, chunk })) as number;
    assert.equal(rest, all - Math.floor(all / 2));
  });

  test('with anonymizeIp the backfill leaves no raw IP in any stored row, FINAL or not, and changes nothing else', async () => {
    // Stored while the Pipeline kept raw IPs: two months, so two partitions, each in its own part.
    // geoip-lite places 148.74.77.200 in Kinnelon but 148.74.77.0 in Howell Township.
    const raw = ['8.8.8.8', '81.2.69.142', '2001:4860:4860::8888', '148.74.77.200'];
    for (const [month, ago] of [[0, 1], [1, 40]] as const) {
      await w.command(`INSERT INTO {db}.events (message_id, source, type, event, timestamp, received_at, user_id, identity, profile_id, properties, traits, context, ip, revenue, ingested_at)
        SELECT concat('ip', toString({month:UInt8}), '-', toString(number)), 'app', 'track', 'Order Completed', now64(3) - toIntervalDay({ago:UInt32}), now64(3), concat('u', toString(number)), concat('userId:u', toString(number)), concat('p', toString(number)),
          '{"revenue":12.5}', '{"plan":"pro"}', concat('{"ip":"', {raw:Array(String)}[number % 4 + 1], '","locale":"fr-FR","userAgent":"${CHROME}"}'), {raw:Array(String)}[number % 4 + 1], 12.5, now64(3) - toIntervalHour(1)
        FROM numbers(30)`, { month, ago, raw });
    }
    const COLUMNS = 'message_id, source, type, event, timestamp, received_at, user_id, identity, profile_id, properties, traits, revenue, JSONExtractString(context, \'locale\') AS locale';
    const before = await w.query(`SELECT ${COLUMNS} FROM {db}.events FINAL WHERE source = 'app' ORDER BY message_id`);
    assert.equal(before.length, 60);

    await client.workflow.execute(backfillEnrichment, { taskQueue: taskQueue('enrichment', namespace), workflowId: unique('backfill-ip'), args: [{ namespace, pipeline: 'main', database, sources: ['app'], enrich: { anonymizeIp: true }, revision: 'r3' }] });

    // Raw rows, not FINAL: a replaced row that still held the raw IP would count here.
    const [left] = await w.query<{ n: string; rows: string }>(
      'SELECT countIf(ip IN {raw:Array(String)} OR arrayExists(r -> position(context, r) > 0, {raw:Array(String)})) AS n, count() AS rows FROM {db}.events WHERE source = \'app\'',
      { raw },
    );
    assert.equal(Number(left!.n), 0, 'no raw IP left in the events table');
    assert.equal(Number(left!.rows), 60, 'one row per event left: the replaced copies are gone');
    const GEO = "SELECT DISTINCT ip, JSONExtractString(context, 'ip') AS context_ip, country, region, city FROM {db}.events FINAL WHERE source = 'app' ORDER BY ip";
    const geo = [
      { ip: '148.74.77.0', context_ip: '148.74.77.0', country: 'US', region: 'NJ', city: 'Kinnelon' },
      { ip: '2001:4860:4860::', context_ip: '2001:4860:4860::', country: 'US', region: '', city: '' },
      { ip: '8.8.8.0', context_ip: '8.8.8.0', country: 'US', region: '', city: '' },
      { ip: '81.2.69.0', context_ip: '81.2.69.0', country: 'GB', region: 'ENG', city: 'St Albans' },
    ];
    assert.deepEqual(await w.query(GEO), geo, 'the anonymized address in both places; geo from the full one');
    assert.deepEqual(await w.query(`SELECT ${COLUMNS} FROM {db}.events FINAL WHERE source = 'app' ORDER BY message_id`), before, 'every other field as it was');

    // A later change of other rules keeps the geo the full addresses gave (not the anonymized ones').
    await client.workflow.execute(backfillEnrichment, { taskQueue: taskQueue('enrichment', namespace), workflowId: unique('backfill-ip'), args: [{ namespace, pipeline: 'main', database, sources: ['app'], enrich: { anonymizeIp: true, userAgent: false }, revision: 'r4' }] });
    assert.deepEqual(await w.query(GEO), geo, 'geo unchanged by a second backfill');
    const [ua] = await w.query<{ n: string }>("SELECT countIf(browser_name != '') AS n FROM {db}.events FINAL WHERE source = 'app'");
    assert.equal(Number(ua!.n), 0, 'the second backfill applied its own rules');
  });

  test('the recorded history replays deterministically', async () => {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    await Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, workflowId);
  });
});
