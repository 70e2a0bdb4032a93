import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRuleConfig } from '@sluice/config';
import { CaptureSchema } from '@sluice/schemas';
import { buildApp, DEFAULT_LIMITS } from './app.js';
import type { Problem } from './problem.js';
import type { TestStack } from './test-stack.js';
import { openTestStack } from './test-stack.js';

// embedded chDB: this file runs in its own forked worker (one data directory per process)
const SITE_KEY = 'site_body_checks';
let stack: TestStack;
let app: FastifyInstance;

beforeAll(async () => {
  const rules = parseRuleConfig({ version: 'body-checks-1' });
  stack = await openTestStack('body-checks', rules);
  const { store, client, sink, read } = stack;
  // every route there is: the event store, ClickHouse and the read models
  // a site key, so the tracker's route reaches its body checks
  const capture = CaptureSchema.parse({ site: { keys: [{ name: 'site', key: SITE_KEY, origins: ['http://localhost:3000'] }] } });
  app = await buildApp({ store, limits: DEFAULT_LIMITS, apiKeys: [], analytics: { client, sink, rules }, projections: read!, capture });
  await app.ready();
});

afterAll(async () => {
  await app.close();
  await stack.close();
});

const visit = { id: 'mt-1', type: 'visit', occurredAt: '2026-03-01T10:00:00Z', anonymousId: 'anon-1' };
const post = (url: string, payload: string, contentType = 'application/json') =>
  app.inject({ method: 'POST', url: url === '/v1/collect' ? `${url}?key=${SITE_KEY}` : url, headers: { 'content-type': contentType }, payload });

/** The POST routes of the OpenAPI document: every route that takes a body. */
function postRoutes(): string[] {
  const paths = (app.swagger() as { paths: Record<string, Record<string, unknown>> }).paths;
  return Object.keys(paths).filter((path) => paths[path]!.post !== undefined);
}

/** A problem names the body by its field, or (the events route: an array is its batch) says the batch is wrong. */
const namesTheBody = (problem: Problem) => (problem.errors ?? []).some((e) => e.field === 'body') || /\bbatch\b/.test(problem.detail);

describe('bodies of the wrong JSON type', () => {
  it('given null, an array, a string or a number, then every POST route answers 400 naming the body, and nothing is written', async () => {
    const routes = postRoutes();
    expect(routes).toEqual(expect.arrayContaining(['/v1/events', '/v1/plans/reverse', '/v1/funnels', '/v1/conversion', '/v1/reports/cost', '/v1/whatif']));
    const answers: string[] = [];
    for (const url of routes) {
      for (const body of ['null', '[]', '"x"', '1']) {
        const res = await post(url, body);
        const problem = res.json() as Problem;
        answers.push(`${url} ${body}: ${res.statusCode} ${res.headers['content-type']} ${namesTheBody(problem) ? 'names the body' : problem.detail}`);
      }
    }
    expect(answers).toEqual(routes.flatMap((url) => ['null', '[]', '"x"', '1'].map((body) => `${url} ${body}: 400 application/problem+json; charset=utf-8 names the body`)));
    expect(await stack.store.headPosition()).toBe(0);
  });
});

describe('media types', () => {
  it('given text/plain, which a web page may send cross-origin unasked, then 415 and nothing is written', async () => {
    for (const contentType of ['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded']) {
      const res = await post('/v1/events', JSON.stringify(visit), contentType);
      expect(res.statusCode).toBe(415);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ type: 'https://sluice.dev/problems/unsupported-media-type', detail: expect.stringContaining('POST /v1/events takes application/json or application/x-ndjson') });
    }
    expect(await stack.store.headPosition()).toBe(0);
  });

  it('takes NDJSON only where the OpenAPI document lists it', async () => {
    const paths = (app.swagger() as { paths: Record<string, { post?: { requestBody: { content: Record<string, unknown> } } }> }).paths;
    expect(Object.keys(paths['/v1/events']!.post!.requestBody.content)).toEqual(['application/json', 'application/x-ndjson']);
    expect(Object.keys(paths['/v1/funnels']!.post!.requestBody.content)).toEqual(['application/json']);
    const funnel = JSON.stringify({ steps: [{ type: 'visit' }], window: { value: 1, unit: 'days' }, dateRange: { from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' } });
    const res = await post('/v1/funnels', funnel, 'application/x-ndjson');
    expect(res.statusCode).toBe(415);
    expect(res.json().detail).toBe('POST /v1/funnels takes application/json, not application/x-ndjson');
    expect((await post('/v1/funnels', funnel, 'application/json; charset=utf-8')).statusCode).toBe(200);
  });
});
