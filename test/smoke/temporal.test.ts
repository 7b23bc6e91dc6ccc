import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import * as activities from './temporal/activities.ts';
import { dayLongTimer, greeting } from './temporal/workflows.ts';
import { required, unique } from '../support/env.ts';
import { timeSkippingEnvironment } from '../support/temporal.ts';

Runtime.install({ logger: new DefaultLogger('WARN') });

const workflowsPath = fileURLToPath(new URL('./temporal/workflows.ts', import.meta.url));
let bundle: WorkflowBundleWithSourceMap;

before(async () => {
  bundle = await bundleWorkflowCode({ workflowsPath, logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never });
});

test('temporal: a workflow runs an activity on a worker against the dev server', { timeout: 120_000 }, async () => {
  const address = required('TEMPORAL_ADDRESS');
  const taskQueue = unique('smoke');
  const nativeConnection = await NativeConnection.connect({ address });
  const worker = await Worker.create({ connection: nativeConnection, namespace: 'default', taskQueue, workflowBundle: bundle, activities });
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection, namespace: 'default' });
    const result = await worker.runUntil(
      client.workflow.execute(greeting, { taskQueue, workflowId: unique('greeting'), args: ['USPA'] }),
    );
    assert.equal(result, 'hello USPA from activity attempt 1');
  } finally {
    await connection.close();
    await nativeConnection.close();
  }
});

test('temporal: a day-long timer completes on the time-skipping test server without waiting a day', { timeout: 180_000 }, async () => {
  const env = await timeSkippingEnvironment();
  try {
    const taskQueue = unique('timer');
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities });
    const startedAt = await env.currentTimeMs();
    const result = await worker.runUntil(env.client.workflow.execute(dayLongTimer, { taskQueue, workflowId: unique('timer') }));
    const skipped = (await env.currentTimeMs()) - startedAt;
    assert.ok(result.sleptMs >= 24 * 3600_000, `workflow clock advanced a day (${result.sleptMs} ms)`);
    assert.ok(skipped >= 24 * 3600_000, `test server clock skipped a day (${skipped} ms)`);
  } finally {
    await env.teardown();
  }
});
