import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Deployment } from '@kubernetes/client-node';
import { deploymentAvailable } from './workload.ts';

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
