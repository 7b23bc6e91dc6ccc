// Pure checks of the CRDs generated from api/v1alpha1: crds/ is up to date, every field is
// documented for `kubectl explain`, and every kind has the same conventions. The API server's own
// verdict on the schemas and CEL rules is test/operator/crd-validation.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CRDS_DIR, renderCrds, staleCrdFiles } from './generate.ts';
import { API_VERSION, CATEGORY, GROUP, KINDS, type JSONSchemaProps } from './v1alpha1/index.ts';

test('crds/*.yaml are what npm run gen:crds writes', () => {
  const rendered = renderCrds();
  assert.deepEqual([...rendered.keys()].sort(), KINDS.map((k) => `${GROUP}_${k.plural}.yaml`).sort());
  for (const [file, text] of rendered) {
    let committed: string;
    try {
      committed = readFileSync(`${CRDS_DIR}${file}`, 'utf8');
    } catch {
      assert.fail(`crds/${file} is missing: run npm run gen:crds`);
    }
    assert.equal(committed, text, `crds/${file} differs from api/v1alpha1: run npm run gen:crds`);
  }
  assert.deepEqual(staleCrdFiles(rendered), [], 'crds/ holds CRDs of kinds that no longer exist: run npm run gen:crds');
});

/** Every property schema under `schema`, with its path (e.g. `spec.topic.partitions`). */
function* properties(schema: JSONSchemaProps, path: string): Generator<[string, JSONSchemaProps]> {
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    const childPath = path ? `${path}.${name}` : name;
    yield [childPath, child];
    yield* properties(child, childPath);
  }
  if (schema.items) yield* properties(schema.items, `${path}[]`);
  if (schema.additionalProperties) yield* properties(schema.additionalProperties, `${path}{}`);
}

for (const { kind, plural, singular, crd } of KINDS) {
  test(`${kind}: every property has a description for kubectl explain`, () => {
    const root = crd.spec.versions[0]!.schema.openAPIV3Schema;
    assert.ok(root.description, `${kind} has no description`);
    const missing = [...properties(root, '')]
      // The API server forbids anything but `type: object` on the root metadata.
      .filter(([path, s]) => path !== 'metadata' && !s.description?.trim())
      .map(([path]) => path);
    assert.deepEqual(missing, [], `${kind}: properties without a description`);
  });

  test(`${kind}: conventions (names, category, status subresource, printer columns, CEL messages)`, () => {
    assert.equal(crd.metadata.name, `${plural}.${GROUP}`);
    assert.equal(crd.spec.group, GROUP);
    assert.equal(`${crd.spec.group}/${crd.spec.versions[0]!.name}`, API_VERSION);
    assert.equal(crd.spec.scope, 'Namespaced');
    assert.equal(crd.spec.names.kind, kind);
    assert.equal(crd.spec.names.singular, singular);
    assert.deepEqual(crd.spec.names.categories, [CATEGORY]);
    assert.equal(CATEGORY, 'uspa');
    assert.ok(crd.spec.names.shortNames.length > 0, `${kind} has no shortNames`);
    assert.equal(crd.spec.versions.length, 1);

    const version = crd.spec.versions[0]!;
    assert.equal(version.served, true);
    assert.equal(version.storage, true);
    assert.deepEqual(version.subresources.status, {});

    const columns = version.additionalPrinterColumns;
    const shown = columns.filter((c) => !c.priority).map((c) => c.name);
    assert.deepEqual(shown.slice(-2), ['Ready', 'Age'], `${kind}: Ready and Age must be the last default columns`);
    assert.deepEqual(
      columns.find((c) => c.name === 'Ready'),
      { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: 'Status of the Ready condition: True, False or Unknown.' },
    );
    assert.deepEqual(columns.find((c) => c.name === 'Age'), { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Time since the resource was created.' });
    for (const c of columns) assert.ok(c.description, `${kind}: printer column ${c.name} has no description`);

    const root = version.schema.openAPIV3Schema;
    const spec = root.properties!.spec!;
    const status = root.properties!.status!;
    assert.deepEqual(root.required, ['spec']);
    assert.equal(spec.properties!.suspend!.type, 'boolean');
    assert.equal(spec.properties!.suspend!.default, false);
    assert.equal(status.properties!.observedGeneration!.format, 'int64');
    const conditions = status.properties!.conditions!;
    assert.equal(conditions['x-kubernetes-list-type'], 'map');
    assert.deepEqual(conditions['x-kubernetes-list-map-keys'], ['type']);

    for (const [path, s] of [['', root] as [string, JSONSchemaProps], ...properties(root, '')]) {
      for (const rule of s['x-kubernetes-validations'] ?? []) assert.ok(rule.message, `${kind} ${path || '<root>'}: CEL rule ${rule.rule} has no message`);
      if (s['x-kubernetes-list-type'] === 'map') {
        for (const key of s['x-kubernetes-list-map-keys'] ?? []) assert.ok(s.items?.required?.includes(key), `${kind} ${path}: list-map key ${key} must be required`);
      }
    }
  });
}
