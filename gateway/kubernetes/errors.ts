// The API server's refusals in the API's one error shape: its field paths (spec.rule.op) become
// ours (body.spec.rule.op), so a client sees the same error whether ajv or a CEL rule caught it.
import { ApiError, type FieldProblem } from '../http/errors.ts';

/** metav1.Status as the API server sends it with a refusal. */
interface Status {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
  details?: { name?: string; kind?: string; causes?: Array<{ reason?: string; message?: string; field?: string }> };
}

function statusOf(err: unknown): { code: number | undefined; status: Status } {
  const e = err as { code?: unknown; body?: unknown; statusCode?: unknown };
  let body: unknown = e.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      body = { message: body };
    }
  }
  const status = (body && typeof body === 'object' ? body : {}) as Status;
  const code = typeof e.code === 'number' ? e.code : typeof status.code === 'number' ? status.code : undefined;
  return { code, status };
}

/** The HTTP status of a Kubernetes client error, if it is one. */
export function kubernetesStatus(err: unknown): number | undefined {
  return statusOf(err).code;
}

/** "spec.rule.op" → "body.spec.rule.op"; a cause naming no field blames the body's spec. */
function bodyField(field: string | undefined): string {
  const f = (field ?? '').replace(/^\.+/, '');
  return f ? `body.${f}` : 'body.spec';
}

/** The cause's own words, without the API server's "Invalid value: <the value>: " or "Required value: " lead. */
function causeMessage(message: string | undefined): string {
  const m = (message ?? 'is invalid').trim();
  const echo = /^Invalid value: ("(?:[^"\\]|\\.)*"|\S+): (.+)$/s.exec(m) ?? /^(Required value|Forbidden): (.+)$/s.exec(m);
  return echo ? echo[2]! : m;
}

/**
 * An error from the API server → ApiError: 422 Invalid and 400 BadRequest → 400 invalid_request
 * with a problem per cause; 409 → 409 conflict; 404 → 404; no answer or 5xx → 503. Anything else
 * (the API's own ServiceAccount may not do it) is returned as it is: a 500 the API logs.
 */
export function fromKubernetes(err: unknown, what: string): Error {
  if (err instanceof ApiError) return err;
  const { code, status } = statusOf(err);
  const message = status.message ?? (err as Error).message?.split('\n')[0] ?? String(err);
  if (code === 422 || code === 400) {
    const causes = status.details?.causes ?? [];
    const problems: FieldProblem[] = causes.length
      ? causes.map((c) => ({ field: bodyField(c.field), message: causeMessage(c.message) }))
      : [{ field: 'body', message }];
    return new ApiError(400, 'invalid_request', `${what}: the Kubernetes API server refused it: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, problems[0]!.field, problems);
  }
  if (code === 409) {
    if (status.reason === 'AlreadyExists') return new ApiError(409, 'conflict', `${what} already exists`, 'body.name', [{ field: 'body.name', message: 'already exists' }]);
    return new ApiError(409, 'conflict', `${what}: ${message}`, 'body.resourceVersion', [{ field: 'body.resourceVersion', message: 'is not the current one' }]);
  }
  if (code === 404) return new ApiError(404, 'not_found', `${what} does not exist`, 'path.name');
  if (code === 410) return new ApiError(400, 'invalid_request', 'query.cursor: has expired; list again from the first page', 'query.cursor', [{ field: 'query.cursor', message: 'has expired' }]);
  if (code === undefined || code >= 500) return new ApiError(503, 'unavailable', `${what}: the Kubernetes API server did not answer (${code ?? 'no answer'}: ${message}); retry`);
  return err instanceof Error ? err : new Error(message);
}

/** 409 for a write made against an older resourceVersion, naming the current one. */
export function staleVersion(what: string, given: string, current: string | undefined): ApiError {
  const message = `is ${given}, but ${what} is at resourceVersion ${current ?? '(unknown)'}: read it again and retry with that resourceVersion`;
  return new ApiError(409, 'conflict', `body.resourceVersion: ${message}`, 'body.resourceVersion', [{ field: 'body.resourceVersion', message }]);
}
