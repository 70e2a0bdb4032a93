import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { QueryTimeoutError } from '@sluice/analytics';
import { InvalidCursorError, SlaNotConfiguredError, WhatIfOutOfMemoryError } from '@sluice/projector';
import { TYPED_PROBLEMS, installProblemHandlers } from './problem.js';

/** A route that throws `error`, answered by the one error handler. */
async function answerTo(error: Error) {
  const app = Fastify();
  installProblemHandlers(app, 1024);
  app.get('/fails', async () => {
    throw error;
  });
  const res = await app.inject({ method: 'GET', url: '/fails' });
  await app.close();
  return res;
}

describe('problem documents', () => {
  it('given a query that ran out of time, then the answer is a 504 saying what to change, not a bare 500', async () => {
    const res = await answerTo(new QueryTimeoutError('Timeout exceeded: elapsed 1001 ms, maximum: 1000 ms'));
    expect(res.statusCode).toBe(504);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ type: 'https://sluice.dev/problems/query-timeout', status: 504, detail: expect.stringContaining('raise timeoutSeconds (at most 300)') });
  });

  it.each([
    [new QueryTimeoutError('elapsed 2 s'), 504, 'query-timeout', undefined],
    [new SlaNotConfiguredError('v7'), 409, 'no-sla', undefined],
    [new WhatIfOutOfMemoryError(512), 503, 'whatif-out-of-memory', undefined],
    [new InvalidCursorError(), 400, 'invalid-cursor', [{ field: 'querystring.cursor', message: 'invalid cursor' }]],
  ])('given a typed error from below the API (%s), then the table answers its status and problem type', async (error, status, slug, errors) => {
    const res = await answerTo(error);
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toEqual({ type: `https://sluice.dev/problems/${slug}`, title: expect.any(String), status, detail: expect.any(String), ...(errors ? { errors } : {}) });
  });

  it('lists each typed error once, so no two entries answer the same error differently', () => {
    const classes = TYPED_PROBLEMS.map((p) => p.error);
    expect(new Set(classes).size).toBe(classes.length);
    expect(TYPED_PROBLEMS.map((p) => p.slug).sort()).toEqual(['invalid-cursor', 'no-sla', 'query-timeout', 'whatif-out-of-memory']);
  });

  it('given an error no entry names, then the answer is a 500 that keeps its detail out', async () => {
    const res = await answerTo(new Error('relation "secret_table" does not exist'));
    expect(res.statusCode).toBe(500);
    expect(res.json().detail).not.toContain('secret_table');
  });
});
