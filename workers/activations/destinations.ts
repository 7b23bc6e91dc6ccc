// The three destinations of an Activation. Every send carries the delivery's idempotency key, so a
// send repeated after a crash (between the destination's answer and our record of it) is
// recognisable by the receiver: the Idempotency-Key header (webhook), the record's
// idempotency-key header (Kafka), the Message-ID (email).
//
// Failures become Temporal ApplicationFailures: retryable ones (5xx, 408, 429, timeouts, network,
// SMTP 4xx) are retried with the activity's backoff; the rest (4xx, SMTP 5xx, bad configuration)
// fail at once. Messages name the destination by origin only: URLs and SMTP URLs may hold secrets.
import { createHmac } from 'node:crypto';
import { type LookupAddress } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns/promises';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { type LookupFunction, type Socket, connect, isIP } from 'node:net';
import { ApplicationFailure } from '@temporalio/activity';
import nodemailer, { type Transporter } from 'nodemailer';
import type { WebhookDestination } from '../../api/v1alpha1/activation.ts';
import { type WebhookAddressPolicy, addressProblem } from '../../api/activation-destinations.ts';
import type { OutgoingRecord } from '../../lib/kafka.ts';
import type { RenderedMessage } from './render.ts';

export const SIGNATURE_HEADER = 'X-USPA-Signature';

export interface Delivery {
  /** The idempotency key. */
  key: string;
  /** "<namespace>/<name>" of the Activation. */
  activation: string;
  variant: string;
  profileId: string;
  message: RenderedMessage;
  /** Which attempt this is (1 first), for the failure details. */
  attempt: number;
}

/** "sha256=<hex>": HMAC-SHA256 of the exact body bytes with the signing secret (as GitHub signs webhooks). */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

function failure(type: string, message: string, attempt: number, retryable: boolean, nextRetryDelayMs?: number): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: !retryable, details: [{ attempt }], nextRetryDelay: nextRetryDelayMs });
}

/** Where a URL points, without credentials, path or query (which may carry tokens). */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}

function looksLikeJson(body: string): boolean {
  const t = body.trimStart();
  if (!t.startsWith('{') && !t.startsWith('[')) return false;
  try {
    JSON.parse(body);
    return true;
  } catch {
    return false;
  }
}

function retryAfterMs(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, 3_600_000) : undefined;
}

/** What a webhook send may reach, and how names are resolved (tests inject a resolver). */
export interface WebhookOptions {
  addresses: WebhookAddressPolicy;
  resolve?: (hostname: string) => Promise<LookupAddress[]>;
}

/** What the Secrets of a webhook hold at send time: the signing secret and the secretHeaders' values. */
export interface WebhookSecrets {
  signingSecret?: string;
  headers?: Record<string, string>;
}

class AddressNotAllowed extends Error {}

const systemResolve = (hostname: string) => dnsLookup(hostname, { all: true, verbatim: true });

/**
 * A socket lookup that resolves the name once, refuses it when any address is not allowed, and
 * hands the checked addresses to the socket, which connects to them and to nothing else: a name
 * that answers differently a moment later (DNS rebinding) cannot slip past the check.
 */
export function checkedLookup(policy: WebhookAddressPolicy, resolve = systemResolve): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (all) => {
        for (const a of all) {
          const why = addressProblem(a.address, policy);
          if (why) throw new AddressNotAllowed(`${hostname} resolves to ${why}`);
        }
        const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
        const usable = family ? all.filter((a) => a.family === family) : all;
        if (usable.length === 0) throw Object.assign(new Error(`${hostname} has no IPv${family} address`), { code: 'ENOTFOUND' });
        if (options.all) callback(null, usable);
        else callback(null, usable[0]!.address, usable[0]!.family);
      },
    ).catch((err: NodeJS.ErrnoException) => callback(err, ''));
  };
}

// One keep-alive agent per policy: a pooled socket was connected to an address checked under it.
const agents = new Map<string, HttpAgent>();
function agentFor(protocol: string, o: WebhookOptions): HttpAgent {
  const lookup = checkedLookup(o.addresses, o.resolve);
  if (o.resolve) return protocol === 'https:' ? new HttpsAgent({ lookup }) : new HttpAgent({ lookup });
  const key = `${protocol}${o.addresses}`;
  let agent = agents.get(key);
  if (!agent) agents.set(key, (agent = protocol === 'https:' ? new HttpsAgent({ keepAlive: true, lookup }) : new HttpAgent({ keepAlive: true, lookup })));
  return agent;
}

interface Answer {
  status: number;
  retryAfter: string | undefined;
  text: string;
}

function post(target: URL, headers: Record<string, string>, body: string, timeoutMs: number, o: WebhookOptions): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(target, { method: 'POST', headers, agent: agentFor(target.protocol, o), signal: AbortSignal.timeout(timeoutMs) }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        // Only the start of an answer is shown in a failure.
        if (size < 4096) chunks.push(c);
        size += c.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * POSTs the body. Headers: the Activation's own (literal, then from Secrets), then ours (which
 * win): Content-Type (JSON when the body is JSON), Idempotency-Key, X-USPA-Activation,
 * X-USPA-Variant and, with a signing secret, X-USPA-Signature: sha256=<hex HMAC of the body>.
 * The host must be allowed by the address policy: a literal IP is checked as is, a name on every
 * address it resolves to.
 */
export async function sendWebhook(cfg: WebhookDestination, secrets: WebhookSecrets, d: Delivery, options: WebhookOptions): Promise<{ status: number }> {
  const where = originOf(cfg.url);
  const body = d.message.body;
  const headers = new Headers(cfg.headers ?? {});
  for (const [name, value] of Object.entries(secrets.headers ?? {})) headers.set(name, value);
  headers.set('Content-Type', looksLikeJson(body) ? 'application/json' : 'text/plain; charset=utf-8');
  headers.set('User-Agent', 'uspa-activations');
  headers.set('Idempotency-Key', d.key);
  headers.set('X-USPA-Activation', d.activation);
  if (d.variant) headers.set('X-USPA-Variant', d.variant);
  if (secrets.signingSecret !== undefined) headers.set(SIGNATURE_HEADER, signBody(secrets.signingSecret, body));
  headers.set('Content-Length', String(Buffer.byteLength(body)));
  let target: URL;
  try {
    target = new URL(cfg.url);
  } catch {
    throw failure('InvalidDestination', 'spec.destination.webhook.url is not a URL', d.attempt, false);
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw failure('InvalidDestination', `spec.destination.webhook.url: ${target.protocol} is not http: or https:`, d.attempt, false);
  const literal = target.hostname.replace(/^\[|\]$/g, '');
  const literalProblem = isIP(literal) ? addressProblem(literal, options.addresses) : undefined;
  if (literalProblem) throw failure('WebhookAddressNotAllowed', `webhook ${where}: ${literalProblem} (not allowed by this installation)`, d.attempt, false);
  // Credentials in the URL become Basic auth, as curl does.
  if (target.username || target.password) {
    if (!headers.has('Authorization')) headers.set('Authorization', `Basic ${Buffer.from(`${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`).toString('base64')}`);
    target.username = '';
    target.password = '';
  }
  // A receiver may echo what it got (a 401 quoting the token): values from Secrets never reach a failure.
  const secretValues = [...Object.values(secrets.headers ?? {}), secrets.signingSecret ?? ''].filter((v) => v.length >= 4);
  const scrub = (text: string) => secretValues.reduce((t, v) => t.split(v).join('[redacted]'), text.split(cfg.url).join(where).split(target.href).join(where));
  const timeoutSeconds = cfg.timeoutSeconds ?? 10;
  let res: Answer;
  try {
    res = await post(target, Object.fromEntries(headers), body, timeoutSeconds * 1000, options);
  } catch (err) {
    if (err instanceof AddressNotAllowed) throw failure('WebhookAddressNotAllowed', `webhook ${where}: ${err.message} (not allowed by this installation)`, d.attempt, false);
    const e = err as NodeJS.ErrnoException;
    const why = e.name === 'TimeoutError' || e.name === 'AbortError' ? `no answer within ${timeoutSeconds}s` : (e.code ?? e.message);
    throw failure('WebhookUnreachable', `webhook ${where}: ${scrub(why)}`, d.attempt, true);
  }
  const text = res.text;
  if (res.status >= 200 && res.status < 300) return { status: res.status };
  const answer = `webhook ${where} answered ${res.status}${text ? `: ${scrub(text).slice(0, 200).replace(/\s+/g, ' ')}` : ''}`;
  if (res.status === 408 || res.status === 429) throw failure('WebhookBusy', answer, d.attempt, true, retryAfterMs(res.retryAfter ?? null));
  if (res.status >= 500) throw failure('WebhookServerError', answer, d.attempt, true, retryAfterMs(res.retryAfter ?? null));
  if (res.status >= 300 && res.status < 400) throw failure('WebhookRedirect', `${answer} (redirects are not followed: point spec.destination.webhook.url at the final URL)`, d.attempt, false);
  throw failure('WebhookRejected', answer, d.attempt, false);
}

/** One record, keyed by profile (so one person's messages keep their order), with the key in a header. */
export function kafkaRecord(topic: string, d: Delivery): OutgoingRecord {
  const headers: Record<string, string> = { 'idempotency-key': d.key, 'uspa-activation': d.activation };
  if (d.variant) headers['uspa-variant'] = d.variant;
  return { topic, key: d.profileId || undefined, value: d.message.body, headers };
}

export async function sendKafka(producer: { send(records: OutgoingRecord[]): Promise<void> }, records: OutgoingRecord[], attempt: number): Promise<void> {
  try {
    await producer.send(records);
  } catch (err) {
    throw failure('KafkaError', `kafka topic ${records[0]?.topic}: ${(err as Error).message}`, attempt, true);
  }
}

/**
 * nodemailer transports by SMTP URL (pooled connections); a changed Secret makes a new one. The
 * SMTP server is held to the same address policy as webhooks: the worker resolves its name,
 * checks every address and hands nodemailer a socket connected to a checked one (getSocket).
 */
export class Mailer {
  private readonly transports = new Map<string, Transporter>();

  constructor(
    private readonly addresses: WebhookAddressPolicy = 'deny',
    private readonly resolve = systemResolve,
  ) {}

  transport(url: string): Transporter {
    let t = this.transports.get(url);
    if (!t) {
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw failure('InvalidDestination', 'the SMTP Secret does not hold a URL (expected smtp://user:password@host:port or smtps://…)', 0, false);
      }
      if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') throw failure('InvalidDestination', `the SMTP Secret holds a ${parsed.protocol} URL (expected smtp:// or smtps://)`, 0, false);
      t = nodemailer.createTransport(url, {});
      t.transporter.getSocket = (options: { host?: string; port?: number }, callback: (err: Error | null, socket?: { connection: Socket }) => void) => {
        const host = String(options.host ?? '').replace(/^\[|\]$/g, '');
        const answers = isIP(host) ? Promise.resolve([{ address: host, family: isIP(host) }]) : this.resolve(host);
        answers.then((all) => {
          for (const a of all) {
            const why = addressProblem(a.address, this.addresses);
            if (why) throw new AddressNotAllowed(isIP(host) ? why : `${host} resolves to ${why}`);
          }
          const socket = connect({ host: all[0]!.address, port: Number(options.port) });
          socket.once('connect', () => callback(null, { connection: socket }));
          socket.once('error', (err) => callback(err));
        }).catch((err: Error) => callback(err));
      };
      this.transports.set(url, t);
    }
    return t;
  }

  close(): void {
    for (const t of this.transports.values()) t.close();
    this.transports.clear();
  }
}

/** The domain of "Shop <hello@shop.example>" (for the Message-ID). */
export function domainOf(address: string): string {
  const m = /@([^>\s]+)>?\s*$/.exec(address);
  return m?.[1] ?? 'uspa.invalid';
}

/** Message-ID derived from the idempotency key: a resend after a crash is the same message. */
export function messageIdFor(key: string, from: string): string {
  return `<${key}@${domainOf(from)}>`;
}

export async function sendEmail(mailer: Mailer, smtpUrl: string, from: string, d: Delivery): Promise<{ messageId: string }> {
  const { to, subject, body } = d.message;
  const messageId = messageIdFor(d.key, from);
  const host = (() => {
    try {
      const u = new URL(smtpUrl);
      return `${u.hostname}:${u.port || (u.protocol === 'smtps:' ? 465 : 587)}`;
    } catch {
      return '(invalid URL)';
    }
  })();
  const html = /^\s*</.test(body);
  try {
    await mailer.transport(smtpUrl).sendMail({
      from,
      to,
      subject,
      messageId,
      ...(html ? { html: body } : { text: body }),
      headers: { 'X-USPA-Activation': d.activation, ...(d.variant ? { 'X-USPA-Variant': d.variant } : {}) },
    });
  } catch (err) {
    if (err instanceof ApplicationFailure) throw err;
    if (err instanceof AddressNotAllowed) throw failure('SmtpAddressNotAllowed', `SMTP ${host}: ${err.message} (not allowed by this installation)`, d.attempt, false);
    const e = err as Error & { responseCode?: number; code?: string; response?: string };
    const why = e.response ?? e.message;
    const permanent = (e.responseCode !== undefined && e.responseCode >= 500) || e.code === 'EAUTH' || e.code === 'EENVELOPE';
    throw failure(permanent ? 'SmtpRejected' : 'SmtpUnavailable', `SMTP ${host}: ${why.replace(/\s+/g, ' ').slice(0, 300)}`, d.attempt, !permanent);
  }
  return { messageId };
}
