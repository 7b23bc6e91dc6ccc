// The collector: the Segment tracking API over HTTP. An event is acknowledged (200) only after
// Kafka has it with acks=all; anything else gets a status and a field-level reason. In a batch,
// each event that cannot be accepted goes to the Source's dead-letter topic with its cause, and
// the others are stored.
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import cors from 'cors';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { EVENT_TYPES, type CanonicalEvent, type DeadLetter, type EventType, type Json } from '../api/event.ts';
import { topicNames, type OutgoingRecord } from '../lib/kafka.ts';
import type { Logger } from '../lib/log.ts';
import { mountProbes } from '../lib/service.ts';
import { anonymized, eventGrants, withoutPurpose } from '../lib/consent.ts';
import { directIdentities, type SuppressionList } from '../lib/privacy/suppressions.ts';
import { LIMITS, contentMessageId, normalizeBatch, normalizeEvent, type FieldError, type Normalized } from './tracking-api.ts';
import { readJsonBody, type ReadBody } from './body.ts';
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
  /** Erased identities: their events are answered 200 (so SDKs do not retry) and not stored. */
  suppressions?: Pick<SuppressionList, 'has' | 'problem' | 'size'>;
  /** Told the events asked of each Source with a rate limit (the demand replicas share the limit by). */
  demand?: (source: string, events: number) => void;
  /** True once the process is stopping: not ready, and every answer closes its connection. */
  draining?: () => boolean;
}

/** Short paths used by analytics.js (/v1/t …) map to the same handlers. */
const ROUTES: Record<string, EventType | 'batch'> = {
  track: 'track', t: 'track', identify: 'identify', i: 'identify', page: 'page', p: 'page', screen: 'screen', s: 'screen',
  group: 'group', g: 'group', alias: 'alias', a: 'alias', batch: 'batch', b: 'batch', import: 'batch',
};

/** Refusals listed in one response; the dead letters hold them all. */
const MAX_LISTED_ERRORS = 100;
/** How much of an item's text a dead letter keeps when the item is too large or too deep to copy. */
const PREVIEW_CHARS = 4096;

interface DoorLetter {
  letter: DeadLetter;
  fieldErrors: FieldError[];
}

function isObject(value: unknown): value is { [key: string]: Json } {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

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
  const deadLettered = new Counter({ name: 'uspa_collector_events_dead_lettered_total', help: 'Events routed to the dead-letter topic: refused at the door (invalid_event, timestamp_out_of_window) or by the tracking plan', labelNames: ['source', 'reason'], registers: [registry] });
  const latency = new Histogram({ name: 'uspa_collector_request_seconds', help: 'Request time including the Kafka acknowledgement', labelNames: ['route'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry] });

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy ?? 'loopback');
  const suppressed = new Counter({ name: 'uspa_collector_events_suppressed_total', help: 'Events answered 200 and not stored: they carry an erased identity on the suppression list', labelNames: ['source'], registers: [registry] });
  new Gauge({ name: 'uspa_collector_suppressed_identities', help: 'Identities on the suppression list this collector holds', registers: [registry], collect() { this.set(deps.suppressions?.size ?? 0); } });
  mountProbes(app, registry, { ready: () => (deps.draining?.() ? 'draining: stopping after the requests in flight' : sink.isConnected ? deps.suppressions?.problem() : 'not connected to Kafka') });
  // While draining, keep-alive clients are told to reconnect (to another replica) after this answer.
  app.use((_req, res, next) => {
    if (deps.draining?.()) res.setHeader('Connection', 'close');
    next();
  });

  const withoutConsent = new Counter({ name: 'uspa_collector_events_without_consent_total', help: 'Events not granting the consent purpose their Source requires (spec.consent.purpose), answered 200: dropped, anonymized (withoutConsent: anonymize), or a consent update kept stripped', labelNames: ['source', 'purpose', 'action'], registers: [registry] });

  /**
   * The events to store: those carrying a suppressed identity, and those not granting the purpose
   * their Source requires, are left out and counted (answered 200 all the same: a retry would not
   * help); of the latter, a consent update is kept stripped to the consent it states.
   */
  function storable(source: CollectorSource, events: CanonicalEvent[]): CanonicalEvent[] {
    const list = deps.suppressions;
    let kept = list ? events.filter((e) => !list.has(directIdentities(e))) : events;
    if (kept.length < events.length) suppressed.inc({ source: source.name }, events.length - kept.length);
    const purpose = source.spec.consent?.purpose;
    if (purpose) {
      const anonymize = source.spec.consent?.withoutConsent === 'anonymize';
      const out: CanonicalEvent[] = [];
      for (const e of kept) {
        if (eventGrants(e, purpose)) {
          out.push(e);
          continue;
        }
        const update = withoutPurpose(e);
        out.push(...(update ? [update] : anonymize ? [anonymized(e)] : []));
        withoutConsent.inc({ source: source.name, purpose, action: update ? 'consent_update_kept' : anonymize ? 'anonymized' : 'dropped' });
      }
      kept = out;
    }
    return kept;
  }

  // Browsers call us cross-origin with credentials-free requests; sendBeacon posts text/plain.
  const corsMiddleware = cors({ origin: true, methods: ['POST', 'OPTIONS'], allowedHeaders: ['Content-Type', 'Authorization', 'Content-Encoding'], exposedHeaders: ['Retry-After'], maxAge: 86400 });
  app.get(SNIPPET_PATH, (_req, res) => {
    res.type('application/javascript').set('Cache-Control', 'public, max-age=300').send(snippetSource());
  });
  // Raw bytes: we measure sizes before parsing, and accept gzip/deflate bodies (inflated by body-parser).
  const body = express.raw({ type: () => true, limit: LIMITS.batchBytes + 1024, inflate: true });

  app.options('/v1/:route', corsMiddleware);
  // The route label of uspa_collector_requests_total, kept for the error handler (req.params is not
  // kept until there), set before the body is read so refused bodies (413, 415) count by route too.
  const labelRoute = (fixed?: string) => (req: Request, res: Response, next: NextFunction) => {
    res.locals.route = fixed ?? ROUTES[String(req.params.route)] ?? 'unknown';
    next();
  };
  app.post('/v1/:route', corsMiddleware, labelRoute(), body, async (req: Request, res: Response, next: NextFunction) => {
    const route = ROUTES[String(req.params.route)];
    const end = latency.startTimer({ route: route ?? 'unknown' });
    try {
      if (!route) throw new HttpError(404, 'unknown endpoint', [{ path: 'url', message: `/v1/${String(req.params.route)} is not an endpoint; use track, identify, page, screen, group, alias or batch` }]);
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const read = readBody(raw, route === 'batch');
      const source = authenticate(req, read.value);
      const ctx = { source: source.name, receivedAt: new Date(), ip: req.ip, newMessageId: (b: Readonly<Record<string, unknown>>) => contentMessageId(source.keyDigest, b) };
      let results: Normalized[];
      if (route === 'batch') {
        if (raw.length > LIMITS.batchBytes) throw tooLarge('batch', raw.length, LIMITS.batchBytes);
        if (read.problems.request.length) throw new HttpError(400, 'invalid batch', read.problems.request);
        const batch = normalizeBatch(read.value, ctx, read.problems.items);
        if (batch.errors.length) throw new HttpError(400, 'invalid batch', batch.errors);
        results = batch.results;
      } else {
        if (raw.length > LIMITS.eventBytes) throw tooLarge('event', raw.length, LIMITS.eventBytes);
        if (read.problems.request.length) throw new HttpError(400, 'invalid event', read.problems.request);
        results = [normalizeEvent(route, read.value, ctx)];
        // One event, one answer: the caller learns why at once, and nothing is stored.
        if (!results[0]!.ok) throw new HttpError(400, 'invalid event', results[0]!.errors);
      }
      await admit(source, results.length);
      const refused = results.flatMap((r, i) => (r.ok ? [] : [refusedLetter(source, read, i, r)]));
      const events = storable(source, results.flatMap((r) => (r.ok ? [r.event] : [])));
      await deliver(source, events, refused);
      for (const e of events) accepted.inc({ source: source.name, type: e.type });
      if (refused.length) {
        log.info({ route, source: source.name, deadLettered: refused.length, of: results.length }, 'batch events dead-lettered at the door');
        res.json({
          success: true,
          error: `${refused.length} of ${results.length} events were not accepted; each is in the dead-letter topic of source ${source.name} with its cause`,
          errors: refused.flatMap((l) => l.fieldErrors).slice(0, MAX_LISTED_ERRORS),
        });
      } else {
        res.json({ success: true });
      }
      requests.inc({ route, status: 200 });
    } catch (err) {
      next(err);
    } finally {
      end();
    }
  });

  // Webhooks: a third-party payload mapped into a track/identify event by the Source's declared mapping.
  app.post('/v1/webhook/:source', labelRoute('webhook'), body, async (req: Request, res: Response, next: NextFunction) => {
    try {
      const read = readBody(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), false);
      const source = authenticate(req, read.value, String(req.params.source));
      if (!source.spec.webhook) throw new HttpError(404, `source ${source.name} is not a webhook source`, [{ path: 'url', message: `${source.name} has no webhook mapping` }]);
      if (read.problems.request.length) throw new HttpError(400, 'the webhook payload is unreadable', read.problems.request);
      const mapped = mapWebhook(source.spec.webhook, read.value);
      if (!mapped.ok) throw new HttpError(400, 'the webhook payload does not fit the source mapping', mapped.errors);
      // A provider that re-delivers the same payload gets the same id (when the mapping names none).
      const result = normalizeEvent(mapped.type, mapped.body, { source: source.name, receivedAt: new Date(), ip: req.ip, newMessageId: () => contentMessageId(source.keyDigest, read.value) });
      if (!result.ok) throw new HttpError(400, 'the mapped webhook event is invalid', result.errors);
      await admit(source, 1);
      const events = storable(source, [result.event]);
      await deliver(source, events, []);
      for (const e of events) accepted.inc({ source: source.name, type: e.type });
      res.json({ success: true, messageId: result.event.messageId });
      requests.inc({ route: 'webhook', status: 200 });
    } catch (err) {
      next(err);
    }
  });

  // Anything else under /v1 answers in the same shape as every refusal.
  app.use('/v1', (req: Request, _res: Response, next: NextFunction) => {
    next(new HttpError(404, 'unknown endpoint', [{ path: 'url', message: `${req.method} ${req.path} is not an endpoint of the tracking API` }]));
  });

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const route = (res.locals.route as string | undefined) ?? 'unknown';
    let e: HttpError;
    if (err instanceof HttpError) e = err;
    // The limit applies to the inflated body: body-parser stops inflating there, so a decompression bomb costs at most the limit.
    else if ((err as { type?: string }).type === 'entity.too.large') e = new HttpError(413, 'request body is too large', [{ path: 'body', message: `is larger than ${LIMITS.batchBytes} bytes (after gzip/deflate inflation)` }]);
    else if ((err as { type?: string }).type === 'encoding.unsupported') e = new HttpError(415, 'unsupported Content-Encoding', [{ path: 'Content-Encoding', message: 'must be gzip, deflate, br or identity' }]);
    else if ((err as { status?: number }).status === 400) e = new HttpError(400, 'unreadable request body', [{ path: 'body', message: (err as Error).message }]);
    else {
      log.error({ err, route, path: req.path }, 'unexpected collector error');
      e = new HttpError(500, 'internal error', [{ path: 'body', message: 'the collector failed on this request; it is logged; retry later' }]);
    }
    if (e.status >= 400 && e.status !== 500) log.info({ route, path: req.path, status: e.status, error: e.message, errors: e.errors.slice(0, 5) }, 'request refused');
    requests.inc({ route, status: e.status });
    res.status(e.status).set(e.headers).json({ success: false, error: e.message, errors: e.errors });
  });

  function tooLarge(what: 'batch' | 'event', bytes: number, limit: number): HttpError {
    return new HttpError(413, `${what} too large`, [{ path: 'body', message: `is ${bytes} bytes; the limit is ${limit} bytes per ${what}` }]);
  }

  function readBody(raw: Buffer, batch: boolean): Extract<ReadBody, { ok: true }> {
    const read = readJsonBody(raw, { maxDepth: LIMITS.depth, batchKey: batch ? 'batch' : undefined });
    if (!read.ok) throw new HttpError(400, read.error.message.startsWith('is not valid JSON') ? 'request body is not valid JSON' : 'unreadable request body', [read.error]);
    return read;
  }

  /** Write key as HTTP Basic username (Segment's SDKs), `writeKey` in the body (beacons) or in the query string (RudderStack's beacons). */
  function authenticate(req: Request, payload: Record<string, unknown>, expectedSource?: string): CollectorSource {
    let writeKey: string | undefined;
    let from = 'Authorization';
    const header = req.headers.authorization;
    if (header?.startsWith('Basic ')) writeKey = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':')[0];
    if (!writeKey && typeof payload.writeKey === 'string') [writeKey, from] = [payload.writeKey, 'writeKey'];
    if (!writeKey && typeof req.query.writeKey === 'string') [writeKey, from] = [req.query.writeKey, 'query.writeKey'];
    const challenge = { 'WWW-Authenticate': 'Basic realm="uspa"' };
    if (!writeKey) throw new HttpError(401, 'missing write key', [{ path: 'Authorization', message: 'send the write key as the HTTP Basic username, or as "writeKey" in the body' }], challenge);
    const source = sources.byWriteKey(writeKey);
    if (!source) throw new HttpError(401, 'unknown write key', [{ path: from, message: 'is not the write key of any Source' }], challenge);
    if (expectedSource && source.name !== expectedSource) throw new HttpError(401, 'unknown write key', [{ path: from, message: `is not the write key of source ${expectedSource}` }], challenge);
    return source;
  }

  async function admit(source: CollectorSource, count: number): Promise<void> {
    deps.demand?.(source.name, count);
    const wait = await source.admit(count);
    if (wait !== undefined) {
      const limit = source.spec.rateLimit?.eventsPerSecond;
      throw new HttpError(429, 'rate limit exceeded', [{ path: 'body', message: `${count} event${count === 1 ? '' : 's'} would exceed source ${source.name}'s limit of ${limit} events/s; retry after ${wait} s (Retry-After)` }], { 'Retry-After': String(wait) });
    }
  }

  /** A refused batch item as a dead letter: its cause, and what was sent (a preview where it cannot or should not be copied whole). */
  function refusedLetter(source: CollectorSource, read: Extract<ReadBody, { ok: true }>, index: number, result: Extract<Normalized, { ok: false }>): DoorLetter {
    const item: unknown = ((read.value.batch as unknown[] | undefined) ?? [])[index];
    const span = read.problems.spans.get(index);
    // An event out of the time window is kept whole, so `uspa dlq replay` can deliver it once someone
    // decides to; an invalid one is kept as text, which replay refuses: only its sender can fix it.
    let payload: Json;
    if (result.event) payload = result.event as unknown as Json;
    else if (read.problems.items.has(index)) payload = span ? read.text.slice(span.start, Math.min(span.end, span.start + PREVIEW_CHARS)) : null;
    else if (isObject(item)) {
      const { writeKey: _writeKey, ...asSent } = item; // a beacon's key stays out of the dead-letter topic
      const text = JSON.stringify(asSent);
      payload = Buffer.byteLength(text) > LIMITS.eventBytes ? text.slice(0, PREVIEW_CHARS) : text;
    } else payload = JSON.stringify(item);
    const sent = isObject(item) ? item : {};
    const messageId =
      result.event?.messageId ??
      (typeof sent.messageId === 'string' && sent.messageId && sent.messageId.length <= LIMITS.messageIdChars ? sent.messageId : undefined) ??
      contentMessageId(source.keyDigest, span && read.problems.items.has(index) ? { unreadable: read.text.slice(span.start, span.end) } : { item: item as Json });
    return {
      fieldErrors: result.errors,
      letter: { stage: 'collector', source: source.name, reason: result.reason ?? 'invalid_event', errors: result.errors.map((e) => `${e.path}: ${e.message}`), payload, messageId, failedAt: new Date().toISOString() },
    };
  }

  /**
   * Tracking plan, then Kafka: the accepted events and every dead letter in one send. Violations in
   * `reject` mode refuse the whole request before anything is sent.
   */
  async function deliver(source: CollectorSource, events: CanonicalEvent[], refused: DoorLetter[]): Promise<void> {
    const records: OutgoingRecord[] = [];
    const planErrors: FieldError[] = [];
    const letters = refused.map((r) => r.letter);
    events.forEach((event, i) => {
      const verdict = source.checkPlan(event);
      const prefix = events.length > 1 ? `batch[${i}].` : '';
      if (verdict?.mode === 'reject') {
        planErrors.push(...verdict.errors.map((m) => ({ path: prefix + m.split(':')[0], message: m.slice(m.indexOf(':') + 1).trim() })));
        return;
      }
      if (verdict?.mode === 'dlq') {
        letters.push({ stage: 'collector', source: source.name, reason: 'tracking_plan_violation', errors: verdict.errors, payload: event as unknown as Json, messageId: event.messageId, failedAt: new Date().toISOString() });
        return;
      }
      records.push({ topic: source.topic, key: event.anonymousId ?? event.userId, value: JSON.stringify(event), headers: { source: source.name } });
    });
    if (planErrors.length) throw new HttpError(400, `tracking plan of source ${source.name} refused the event`, planErrors);
    for (const letter of letters) records.push({ topic: deadLetterTopic(source.name), key: letter.messageId, value: JSON.stringify(letter), headers: { source: source.name, reason: letter.reason } });
    try {
      await sink.send(records);
    } catch (err) {
      log.warn({ err: (err as Error).message, source: source.name, events: records.length }, 'Kafka did not acknowledge; answering 503');
      throw new HttpError(503, 'events could not be stored right now (Kafka unavailable); retry later — nothing was accepted', [{ path: 'body', message: 'Kafka did not acknowledge the events; send the same request again after Retry-After (events keep their messageIds, so a retry is stored once)' }], { 'Retry-After': '5' });
    }
    for (const letter of letters) deadLettered.inc({ source: source.name, reason: letter.reason });
  }

  return app;
}

export { EVENT_TYPES };
