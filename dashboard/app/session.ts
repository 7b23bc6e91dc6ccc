// Who is signed in: the key (kept for this browser tab only, in sessionStorage) and what its role
// may do, as /v1/whoami says. Every call goes through the typed client with the key as Bearer.
import { createApiClient, type ApiClient, type ApiErrorBody, type operations } from '../../api/client/index.ts';

/** The 200 JSON body of an operation, by its id. */
export type Body<Op extends keyof operations> = operations[Op]['responses'] extends { 200: { content: { 'application/json': infer B } } } ? B : never;

export interface Session {
  key: string;
  apiKey: string;
  role: string;
  permissions: ReadonlySet<string>;
  api: ApiClient;
}

const STORE = 'uspa.key';

export async function signIn(key: string): Promise<Session> {
  const api = createApiClient(location.origin, key.trim());
  const { data, error, response } = await api.GET('/v1/whoami');
  if (!data) throw new Error(problem(error, response));
  sessionStorage.setItem(STORE, key.trim());
  return { key: key.trim(), apiKey: data.apiKey, role: data.role, permissions: new Set(data.permissions), api };
}

export async function resume(): Promise<Session | undefined> {
  const key = sessionStorage.getItem(STORE);
  if (!key) return undefined;
  try {
    return await signIn(key);
  } catch {
    sessionStorage.removeItem(STORE);
    return undefined;
  }
}

export function signOut(): void {
  sessionStorage.removeItem(STORE);
}

/** The API's error message (with the field it names), or what went wrong reaching it. */
export function problem(error: unknown, response?: Response): string {
  const body = error as ApiErrorBody | undefined;
  if (body?.error?.message) return body.error.message;
  return response ? `the API answered ${response.status} ${response.statusText}` : 'the API could not be reached';
}

/** An error the API answered, with the field it names (to show beside that field). */
export class ApiProblem extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly field?: string,
    readonly problems: ReadonlyArray<{ field: string; message: string }> = [],
  ) {
    super(message);
  }
}

/** Unwraps a typed-client answer: its data, or an ApiProblem. */
export function must<T>(answer: { data?: T; error?: unknown; response: Response }): T {
  if (answer.data !== undefined && answer.response.ok) return answer.data;
  const body = answer.error as ApiErrorBody | undefined;
  throw new ApiProblem(problem(answer.error, answer.response), answer.response.status, body?.error?.field, body?.error?.problems ?? []);
}
