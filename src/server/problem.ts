/**
 * Errors as RFC 9457 `application/problem+json`, with the CLI's error codes: one mapping from the
 * taxonomy to HTTP statuses. Nothing but our own messages reaches an answer: an unexpected error is
 * logged and answered as a bare `INTERNAL`.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { RescreenError, type ErrorCode } from '../errors/errors.js';

export const PROBLEM_TYPE = 'application/problem+json';

export const ProblemSchema = z
  .object({
    type: z.string().describe('urn:rescreen:problem:<code>'),
    title: z.string(),
    status: z.number().int(),
    code: z.string().describe('The error code, as in the README table (NOT_FOUND, INVALID_INPUT, UNAUTHORIZED, …)'),
    detail: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem' });
export type Problem = z.infer<typeof ProblemSchema>;

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  405: 'Method Not Allowed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function problem(status: number, code: ErrorCode, detail: string, errors?: Problem['errors']): Problem {
  return { type: `urn:rescreen:problem:${String(code)}`, title: TITLES[status] ?? 'Error', status, code: String(code), detail, ...(errors ? { errors } : {}) };
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.code(p.status).type(PROBLEM_TYPE).send(p);
}

function statusOfCode(code: ErrorCode): number {
  // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check -- the rest are 500
  switch (code) {
    case 'NOT_FOUND':
      return 404;
    case 'CONFLICT':
      return 409;
    case 'UNAUTHORIZED':
      return 401;
    case 'FORBIDDEN':
      return 403;
    case 'PAYLOAD_TOO_LARGE':
      return 413;
    case 'REDIS_UNAVAILABLE':
      return 503;
    case 'INVALID_INPUT':
    case 'INVALID_BATCH_ID':
    case 'MANIFEST_UNREADABLE':
    case 'INVALID_SCHEDULE':
    case 'INVALID_LINE':
      return 400;
    default:
      // Record codes and internal ones never stop a request on purpose.
      return 500;
  }
}

/** The server's error handler: taxonomy errors by code, request validation as 400, anything else 500. */
export function toProblem(error: FastifyError | Error, request: FastifyRequest): Problem {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const errors = error.validation.map((v) => ({ path: `${error.validationContext ?? 'request'}${v.instancePath.replace(/\//g, '.')}`, message: v.message ?? 'invalid' }));
    return problem(400, 'INVALID_INPUT', `invalid ${error.validationContext ?? 'request'}: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`, errors);
  }
  if (error instanceof RescreenError) return problem(statusOfCode(error.code), error.code, error.message);
  const status = (error as FastifyError).statusCode;
  if (status === 413) return problem(413, 'PAYLOAD_TOO_LARGE', 'request body over the limit (RESCREEN_API_BODY_LIMIT)');
  // Fastify's own 4xx (bad JSON, wrong content type): their messages carry no secret.
  if (status !== undefined && status >= 400 && status < 500) return problem(status, 'INVALID_INPUT', error.message);
  request.log.error({ err: error }, 'unexpected error answering a request');
  return problem(500, 'INTERNAL', 'internal error (logged on the server)');
}
