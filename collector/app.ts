// The collector: the Segment tracking API over HTTP. An event is acknowledged (200) only after
// Kafka has it with acks=all; anything else gets a status and a field-level reason.
import { randomUUID } from 'node:crypto';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import cors from 'cors';
import { Counter, Histogram, type Registry } from 'prom-client';
import { EVENT_TYPES, type CanonicalEvent, type DeadLetter, type EventType } from '../api/event.ts';
import { topicNames, type OutgoingRecord } from '../lib/kafka.ts';
import type { Logger } from '../lib/log.ts';
import { mountProbes } from '../lib/service.ts';
import { LIMITS, jsonBytes, normalizeBatch, normalizeEvent, type FieldError, type Normalized } from './tracking-api.ts';
import type { SourceRegistry, CollectorSource } from './sources.ts';
import { mapWebhook } from './webhook.ts';
import { SNIPPET_PATH, snippetSource } from './snippet.ts';

export interface EventSink {
  send(records: OutgoingRecord[]): Promise<void>;
  readonly isConnected: boolean;
}

export interface CollectorDeps {
  sources: SourceRegistry;
  sink: EventSink;
  log: Logger;
  registry: Registry;
  /** Express "trust proxy" value: which proxies' X-Forwarded-For to believe (e.g. "loopback", a CIDR list). */
  trustProxy?: string | boolean;
  /** Where dead letters go; defaults to the installation's topic names from the environment. */
  deadLetterTopic?: (source: string) => string;
}

/** Short paths used by analytics.js (/v1/t …) map to the same handlers. */
const ROUTES: Record<string, EventType | 'batch'> = {
  track: 'track', t: 'track', identify: 'identify', i: 'identify', page: 'page', p: 'page', screen: 'screen', s: 'screen',
  group: 'group', g: 'group', alias: 'alias', a: 'alias', batch: 'batch', b: 'batch', import: 'batch',
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: FieldError[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function createCollector(deps: CollectorDeps): Express {
  const { sources, sink, log, registry } = deps;
  const deadLetterTopic = deps.deadLetterTopic ?? topicNames().deadLetters;
  const requests = new Counter({ name: 'uspa_collector_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'], registers: [registry] });
  const accepted = new Counter({ name: 'uspa_collector_events_accepted_total', help: 'Events acknowledged after Kafka had them', labelNames: ['source', 'type'], registers: [registry] });
  const deadLettered = new Counter({ name: 'uspa_collector_events_dead_lettered_total', help: 'Events routed to the dead-letter topic by the tracking plan', labelNames: ['source'], registers: [registry] });
  const latency = new Histogram({ name: 'uspa_collector_request_seconds', help: 'Request time including the Kafka acknowledgement', labelNames: ['route'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry] });

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy ?? 'loopback');
  mountProbes(app, registry, { ready: () => (sink.isConnected ? undefined : 'not connected to Kafka') });

  // Browsers call us cross-origin with credentials-free requests; sendBeacon posts text/plain.
  const corsMiddleware = cors({ origin: true, methods: ['POST', 'OPTIONS'], allowedHeaders: ['Content-Type', 'Authorization', 'Content-Encoding'], exposedHeaders: ['Retry-After'], maxAge: 86400 });
  app.get(SNIPPET_PATH, (_req, res) => {
    res.type('application/javascript').set('Cache-Control', 'public, max-age=300').send(snippetSource());
  });
  // Raw bytes: we measure sizes before parsing, and accept gzip/deflate bodies (inflated by body-parser).
  const body = express.raw({ type: () => true, limit: LIMITS.batchBytes + 1024, inflate: true });

  app.options('/v1/:route', corsMiddleware);
  app.post('/v1/:route', corsMiddleware, body, async (req: Request, res: Response, next: NextFunction) => {
    const route = ROUTES[String(req.params.route)];
    const end = latency.startTimer({ route: route ?? 'unknown' });
    try {
      if (!route) throw new HttpError(404, `unknown endpoint /v1/${String(req.params.route)}; use track, identify, page, screen, group, alias or batch`);
      const payload = parseJson(req);
      const source = authenticate(req, payload);
      const ctx = { source: source.name, receivedAt: new Date(), ip: req.ip, newMessageId: () => `api-${randomUUID()}` };
      const raw = Buffer.isBuffer(req.body) ? req.body.length : 0;
      let results: Normalized[];
      if (route === 'batch') {
        if (raw > LIMITS.batchBytes) throw new HttpError(413, `batch is ${raw} bytes; the limit is ${LIMITS.batchBytes} bytes`);
        const items = (payload as { batch?: unknown }).batch;
        // A batch no larger than one event's limit cannot hold an oversized event: skip measuring each.
        if (Array.isArray(items) && raw > LIMITS.eventBytes) {
          const big = items.flatMap((item, i) => (jsonBytes(item) > LIMITS.eventBytes ? [{ path: `batch[${i}]`, message: `is ${jsonBytes(item)} bytes; the limit is ${LIMITS.eventBytes} bytes per event` }] : []));
          if (big.length) throw new HttpError(413, 'an event in the batch is too large', big);
        }
        const batch = normalizeBatch(payload, ctx);
        if (batch.errors.length) throw new HttpError(400, 'invalid batch', batch.errors);
        results = batch.results;
      } else {
        if (raw > LIMITS.eventBytes) throw new HttpError(413, `event is ${raw} bytes; the limit is ${LIMITS.eventBytes} bytes`);
        results = [normalizeEvent(route, payload, ctx)];
      }
      const invalid = results.flatMap((r) => (r.ok ? [] : r.errors));
      if (invalid.length) throw new HttpError(400, 'invalid event', invalid);
      const events = results.flatMap((r) => (r.ok ? [r.event] : []));
      await admit(source, events.length);
      await deliver(source, events);
      for (const e of events) accepted.inc({ source: source.name, type: e.type });
      res.json({ success: true });
      requests.inc({ route, status: 200 });
    } catch (err) {
      next(err);
    } finally {
      end();
    }
  });

  // Webhooks: a third-party payload mapped into a track/identify event by the Source's declared mapping.
  app.post('/v1/webhook/:source', body, async (req: Request, res: Response, next: NextFunction) => {
    try {
      const payload = parseJson(req);
      const source = authenticate(req, payload, String(req.params.source));
      if (!source.spec.webhook) throw new HttpError(404, `source ${source.name} is not a webhook source`);
      const mapped = mapWebhook(source.spec.webhook, payload);
      if (!mapped.ok) throw new HttpError(400, 'the webhook payload does not fit the source mapping', mapped.errors);
      const result = normalizeEvent(mapped.type, mapped.body, { source: source.name, receivedAt: new Date(), ip: req.ip, newMessageId: () => `webhook-${randomUUID()}` });
      if (!result.ok) throw new HttpError(400, 'the mapped webhook event is invalid', result.errors);
      await admit(source, 1);
      await deliver(source, [result.event]);
      accepted.inc({ source: source.name, type: result.event.type });
      res.json({ success: true, messageId: result.event.messageId });
      requests.inc({ route: 'webhook', status: 200 });
    } catch (err) {
      next(err);
    }
  });

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const route = ROUTES[String(req.params?.route)] ?? (req.path.startsWith('/v1/webhook') ? 'webhook' : 'unknown');
    let e: HttpError;
    if (err instanceof HttpError) e = err;
    else if ((err as { type?: string }).type === 'entity.too.large') e = new HttpError(413, `request body is larger than ${LIMITS.batchBytes} bytes`);
    else if ((err as { type?: string }).type === 'encoding.unsupported') e = new HttpError(415, 'unsupported Content-Encoding; use gzip or deflate');
    else if ((err as { status?: number }).status === 400) e = new HttpError(400, `unreadable request body: ${(err as Error).message}`);
    else {
      log.error({ err, route }, 'unexpected collector error');
      e = new HttpError(500, 'internal error');
    }
    if (e.status >= 400 && e.status !== 500) log.info({ route, status: e.status, error: e.message, errors: e.errors.slice(0, 5) }, 'request refused');
    requests.inc({ route, status: e.status });
    res.status(e.status).set(e.headers).json({ success: false, error: e.message, errors: e.errors });
  });

  function parseJson(req: Request): Record<string, unknown> {
    const text = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    if (!text.trim()) throw new HttpError(400, 'empty request body; send a JSON object');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new HttpError(400, `request body is not valid JSON: ${(err as Error).message}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(400, 'request body must be a JSON object');
    return value as Record<string, unknown>;
  }

  /** Write key as HTTP Basic username (Segment's SDKs) or as `writeKey` in the body (beacons). */
  function authenticate(req: Request, payload: Record<string, unknown>, expectedSource?: string): CollectorSource {
    let writeKey: string | undefined;
    const header = req.headers.authorization;
    if (header?.startsWith('Basic ')) writeKey = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':')[0];
    if (!writeKey && typeof payload.writeKey === 'string') writeKey = payload.writeKey;
    if (!writeKey && typeof req.query.writeKey === 'string') writeKey = req.query.writeKey;
    if (!writeKey) throw new HttpError(401, 'missing write key: send it as the HTTP Basic username or as "writeKey" in the body', [], { 'WWW-Authenticate': 'Basic realm="uspa"' });
    const source = sources.byWriteKey(writeKey);
    if (!source || (expectedSource && source.name !== expectedSource)) throw new HttpError(401, 'unknown write key', [], { 'WWW-Authenticate': 'Basic realm="uspa"' });
    return source;
  }

  async function admit(source: CollectorSource, count: number): Promise<void> {
    const wait = await source.admit(count);
    if (wait !== undefined) {
      throw new HttpError(429, `source ${source.name} is over its rate limit of ${source.spec.rateLimit?.eventsPerSecond} events/s`, [], { 'Retry-After': String(wait) });
    }
  }

  /** Tracking plan, then Kafka. Violations in `reject` mode refuse the whole request before anything is sent. */
  async function deliver(source: CollectorSource, events: CanonicalEvent[]): Promise<void> {
    const records: OutgoingRecord[] = [];
    const refused: FieldError[] = [];
    let dlq = 0;
    events.forEach((event, i) => {
      const verdict = source.checkPlan(event);
      const prefix = events.length > 1 ? `batch[${i}].` : '';
      if (verdict?.mode === 'reject') {
        refused.push(...verdict.errors.map((m) => ({ path: prefix + m.split(':')[0], message: m.slice(m.indexOf(':') + 1).trim() })));
        return;
      }
      if (verdict?.mode === 'dlq') {
        dlq++;
        const letter: DeadLetter = { stage: 'collector', source: source.name, reason: 'tracking_plan_violation', errors: verdict.errors, payload: event as unknown as DeadLetter['payload'], messageId: event.messageId, failedAt: new Date().toISOString() };
        records.push({ topic: deadLetterTopic(source.name), key: event.messageId, value: JSON.stringify(letter), headers: { source: source.name, reason: letter.reason } });
        return;
      }
      records.push({ topic: source.topic, key: event.anonymousId ?? event.userId, value: JSON.stringify(event), headers: { source: source.name } });
    });
    if (refused.length) throw new HttpError(400, `tracking plan of source ${source.name} refused the event`, refused);
    try {
      await sink.send(records);
    } catch (err) {
      log.warn({ err: (err as Error).message, source: source.name, events: records.length }, 'Kafka did not acknowledge; answering 503');
      throw new HttpError(503, 'events could not be stored right now (Kafka unavailable); retry later — nothing was accepted', [], { 'Retry-After': '5' });
    }
    if (dlq) deadLettered.inc({ source: source.name }, dlq);
  }

  return app;
}

export { EVENT_TYPES };
