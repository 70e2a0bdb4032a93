import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRuleConfig } from '@sluice/config';
import { buildApp, DEFAULT_LIMITS } from '../app.js';
import type { TestStack } from '../test-stack.js';
import { openTestStack } from '../test-stack.js';

// embedded chDB: this file runs in its own forked worker (one data directory per process)
const rulesInput = {
  version: 'api-reports-1',
  timeZone: 'Europe/Berlin',
  stageModel: { builtin: 'classic_b2b', entry: { mql: [{ id: 'mql.webinar', when: { event: 'webinar_attended' } }] } },
  sla: { firstTouchWithinMinutes: 60, mqlsPerMonth: { default: 1 } },
} as const;
const rules = parseRuleConfig(rulesInput);
// the same rules with a rate table: report settings, so the read models need no rebuild
const withRates = parseRuleConfig({ ...rulesInput, currencies: { report: 'EUR', rates: { USD: 0.5 } } });

let stack: TestStack;
let app: FastifyInstance;
let appWithRates: FastifyInstance;

const lead = { leadId: 'L1' };
const EVENTS = [
  { id: 'r-1', type: 'visit', occurredAt: '2026-03-02T09:00:00+01:00', ...lead, source: 'google', channel: 'paid' },
  { id: 'r-2', type: 'webinar_attended', occurredAt: '2026-03-02T10:00:00+01:00', ...lead, properties: { webinarId: 'w' } },
  { id: 'r-3', type: 'call', occurredAt: '2026-03-02T12:00:00+01:00', ...lead, properties: { direction: 'outbound', outcome: 'connected', durationSeconds: 30 } },
  { id: 'r-4', type: 'payment', occurredAt: '2026-03-20T10:00:00+01:00', ...lead, properties: { amount: 400, currency: 'USD' } },
  {
    id: 'r-5',
    type: 'spend',
    occurredAt: '2026-04-01T00:00:00+02:00',
    source: 'google',
    channel: 'paid',
    properties: { amount: 100, currency: 'EUR', periodStart: '2026-03-01T00:00:00+01:00', periodEnd: '2026-04-01T00:00:00+02:00' },
  },
];
const RANGE = { from: '2026-03-01T00:00:00+01:00', to: '2026-04-01T00:00:00+02:00' };

beforeAll(async () => {
  stack = await openTestStack('reports', rules);
  const { store, client, sink, read } = stack;
  const deps = { store, limits: DEFAULT_LIMITS, apiKeys: [] };
  app = await buildApp({ ...deps, analytics: { client, sink, rules }, projections: read! });
  appWithRates = await buildApp({ ...deps, analytics: { client, sink, rules: withRates }, projections: { ...read!, config: withRates } });
  // spend travels the ingestion path every event does
  const ingest = await app.inject({ method: 'POST', url: '/v1/events', payload: EVENTS });
  expect(ingest.json()).toMatchObject({ accepted: 5, duplicates: 0 });
  await stack.catchUp();
});

afterAll(async () => {
  await app.close();
  await appWithRates.close();
  await stack.close();
});

describe('POST /v1/reports/cost', () => {
  it('given EUR spend and a USD payment and no rate table, then it answers for the EUR amounts and lists the payment it left out instead of failing or summing them', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/reports/cost', payload: { dateRange: RANGE } });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    // one EUR spend row, one USD payment: the tie goes to the first code
    expect(body.currency).toEqual({ report: 'EUR', ratesUsed: {} });
    expect(body.excluded).toEqual([
      { measure: 'revenue', currency: 'USD', events: 1, amount: 400, reason: 'no rate table to convert USD to EUR: set currencies.report and currencies.rates in the configuration' },
    ]);
    expect(body.total).toMatchObject({ spend: 100, revenue: 0, customers: 1, paybackPeriods: null, reasons: { paybackPeriods: 'no revenue' } });
  });

  it('given the rates in config, then it converts, says which rates it used and states the attribution', async () => {
    const res = await appWithRates.inject({ method: 'POST', url: '/v1/reports/cost', payload: { dateRange: RANGE, attribution: 'last_touch' } });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.query).toMatchObject({ attribution: 'last_touch', groupBy: 'source', stages: { lead: 'lead', mql: 'mql', sql: 'sql', customer: 'customer' } });
    expect(body.currency).toEqual({ report: 'EUR', ratesUsed: { USD: 0.5 } });
    expect(body.excluded).toEqual([]);
    expect(body.rows).toEqual([
      // the payment made a customer, the SQL passed through on the way
      expect.objectContaining({ label: '2026-03', segment: 'google', spend: 100, leads: 1, mqls: 1, sqls: 1, customers: 1, revenue: 200, costPerAcquisition: 100, roi: 1, paybackPeriods: 0.5, reasons: {} }),
    ]);
  });

  it('names every bad field of the body', async () => {
    const res = await appWithRates.inject({ method: 'POST', url: '/v1/reports/cost', payload: { dateRange: RANGE, groupBy: 'colour', attribution: 'linear' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.map((e: { field: string }) => e.field)).toEqual(['groupBy', 'attribution']);
  });
});

describe('POST /v1/reports/sla', () => {
  it('given an MQL called two hours after a one-hour target, then the first touch is breached and the lead listed', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/reports/sla', payload: { dateRange: RANGE, asOf: '2026-03-31T00:00:00+02:00' } });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.marketing).toEqual([{ businessUnit: 'default', delivered: 1, committed: 1, met: true }]);
    expect(body.sales.total).toMatchObject({ leads: 1, contacted: 1, firstTouch: { met: 0, breached: 1, pending: 0 }, medianMinutes: 120 });
    expect(body.breaches.leads.map((b: { leadId: string; breaches: string[] }) => [b.leadId, b.breaches])).toEqual([['L1', ['first_touch', 'attempts']]]);
  });

  it('names a range that ends before it starts', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/reports/sla', payload: { dateRange: { from: RANGE.to, to: RANGE.from } } });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([{ field: 'dateRange.to', message: 'from must be before to' }]);
  });
});
