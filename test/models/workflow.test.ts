// The retraining workflows' own logic with recorded activities, on Temporal's time-skipping test
// server (the dev server where real time matters): order (train → commit → traits → prune),
// retries of a failed training, chunked trait application, a run already trained, nothing to
// train, runs of one model never overlapping.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { PersonasOutcome } from '../../api/workflows/models.ts';
import type { ModelsActivities } from '../../workers/models/activities.ts';
import { WORKFLOWS_PATH } from '../../workers/models/main.ts';
import { retrainPersonas, retrainRecommendations } from '../../workflows/models.ts';
import { required, unique } from '../support/env.ts';
import { timeSkippingEnvironment } from '../support/temporal.ts';

Runtime.install({ logger: new DefaultLogger('ERROR') });

type Activities = ModelsActivities;

interface Script {
  begin: Awaited<ReturnType<Activities['beginModelVersion']>>;
  trainFailures?: number;
  /** Training waits for this. */
  gate?: Promise<void>;
  trained?: Awaited<ReturnType<Activities['trainPersonas']>>;
  chunks?: number;
}

describe('retraining workflows (recorded activities)', { timeout: 180_000 }, () => {
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundleWithSourceMap;
  let calls: Array<[string, Record<string, unknown>]>;
  let script: Script;

  const trained: Script['trained'] = { skipped: false, params: { seed: 1 }, quality: { k: 3, silhouette: 0.8, n: 10, clusters: [{ persona: 'p1-a', size: 6 }, { persona: 'p2-b', size: 4 }] }, artifact: {} };
  const record = (name: string, input: object) => void calls.push([name, input as Record<string, unknown>]);
  let trainAttempts = 0;
  const activities: Pick<Activities, 'beginModelVersion' | 'trainPersonas' | 'trainRecommendations' | 'commitModelVersion' | 'applyPersonaTraits' | 'pruneModelVersions'> = {
    async beginModelVersion(input) {
      record('begin', input);
      return script.begin;
    },
    async trainPersonas(input) {
      record('train', input);
      if (trainAttempts++ < (script.trainFailures ?? 0)) throw new Error('worker lost');
      await script.gate;
      return script.trained ?? trained;
    },
    async trainRecommendations(input) {
      record('trainRecommendations', input);
      return { skipped: false, params: {}, quality: { items: 3 }, artifact: {} };
    },
    async commitModelVersion(input) {
      record('commit', input);
    },
    async applyPersonaTraits(input) {
      record('apply', input);
      const index = calls.filter(([n]) => n === 'apply').length;
      const last = index >= (script.chunks ?? 1);
      return { next: last ? null : `id-${index}`, profiles: 2, traitsWritten: 3, profilesUpdated: 2, profilesDeferred: 0 };
    },
    async pruneModelVersions(input) {
      record('prune', input);
    },
  };

  const run = async <T>(workflow: typeof retrainPersonas | typeof retrainRecommendations, input: object, s: Script): Promise<T> => {
    calls = [];
    script = s;
    trainAttempts = 0;
    const taskQueue = unique('models-wf');
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities });
    return (await worker.runUntil(env.client.workflow.execute(workflow as typeof retrainPersonas, { taskQueue, workflowId: unique('wf'), args: [{ namespace: 'shop', database: 'db', ...input }] }))) as T;
  };

  before(async () => {
    env = await timeSkippingEnvironment();
    bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never });
  });
  after(async () => {
    await env?.teardown();
  });

  test('personas: a failed training is retried; the version is committed before the traits, which go in chunks; old versions pruned', async () => {
    const result = await run<PersonasOutcome>(retrainPersonas, { run: 'rev-1', revision: 'cfg-9', kRange: [2, 5], seed: 4 }, { begin: { version: 7, committed: false }, trainFailures: 2, chunks: 3 });
    assert.deepEqual(calls.map(([n]) => n), ['begin', 'train', 'train', 'train', 'commit', 'apply', 'apply', 'apply', 'prune']);
    assert.deepEqual(calls[0]![1], { database: 'db', model: 'personas', run: 'rev-1' });
    assert.deepEqual(calls[1]![1], { database: 'db', version: 7, kRange: [2, 5], seed: 4 });
    const commit = calls[4]![1];
    assert.equal(commit.version, 7);
    assert.equal(commit.run, 'rev-1');
    assert.equal(commit.revision, 'cfg-9');
    const applies = calls.filter(([n]) => n === 'apply').map(([, i]) => i);
    assert.deepEqual(applies.map((a) => a.after), ['', 'id-1', 'id-2']);
    assert.deepEqual(applies.map((a) => [a.trainedAt, a.version, a.limit]), applies.map(() => [commit.trainedAt, 7, 2000]));
    assert.deepEqual(calls[8]![1], { database: 'db', model: 'personas', keep: 3 });
    assert.deepEqual(result, {
      version: 7,
      run: 'rev-1',
      trained: true,
      k: 3,
      silhouette: 0.8,
      n: 10,
      personas: [{ persona: 'p1-a', size: 6 }, { persona: 'p2-b', size: 4 }],
      traits: { profiles: 6, traitsWritten: 9, profilesUpdated: 6, profilesDeferred: 0 },
    });
  });

  test('personas: a run already trained is not trained again, only its traits re-applied', async () => {
    const trainedAt = '2026-01-02T03:04:05.000Z';
    const result = await run<PersonasOutcome>(retrainPersonas, { run: 'rev-1' }, { begin: { version: 7, committed: true, trainedAt, quality: trained.quality } });
    assert.deepEqual(calls.map(([n]) => n), ['begin', 'apply', 'prune']);
    assert.equal(calls[1]![1].trainedAt, trainedAt);
    assert.equal(result.trained, false);
    assert.equal(result.k, 3);
  });

  test('personas: nothing to train → no version, no traits; the run key defaults to the workflow id', async () => {
    const result = await run<{ skipped: string; run: string }>(retrainPersonas, {}, { begin: { version: 1, committed: false }, trained: { skipped: true, reason: 'too few profiles' } });
    assert.deepEqual(calls.map(([n]) => n), ['begin', 'train']);
    assert.equal(result.skipped, 'too few profiles');
    assert.match(result.run, /^wf-/);
  });

  test('recommendations: train → commit → prune; a trained run returns its version', async () => {
    const fresh = await run<{ version: number; trained: boolean }>(retrainRecommendations, { run: 'r', topN: 7 }, { begin: { version: 2, committed: false } });
    assert.deepEqual(calls.map(([n]) => n), ['begin', 'trainRecommendations', 'commit', 'prune']);
    assert.deepEqual(calls[1]![1], { database: 'db', version: 2, topN: 7 });
    assert.deepEqual(fresh, { version: 2, run: 'r', trained: true, quality: { items: 3 } });
    const again = await run<{ version: number; trained: boolean }>(retrainRecommendations, { run: 'r' }, { begin: { version: 2, committed: true, quality: { items: 3 } } });
    assert.deepEqual(calls.map(([n]) => n), ['begin']);
    assert.equal(again.trained, false);
  });

  test('two runs of one model on one database never overlap: one started meanwhile is skipped (dev server: real time)', async () => {
    calls = [];
    trainAttempts = 0;
    let release = () => {};
    script = { begin: { version: 3, committed: false }, gate: new Promise<void>((r) => (release = r)) };
    const taskQueue = unique('models-wf');
    const nativeConnection = await NativeConnection.connect({ address: required('TEMPORAL_ADDRESS') });
    const connection = await Connection.connect({ address: required('TEMPORAL_ADDRESS') });
    const client = new Client({ connection });
    const database = `db_${unique('x').replace(/-/g, '_')}`;
    try {
      const worker = await Worker.create({ connection: nativeConnection, taskQueue, workflowBundle: bundle, activities });
      const [first, second, other] = await worker.runUntil(async () => {
        const a = await client.workflow.start(retrainPersonas, { taskQueue, workflowId: unique('wf'), args: [{ namespace: 'shop', database }] });
        while (!calls.some(([n]) => n === 'train')) await new Promise((r) => setTimeout(r, 20));
        const b = await client.workflow.execute(retrainPersonas, { taskQueue, workflowId: unique('wf'), args: [{ namespace: 'shop', database }] });
        const c = client.workflow.execute(retrainPersonas, { taskQueue, workflowId: unique('wf'), args: [{ namespace: 'shop', database: `${database}_2` }] });
        while (calls.filter(([n]) => n === 'train').length < 2) await new Promise((r) => setTimeout(r, 20));
        release();
        return [await a.result(), b, await c];
      });
      assert.equal((first as PersonasOutcome).trained, true);
      assert.equal((second as { skipped: string }).skipped, `another run is retraining personas of ${database}`);
      assert.equal((other as PersonasOutcome).trained, true, 'another database trains meanwhile');
      assert.equal(calls.filter(([n]) => n === 'train').length, 2);
    } finally {
      await connection.close();
      await nativeConnection.close();
    }
  });
});
