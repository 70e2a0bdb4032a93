import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { openSqliteEventStore } from '@sluice/event-store';
import type { EventStore } from '@sluice/event-store';
import { buildApp, DEFAULT_LIMITS } from '../app.js';

let store: EventStore;
let app: FastifyInstance;
beforeAll(async () => {
  store = await openSqliteEventStore({ path: ':memory:' });
  app = await buildApp({ store, limits: DEFAULT_LIMITS, apiKeys: [] });
});
afterAll(async () => {
  await app.close();
  await store.close();
});

// 1,200,000 / 24,000 = 50 deals; / 0.25 = 200 SQLs; / 0.4 = 500 MQLs; / 0.2 = 2,500 leads; / 0.025 = 100,000 visits
const body = {
  asOf: '2026-11-24T09:00:00Z',
  timeZone: 'UTC',
  stageModel: { stages: ['visitor', 'lead', 'mql', 'sql', 'customer'] },
  businessUnits: [
    {
      id: 'smb',
      dealSize: { given: 24_000 },
      transitions: [
        { from: 'visitor', to: 'lead', rate: { given: 0.025 } },
        { from: 'lead', to: 'mql', rate: { given: 0.2 } },
        { from: 'mql', to: 'sql', rate: { given: 0.4 } },
        { from: 'sql', to: 'customer', rate: { given: 0.25 } },
      ],
    },
  ],
  targets: [{ businessUnit: 'smb', period: '2027-Q1', revenue: 1_200_000 }],
  uncertainty: { seed: 7, draws: 200 },
};

const plan = (payload: unknown) => app.inject({ method: 'POST', url: '/v1/plans/reverse', payload: payload as object });

describe('POST /v1/plans/reverse', () => {
  it('walks the funnel back from revenue to visits', async () => {
    const res = await plan(body);
    expect(res.statusCode).toBe(200);
    const target = res.json().businessUnits[0].targets[0];
    expect(target.status).toBe('planned');
    expect(target.deals).toBe(50);
    expect(target.volumes.map((v: { stage: string; required: number }) => [v.stage, v.required])).toEqual([
      ['visitor', 100_000],
      ['lead', 2_500],
      ['mql', 500],
      ['sql', 200],
      ['customer', 50],
    ]);
  });

  it('is reproducible: the same input gives the same plan', async () => {
    expect((await plan(body)).body).toBe((await plan(body)).body);
  });

  it('names each bad field in a problem document', async () => {
    const res = await plan({ ...body, targets: [{ businessUnit: 'nowhere', period: '2027-Q5', revenue: -5 }] });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    const fields = (res.json().errors as Array<{ field: string }>).map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['targets.0.period', 'targets.0.revenue']));
  });
});
