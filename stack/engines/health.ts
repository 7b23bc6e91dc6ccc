import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { StackError } from '../errors.ts';
import { isAlive, tailOf } from '../proc.ts';

export interface HttpReply {
  status: number;
  body: string;
}

/** A GET that never throws on connection errors (status 0), for polling health endpoints. */
export function httpGet(url: string, headers: Record<string, string> = {}, ca?: string): Promise<HttpReply> {
  return new Promise((resolveGet) => {
    const request = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = request(url, { headers, timeout: 5_000, ...(url.startsWith('https:') ? { ca, rejectUnauthorized: Boolean(ca) } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolveGet({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolveGet({ status: 0, body: '' }));
    req.end();
  });
}

/**
 * Polls `healthy` until it says yes. Stops early, quoting the engine's log, if its process died,
 * and stops with the log's tail when the time is up.
 */
export async function waitFor(
  what: string,
  proc: { pid: number; log: string; timeoutMs: number },
  healthy: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + proc.timeoutMs;
  for (;;) {
    try {
      if (await healthy()) return;
    } catch {
      /* not yet */
    }
    if (!isAlive(proc.pid)) {
      throw new StackError(`${what} exited while starting`, `read its log ${proc.log}; if it complains about its data folder, run \`uspa stack down --purge\` to start from empty data`, tailOf(proc.log));
    }
    if (Date.now() > deadline) {
      throw new StackError(`${what} did not become healthy within ${proc.timeoutMs / 1000}s`, `read its log ${proc.log}; the machine may be overloaded — run \`uspa stack down\` and try again`, tailOf(proc.log));
    }
    await sleep(250);
  }
}
