// Segments, Activations and PrivacyRequests written through the Kubernetes API: the API creates, replaces, patches
// and deletes the custom resources themselves, so kubectl, GitOps and the API always agree. The
// body is checked against the CRD's own schema first (so errors name body.spec.rule.op), then the
// API server's refusals (CEL rules) come back in the same shape.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { kafkaTopicProblem } from '../../api/activation-destinations.ts';
import { activationCrd, DNS1123_LABEL, privacyRequestCrd, segmentCrd, type ActivationSpec, type CustomResourceDefinition, type JSONSchemaProps } from '../../api/v1alpha1/index.ts';
import { toJsonSchema } from '../../api/workload.ts';
import { validateRule } from '../../lib/segments/rules.ts';
import type { Permission } from '../access/roles.ts';
import type { GatewayContext } from '../context.ts';
import { ApiError, invalid, type FieldProblem } from '../http/errors.ts';
import { CURSOR, decodeCursor, describe, encodeCursor, LIMIT, NEXT_CURSOR, operation, type JsonSchema, type Operation } from '../http/operation.ts';
import { fromKubernetes, kubernetesStatus, staleVersion } from '../kubernetes/errors.ts';
import { CustomResources, mergePatch, type CustomResource } from '../kubernetes/resources.ts';

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats.default(ajv);

/** Writes retried when someone else wrote in between (only when the caller named no resourceVersion). */
const ATTEMPTS = 3;

type Verb = 'list' | 'get' | 'create' | 'replace' | 'patch' | 'delete';

interface KindDef {
  kind: 'Segment' | 'Activation' | 'PrivacyRequest';
  plural: string;
  /** /v1/segments */
  path: string;
  crd: CustomResourceDefinition;
  read?: Permission;
  write: Permission;
  /** Checks the CRD schema cannot express (a Segment's rule language), with fields under body.spec. */
  check?(spec: Record<string, unknown>, ctx: GatewayContext): FieldProblem[];
  /** The operations offered; default all (a kind whose spec cannot change has no replace or patch). */
  verbs?: readonly Verb[];
}

function crdPart(crd: CustomResourceDefinition, part: 'spec' | 'status'): JsonSchema {
  const schema = crd.spec.versions[0]!.schema.openAPIV3Schema.properties?.[part] as JSONSchemaProps | undefined;
  if (!schema) throw new Error(`${crd.metadata.name}: no ${part} schema`);
  return toJsonSchema(schema);
}

const NAME: JsonSchema = { type: 'string', minLength: 1, maxLength: 63, pattern: DNS1123_LABEL, description: 'Name of the resource: lowercase letters, digits and "-", at most 63 (other resources refer to it by name).' };
const RESOURCE_VERSION: JsonSchema = { type: 'string', pattern: '^[0-9]{1,20}$', description: 'Only write if the resource is still at this resourceVersion (409 otherwise); omit to write whatever the current one is.' };

function resourceSchema(def: KindDef): JsonSchema {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'uid', 'resourceVersion', 'generation', 'createdAt', 'spec', 'status'],
    properties: {
      name: { type: 'string' },
      uid: { type: 'string' },
      resourceVersion: { type: 'string', description: 'Pass back with PUT or PATCH to write only if nobody wrote in between.' },
      generation: { type: 'integer', minimum: 1, description: 'Counts spec changes; status.observedGeneration says which one the operator acted on.' },
      createdAt: { type: 'string', format: 'date-time' },
      spec: crdPart(def.crd, 'spec'),
      status: { ...crdPart(def.crd, 'status'), description: `Written by the operator; {} until it has seen the ${def.kind}.` },
    },
  };
}

function representation(r: CustomResource): Record<string, unknown> {
  const m = r.metadata!;
  const created = m.creationTimestamp as unknown;
  return {
    name: m.name,
    uid: m.uid,
    resourceVersion: m.resourceVersion,
    generation: m.generation ?? 1,
    createdAt: created instanceof Date ? created.toISOString() : String(created),
    spec: r.spec,
    status: r.status ?? {},
  };
}

const segmentDef: KindDef = {
  kind: 'Segment',
  plural: 'segments',
  path: '/v1/segments',
  crd: segmentCrd,
  write: 'segments:write',
  check: (spec) => validateRule(spec.rule).map((e) => ({ field: `body.spec.${e.path}`, message: e.message })),
};

const activationDef: KindDef = {
  kind: 'Activation',
  plural: 'activations',
  path: '/v1/activations',
  crd: activationCrd,
  read: 'activations:read',
  write: 'activations:write',
  // Only to the namespace's output topics (the operator refuses others too, but only after the write).
  check: (spec, ctx) => {
    const topic = (spec as Partial<ActivationSpec>).destination?.kafka?.topic;
    const problem = topic === undefined ? undefined : kafkaTopicProblem(topic, ctx.topics.activationOutputs);
    return problem ? [{ field: 'body.spec.destination.kafka.topic', message: problem.replace(/^spec\.destination\.kafka\.topic: /, '') }] : [];
  },
};

// A data subject's request: made, watched and withdrawn; never edited (the CRD refuses a change).
const privacyRequestDef: KindDef = {
  kind: 'PrivacyRequest',
  plural: 'privacyrequests',
  path: '/v1/privacy-requests',
  crd: privacyRequestCrd,
  read: 'privacy:requests',
  write: 'privacy:requests',
  verbs: ['list', 'get', 'create', 'delete'],
};

function refuse(problems: FieldProblem[]): ApiError {
  return new ApiError(400, 'invalid_request', problems.map((p) => `${p.field}: ${p.message}`).join('; '), problems[0]!.field, problems);
}

function kindOperations(ctx: GatewayContext, def: KindDef): Operation[] {
  // Made at the first call: the operations are also declared without engines (the OpenAPI document).
  let made: CustomResources | undefined;
  const resources = () => (made ??= new CustomResources(ctx.kc, ctx.namespace, def.kind, def.plural));
  const spec = crdPart(def.crd, 'spec');
  const validateSpec = ajv.compile(spec);
  const resource = resourceSchema(def);
  const one = `${def.path}/{name}`;
  const params = { type: 'object', required: ['name'], properties: { name: NAME } };
  const what = (name: string) => `${def.kind} ${name}`;
  const tag = def.plural;
  const audited = (subject: (t: string) => void, name: string) => subject(`${def.kind}/${name}`);

  /** The spec as it will be stored must pass the CRD schema and the kind's own checks. */
  const checkSpec = (value: unknown, schemaChecked: boolean) => {
    if (!schemaChecked && !validateSpec(value)) throw refuse(describe(validateSpec.errors, 'body.spec'));
    const problems = def.check?.(value as Record<string, unknown>, ctx) ?? [];
    if (problems.length) throw refuse(problems);
  };

  /** Reads, decides and writes, again when another writer got in between and the caller named no resourceVersion. */
  const writeCurrent = async (name: string, given: string | undefined, write: (current: CustomResource) => Promise<CustomResource>) => {
    for (let attempt = 1; ; attempt++) {
      let current: CustomResource;
      try {
        current = await resources().get(name);
      } catch (err) {
        throw fromKubernetes(err, what(name));
      }
      const at = current.metadata!.resourceVersion!;
      if (given !== undefined && given !== at) throw staleVersion(what(name), given, at);
      try {
        return await write(current);
      } catch (err) {
        if (err instanceof ApiError) throw err;
        if (kubernetesStatus(err) !== 409) throw fromKubernetes(err, what(name));
        if (given !== undefined) throw staleVersion(what(name), given, await resources().get(name).then((c) => c.metadata?.resourceVersion, () => undefined));
        if (attempt >= ATTEMPTS) throw fromKubernetes(err, what(name));
      }
    }
  };

  const ops: Operation[] = [];
  const offers = (verb: Verb) => !def.verbs || def.verbs.includes(verb);
  if (def.read) {
    ops.push(
      operation<Record<string, never>, { limit: number; cursor?: string }>({
        id: `list${def.kind}s`,
        method: 'get',
        path: def.path,
        summary: `${def.kind}s of the namespace, by name`,
        tag,
        permission: def.read,
        query: { type: 'object', properties: { limit: LIMIT(500, 100), cursor: CURSOR } },
        responses: {
          200: {
            description: `A page of ${def.kind}s.`,
            schema: { type: 'object', additionalProperties: false, required: ['items', 'next_cursor'], properties: { items: { type: 'array', items: resource }, next_cursor: NEXT_CURSOR } },
          },
        },
        async handler({ query }) {
          const position = decodeCursor<{ c: string }>(query.cursor, { required: ['c'], properties: { c: { type: 'string', minLength: 1, maxLength: 1500 } } });
          try {
            const page = await resources().list(query.limit, position?.c);
            return { body: { items: page.items.map(representation), next_cursor: page.continue ? encodeCursor({ c: page.continue }) : null } };
          } catch (err) {
            // The only input the API server reads here is the continue token inside the cursor.
            const status = kubernetesStatus(err);
            if (position && (status === 400 || status === 410 || status === 422)) throw invalid('query.cursor', status === 410 ? 'has expired; list again from the first page' : 'is not a cursor this API returned');
            throw fromKubernetes(err, `${def.kind}s`);
          }
        },
      }),
      operation<{ name: string }>({
        id: `get${def.kind}`,
        method: 'get',
        path: one,
        summary: `One ${def.kind}: spec and status`,
        tag,
        permission: def.read,
        params,
        responses: { 200: { description: `The ${def.kind}.`, schema: resource } },
        async handler({ params: { name } }) {
          try {
            return { body: representation(await resources().get(name)) };
          } catch (err) {
            throw fromKubernetes(err, what(name));
          }
        },
      }),
    );
  }
  ops.push(
    operation<Record<string, never>, Record<string, never>, { name: string; spec: Record<string, unknown> }>({
      id: `create${def.kind}`,
      method: 'post',
      path: def.path,
      summary: `Create a ${def.kind} (the custom resource, as kubectl apply would)`,
      tag,
      permission: def.write,
      audit: 'write',
      body: { type: 'object', additionalProperties: false, required: ['name', 'spec'], properties: { name: NAME, spec } },
      responses: {
        201: { description: `The ${def.kind} as the Kubernetes API server stored it (defaults filled in).`, schema: resource },
        409: { description: `A ${def.kind} of that name exists.`, schema: { $ref: '#/components/schemas/Error' } },
      },
      async handler({ body, subject }) {
        audited(subject, body.name);
        checkSpec(body.spec, true);
        try {
          return { status: 201, body: representation(await resources().create(body.name, body.spec)) };
        } catch (err) {
          throw fromKubernetes(err, what(body.name));
        }
      },
    }),
    operation<{ name: string }, Record<string, never>, { spec: Record<string, unknown>; resourceVersion?: string }>({
      id: `replace${def.kind}`,
      method: 'put',
      path: one,
      summary: `Replace a ${def.kind}'s spec`,
      tag,
      permission: def.write,
      audit: 'write',
      params,
      body: { type: 'object', additionalProperties: false, required: ['spec'], properties: { spec, resourceVersion: RESOURCE_VERSION } },
      responses: {
        200: { description: `The ${def.kind} as stored.`, schema: resource },
        409: { description: 'resourceVersion is not the current one; error.problems names the current one.', schema: { $ref: '#/components/schemas/Error' } },
      },
      async handler({ params: { name }, body, subject }) {
        audited(subject, name);
        checkSpec(body.spec, true);
        const stored = await writeCurrent(name, body.resourceVersion, (current) => resources().replace(current, body.spec, current.metadata!.resourceVersion!));
        return { body: representation(stored) };
      },
    }),
    operation<{ name: string }, Record<string, never>, { spec?: Record<string, unknown>; resourceVersion?: string }>({
      id: `patch${def.kind}`,
      method: 'patch',
      path: one,
      summary: `Change part of a ${def.kind}'s spec (JSON merge patch)`,
      description: 'The body is a JSON merge patch (RFC 7386) of the resource, sent as application/merge-patch+json or application/json: keys of spec given replace those stored, null removes one, others stay. The result must be a valid spec.',
      tag,
      permission: def.write,
      audit: 'write',
      params,
      body: { type: 'object', additionalProperties: false, minProperties: 1, properties: { spec: { type: 'object', description: 'Merge patch of spec.' }, resourceVersion: RESOURCE_VERSION } },
      responses: {
        200: { description: `The ${def.kind} as stored.`, schema: resource },
        409: { description: 'resourceVersion is not the current one; error.problems names the current one.', schema: { $ref: '#/components/schemas/Error' } },
      },
      async handler({ params: { name }, body, subject }) {
        audited(subject, name);
        const patch = body.spec ?? {};
        const stored = await writeCurrent(name, body.resourceVersion, (current) => {
          checkSpec(mergePatch(current.spec, patch), false);
          return resources().mergePatch(name, { spec: patch }, current.metadata!.resourceVersion!);
        });
        return { body: representation(stored) };
      },
    }),
    operation<{ name: string }>({
      id: `delete${def.kind}`,
      method: 'delete',
      path: one,
      summary: `Delete a ${def.kind}`,
      tag,
      permission: def.write,
      audit: 'write',
      params,
      responses: { 204: { description: 'Deleted; the operator removes what it ran for it.' } },
      async handler({ params: { name }, subject }) {
        audited(subject, name);
        try {
          await resources().delete(name);
        } catch (err) {
          throw fromKubernetes(err, what(name));
        }
        return { status: 204, body: undefined };
      },
    }),
  );
  const verbOf: Record<string, Verb> = { [`list${def.kind}s`]: 'list', [`get${def.kind}`]: 'get', [`create${def.kind}`]: 'create', [`replace${def.kind}`]: 'replace', [`patch${def.kind}`]: 'patch', [`delete${def.kind}`]: 'delete' };
  return ops.filter((op) => offers(verbOf[op.id]!));
}

export function resourceOperations(ctx: GatewayContext): Operation[] {
  return [...kindOperations(ctx, segmentDef), ...kindOperations(ctx, activationDef), ...kindOperations(ctx, privacyRequestDef)];
}
