import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Deployment } from '@kubernetes/client-node';
import { deploymentAvailable, freshest } from './workload.ts';

const d = (status: V1Deployment['status'], generation = 2): V1Deployment => ({ metadata: { generation }, spec: { replicas: 1, selector: {}, template: {} }, status: { observedGeneration: generation, ...status } });

test('a Deployment is available once its rollout is complete, not while a replica of the old template still answers', () => {
  assert.equal(deploymentAvailable(d({ replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 })).available, true);
  // The new pod exists but is not ready; the old one is ready and available.
  assert.equal(deploymentAvailable(d({ replicas: 2, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 })).available, false);
  // The new pod is ready; the old one is still there.
  assert.equal(deploymentAvailable(d({ replicas: 2, updatedReplicas: 1, readyReplicas: 2, availableReplicas: 2 })).available, false);
  assert.equal(deploymentAvailable({ ...d({ replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 }), status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 } }).available, false, 'the controller has not seen the new template yet');
  assert.equal(deploymentAvailable(undefined).available, false);
});

test('freshest: the Deployment an apply returned, unless the cache has seen a newer generation', () => {
  const at = (generation: number, tag: string): V1Deployment => ({ metadata: { generation, name: tag } });
  assert.equal(freshest(at(3, 'applied'), at(2, 'cached'))?.metadata?.name, 'applied', 'the cache still holds the previous template');
  assert.equal(freshest(at(3, 'applied'), at(3, 'cached'))?.metadata?.name, 'applied');
  assert.equal(freshest(at(3, 'applied'), at(4, 'cached'))?.metadata?.name, 'cached');
  assert.equal(freshest(undefined, at(1, 'cached'))?.metadata?.name, 'cached');
});
