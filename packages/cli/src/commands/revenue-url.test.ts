import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, DEFAULT_LIMITS } from '@sluice/api';
import type { TestStack } from '../../../../services/api/src/test-stack.js';
import { openTestStack } from '../../../../services/api/src/test-stack.js';
import { runSluiceAsync } from '../test-support.js';

// a server (embedded chDB in this process) holding two deals, asked by the real CLI with --url
let stack: TestStack;
let app: Awaited<ReturnType<typeof buildApp>>;
let url: string;

beforeAll(async () => {
  stack = await openTestStack('cli-revenue-url');
  app = await buildApp({ store: stack.store, limits: DEFAULT_LIMITS, apiKeys: [], analytics: { client: stack.client, sink: stack.sink } });
  const deal = (id: string, type: string, occurredAt: string, properties: Record<string, unknown>) => ({ id, type, occurredAt, accountId: 'acme', properties });
  const res = await app.inject({
    method: 'POST',
    url: '/v1/events',
    payload: [
      deal('a1', 'opportunity_created', '2026-03-10T00:00:00Z', { opportunityId: 'A', stage: 'proposal', amount: 100, currency: 'EUR', closeDate: '2026-05-15T00:00:00Z', ownerId: 'ann' }),
      deal('a2', 'opportunity_close_date_changed', '2026-04-20T00:00:00Z', { opportunityId: 'A', closeDate: '2026-08-15T00:00:00Z' }),
    ],
  });
  expect(res.statusCode).toBe(200);
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await app.close();
  await stack.close();
});

describe('sluice pipeline and waterfall --url', () => {
  it('given a server, then the CLI prints its answers: the pipeline as of a day, the deal pushed out of the quarter', async () => {
    const pipeline = await runSluiceAsync(['pipeline', '--as-of', '2026-04-01T00:00:00Z', '--url', url, '--json']);
    expect(pipeline.code, pipeline.stderr).toBe(0);
    expect(JSON.parse(pipeline.stdout)).toMatchObject({ asOf: '2026-04-01T00:00:00.000Z', rows: [{ group: null, currency: 'EUR', count: 1, amount: 100, weightedAmount: 50 }], freshness: { caughtUp: true } });
    const waterfall = await runSluiceAsync(['waterfall', '--from', '2026-04-01T00:00:00Z', '--to', '2026-07-01T00:00:00Z', '--url', url]);
    expect(waterfall.code, waterfall.stderr).toBe(0);
    expect(waterfall.stdout).toMatch(/- pushed out\s+100\s+1\s+A/);
  });
});
