// The API's HTTP front: key → caller, origin, permission, rate limit, input validation, handler,
// audit. Every route comes from an Operation; every refusal has the one error shape.
import { randomUUID } from 'node:crypto';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../lib/log.ts';
import { mountProbes } from '../lib/service.ts';
import type { Caller, KeyLookup } from './access/keys.ts';
import { KeyRateLimits } from './access/rate-limit.ts';
import { allows } from './access/roles.ts';
import type { AuditSink } from './audit/entry.ts';
import { ApiError } from './http/errors.ts';
import { check, compileValidators, expressPath, type Operation } from './http/operation.ts';
import { openApiDocument } from './openapi/document.ts';
import { mountUi } from './ui.ts';

export const OPENAPI_PATH = '/openapi.json';

export interface GatewayDeps {
  keys: KeyLookup;
  operations: readonly Operation[];
  audit: AuditSink;
  log: Logger;
  registry: Registry;
  /** Returns undefined when ready, else why not. */
  ready: () => Promise<string | undefined> | string | undefined;
  trustProxy?: string | boolean;
}

function bearer(req: Request): string | undefined {
  const header = req.get('authorization');
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new ApiError(401, 'unauthenticated', 'the Authorization header must be "Bearer <key>"', 'header.authorization');
  return match[1];
}

/** Browsers send Origin; only decisions keys may be used from another site's page, and only from their origins. */
function checkOrigin(req: Request, caller: Caller): void {
  const origin = req.get('origin');
  // The dashboard is served from the API's own origin (/ui/): its calls are no foreign page's.
  if (!origin || origin === `${req.protocol}://${req.get('host')}`) return;
  if (caller.role !== 'decisions') throw new ApiError(403, 'origin_not_allowed', `ApiKey ${caller.key} has role ${caller.role}, which must not be used from a browser (Origin ${origin}): browsers use a key of role decisions`, 'header.origin');
  if (!caller.origins.includes(origin)) throw new ApiError(403, 'origin_not_allowed', `ApiKey ${caller.key} may be used from ${caller.origins.join(', ')}, not from ${origin}`, 'header.origin');
}

export function createGateway(deps: GatewayDeps): Express {
  const { keys, log, registry, audit } = deps;
  const requests = new Counter({ name: 'uspa_api_requests_total', help: 'API requests by operation and status', labelNames: ['operation', 'status'], registers: [registry] });
  const latency = new Histogram({ name: 'uspa_api_request_seconds', help: 'API request time until the response is sent (streams: until the last byte)', labelNames: ['operation'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60], registers: [registry] });
  const limits = new KeyRateLimits();
  const document = openApiDocument(deps.operations);

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy ?? 'loopback');
  app.set('query parser', 'simple');
  mountProbes(app, registry, { ready: async () => (keys.synced ? await deps.ready() : 'API keys not loaded yet') });

  app.use((req, res, next) => {
    const id = req.get('x-request-id');
    res.locals.requestId = id && /^[\w.-]{1,128}$/.test(id) ? id : randomUUID();
    res.setHeader('X-Request-Id', res.locals.requestId as string);
    const origin = req.get('origin');
    // A preflight carries no key: answer for origins that some decisions key lists.
    if (origin && keys.allowsOrigin(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Expose-Headers', 'Retry-After, X-Request-Id');
      if (req.method === 'OPTIONS') {
        res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PUT, PATCH, DELETE');
        res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, X-Request-Id');
        res.setHeader('Access-Control-Max-Age', '600');
        res.status(204).end();
        return;
      }
    }
    next();
  });

  app.get(OPENAPI_PATH, (_req, res) => {
    res.json(document);
  });
  mountUi(app);

  const json = express.json({ limit: '1mb', strict: true, type: ['application/json', 'application/merge-patch+json'] });
  for (const op of deps.operations) {
    const validators = compileValidators(op);
    app[op.method](expressPath(op.path), json, async (req: Request, res: Response, next: NextFunction) => {
      const stop = latency.startTimer({ operation: op.id });
      res.on('finish', () => {
        stop();
        requests.inc({ operation: op.id, status: String(res.statusCode) });
      });
      try {
        const caller = keys.authenticate(bearer(req));
        res.locals.caller = caller;
        checkOrigin(req, caller);
        if (op.permission && !allows(caller.role, op.permission)) throw new ApiError(403, 'forbidden', `ApiKey ${caller.key} has role ${caller.role}, which lacks permission ${op.permission} needed by ${op.method.toUpperCase()} ${op.path}`);
        await limits.take(caller);
        const params = check(validators.params, { ...req.params }, 'path');
        const query = check(validators.query, { ...(req.query as Record<string, unknown>) }, 'query');
        if (op.body && req.body === undefined) throw new ApiError(400, 'invalid_request', 'body: a JSON body is required (Content-Type: application/json)', 'body');
        const body = check(validators.body, req.body, 'body');
        let target = '';
        if (op.audit) {
          // 'close' also fires when a client leaves mid-stream (a cut export): recorded as 499.
          res.on('close', () => {
            audit.record({
              at: new Date().toISOString(),
              requestId: res.locals.requestId as string,
              key: caller.key,
              keyId: caller.keyId,
              role: caller.role,
              operation: op.id,
              kind: op.audit!,
              method: op.method.toUpperCase(),
              route: op.path,
              target,
              status: res.writableFinished ? res.statusCode : 499,
              ip: req.ip ?? '',
              userAgent: (req.get('user-agent') ?? '').slice(0, 256),
            });
          });
        }
        const reply = await op.handler({ params, query, body, caller, identifiers: allows(caller.role, 'identifiers'), req, res, subject: (t: string) => (target = t) } as never);
        if (reply === 'streamed') return;
        for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
        res.status(reply.status ?? 200);
        if (reply.status === 204) res.end();
        else res.json(reply.body);
      } catch (err) {
        next(err);
      }
    });
  }

  app.use((req, _res, next) => next(new ApiError(404, 'not_found', `no endpoint ${req.method} ${req.path}; the endpoints are listed in ${OPENAPI_PATH}`)));

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    let error: ApiError;
    if (err instanceof ApiError) error = err;
    else if (err instanceof SyntaxError && (err as { type?: string }).type === 'entity.parse.failed') error = new ApiError(400, 'invalid_request', `body: is not valid JSON (${err.message})`, 'body');
    else if ((err as { type?: string }).type === 'entity.too.large') error = new ApiError(413, 'invalid_request', 'body: is larger than 1 MB', 'body');
    else if ((err as { type?: string }).type === 'encoding.unsupported' || (err as { type?: string }).type === 'charset.unsupported') error = new ApiError(415, 'invalid_request', `body: ${(err as Error).message}`, 'body');
    else if ((err as { status?: number }).status && (err as { status: number }).status < 500) error = new ApiError((err as { status: number }).status, 'invalid_request', (err as Error).message);
    else {
      log.error({ err, requestId: res.locals.requestId, method: req.method, route: req.route?.path }, 'API request failed');
      error = new ApiError(500, 'internal', `internal error; the API's log has it under request id ${res.locals.requestId as string}`);
    }
    if (res.headersSent) {
      // A stream failed halfway: the client sees a cut response, the log says why.
      if (!(err instanceof ApiError)) log.error({ err, requestId: res.locals.requestId }, 'API stream failed');
      res.destroy();
      return;
    }
    for (const [k, v] of Object.entries(error.headers)) res.setHeader(k, v);
    res.status(error.status).json(error.body);
  });
  return app;
}
