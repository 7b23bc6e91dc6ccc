// The collector: the Segment tracking API over HTTP. An event is acknowledged (200) only after
// Kafka has it with acks=all; anything else gets a status and a field-level reason. In a batch,
// each event that cannot be accepted goes to the Source's dead-letter topic with its cause, and
// the others are stored. Served by fastify: measured side by side on the same handler, express
// answered a quarter of the requests per second fastify did, and was the collector's ceiling.
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Readable, Transform } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import cors from '@fastify/cors';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { EVENT_TYPES, type CanonicalEvent, type DeadLetter, type EventType, type Json } from '../api/event.ts';
import { topicNames, type OutgoingRecord } from '../lib/kafka.ts';
import type { Logger } from '../lib/log.ts';
import { probeAnswers } from '../lib/service.ts';
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

export function createCollector(deps: CollectorDeps): FastifyInstance {
  const { sources, sink, log, registry } = deps;
  const deadLetterTopic = deps.deadLetterTopic ?? topicNames().deadLetters;
  const requests = new Counter({ name: 'uspa_collector_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'], registers: [registry] });
  const accepted = new Counter({ name: 'uspa_collector_events_accepted_total', help: 'Events acknowledged after Kafka had them', labelNames: ['source', 'type'], registers: [registry] });
  const deadLettered = new Counter({ name: 'uspa_collector_events_dead_lettered_total', help: 'Events routed to the dead-letter topic: refused at the door (invalid_event, timestamp_out_of_window) or by the tracking plan', labelNames: ['source', 'reason'], registers: [registry] });
  const latency = new Histogram({ name: 'uspa_collector_request_seconds', help: 'Request time including the Kafka acknowledgement', labelNames: ['route'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry] });

  // The limit applies to the inflated body (see preParsing): a decompression bomb costs at most it.
  const app = Fastify({ logger: false, bodyLimit: LIMITS.batchBytes + 1024, trustProxy: trustProxyOption(deps.trustProxy ?? 'loopback'), return503OnClosing: false });
  const suppressed = new Counter({ name: 'uspa_collector_events_suppressed_total', help: 'Events answered 200 and not stored: they carry an erased identity on the suppression list', labelNames: ['source'], registers: [registry] });
  new Gauge({ name: 'uspa_collector_suppressed_identities', help: 'Identities on the suppression list this collector holds', registers: [registry], collect() { this.set(deps.suppressions?.size ?? 0); } });
  const probes = probeAnswers(registry, { ready: () => (deps.draining?.() ? 'draining: stopping after the requests in flight' : sink.isConnected ? deps.suppressions?.problem() : 'not connected to Kafka') });
  for (const [path, answer] of Object.entries(probes)) {
    app.get(path, async (_req, reply) => {
      const a = await answer();
      return reply.code(a.status).type(a.type).send(a.body);
    });
  }
  // While draining, keep-alive clients are told to reconnect (to another replica) after this answer.
  app.addHook('onRequest', async (_req, reply) => {
    if (deps.draining?.()) reply.header('connection', 'close');
  });
  // Raw bytes, whatever the Content-Type (sendBeacon posts text/plain): sizes are measured and JSON
  // read by readJsonBody. gzip, deflate and br bodies are inflated on the way in.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.addHook('preParsing', async (req, _reply, payload) => inflated(req, payload));

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
  // Only the tracking endpoints answer CORS (and their preflights).
  const trackingCors = { origin: true, methods: ['POST', 'OPTIONS'], allowedHeaders: ['Content-Type', 'Authorization', 'Content-Encoding'], exposedHeaders: ['Retry-After'], maxAge: 86400 };
  void app.register(cors, { delegator: (req, cb) => cb(null, isTrackingPath(req.url) ? trackingCors : { origin: false }) });
  app.get(SNIPPET_PATH, async (_req, reply) => reply.type('application/javascript').header('cache-control', 'public, max-age=300').send(snippetSource()));

  const routeOf = (req: FastifyRequest): string =>
    req.routeOptions.url === '/v1/webhook/:source' ? 'webhook' : (ROUTES[String((req.params as { route?: string } | undefined)?.route)] ?? 'unknown');

  app.post('/v1/:route', async (req, reply) => {
    const { route: name } = req.params as { route: string };
    const route = ROUTES[name];
    const end = latency.startTimer({ route: route ?? 'unknown' });
    try {
      if (!route) throw new HttpError(404, 'unknown endpoint', [{ path: 'url', message: `/v1/${name} is not an endpoint; use track, identify, page, screen, group, alias or batch` }]);
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
      requests.inc({ route, status: 200 });
      if (refused.length) {
        log.info({ route, source: source.name, deadLettered: refused.length, of: results.length }, 'batch events dead-lettered at the door');
        return reply.send({
          success: true,
          error: `${refused.length} of ${results.length} events were not accepted; each is in the dead-letter topic of source ${source.name} with its cause`,
          errors: refused.flatMap((l) => l.fieldErrors).slice(0, MAX_LISTED_ERRORS),
        });
      }
      return reply.type('application/json; charset=utf-8').send(SUCCESS);
    } finally {
      end();
    }
  });

  // Webhooks: a third-party payload mapped into a track/identify event by the Source's declared mapping.
  app.post('/v1/webhook/:source', async (req, reply) => {
    const read = readBody(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), false);
    const source = authenticate(req, read.value, String((req.params as { source: string }).source));
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
    requests.inc({ route: 'webhook', status: 200 });
    return reply.send({ success: true, messageId: result.event.messageId });
  });

  // Anything else answers in the same shape as every refusal.
  app.setNotFoundHandler(async (req, reply) => {
    const e = new HttpError(404, 'unknown endpoint', [{ path: 'url', message: `${req.method} ${pathOf(req.url)} is not an endpoint of the tracking API` }]);
    refuse(req, reply, e, 'unknown');
  });

  app.setErrorHandler(async (err, req, reply) => {
    const route = routeOf(req);
    const code = (err as { code?: string }).code ?? '';
    let e: HttpError;
    if (err instanceof HttpError) e = err;
    else if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') e = new HttpError(413, 'request body is too large', [{ path: 'body', message: `is larger than ${LIMITS.batchBytes} bytes (after gzip/deflate inflation)` }]);
    else if ((err as { [INFLATE_FAILED]?: boolean })[INFLATE_FAILED]) e = new HttpError(400, 'unreadable request body', [{ path: 'body', message: `could not be inflated as ${String(req.headers['content-encoding'])}: ${(err as Error).message}` }]);
    else if ((err as { statusCode?: number }).statusCode === 400) e = new HttpError(400, 'unreadable request body', [{ path: 'body', message: (err as Error).message }]);
    else {
      log.error({ err, route, path: pathOf(req.url) }, 'unexpected collector error');
      e = new HttpError(500, 'internal error', [{ path: 'body', message: 'the collector failed on this request; it is logged; retry later' }]);
    }
    refuse(req, reply, e, route);
  });

  function refuse(req: FastifyRequest, reply: FastifyReply, e: HttpError, route: string): void {
    if (e.status >= 400 && e.status !== 500) log.info({ route, path: pathOf(req.url), status: e.status, error: e.message, errors: e.errors.slice(0, 5) }, 'request refused');
    requests.inc({ route, status: e.status });
    void reply.code(e.status).headers(e.headers).send({ success: false, error: e.message, errors: e.errors });
  }

  function tooLarge(what: 'batch' | 'event', bytes: number, limit: number): HttpError {
    return new HttpError(413, `${what} too large`, [{ path: 'body', message: `is ${bytes} bytes; the limit is ${limit} bytes per ${what}` }]);
  }

  function readBody(raw: Buffer, batch: boolean): Extract<ReadBody, { ok: true }> {
    const read = readJsonBody(raw, { maxDepth: LIMITS.depth, batchKey: batch ? 'batch' : undefined });
    if (!read.ok) throw new HttpError(400, read.error.message.startsWith('is not valid JSON') ? 'request body is not valid JSON' : 'unreadable request body', [read.error]);
    return read;
  }

  /** Write key as HTTP Basic username (Segment's SDKs), `writeKey` in the body (beacons) or in the query string (RudderStack's beacons). */
  function authenticate(req: FastifyRequest, payload: Record<string, unknown>, expectedSource?: string): CollectorSource {
    let writeKey: string | undefined;
    let from = 'Authorization';
    const header = req.headers.authorization;
    if (header?.startsWith('Basic ')) writeKey = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':')[0];
    if (!writeKey && typeof payload.writeKey === 'string') [writeKey, from] = [payload.writeKey, 'writeKey'];
    const query = req.query as Record<string, unknown>;
    if (!writeKey && typeof query.writeKey === 'string') [writeKey, from] = [query.writeKey, 'query.writeKey'];
    const challenge = { 'WWW-Authenticate': 'Basic realm="uspa"' };
    if (!writeKey) throw new HttpError(401, 'missing write key', [{ path: 'Authorization', message: 'send the write key as the HTTP Basic username, or as "writeKey" in the body' }], challenge);
    const source = sources.byWriteKey(writeKey);
    if (!source) throw new HttpError(401, 'unknown write key', [{ path: from, message: 'is not the write key of any Source' }], challenge);
    if (expectedSource && source.name !== expectedSource) throw new HttpError(401, 'unknown write key', [{ path: from, message: `is not the write key of source ${expectedSource}` }], challenge);
    return source;
  }

  async function admit(source: CollectorSource, count: number): Promise<void> {
    if (source.spec.rateLimit) deps.demand?.(source.name, count);
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

/** Marks an error of the stream inflating a body (zlib and brotli errors have many codes). */
const INFLATE_FAILED = Symbol('inflate failed');

/** The answer to almost every request, serialized once. */
const SUCCESS = JSON.stringify({ success: true });

/** The path without its query string, which may hold a write key (never logged). */
function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

function isTrackingPath(url: string): boolean {
  const path = pathOf(url);
  return path.startsWith('/v1/') && !path.startsWith('/v1/webhook/') && path.indexOf('/', 4) < 0;
}

/** Express's "trust proxy" values as fastify takes them: a list of names/CIDRs, or a boolean. */
function trustProxyOption(value: string | boolean): string | boolean {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  return value.split(',').map((v) => v.trim()).filter(Boolean).join(',');
}

/**
 * The body as its Content-Encoding says to read it: fastify then counts the inflated bytes against
 * the body limit and stops there. receivedEncodedLength is what it compares with Content-Length.
 */
function inflated(req: FastifyRequest, payload: Readable): Readable {
  const encoding = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return payload;
  const inflate: Transform | undefined = encoding === 'gzip' || encoding === 'x-gzip' ? createGunzip() : encoding === 'deflate' ? createInflate() : encoding === 'br' ? createBrotliDecompress() : undefined;
  if (!inflate) throw new HttpError(415, 'unsupported Content-Encoding', [{ path: 'Content-Encoding', message: 'must be gzip, deflate, br or identity' }]);
  const out = inflate as Transform & { receivedEncodedLength: number };
  out.receivedEncodedLength = 0;
  // Registered before fastify's listener: the error it reports says the body could not be inflated.
  out.on('error', (err) => Object.assign(err, { [INFLATE_FAILED]: true }));
  payload.on('data', (chunk: Buffer) => (out.receivedEncodedLength += chunk.length));
  payload.on('error', (err) => out.destroy(err));
  return payload.pipe(out);
}

export { EVENT_TYPES };
