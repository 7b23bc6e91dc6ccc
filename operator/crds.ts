// The operator upgrades its own CustomResourceDefinitions: Helm installs helm/uspa/crds only on the
// first install and never upgrades them, so the leader server-side-applies the CRDs it was built
// with (api/v1alpha1, the same source as crds/) before it starts its informers. It never
// downgrades: a CRD stamped by a newer operator is left alone, so a rollback or an old replica
// cannot remove fields a newer version stored. Off with the chart's crds.apply: false.
import { loadYaml, type KubernetesObject } from '@kubernetes/client-node';
import { KINDS } from '../api/v1alpha1/index.ts';
import { isNotFound, type Applier } from '../lib/kubernetes/apply.ts';
import type { Logger } from '../lib/log.ts';

/** The operator version that last applied a CRD. */
export const CRD_VERSION_ANNOTATION = 'uspa.tech/operator-version';

/** a < b for dotted versions (pre-release suffixes ignored): 0.10.0 is newer than 0.9.1. */
export function olderThan(a: string, b: string): boolean {
  const parts = (v: string) => v.replace(/^v/, '').split(/[-+]/)[0]!.split('.').map((n) => Number(n) || 0);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) < (y[i] ?? 0);
  }
  return false;
}

/** The CRDs as this operator applies them: the generated ones, stamped with its version. */
export function desiredCrds(version: string): KubernetesObject[] {
  return KINDS.map(({ crd }) => ({ ...crd, metadata: { ...crd.metadata, annotations: { [CRD_VERSION_ANNOTATION]: version } } }) as KubernetesObject);
}

export async function applyCrds(applier: Applier, version: string, log: Logger, crds: KubernetesObject[] = desiredCrds(version)): Promise<{ applied: string[]; skipped: string[] }> {
  const applied: string[] = [];
  const skipped: string[] = [];
  for (const crd of crds) {
    const name = crd.metadata!.name!;
    let live: KubernetesObject | undefined;
    try {
      live = await applier.objects.read({ apiVersion: crd.apiVersion, kind: crd.kind, metadata: { name } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const stamped = live?.metadata?.annotations?.[CRD_VERSION_ANNOTATION];
    if (stamped && olderThan(version, stamped)) {
      log.warn({ crd: name, version, stamped }, 'CRD was applied by a newer operator: left as it is');
      skipped.push(name);
      continue;
    }
    // The client serializes by its models, whose property names differ from the wire format's
    // (x_kubernetes_preserve_unknown_fields for x-kubernetes-preserve-unknown-fields): handed the wire
    // format, it silently drops every x-kubernetes-* field — CEL rules, and the free-form Segment rule,
    // which the API server then prunes from every stored Segment. Load it into the models first.
    await applier.apply(loadYaml<KubernetesObject>(JSON.stringify(crd)));
    applied.push(name);
  }
  log.info({ applied, skipped, version }, 'CustomResourceDefinitions applied');
  return { applied, skipped };
}
