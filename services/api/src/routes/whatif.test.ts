import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRuleConfig } from '@sluice/config';
import { openSqliteEventStore } from '@sluice/event-store';
import type { EventStore } from '@sluice/event-store';
import { openProjectionStore, startProjector } from '@sluice/projector';
import type { ProjectionStore, Projector } from '@sluice/projector';
import { buildApp, DEFAULT_LIMITS } from '../app.js';
import { WHATIF_BODY_LIMIT_BYTES } from './whatif.js';

let store: EventStore;
let projections: ProjectionStore;
let projector: Projector;
let app: FastifyInstance;
const config = parseRuleConfig({ version: 'whatif-live-1' });
// a demo request makes an MQL, and only a sales acceptance an SQL
const candidate = {
  version: 'whatif-cand-1',
  stageModel: { builtin: 'classic_b2b', entry: { sql: [{ id: 'sql.accepted', when: { event: 'sales_accepted' } }], mql: [{ id: 'mql.demo', when: { event: 'demo_requested' } }] } },
};

beforeAll(async () => {
  store = await openSqliteEventStore({ path: ':memory:' });
  projections = openProjectionStore(':memory:');
  projector = startProjector({ store, projections, config });
  app = await buildApp({ store, limits: DEFAULT_LIMITS, apiKeys: [], projections: { projector, projections, config } });
  const res = await app.inject({
    method: 'POST',
    url: '/v1/events',
    payload: [
      { id: 'w1', type: 'visit', occurredAt: '2026-03-01T09:00:00Z', anonymousId: 'anon-w1' },
      { id: 'w2', type: 'demo_requested', occurredAt: '2026-03-01T09:05:00Z', anonymousId: 'anon-w1', leadId: 'lead-w1' },
      { id: 'w3', type: 'visit', occurredAt: '2026-04-02T09:00:00Z', leadId: 'lead-w2' },
    ],
  });
  expect(res.statusCode).toBe(200);
});

afterAll(async () => {
  await app.close();
  await projector.stop();
  projections.close();
  await store.close();
});

const whatif = (payload: unknown) => app.inject({ method: 'POST', url: '/v1/whatif', payload: payload as object });
const reached = (side: { stages: Array<{ stage: string; reached: number }> }, stage: string) => side.stages.find((s) => s.stage === stage)?.reached;

describe('POST /v1/whatif', () => {
  it('given candidate rules, then both sides come back with the leads whose stage would differ', async () => {
    const res = await whatif({ candidate });
    expect(res.statusCode).toBe(200);
    const result = res.json();
    expect([result.live.configVersion, result.candidate.configVersion]).toEqual(['whatif-live-1', 'whatif-cand-1']);
    expect([reached(result.live, 'sql'), reached(result.candidate, 'sql')]).toEqual([1, 0]);
    expect([reached(result.live, 'visitor'), reached(result.candidate, 'visitor')]).toEqual([2, 2]);
    expect(result.differences).toEqual({ count: 1, actors: [{ kind: 'lead', id: 'lead-w1', live: 'sql', candidate: 'mql' }] });
  });

  it('given a window, then only actors first seen in it are compared', async () => {
    const res = await whatif({ candidate, window: { from: '2026-04-01T00:00:00Z', to: '2026-05-01T00:00:00Z' } });
    expect(res.statusCode).toBe(200);
    expect(res.json().differences.count).toBe(0);
    expect(reached(res.json().live, 'visitor')).toBe(1);
  });

  it('given a misspelt key in the candidate rules, then a 400 names its path', async () => {
    const res = await whatif({ candidate: { version: 'x', scoring: { engagment: {} } } });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().errors).toEqual([{ field: 'candidate.scoring.engagment', message: expect.stringContaining('did you mean "engagement"') }]);
  });

  it('given no candidate or an unknown key, then a 400 names the field', async () => {
    const res = await whatif({ candidates: candidate });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.map((e: { field: string }) => e.field)).toContain('body');
  });

  it('given a body over the what-if limit, then a 413', async () => {
    const res = await whatif({ candidate: { version: 'x', padding: 'x'.repeat(WHATIF_BODY_LIMIT_BYTES) } });
    expect(res.statusCode).toBe(413);
  });
});
