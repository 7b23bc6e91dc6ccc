import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Deployment } from '@kubernetes/client-node';
import type { Pipeline, Source } from '../api/v1alpha1/index.ts';
import { ResolveError, checkSource, resolvePipeline, resolveStore, sourceTopics, type NamespaceObjects } from './resolve.ts';

const pipeline = (name: string, deployment?: string): Pipeline => ({
  apiVersion: 'uspa.tech/v1alpha1',
  kind: 'Pipeline',
  metadata: { name, namespace: 'shop' },
  spec: { sources: ['web'] },
  ...(deployment ? { status: { deployment } } : {}),
});

const source = (name: string, topic?: string): Source => ({
  apiVersion: 'uspa.tech/v1alpha1',
  kind: 'Source',
  metadata: { name, namespace: 'shop' },
  spec: { type: 'web' },
  ...(topic ? { status: { topic } } : {}),
});

// As the operator renders a pipeline worker: the names reach it as env values.
const worker = (name: string, env: Record<string, string>): V1Deployment => ({
  metadata: { name, namespace: 'shop' },
  spec: { selector: {}, template: { spec: { containers: [{ name: 'pipeline', env: Object.entries(env).map(([k, value]) => ({ name: k, value })) }] } } },
});

const objects = (o: Partial<NamespaceObjects>): NamespaceObjects => ({ namespace: 'shop', pipelines: [], sources: [], deployments: [], ...o });

const acme = { USPA_DATABASE: 'acme_shop', USPA_TOPIC_PREFIX: 'acme.shop', USPA_PIPELINE: 'main' };

test('resolve: the database and control topic come from the worker Deployment the Pipeline status names, not from a default prefix', () => {
  const ns = objects({ pipelines: [pipeline('main', 'uspa-pipeline-main')], deployments: [worker('uspa-pipeline-main', acme)] });
  assert.deepEqual(resolvePipeline(ns), { namespace: 'shop', database: 'acme_shop', pipeline: 'main', controlTopic: 'acme.shop.control.main' });
  assert.deepEqual(resolveStore(ns), { namespace: 'shop', database: 'acme_shop' });
});

test('resolve: a namespace without a Pipeline says so and how to look', () => {
  assert.throws(() => resolveStore(objects({})), (err: Error) => err instanceof ResolveError && err.message === 'namespace shop has no Pipeline (a Pipeline stores the profiles and dead letters); kubectl get pipelines -n shop, or choose another namespace with -n');
});

test('resolve: several Pipelines need --pipeline for commands to one of them, and the message lists them', () => {
  const ns = objects({
    pipelines: [pipeline('main', 'uspa-pipeline-main'), pipeline('batch', 'uspa-pipeline-batch')],
    deployments: [worker('uspa-pipeline-main', acme), worker('uspa-pipeline-batch', { ...acme, USPA_PIPELINE: 'batch' })],
  });
  assert.throws(() => resolvePipeline(ns), { message: 'namespace shop has 2 Pipelines (batch, main); choose one with --pipeline' });
  assert.equal(resolvePipeline(ns, 'batch').controlTopic, 'acme.shop.control.batch');
  assert.throws(() => resolvePipeline(ns, 'mian'), { message: 'namespace shop has no Pipeline mian; it has: batch, main' });
  // Reads need no choice: the namespace's Pipelines share its database.
  assert.deepEqual(resolveStore(ns), { namespace: 'shop', database: 'acme_shop' });
});

test('resolve: reads skip a Pipeline not reconciled yet, but refuse Pipelines that store in different databases', () => {
  const fresh = objects({ pipelines: [pipeline('main', 'uspa-pipeline-main'), pipeline('new')], deployments: [worker('uspa-pipeline-main', acme)] });
  assert.deepEqual(resolveStore(fresh), { namespace: 'shop', database: 'acme_shop' });
  const split = objects({
    pipelines: [pipeline('main', 'uspa-pipeline-main'), pipeline('other', 'uspa-pipeline-other')],
    deployments: [worker('uspa-pipeline-main', acme), worker('uspa-pipeline-other', { ...acme, USPA_DATABASE: 'old_shop' })],
  });
  assert.throws(() => resolveStore(split), { message: 'the Pipelines of namespace shop store in different databases (main → acme_shop; other → old_shop); choose one with --pipeline' });
  assert.deepEqual(resolveStore(split, 'other'), { namespace: 'shop', database: 'old_shop' });
});

test('resolve: a Pipeline the operator has not reconciled, or whose worker is gone, is named with what to run', () => {
  assert.throws(() => resolvePipeline(objects({ pipelines: [pipeline('main')] })), {
    message: 'Pipeline main in namespace shop has not been reconciled yet (its status names no worker Deployment); is the operator running? kubectl describe pipeline main -n shop',
  });
  assert.throws(() => resolvePipeline(objects({ pipelines: [pipeline('main', 'uspa-pipeline-main')] })), {
    message: 'the worker Deployment uspa-pipeline-main of Pipeline main does not exist in namespace shop; kubectl describe pipeline main -n shop',
  });
  assert.throws(() => resolvePipeline(objects({ pipelines: [pipeline('main', 'uspa-pipeline-main')], deployments: [worker('uspa-pipeline-main', { USPA_TOPIC_PREFIX: 'acme.shop' })] })), {
    message: 'the worker Deployment uspa-pipeline-main of Pipeline main sets no USPA_DATABASE; was it made by the USPA operator? kubectl get deployment uspa-pipeline-main -n shop -o yaml',
  });
});

test('resolve: Source topics are what Source status records; an unknown Source in a filter is named with the ones that exist', () => {
  const ns = objects({ sources: [source('web', 'acme.shop.events.web'), source('backend')] });
  const topicOf = sourceTopics(ns);
  assert.equal(topicOf('web'), 'acme.shop.events.web');
  assert.equal(topicOf('backend'), undefined, 'not reconciled yet');
  assert.equal(topicOf('gone'), undefined);
  assert.doesNotThrow(() => checkSource(ns, 'web'));
  assert.doesNotThrow(() => checkSource(ns, undefined));
  assert.throws(() => checkSource(ns, 'wbe'), { message: 'namespace shop has no Source wbe; it has: backend, web' });
  assert.throws(() => checkSource(objects({}), 'web'), { message: 'namespace shop has no Source; kubectl get sources -n shop' });
});
