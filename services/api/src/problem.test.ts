import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { QueryTimeoutError } from '@sluice/analytics';
import { installProblemHandlers } from './problem.js';

describe('problem documents', () => {
  it('given a query that ran out of time, then the answer is a 504 saying what to change, not a bare 500', async () => {
    const app = Fastify();
    installProblemHandlers(app, 1024);
    app.get('/slow', async () => {
      throw new QueryTimeoutError('Timeout exceeded: elapsed 1001 ms, maximum: 1000 ms');
    });
    const res = await app.inject({ method: 'GET', url: '/slow' });
    expect(res.statusCode).toBe(504);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ type: 'https://sluice.dev/problems/query-timeout', status: 504, detail: expect.stringContaining('raise timeoutSeconds (at most 300)') });
    await app.close();
  });
});
