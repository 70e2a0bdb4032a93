import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, DEFAULT_LIMITS } from '../app.js';
import type { TestStack } from '../test-stack.js';
import { openTestStack } from '../test-stack.js';

let stack: TestStack;
let app: FastifyInstance;

beforeAll(async () => {
  stack = await openTestStack('funnels');
  const { store, client, sink } = stack;
  app = await buildApp({ store, limits: DEFAULT_LIMITS, apiKeys: [], analytics: { client, sink } });
  const at = (day: number, hour: number) => `2026-03-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00Z`;
  // three visitors: A converts all the way, B signs up but never books a demo, C only visits
  const events = [
    { id: 'a1', type: 'visit', occurredAt: at(1, 9), anonymousId: 'anon-A', source: 'google' },
    { id: 'a2', type: 'form_submit', occurredAt: at(1, 10), anonymousId: 'anon-A', leadId: 'lead-A', properties: { formId: 'trial' } },
    { id: 'a3', type: 'demo_held', occurredAt: at(5, 10), leadId: 'lead-A', properties: { demoId: 'd1' } },
    { id: 'b1', type: 'visit', occurredAt: at(2, 9), anonymousId: 'anon-B', source: 'linkedin' },
    { id: 'b2', type: 'form_submit', occurredAt: at(2, 11), anonymousId: 'anon-B', leadId: 'lead-B', properties: { formId: 'trial' } },
    { id: 'c1', type: 'visit', occurredAt: at(3, 9), anonymousId: 'anon-C', source: "google'); DROP TABLE touchpoints; --" },
  ];
  const res = await app.inject({ method: 'POST', url: '/v1/events', payload: events });
  expect(res.statusCode).toBe(200);
});

afterAll(async () => {
  await app.close();
  await stack.close();
});

const funnel = {
  steps: [{ type: 'visit' }, { type: 'form_submit' }, { type: 'demo_held' }],
  order: 'ordered',
  window: { value: 30, unit: 'days' },
  dateRange: { from: '2026-03-01T00:00:00Z', to: '2026-04-01T00:00:00Z' },
};

describe('POST /v1/funnels', () => {
  it('counts leads per step with conversion and drop-off, the anonymous visit stitched to the lead', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/funnels', payload: funnel });
    expect(res.statusCode).toBe(200);
    expect(res.json().steps.map((s: { leads: number }) => s.leads)).toEqual([3, 2, 1]);
  });

  it('breaks down by source, hostile values coming back as data', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/funnels', payload: { ...funnel, breakdown: 'source' } });
    expect(res.statusCode).toBe(200);
    const groups = res.json().breakdown.groups as Array<{ value: string; steps: Array<{ leads: number }> }>;
    expect(Object.fromEntries(groups.map((g) => [g.value, g.steps.map((s) => s.leads)]))).toEqual({
      google: [1, 1, 1],
      linkedin: [1, 1, 0],
      "google'); DROP TABLE touchpoints; --": [1, 0, 0],
    });
  });

  it.each([
    ['a filter value', { ...funnel, steps: [{ type: 'visit', where: [{ key: 'source', op: 'eq', value: "x' OR 1=1 --" }] }, { type: 'form_submit' }] }, 200],
    ['a property path', { ...funnel, steps: [{ type: 'visit', where: [{ key: "properties.x'); SELECT 1; --", op: 'eq', value: 'v' }] }, { type: 'form_submit' }] }, 200],
    ['a step type', { ...funnel, steps: [{ type: "visit'; DROP TABLE touchpoints; --" }, { type: 'form_submit' }] }, 400],
    ['a breakdown key', { ...funnel, breakdown: 'source); DROP TABLE touchpoints; --' }, 400],
    ['the order mode', { ...funnel, order: 'ordered; DROP TABLE x' }, 400],
  ])('treats a hostile string in %s as data or rejects it, never as SQL', async (_label, payload, status) => {
    const res = await app.inject({ method: 'POST', url: '/v1/funnels', payload });
    expect(res.statusCode).toBe(status);
    if (status === 200) expect(res.json().steps[0].leads).toBe(0);
    // the table is still there and still counts everyone
    const again = await app.inject({ method: 'POST', url: '/v1/funnels', payload: funnel });
    expect(again.json().steps[0].leads).toBe(3);
  });

  it('takes the counting options in the body', async () => {
    // range ending on March 5th: A's demo (5th, 10:00) counts when only step 1 must be in the range, not when every step must
    const early = { ...funnel, dateRange: { from: '2026-03-01T00:00:00Z', to: '2026-03-05T00:00:00Z' } };
    const leadsOf = async (payload: object) => (await app.inject({ method: 'POST', url: '/v1/funnels', payload })).json().steps.map((s: { leads: number }) => s.leads);
    expect(await leadsOf(early)).toEqual([3, 2, 1]);
    expect(await leadsOf({ ...early, dateScope: 'all_steps' })).toEqual([3, 2, 0]);
    // last touch: A's demo and B's form carry no source, so both count under ''
    const res = await app.inject({ method: 'POST', url: '/v1/funnels', payload: { ...funnel, breakdown: 'source', attribution: 'last_touch', unit: 'totals' } });
    expect(res.json().unit).toBe('totals');
    expect(Object.fromEntries((res.json().breakdown.groups as Array<{ value: string; steps: Array<{ leads: number }> }>).map((g) => [g.value, g.steps.map((s) => s.leads)]))).toEqual({
      '': [2, 2, 1],
      "google'); DROP TABLE touchpoints; --": [1, 0, 0],
    });
    const bad = await app.inject({ method: 'POST', url: '/v1/funnels', payload: { ...funnel, order: 'unordered', windowAnchor: 'per_step', attribution: 'step:3' } });
    expect(bad.statusCode).toBe(400);
    expect((bad.json().errors as Array<{ field: string }>).map((e) => e.field).sort()).toEqual(['attribution', 'attribution', 'windowAnchor']);
  });

  it('lets a chain skip an optional step, and refuses one the order cannot skip', async () => {
    // visit -> identify (optional: nobody sent one) -> form_submit: A and B still reach the form, 2 of the 3 visits
    const steps = [{ type: 'visit' }, { type: 'identify', optional: true }, { type: 'form_submit' }];
    const res = await app.inject({ method: 'POST', url: '/v1/funnels', payload: { ...funnel, steps } });
    expect(res.statusCode).toBe(200);
    expect(res.json().steps.map((s: { leads: number; conversionFromPrevious: number; optional?: boolean }) => [s.leads, s.conversionFromPrevious, s.optional ?? false])).toEqual([
      [3, 1, false],
      [0, 0, true],
      [2, 2 / 3, false],
    ]);
    const bad = await app.inject({ method: 'POST', url: '/v1/funnels', payload: { ...funnel, steps, order: 'unordered' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    expect(bad.json().errors).toEqual([{ field: 'steps.1.optional', message: 'optional steps need an order ("ordered" or "strict")' }]);
  });

  it('names bad fields and bad query options', async () => {
    const bad = await app.inject({ method: 'POST', url: '/v1/funnels', payload: { ...funnel, window: { value: -1, unit: 'fortnights' } } });
    expect(bad.statusCode).toBe(400);
    expect((bad.json().errors as Array<{ field: string }>).map((e) => e.field)).toEqual(expect.arrayContaining(['window.value', 'window.unit']));
    const timeout = await app.inject({ method: 'POST', url: '/v1/funnels?timeoutSeconds=100000', payload: funnel });
    expect(timeout.statusCode).toBe(400);
    expect(timeout.json().errors[0].field).toBe('querystring.timeoutSeconds');
  });
});

describe('bounded work', () => {
  it('given an unordered funnel with 7 steps of one event type (combinatorial: any of them may take each event), then 400 names the 7th; 6 are counted', async () => {
    const visits = (n: number) => Array.from({ length: n }, () => ({ type: 'visit' }));
    const bad = await app.inject({ method: 'POST', url: '/v1/funnels', payload: { ...funnel, order: 'unordered', steps: [...visits(7), { type: 'form_submit' }] } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors).toEqual([{ field: 'steps.6.type', message: expect.stringContaining('at most 6 steps of one event type') }]);
    const ok = await app.inject({ method: 'POST', url: '/v1/funnels', payload: { ...funnel, order: 'unordered', steps: [...visits(6), { type: 'form_submit' }] } });
    expect(ok.statusCode).toBe(200);
    // every visitor visited once: each reaches step 0 only
    expect(ok.json().steps.map((s: { leads: number }) => s.leads)).toEqual([3, 0, 0, 0, 0, 0, 0]);
  });
});

describe('POST /v1/funnels/leads', () => {
  it('lists the leads who reached a step and those who dropped after it', async () => {
    const reached = await app.inject({ method: 'POST', url: '/v1/funnels/leads?stepIndex=1', payload: funnel });
    expect(reached.statusCode).toBe(200);
    expect(reached.json().leads.map((l: { leadId?: string }) => l.leadId).sort()).toEqual(['lead-A', 'lead-B']);
    const dropped = await app.inject({ method: 'POST', url: '/v1/funnels/leads?stepIndex=1&status=dropped', payload: funnel });
    expect(dropped.json().leads.map((l: { leadId?: string }) => l.leadId)).toEqual(['lead-B']);
    const past = await app.inject({ method: 'POST', url: '/v1/funnels/leads?stepIndex=7', payload: funnel });
    expect(past.statusCode).toBe(400);
  });
});
