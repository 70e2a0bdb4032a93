import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRuleConfig } from '@sluice/config';
import { buildApp, DEFAULT_LIMITS } from './app.js';
import type { TestStack } from './test-stack.js';
import { openTestStack } from './test-stack.js';

// embedded chDB: this file runs in its own forked worker (one data directory per process)
const rules = parseRuleConfig({ version: 'openapi-1' });
let stack: TestStack;
let app: FastifyInstance;

interface Operation {
  responses?: Record<string, { content?: Record<string, { schema?: object }> }>;
}

beforeAll(async () => {
  stack = await openTestStack('openapi', rules);
  // every route there is: ClickHouse, the read models and their rules
  app = await buildApp({ store: stack.store, limits: DEFAULT_LIMITS, apiKeys: [], projections: stack.read!, analytics: { client: stack.client, sink: stack.sink, rules } });
});

afterAll(async () => {
  await app.close();
  await stack.close();
});

describe('the OpenAPI document', () => {
  it('given every route registered, then each operation documents the shape of its 2xx answer', async () => {
    const spec = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, Operation>> };
    const operations = Object.entries(spec.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ operation: `${method.toUpperCase()} ${path}`, op })));
    // the document lists the query routes, the read models' and ingest: a sanity check that it is the whole API
    expect(operations.map((o) => o.operation)).toEqual(expect.arrayContaining(['POST /v1/events', 'POST /v1/funnels', 'POST /v1/reports/sla', 'POST /v1/plans/reverse', 'GET /healthz']));
    const undocumented = operations
      .filter(({ op }) => !Object.entries(op.responses ?? {}).some(([status, response]) => /^2\d\d$/.test(status) && Object.values(response.content ?? {}).some((c) => c.schema !== undefined)))
      .map((o) => o.operation);
    expect(undocumented).toEqual([]);
  });
});
