import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from './problems.ts';
import { pipelineCrd, sourceCrd } from './v1alpha1/index.ts';
import { WORKLOAD_CONFIG_SCHEMA, checkWorkloadConfig, resolveIdentityKeys, toJsonSchema } from './workload.ts';

const problemsOf = (value: unknown, options = {}): string[] => {
  try {
    checkWorkloadConfig(value, 'test', { KEY_WEB: 'k' }, options);
    return [];
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
};

const web = { name: 'web', type: 'web', writeKey: 'a-write-key-of-16+' };

test('workload schema: every spec field of the CRDs is known, minus those the Deployment or the Secret carry', () => {
  const items = (k: 'sources' | 'pipelines') => Object.keys((WORKLOAD_CONFIG_SCHEMA.properties[k].items as { properties: object }).properties).sort();
  const crdFields = (crd: typeof sourceCrd) => Object.keys(crd.spec.versions[0]!.schema.openAPIV3Schema.properties!.spec!.properties!);
  assert.deepEqual(items('sources'), ['name', 'writeKey', 'writeKeyEnv', ...crdFields(sourceCrd).filter((f) => f !== 'suspend' && f !== 'writeKeySecretRef')].sort());
  assert.deepEqual(items('pipelines'), ['name', ...crdFields(pipelineCrd).filter((f) => !['suspend', 'replicas', 'resources'].includes(f))].sort());
});

test('workload schema: the CRD bounds apply, and problems name the field by its path', () => {
  assert.deepEqual(problemsOf({ sources: [web] }), []);
  assert.deepEqual(problemsOf({ sources: [{ ...web, topic: { partitions: 0 } }] }), ['sources[0].topic.partitions: must be >= 1']);
  assert.deepEqual(problemsOf({ sources: [{ ...web, rateLimit: { eventsPerSecond: 0 } }] }), ['sources[0].rateLimit.eventsPerSecond: must be > 0']);
  assert.deepEqual(problemsOf({ sources: [{ ...web, trackingPlan: { mode: 'drop' } }] }), ['sources[0].trackingPlan.mode: must be equal to one of the allowed values (dlq, reject, allow)']);
  assert.deepEqual(problemsOf({ sources: [{ ...web, colour: 'red' }] }), ['sources[0]: has unknown field "colour"']);
  assert.deepEqual(problemsOf({ sources: [{ ...web, name: 'Web_1' }] }), ['sources[0].name: must match pattern "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"']);
  assert.deepEqual(problemsOf({ sources: [web], pipelines: [{ name: 'main', sources: ['web'], replicas: 2 }] }), ['pipelines[0]: has unknown field "replicas"']);
});

test('workload config: cross-references and the rules the CRDs state in CEL', () => {
  assert.deepEqual(problemsOf({ sources: [web, web] }), ['sources[1].name: "web" is used twice']);
  assert.deepEqual(problemsOf({ sources: [{ name: 'web', type: 'web' }] }), ['sources[0]: needs writeKey or writeKeyEnv']);
  assert.deepEqual(problemsOf({ sources: [{ name: 'web', type: 'web', writeKeyEnv: 'KEY_OTHER' }] }), ['sources[0].writeKeyEnv: the variable KEY_OTHER is not set']);
  assert.deepEqual(problemsOf({ sources: [{ name: 'web', type: 'web', writeKeyEnv: 'KEY_WEB' }] }), []);
  assert.deepEqual(problemsOf({ sources: [{ ...web, type: 'webhook' }] }), ['sources[0].webhook: is required for a webhook source']);
  assert.deepEqual(problemsOf({ sources: [{ name: 'hook', type: 'webhook' }] }, { forCollector: false }), [], 'the pipeline needs no write key or mapping');
  assert.deepEqual(problemsOf({ sources: [web], pipelines: [{ name: 'main', sources: ['web', 'app'] }] }), ['pipelines[0].sources[1]: no source named "app"']);
  assert.deepEqual(problemsOf({ sources: [web], pipelines: [{ name: 'main', sources: ['web'], identity: { keys: [{ name: 'crm' }] } }] }), [
    'pipelines[0].identity.keys[0].path: is required for "crm", which is not a built-in key (userId, email, phone, deviceId, anonymousId)',
  ]);
  assert.deepEqual(problemsOf({ sources: [{ ...web, trackingPlan: { mode: 'dlq', events: { Paid: { type: 'nonsense' } } } }] }).length, 1);
});

test('identity keys: built-ins by name keep their path and limit; a given limit or path wins', () => {
  assert.deepEqual(resolveIdentityKeys([{ name: 'email', limit: 3 }, { name: 'userId' }, { name: 'crm', path: 'traits.crmId' }, { name: 'phone', path: 'context.traits.phone' }]), [
    { name: 'email', path: 'traits.email', limit: 3 },
    { name: 'userId', path: 'userId', limit: 1 },
    { name: 'crm', path: 'traits.crmId' },
    { name: 'phone', path: 'context.traits.phone' },
  ]);
  assert.equal(resolveIdentityKeys(undefined).map((k) => k.name).join(','), 'userId,email,phone,deviceId,anonymousId');
});

test('OpenAPI → JSON Schema: boolean exclusive bounds become numbers; Kubernetes extensions and OpenAPI formats go', () => {
  assert.deepEqual(toJsonSchema({ type: 'number', minimum: 0, exclusiveMinimum: true, 'x-kubernetes-validations': [{ rule: 'true', message: 'm' }] }), { type: 'number', exclusiveMinimum: 0 });
  assert.deepEqual(toJsonSchema({ type: 'integer', format: 'int32', maximum: 5, exclusiveMaximum: false }), { type: 'integer', maximum: 5 });
  assert.deepEqual(toJsonSchema({ type: 'object', properties: { a: { type: 'string', default: 'x', description: 'd' } } }), { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false });
  assert.deepEqual(toJsonSchema({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true }), { type: 'object', additionalProperties: true }, 'free-form, and said so');
});
