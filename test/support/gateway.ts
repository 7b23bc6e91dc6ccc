// The API gateway in-process against the stack's real engines: a namespace of its own with the
// ApiKey CRD, the collector and pipeline of test/support/product.ts for data, and a caller that
// validates EVERY response against the OpenAPI document the API serves.
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { createApiClient, type ApiClient } from '../../api/client/index.ts';
import { apiKeyHash, apiKeyId, generateApiKey, type ApiKeySpec } from '../../api/v1alpha1/index.ts';
import { startGateway } from '../../gateway/main.ts';
import { createLogger } from '../../lib/log.ts';
import { eventually, unique } from './env.ts';
import { installCrds, kubeConfig, logSink } from './operator.ts';
import { startProduct, type Product } from './product.ts';

export interface CallOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  /** Raw body text instead of JSON.stringify(body). */
  raw?: string;
}

export interface CallResult<T = unknown> {
  status: number;
  headers: Headers;
  /** Parsed JSON (or NDJSON lines as an array); undefined for other content. */
  body: T;
  text: string;
}

export interface ApiHarness {
  namespace: string;
  url: string;
  product: Product;
  document: Record<string, unknown>;
  logs: string[];
  gateway: Awaited<ReturnType<typeof startGateway>>;
  /** Creates an ApiKey (as the operator would issue it: Secret-less, status.keyHash set) and returns its key once the API accepts it. */
  key(role: ApiKeySpec['role'], spec?: Partial<ApiKeySpec>, name?: string): Promise<string>;
  deleteKey(name: string): Promise<void>;
  // Tests read bodies loosely by default: the document has validated them already.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  call<T = any>(key: string | undefined, method: string, path: string, options?: CallOptions): Promise<CallResult<T>>;
  /** The typed client (api/client) with this key; its responses are validated like call()'s. */
  client(key: string, headers?: Record<string, string>): ApiClient;
  close(): Promise<void>;
}

export async function startApi(spec: Parameters<typeof startProduct>[0] = { sources: [{ name: 'web', type: 'web' } as never] }): Promise<ApiHarness> {
  const product = await startProduct(spec);
  const kc = kubeConfig();
  await installCrds();
  const custom = kc.makeApiClient(CustomObjectsApi);
  const namespace = unique('api');
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const { logs, sink } = logSink();
  const gateway = await startGateway({ configPath: product.configPath, port: 0, env: { ...product.env, USPA_NAMESPACE: namespace, USPA_COLLECTOR_URL: product.url }, log: createLogger('api', 'info', sink), kubeConfig: kc });
  const url = `http://127.0.0.1:${gateway.port}`;
  const document = (await (await fetch(`${url}/openapi.json`)).json()) as Record<string, unknown>;
  const validator = responseValidator(document);
  let counter = 0;
  /** Reads a response and checks it against the document (throws when it does not match). */
  const checked = async (method: string, pathname: string, res: Response) => {
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    let parsed: unknown;
    if (type.startsWith('application/json')) parsed = JSON.parse(text);
    else if (type.startsWith('application/x-ndjson')) parsed = text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    validator(method.toLowerCase(), pathname, res.status, type.split(';')[0]!.trim(), parsed);
    return { text, parsed };
  };

  const h: ApiHarness = {
    namespace,
    url,
    product,
    document,
    logs,
    gateway,
    async key(role, extra = {}, name = `k${++counter}-${role}`) {
      const key = generateApiKey();
      const hash = apiKeyHash(key);
      await custom.createNamespacedCustomObject({ group: 'uspa.tech', version: 'v1alpha1', namespace, plural: 'apikeys', body: { apiVersion: 'uspa.tech/v1alpha1', kind: 'ApiKey', metadata: { name }, spec: { role, ...(role === 'decisions' && !extra.origins ? { origins: ['https://shop.example.com'] } : {}), ...extra } } });
      await custom.patchNamespacedCustomObjectStatus({ group: 'uspa.tech', version: 'v1alpha1', namespace, plural: 'apikeys', name, body: [{ op: 'add', path: '/status', value: { keyHash: hash, keyId: apiKeyId(hash), secretName: `uspa-apikey-${name}`, keyCreatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z') } }] }, { headers: { 'Content-Type': 'application/json-patch+json' } } as never);
      if (!extra.expiresAt || Date.parse(extra.expiresAt) > Date.now()) {
        await eventually(`ApiKey ${name} accepted`, async () => (await fetch(`${url}/v1/whoami`, { headers: { Authorization: `Bearer ${key}` } })).status === 200, 15_000);
      }
      return key;
    },
    async deleteKey(name) {
      await custom.deleteNamespacedCustomObject({ group: 'uspa.tech', version: 'v1alpha1', namespace, plural: 'apikeys', name });
    },
    async call(key, method, path, options = {}) {
      const target = new URL(url + path);
      for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) target.searchParams.set(k, String(v));
      const headers: Record<string, string> = { ...(key ? { Authorization: `Bearer ${key}` } : {}), ...options.headers };
      let body: string | undefined = options.raw;
      if (body === undefined && options.body !== undefined) body = JSON.stringify(options.body);
      if (body !== undefined) headers['Content-Type'] ??= 'application/json';
      const res = await fetch(target, { method: method.toUpperCase(), headers, body });
      const { text, parsed } = await checked(method, target.pathname, res);
      return { status: res.status, headers: res.headers, body: parsed as never, text };
    },
    client(key, headers) {
      return createApiClient(url, key, {
        headers,
        fetch: async (request) => {
          const res = await fetch(request);
          const { text } = await checked(request.method, new URL(request.url).pathname, res);
          // The body was read to validate it: hand the client an equal response.
          return new Response(res.status === 204 || res.status === 304 ? null : text, { status: res.status, statusText: res.statusText, headers: res.headers });
        },
      });
    },
    async close() {
      await gateway.close();
      await product.close();
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    },
  };
  return h;
}

/** Checks a response against the document: the operation must exist, the status be declared, the body match. */
export function responseValidator(document: Record<string, unknown>): (method: string, path: string, status: number, contentType: string, body: unknown) => void {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema(document, 'openapi.json');
  const paths = document.paths as Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>>;
  const templates = Object.keys(paths).map((t) => ({ t, re: new RegExp(`^${t.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{\w+\\?\}/g, '[^/]+')}$`) }));
  const cache = new Map<string, ValidateFunction>();
  const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
  return (method, path, status, contentType, body) => {
    if (path === '/openapi.json' || path === '/healthz' || path === '/readyz' || path === '/metrics') return;
    const match = templates.filter((x) => x.re.test(path) && paths[x.t]![method]);
    if (match.length === 0) {
      if (status === 404) return; // an unknown path: the router's 404 (checked by the tests that send them)
      throw new Error(`response to ${method.toUpperCase()} ${path}: no such operation in the OpenAPI document`);
    }
    // The most specific template (fewest parameters) is the route express matched too.
    const best = match.sort((a, b) => (a.t.match(/\{/g)?.length ?? 0) - (b.t.match(/\{/g)?.length ?? 0))[0]!.t;
    const responses = paths[best]![method]!.responses;
    const declared = responses[String(status)];
    if (!declared) throw new Error(`response to ${method.toUpperCase()} ${path}: status ${status} is not declared in the OpenAPI document (declared: ${Object.keys(responses).join(', ')})`);
    if (!declared.content) return;
    if (!declared.content[contentType]) throw new Error(`response to ${method.toUpperCase()} ${path}: content type ${contentType} is not declared for ${status} (declared: ${Object.keys(declared.content).join(', ')})`);
    if (contentType === 'text/csv') return;
    const ref = `openapi.json#/${pointer('paths', best, method, 'responses', String(status), 'content', contentType, 'schema')}`;
    let validate = cache.get(ref);
    if (!validate) cache.set(ref, (validate = ajv.getSchema(ref)!));
    if (!validate) throw new Error(`no schema at ${ref}`);
    const items = contentType === 'application/x-ndjson' ? (body as unknown[]) : [body];
    for (const item of items) {
      if (!validate(item)) throw new Error(`response to ${method.toUpperCase()} ${path} (${status}) does not match the OpenAPI document: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(item).slice(0, 500)}`);
    }
  };
}
