// The one error shape of the API: every refusal names what is wrong and, when one input is to
// blame, where it is (`query.limit`, `path.identity`, `body.spec.rule.op`, `header.authorization`).

export const ERROR_CODES = [
  'invalid_request',
  'unauthenticated',
  'key_expired',
  'forbidden',
  'origin_not_allowed',
  'not_found',
  'conflict',
  'gone',
  'rate_limited',
  'unavailable',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface FieldProblem {
  /** Where: `query.limit`, `path.identity`, `body.spec.rule`, `header.authorization`. */
  field: string;
  message: string;
}

export interface ErrorBody {
  error: { status: number; code: ErrorCode; message: string; field?: string; problems?: FieldProblem[] };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    readonly problems: FieldProblem[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get body(): ErrorBody {
    return { error: { status: this.status, code: this.code, message: this.message, ...(this.field ? { field: this.field } : {}), ...(this.problems.length ? { problems: this.problems } : {}) } };
  }
}

export function invalid(field: string, message: string): ApiError {
  return new ApiError(400, 'invalid_request', `${field}: ${message}`, field, [{ field, message }]);
}

export function notFound(what: string, field?: string): ApiError {
  return new ApiError(404, 'not_found', what, field);
}

/** The JSON Schema of ErrorBody, for the OpenAPI document. */
export const ERROR_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      additionalProperties: false,
      required: ['status', 'code', 'message'],
      properties: {
        status: { type: 'integer', minimum: 400, maximum: 599 },
        code: { type: 'string', enum: [...ERROR_CODES] },
        message: { type: 'string' },
        field: { type: 'string', description: 'The input to blame: query.<name>, path.<name>, body.<path>, header.<name>' },
        problems: {
          type: 'array',
          items: { type: 'object', additionalProperties: false, required: ['field', 'message'], properties: { field: { type: 'string' }, message: { type: 'string' } } },
        },
      },
    },
  },
} as const;
