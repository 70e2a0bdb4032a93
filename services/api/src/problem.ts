import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { QueryTimeoutError } from '@sluice/analytics';
import { InvalidCursorError, SlaNotConfiguredError, WhatIfOutOfMemoryError } from '@sluice/projector';

/** RFC 9457 problem details: the one error shape of the API. */
export interface ProblemItem {
  /** index of the event in the batch (0-based), for batch errors */
  index?: number;
  /** 1-based line number, for NDJSON bodies */
  line?: number;
  field: string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: ProblemItem[];
}

const PROBLEM_BASE = 'https://sluice.dev/problems/';

/** A deliberate 4xx: its text is safe to send as it is. */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    readonly detail: string,
    readonly errors?: ProblemItem[],
    /** RFC 9457 extension members (e.g. `conflicts`); they cannot replace the standard ones */
    readonly extensions?: Record<string, unknown>,
  ) {
    super(detail);
  }
  toProblem(): Problem {
    return { ...this.extensions, type: PROBLEM_BASE + this.slug, title: this.title, status: this.status, detail: this.detail, ...(this.errors ? { errors: this.errors } : {}) };
  }
}

/** A typed error from below the API and the problem it is. */
interface TypedProblem<E extends Error> {
  error: abstract new (...args: never[]) => E;
  status: number;
  slug: string;
  title: string;
  /** what the answer says (default: the error's message, which these errors word for the caller) */
  detail?: (err: E) => string;
  errors?: (err: E) => ProblemItem[];
}
// each entry's functions take its own error class, which the lookup checks with instanceof first
const typed = <E extends Error>(problem: TypedProblem<E>) => problem as unknown as TypedProblem<Error>;

/**
 * Every typed error a route lets through and the problem it answers: one
 * list, so no route catches one to translate it. Anything not here and not a
 * ProblemError is a 500.
 */
export const TYPED_PROBLEMS: ReadonlyArray<TypedProblem<Error>> = [
  typed({ error: QueryTimeoutError, status: 504, slug: 'query-timeout', title: 'Query timed out' }),
  typed({ error: SlaNotConfiguredError, status: 409, slug: 'no-sla', title: 'No SLA configured' }),
  typed({ error: WhatIfOutOfMemoryError, status: 503, slug: 'whatif-out-of-memory', title: 'What-if out of memory', detail: (err) => `${err.message}; nothing live changed` }),
  typed({
    error: InvalidCursorError,
    status: 400,
    slug: 'invalid-cursor',
    title: 'Invalid cursor',
    detail: () => 'the cursor is not one this API returned',
    errors: () => [{ field: 'querystring.cursor', message: 'invalid cursor' }],
  }),
];

/** The problem a typed error is, if it is one of TYPED_PROBLEMS. */
export function typedProblem(error: unknown): Problem | undefined {
  const known = TYPED_PROBLEMS.find((p) => error instanceof p.error);
  if (known === undefined) return undefined;
  const err = error as Error;
  const errors = known.errors?.(err);
  return { type: PROBLEM_BASE + known.slug, title: known.title, status: known.status, detail: known.detail?.(err) ?? err.message, ...(errors ? { errors } : {}) };
}

const FASTIFY_CODES: Record<string, { slug: string; title: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { slug: 'body-too-large', title: 'Request body too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { slug: 'unsupported-media-type', title: 'Unsupported media type' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { slug: 'empty-body', title: 'Empty body' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { slug: 'invalid-content-length', title: 'Invalid Content-Length' },
};

/**
 * One root error handler: validation issues -> 400 naming each field;
 * deliberate 4xx pass through; anything else is a generic 500 whose detail is
 * logged, never sent (storage errors leak schema details).
 */
export function installProblemHandlers(app: FastifyInstance, bodyLimitBytes: number): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    let problem: Problem;
    const known = typedProblem(error);
    if (error instanceof ProblemError) {
      problem = error.toProblem();
    } else if (hasZodFastifySchemaValidationErrors(error)) {
      problem = {
        type: PROBLEM_BASE + 'invalid-request',
        title: 'Invalid request',
        status: 400,
        detail: `the request's ${error.validationContext ?? 'input'} is invalid`,
        errors: error.validation.map((v) => ({
          field: [error.validationContext, ...v.instancePath.split('/').filter(Boolean)].filter(Boolean).join('.'),
          message: v.message ?? 'invalid',
        })),
      };
    } else if (known !== undefined) {
      problem = known;
    } else if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      problem = { type: PROBLEM_BASE + 'body-too-large', title: 'Request body too large', status: 413, detail: `the body exceeds the limit of ${bodyLimitBytes} bytes; split it into smaller batches` };
    } else if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      const known = FASTIFY_CODES[error.code];
      problem = { type: PROBLEM_BASE + (known?.slug ?? 'bad-request'), title: known?.title ?? 'Bad request', status: error.statusCode, detail: error.message };
    } else {
      request.log.error({ err: error }, 'request failed');
      problem = { type: PROBLEM_BASE + 'internal', title: 'Internal error', status: 500, detail: 'the server failed to process the request; see the server log' };
    }
    void reply.status(problem.status).type('application/problem+json').send(problem);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply
      .status(404)
      .type('application/problem+json')
      .send({ type: PROBLEM_BASE + 'not-found', title: 'Not found', status: 404, detail: `no route ${request.method} ${request.url.split('?')[0]}` } satisfies Problem);
  });
}
