import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRuleConfig } from '@sluice/config';
import { buildApp, DEFAULT_LIMITS } from '../app.js';
import type { TestStack } from '../test-stack.js';
import { openTestStack } from '../test-stack.js';

// embedded chDB: this file runs in its own forked worker (one data directory per process)
const rules = parseRuleConfig({
  version: 'api-plan-accounts-1',
  timeZone: 'Europe/Berlin',
  stageModel: { builtin: 'classic_b2b', entry: { mql: [{ id: 'mql.webinar', when: { event: 'webinar_attended' } }] } },
});

let stack: TestStack;
let app: FastifyInstance;
/** the same read models without ClickHouse */
let withoutClickHouse: FastifyInstance;

let seq = 0;
const event = (leadId: string, accountId: string | undefined, type: string, occurredAt: string, properties: Record<string, unknown> = {}) => ({
  id: `pa-${++seq}`,
  type,
  occurredAt,
  leadId,
  ...(accountId === undefined ? {} : { accountId }),
  properties,
});
const form = { formId: 'contact' };
const webinar = { webinarId: 'w' };

/*
 * Two accounts and a lone lead, Berlin time, all in March and April 2026 (inside the 12 months before asOf):
 *   acme  a1: lead 2 Mar -> mql 4 Mar -> sql 10 Mar -> customer 9 Apr
 *         a2: lead 3 Mar -> mql 5 Mar
 *   beta  b1: lead 6 Mar -> mql 12 Mar
 *         b2: lead 7 Mar -> mql 7 Mar
 *   s1 (no account): lead 9 Mar
 */
const EVENTS = [
  event('a1', 'acme', 'form_submit', '2026-03-02T09:00:00+01:00', form),
  event('a1', 'acme', 'webinar_attended', '2026-03-04T09:00:00+01:00', webinar),
  event('a1', 'acme', 'demo_requested', '2026-03-10T09:00:00+01:00'),
  event('a1', 'acme', 'payment', '2026-04-09T09:00:00+02:00', { amount: 10_000, currency: 'EUR' }),
  event('a2', 'acme', 'form_submit', '2026-03-03T09:00:00+01:00', form),
  event('a2', 'acme', 'webinar_attended', '2026-03-05T09:00:00+01:00', webinar),
  event('b1', 'beta', 'form_submit', '2026-03-06T09:00:00+01:00', form),
  event('b1', 'beta', 'webinar_attended', '2026-03-12T09:00:00+01:00', webinar),
  event('b2', 'beta', 'form_submit', '2026-03-07T09:00:00+01:00', form),
  event('b2', 'beta', 'webinar_attended', '2026-03-07T21:00:00+01:00', webinar),
  event('s1', undefined, 'form_submit', '2026-03-09T09:00:00+01:00', form),
];

beforeAll(async () => {
  stack = await openTestStack('plan-accounts', rules);
  const { store, client, sink, read } = stack;
  const deps = { store, limits: DEFAULT_LIMITS, apiKeys: [], projections: read! };
  app = await buildApp({ ...deps, analytics: { client, sink, rules } });
  withoutClickHouse = await buildApp(deps);
  const ingest = await app.inject({ method: 'POST', url: '/v1/events', payload: EVENTS });
  expect(ingest.json()).toMatchObject({ accepted: EVENTS.length });
  await stack.catchUp();
});

afterAll(async () => {
  await app.close();
  await withoutClickHouse.close();
  await stack.close();
});

const plan = (unit?: string) => ({
  asOf: '2026-06-01T12:00:00+02:00',
  timeZone: 'Europe/Berlin',
  ...(unit === undefined ? {} : { unit }),
  stageModel: { stages: ['lead', 'mql', 'sql', 'customer'] },
  businessUnits: [{ id: 'all', dealSize: { given: 10_000 } }],
  targets: [{ businessUnit: 'all', period: '2026-Q3', revenue: 100_000 }],
  uncertainty: { seed: 1, draws: 100 },
});
const observed = (rates: Array<{ from: string; to: string; observations: { entered: number; converted: number } }>) =>
  rates.map((r) => [`${r.from}>${r.to}`, r.observations.converted, r.observations.entered]);

describe('POST /v1/plans/reverse counting accounts', () => {
  it('given two accounts and a lone lead, when the plan counts accounts, then each step and the pipeline count buying groups', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/plans/reverse', payload: plan('accounts') });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.unit).toBe('accounts');
    const unit = body.businessUnits[0];
    // lead: acme (a1, 2 Mar), beta (b1, 6 Mar) and s1 entered; acme reached mql 4 Mar (a1) and beta 7 Mar (b2): 2 of 3
    // mql: of acme and beta, acme reached sql (a1): 1 of 2; sql: acme became a customer: 1 of 1
    expect(observed(unit.rates)).toEqual([
      ['lead>mql', 2, 3],
      ['mql>sql', 1, 2],
      ['sql>customer', 1, 1],
    ]);
    // lead -> mql: acme 48 h (a1 to a1), beta 36 h (b1's form 6 Mar 09:00 to b2's webinar 7 Mar 21:00): mean 42 h = 1.75 days,
    // a lag of 2 days; mql -> sql: acme 6 days; sql -> customer: 10 Mar 09:00 to 9 Apr 09:00 across DST = 30 days less an hour, 30
    expect(unit.rates.map((r: { lag: { meanDays: number } }) => r.lag.meanDays)).toEqual([2, 6, 30]);
    // held now: acme is won (a1 paid), beta holds mql (both leads there), s1 holds lead
    expect(body.input.businessUnits[0].pipeline).toEqual({ lead: 1, mql: 1 });
    // 100,000 / 10,000 = 10 deals; / 1 = 10 SQL accounts; / 0.5 = 20 MQL accounts; / (2/3) = 30 accounts at lead
    expect(unit.targets[0].volumes.map((v: { required: number }) => v.required)).toEqual([30, 20, 10, 10]);
  });

  it('given the same log, when the plan counts leads (the default), then the read models count every lead', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/plans/reverse', payload: plan() });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.unit).toBe('leads');
    // lead: all 5 entered, 4 reached mql (not s1); mql: of those 4 only a1 reached sql; sql: a1 became a customer
    expect(observed(body.businessUnits[0].rates)).toEqual([
      ['lead>mql', 4, 5],
      ['mql>sql', 1, 4],
      ['sql>customer', 1, 1],
    ]);
    // held now: a2, b1 and b2 at mql, s1 at lead (a1 is a customer)
    expect(body.input.businessUnits[0].pipeline).toEqual({ lead: 1, mql: 3 });
  });

  it('given a server with read models but no ClickHouse, when the plan counts accounts, then a 400 names unit', async () => {
    const res = await withoutClickHouse.inject({ method: 'POST', url: '/v1/plans/reverse', payload: plan('accounts') });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    expect(res.json().errors).toEqual([{ field: 'unit', message: expect.stringContaining('counting accounts needs ClickHouse') }]);
  });
});

describe('POST /v1/plans/reverse checks the body before it reads anything', () => {
  const fieldsOf = async (payload: object) => {
    const res = await app.inject({ method: 'POST', url: '/v1/plans/reverse', payload });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    return (res.json().errors as Array<{ field: string }>).map((e) => e.field);
  };

  it('given a bad time zone, asOf or deal-size currency (which measuring reads), then a 400 names each, not a 500', async () => {
    expect(await fieldsOf({ ...plan(), timeZone: 'Mars/Olympus' })).toEqual(['timeZone']);
    expect(await fieldsOf({ ...plan(), asOf: 'next tuesday' })).toEqual(['asOf']);
    expect(await fieldsOf({ ...plan(), businessUnits: [{ id: 'all', dealSize: { currency: 'euro' } }] })).toEqual(['businessUnits.0.dealSize.currency']);
  });

  it('given 200 targets, or 30 targets at 100,000 draws (seconds of Monte Carlo), then a 400 names the bound', async () => {
    const targets = (n: number) => Array.from({ length: n }, (_, i) => ({ businessUnit: 'all', period: `${2027 + i}-01`, revenue: 100_000 }));
    expect(await fieldsOf({ ...plan(), targets: targets(200) })).toEqual(['targets']);
    expect(await fieldsOf({ ...plan(), targets: targets(30), uncertainty: { seed: 1, draws: 100_000 } })).toEqual(['uncertainty.draws']);
  });
});
