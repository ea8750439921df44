/**
 * The error envelope (docs/API.md "Errors"; its schema is ErrorEnvelopeSchema in responses.ts):
 *   {"error": {"code", "message", "details"?: [{path, message}]}, "message", "detail"}
 * `message` repeats error.message; `detail` is FastAPI's form, `[{loc, msg, type}]` when
 * fields failed, else the message string, for RenderIO/Rendi clients that read either.
 */
import type { z } from 'zod';
import { API_ERROR, type ApiErrorCode } from '../constants.ts';
import type { CommandViolation } from '../command/types.ts';
import type { ErrorEnvelope } from './responses.ts';
import { issueStatus } from './schemas.ts';

export type { ErrorEnvelope } from './responses.ts';

export type ErrorPath = (string | number)[];

export interface ErrorDetail {
  /** Where, as keys and indices into the request body (or query). */
  path: ErrorPath;
  message: string;
  /** Machine-readable kind, e.g. "invalid_type", "option-not-allowed". */
  type?: string;
}

/** A failure the API answers with its envelope; anything else thrown is a 500. */
export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly status: number;
  readonly details?: ErrorDetail[];
  readonly headers?: Record<string, string>;

  constructor(code: ApiErrorCode, message: string, details?: ErrorDetail[], headers?: Record<string, string>) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = API_ERROR[code];
    this.details = details && details.length > 0 ? details : undefined;
    this.headers = headers;
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}

/**
 * The body of an error response. `where` is the FastAPI `loc` root ("body" or "query").
 * Every producer of errors (handlers, API Gateway's own responses, local mode's server) uses it.
 */
export function errorEnvelope(
  err: Pick<ApiError, 'code' | 'message' | 'details'>,
  where: 'body' | 'query' = 'body',
): ErrorEnvelope {
  return {
    error: {
      code: err.code,
      message: err.message,
      ...(err.details ? { details: err.details.map((d) => ({ path: d.path, message: d.message })) } : {}),
    },
    message: err.message,
    detail: err.details
      ? err.details.map((d) => ({ loc: [where, ...d.path], msg: d.message, type: d.type ?? 'value_error' }))
      : err.message,
  };
}

function pathText(path: ErrorPath): string {
  return path.length === 0
    ? 'body'
    : path
        .map((p) => (typeof p === 'number' ? `[${p}]` : p))
        .join('.')
        .replace(/\.\[/g, '[');
}

/** zod does not keep the input on issues; a missing value reads "received undefined". */
function isMissing(issue: z.core.$ZodIssue): boolean {
  return issue.code === 'invalid_type' && /received undefined$/.test(issue.message);
}

function issueMessage(issue: z.core.$ZodIssue): string {
  if (isMissing(issue)) {
    return issue.path.length === 0 ? 'a JSON object body is required' : 'required';
  }
  if (issue.code === 'invalid_key') {
    const inner = (issue as { issues?: { message: string }[] }).issues?.[0]?.message;
    return inner ?? issue.message;
  }
  return issue.message;
}

function issueType(issue: z.core.$ZodIssue): string {
  if (isMissing(issue)) return 'missing';
  return issue.code === 'custom' ? 'value_error' : issue.code;
}

/**
 * A failed zod parse as an ApiError: 400 INVALID_REQUEST when any issue is structural, else
 * 422 VALIDATION_ERROR; details name only the issues of the chosen class, each with its path.
 */
export function zodToApiError(error: z.ZodError): ApiError {
  const issues = error.issues.map((issue) => ({ issue, status: issueStatus(issue) }));
  const structural = issues.filter((i) => i.status === 400);
  const chosen = structural.length > 0 ? structural : issues;
  const details: ErrorDetail[] = chosen.map(({ issue }) => ({
    path: issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)) as ErrorPath,
    message: issueMessage(issue),
    type: issueType(issue),
  }));
  const summary = details.map((d) => `${pathText(d.path)}: ${d.message}`).join('; ');
  return structural.length > 0
    ? new ApiError('INVALID_REQUEST', `invalid request: ${summary}`, details)
    : new ApiError('VALIDATION_ERROR', `validation failed: ${summary}`, details);
}

/** Parse `input` with `schema`, or throw the classified ApiError. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw zodToApiError(result.error);
  return result.data;
}

/**
 * Parser violations as an ApiError: 400 when any is INVALID_REQUEST, else 422. `prefix` is
 * prepended to each path (e.g. ['commands', 2] for the third of several commands).
 */
export function violationsToApiError(violations: CommandViolation[], prefix: ErrorPath = []): ApiError {
  const structural = violations.filter((v) => v.code === 'INVALID_REQUEST');
  const chosen = structural.length > 0 ? structural : violations;
  const details: ErrorDetail[] = chosen.map((v) => ({
    path: [...prefix, ...v.path],
    message: v.message,
    type: v.rule,
  }));
  const summary = chosen.map((v) => v.message).join('; ');
  return structural.length > 0
    ? new ApiError('INVALID_REQUEST', `invalid command: ${summary}`, details)
    : new ApiError('VALIDATION_ERROR', `invalid command: ${summary}`, details);
}
