// JSON schemas for kubeconform, made here rather than downloaded (this machine reaches no schema
// registry): the Kubernetes kinds from the OpenAPI v3 documents in the Kubernetes Go module the
// stack builds its API server from (api/openapi-spec/v3), our kinds from the CRD source
// (api/v1alpha1). Files are laid out as kubeconform's `{{ .ResourceKind }}{{ .KindSuffix }}.json`
// (deployment-apps-v1.json, service-v1.json, source-uspa-v1alpha1.json), strict: an object with
// declared properties takes no others, as `kubeconform -strict` expects of its -strict schemas.
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KINDS } from '../../api/v1alpha1/index.ts';
import { KUBERNETES_MODULE_DIR, KUBERNETES_VERSION } from '../../stack/engines/kubernetes.ts';

type Schema = { [key: string]: unknown };
interface Gvk {
  group: string;
  version: string;
  kind: string;
}

/** kubeconform's file name of a kind: deployment-apps-v1.json, service-v1.json, ingress-networking-v1.json. */
export function schemaFile({ group, version, kind }: Gvk): string {
  return `${kind.toLowerCase()}${group ? `-${group.split('.')[0]!.toLowerCase()}` : ''}-${version.toLowerCase()}.json`;
}

/** The -schema-location template that finds the files written by writeSchemas in dir. */
export function schemaLocation(dir: string): string {
  return `${dir}/{{ .ResourceKind }}{{ .KindSuffix }}.json`;
}

/** Rewrites a schema node: OpenAPI refs become local definitions; declared properties close the object. */
function convert(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(convert);
  if (typeof node !== 'object' || node === null) return node;
  const out: Schema = {};
  for (const [k, v] of Object.entries(node as Schema)) {
    if (k === '$ref' && typeof v === 'string') out[k] = v.replace('#/components/schemas/', '#/definitions/');
    else if (k === 'properties' && typeof v === 'object' && v !== null) out[k] = Object.fromEntries(Object.entries(v).map(([p, s]) => [p, convert(s)]));
    else out[k] = convert(v);
  }
  if (out['x-kubernetes-int-or-string'] === true) {
    delete out.type;
    out.oneOf = [{ type: 'integer' }, { type: 'string' }];
  }
  if (out.nullable === true && typeof out.type === 'string') out.type = [out.type, 'null'];
  if (out.properties && out.additionalProperties === undefined && out['x-kubernetes-preserve-unknown-fields'] !== true) out.additionalProperties = false;
  return out;
}

/** The names of the definitions reachable from `start`. */
function closure(start: string, all: Record<string, Schema>): Set<string> {
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name) || !all[name]) return;
    seen.add(name);
    for (const m of JSON.stringify(all[name]).matchAll(/"#\/components\/schemas\/([^"]+)"/g)) visit(m[1]!);
  };
  visit(start);
  return seen;
}

/** The Kubernetes module's directory (the stack downloaded it to build kube-apiserver). */
async function kubernetesModuleDir(): Promise<string> {
  const { stdout } = await promisify(execFile)('go', ['list', '-m', '-json', `k8s.io/kubernetes@${KUBERNETES_VERSION}`], { cwd: KUBERNETES_MODULE_DIR, maxBuffer: 8 * 1024 * 1024 });
  const dir = (JSON.parse(stdout) as { Dir?: string }).Dir;
  if (!dir) throw new Error(`go list found no directory for k8s.io/kubernetes@${KUBERNETES_VERSION}: go mod download it (uspa stack up builds the API server from it)`);
  return dir;
}

/**
 * Writes a strict schema per kind into dir: every Kubernetes kind of the module's OpenAPI v3 (each
 * file holds the kind and the definitions it reaches), and each uspa.tech kind. Returns how many.
 */
export async function writeSchemas(dir: string): Promise<{ kubernetes: number; uspa: number; source: string }> {
  await mkdir(dir, { recursive: true });
  const specDir = join(await kubernetesModuleDir(), 'api', 'openapi-spec', 'v3');
  let kubernetes = 0;
  for (const file of (await readdir(specDir)).filter((f) => /^apis?__.+_openapi\.json$/.test(f))) {
    const doc = JSON.parse(await readFile(join(specDir, file), 'utf8')) as { components?: { schemas?: Record<string, Schema> } };
    const all = doc.components?.schemas ?? {};
    for (const [name, schema] of Object.entries(all)) {
      const gvks = (schema['x-kubernetes-group-version-kind'] as Gvk[] | undefined) ?? [];
      // List kinds and the meta kinds every group repeats (DeleteOptions, WatchEvent) are skipped.
      if (gvks.length !== 1 || gvks[0]!.kind.endsWith('List') || !(schema.properties as Schema | undefined)?.metadata) continue;
      const definitions = Object.fromEntries([...closure(name, all)].map((n) => [n, convert(all[n])]));
      await writeFile(join(dir, schemaFile(gvks[0]!)), JSON.stringify({ $ref: `#/definitions/${name}`, definitions }));
      kubernetes++;
    }
  }
  for (const { crd } of KINDS) {
    for (const v of crd.spec.versions) {
      const root = convert(v.schema.openAPIV3Schema) as Schema;
      // The API server supplies these for every custom resource; the CRD need not declare them.
      root.properties = { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { $ref: '#/definitions/meta' }, ...(root.properties as Schema) };
      const meta = JSON.parse(await readFile(join(dir, schemaFile({ group: 'apps', version: 'v1', kind: 'Deployment' })), 'utf8')) as { definitions: Record<string, unknown> };
      const objectMeta = meta.definitions['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'];
      const definitions = { ...meta.definitions, meta: objectMeta };
      await writeFile(join(dir, schemaFile({ group: crd.spec.group, version: v.name, kind: crd.spec.names.kind })), JSON.stringify({ ...root, definitions }));
    }
  }
  return { kubernetes, uspa: KINDS.length, source: `k8s.io/kubernetes@${KUBERNETES_VERSION} api/openapi-spec/v3` };
}
