// The CRD upgrade strategy (operator/crds.ts): the operator's leader server-side-applies the CRDs of
// its version and never downgrades them. On the real API server, with a copy of the Source CRD in a
// group of its own, so that the shared uspa.tech CRDs other tests use are not touched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiextensionsV1Api, KubeConfig, type KubernetesObject, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { Applier } from '../../lib/kubernetes/apply.ts';
import { createLogger } from '../../lib/log.ts';
import { KINDS } from '../../api/v1alpha1/index.ts';
import { CRD_VERSION_ANNOTATION, applyCrds, desiredCrds, olderThan } from '../../operator/crds.ts';
import { eventually, required, unique } from '../support/env.ts';
import { kubectl } from '../support/operator.ts';

test('olderThan compares dotted versions numerically', () => {
  assert.equal(olderThan('0.9.1', '0.10.0'), true);
  assert.equal(olderThan('0.10.0', '0.9.1'), false);
  assert.equal(olderThan('0.2.0', '0.2.0'), false);
  assert.equal(olderThan('v1.2', '1.2.1'), true);
  assert.equal(olderThan('1.2.0-rc.1', '1.2.0'), false, 'pre-release suffixes are ignored');
});

test('desiredCrds are the generated CRDs, stamped with the operator version', () => {
  const crds = desiredCrds('1.2.3');
  assert.deepEqual(crds.map((c) => c.metadata?.name), KINDS.map((k) => k.crd.metadata.name));
  for (const c of crds) assert.equal(c.metadata?.annotations?.[CRD_VERSION_ANNOTATION], '1.2.3');
  assert.deepEqual((crds[0] as unknown as { spec: unknown }).spec, KINDS[0]!.crd.spec);
});

test('the operator upgrades a CRD Helm installed long ago, and never downgrades one', { timeout: 120_000 }, async (t) => {
  required('KUBECONFIG');
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const applier = new Applier(kc);
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const log = createLogger('crds-test', 'silent');
  const group = `${unique('crd')}.uspa.test`;
  const name = `sources.${group}`;
  t.after(() => api.deleteCustomResourceDefinition({ name }).catch(() => undefined));

  // The CRD of this version, in the test's group; and the "previous" one without spec.suspend.
  const current = () => {
    const crd = structuredClone(KINDS.find((k) => k.kind === 'Source')!.crd) as unknown as V1CustomResourceDefinition;
    crd.metadata = { name };
    crd.spec.group = group;
    return crd;
  };
  const specProps = (crd: V1CustomResourceDefinition) => crd.spec.versions[0]!.schema!.openAPIV3Schema!.properties!.spec!.properties!;
  const previous = current();
  delete specProps(previous).suspend;

  // As Helm's crds/ installs it on the first install: created, unstamped, by another manager.
  await api.createCustomResourceDefinition({ body: previous });
  const live = async () => api.readCustomResourceDefinition({ name });
  assert.equal(specProps(await live()).suspend, undefined);

  const stamp = (crd: V1CustomResourceDefinition, version: string) => ({ ...crd, metadata: { ...crd.metadata, annotations: { [CRD_VERSION_ANNOTATION]: version } } }) as KubernetesObject;
  const up = await applyCrds(applier, '0.2.0', log, [stamp(current(), '0.2.0')]);
  assert.deepEqual(up, { applied: [name], skipped: [] });
  const upgraded = await live();
  assert.ok(specProps(upgraded).suspend, 'the new field reached the cluster');
  // Every x-kubernetes-* field (CEL rules, preserve-unknown-fields, list types) reached it too, as
  // the API server holds it (read raw: the client's models would hide a loss).
  const keys = (text: string) => (text.match(/"x-kubernetes-[\w-]+"/g) ?? []).sort();
  const wireFields = keys(JSON.stringify(current().spec));
  assert.ok(wireFields.length > 0, 'the Source CRD has x-kubernetes-* fields to check');
  assert.deepEqual(keys(JSON.stringify(JSON.parse(await kubectl(['get', 'crd', name, '-o', 'json'])).spec)), wireFields, 'x-kubernetes-* fields lost on the way to the cluster');
  assert.equal(upgraded.metadata?.annotations?.[CRD_VERSION_ANNOTATION], '0.2.0');
  assert.ok(upgraded.metadata?.managedFields?.some((f) => f.manager === 'uspa-operator' && f.operation === 'Apply'), 'server-side apply as uspa-operator');
  await eventually('the upgraded CRD to be established', async () => (await live()).status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'), 30_000);

  // An older operator (a rollback, a replica of the previous version) leaves it as it is.
  const down = await applyCrds(applier, '0.1.0', log, [stamp(previous, '0.1.0')]);
  assert.deepEqual(down, { applied: [], skipped: [name] });
  const kept = await live();
  assert.ok(specProps(kept).suspend, 'an older operator removed a field');
  assert.equal(kept.metadata?.annotations?.[CRD_VERSION_ANNOTATION], '0.2.0');

  // The same version again is a no-op apply (idempotent), as every leader start is.
  assert.deepEqual(await applyCrds(applier, '0.2.0', log, [stamp(current(), '0.2.0')]), { applied: [name], skipped: [] });
  assert.equal((await live()).metadata?.generation, kept.metadata?.generation, 'reapplying the same CRD changed it');
});
