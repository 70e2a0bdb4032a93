import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyLeadProfiles, applyStageTransitionChanges } from '@sluice/analytics';
import type { AnalyticsClient, LeadProfileRow } from '@sluice/analytics';
import { parseRuleConfig } from '@sluice/config';
import type { StageTransition } from '@sluice/domain';
import { buildApp, DEFAULT_LIMITS } from '../app.js';
import type { TestStack } from '../test-stack.js';
import { openTestStack } from '../test-stack.js';

// embedded chDB: this file runs in its own forked worker (one data directory per process)
const rules = parseRuleConfig({ version: 'api-stage-1', timeZone: 'Europe/Berlin' });
let stack: TestStack;
let client: AnalyticsClient;
let app: FastifyInstance;

const transition = (lead: string, to: string, at: string, skipped = false): StageTransition => ({
  leadId: lead,
  anonymousId: undefined,
  from: null,
  to,
  at: Date.parse(at),
  skipped,
  rule: `${to}.test`,
  eventId: `${lead}-${to}`,
  configVersion: rules.version,
});

const profile = (lead: string, businessUnit: string): LeadProfileRow => ({
  leadId: lead,
  configVersion: rules.version,
  businessUnit,
  source: '',
  channel: '',
  campaign: '',
  role: '',
  industry: '',
  country: '',
  companySize: 0,
  leadSource: '',
  owner: '',
  currentStage: '',
});

beforeAll(async () => {
  stack = await openTestStack('stage-analytics');
  client = stack.client;
  app = await buildApp({ store: stack.store, limits: DEFAULT_LIMITS, apiKeys: [], analytics: { client, sink: stack.sink, rules } });

  // The stage tables as the projector writes them, for three leads of the classic model (dates in Berlin):
  //   A: lead 2 Mar -> mql 5 Mar -> sql 10 Mar -> customer 20 Apr              (enterprise)
  //   B: lead 3 Mar -> mql 20 Mar, no further                                    (smb)
  //   C: lead 2 Apr -> sql 5 Apr, MQL skipped (passed through at the jump's time) (smb)
  await applyStageTransitionChanges(client, {
    version: 1,
    removals: [],
    upserts: [
      transition('A', 'lead', '2026-03-02T09:00:00+01:00'),
      transition('A', 'mql', '2026-03-05T09:00:00+01:00'),
      transition('A', 'sql', '2026-03-10T09:00:00+01:00'),
      transition('A', 'customer', '2026-04-20T09:00:00+02:00'),
      transition('B', 'lead', '2026-03-03T09:00:00+01:00'),
      transition('B', 'mql', '2026-03-20T09:00:00+01:00'),
      transition('C', 'lead', '2026-04-02T09:00:00+02:00'),
      transition('C', 'mql', '2026-04-05T09:00:00+02:00', true),
      transition('C', 'sql', '2026-04-05T09:00:00+02:00'),
      // F won in May, straight to customer (outside every stage pair above)
      transition('F', 'customer', '2026-05-15T09:00:00+02:00'),
    ],
  });
  await applyLeadProfiles(client, [profile('A', 'enterprise'), profile('B', 'smb'), profile('C', 'smb')], 1);
  // touchpoints before the purchase: A and B submitted a form, A and C had a demo
  const events = [
    { id: 'a-form', type: 'form_submit', occurredAt: '2026-03-02T09:00:00+01:00', leadId: 'A', properties: { formId: 'contact' } },
    { id: 'a-demo', type: 'demo_held', occurredAt: '2026-03-12T09:00:00+01:00', leadId: 'A', properties: { demoId: 'd-a' } },
    { id: 'a-accept', type: 'sales_accepted', occurredAt: '2026-03-10T09:00:00+01:00', leadId: 'A' },
    { id: 'b-form', type: 'form_submit', occurredAt: '2026-03-03T09:00:00+01:00', leadId: 'B', properties: { formId: 'contact' } },
    { id: 'c-demo', type: 'demo_held', occurredAt: '2026-04-06T09:00:00+02:00', leadId: 'C', properties: { demoId: 'd-c' } },
    // the deals' first payments: A in euros as it became a customer, F in dollars
    { id: 'a-pay', type: 'payment', occurredAt: '2026-04-20T09:00:00+02:00', leadId: 'A', properties: { amount: 24000, currency: 'EUR' } },
    { id: 'f-pay', type: 'payment', occurredAt: '2026-05-15T09:00:00+02:00', leadId: 'F', properties: { amount: 1000, currency: 'USD' } },
    // customers outside the stage fixture, for retention: D buys in April and renews in June; E buys in May and is upsold in May
    { id: 'd-pay', type: 'payment', occurredAt: '2026-04-10T09:00:00+02:00', leadId: 'D', properties: { amount: 1000, currency: 'EUR' } },
    { id: 'd-renew', type: 'renewal', occurredAt: '2026-06-15T09:00:00+02:00', leadId: 'D', properties: { amount: 1000, currency: 'EUR' } },
    { id: 'e-pay', type: 'payment', occurredAt: '2026-05-10T09:00:00+02:00', leadId: 'E', source: 'partner', properties: { amount: 500, currency: 'EUR' } },
    { id: 'e-upsell', type: 'upsell', occurredAt: '2026-05-20T09:00:00+02:00', leadId: 'E', properties: { amount: 200, currency: 'EUR' } },
  ];
  expect((await app.inject({ method: 'POST', url: '/v1/events', payload: events })).statusCode).toBe(200);
});

afterAll(async () => {
  await app.close();
  await stack.close();
});

const spring = { from: '2026-03-01T00:00:00+01:00', to: '2026-05-01T00:00:00+02:00' };

interface Row {
  from: string;
  to: string;
  periodLabel: string;
  segment: string;
  entered: number;
  converted: number;
  rate: number;
  medianMs: number | null;
}
const DAY = 86_400_000;
const byKey = (rows: Row[]) => Object.fromEntries(rows.map((r) => [`${r.from}>${r.to} ${r.periodLabel}${r.segment ? ` ${r.segment}` : ''}`, [r.converted, r.entered]]));

describe('the stage query routes in the OpenAPI document', () => {
  it('given the registry of stage queries, then each route documents its answer with its freshness', () => {
    const paths = (app.swagger() as { paths: Record<string, { post?: { responses?: Record<string, { content?: Record<string, { schema: { properties?: Record<string, unknown> } }> }> } }> }).paths;
    for (const path of ['/v1/conversion', '/v1/close-rates', '/v1/conversion-drivers', '/v1/time-to-convert', '/v1/cohorts']) {
      const answer = paths[path]?.post?.responses?.['200']?.content?.['application/json']?.schema;
      expect({ path, fields: Object.keys(answer?.properties ?? {}) }).toEqual({ path, fields: expect.arrayContaining(['freshness', 'truncated']) });
    }
  });
});

describe('POST /v1/conversion', () => {
  it('counts step-to-step conversion per monthly cohort under the live rules when the body names only the dates', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/conversion', payload: { dateRange: spring } });
    expect(res.statusCode).toBe(200);
    const rows = res.json().rows as Row[];
    // [converted, entered] per pair and month of entering its first stage; C's skipped MQL counts as passed through
    expect(byKey(rows)).toEqual({
      'lead>mql 2026-03': [2, 2],
      'lead>mql 2026-04': [1, 1],
      'mql>sql 2026-03': [1, 2],
      'mql>sql 2026-04': [1, 1],
      'sql>customer 2026-03': [1, 1],
      'sql>customer 2026-04': [0, 1],
    });
    // A's lead -> MQL took 3 days, B's 17: the median of two interpolates to 10
    expect(rows.find((r) => r.from === 'lead' && r.periodLabel === '2026-03')!.medianMs).toBe(10 * DAY);
  });

  it('splits by a segment and honours a window and explicit pairs', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/conversion',
      payload: { dateRange: spring, period: 'all', segment: 'businessUnit', pairs: [{ from: 'lead', to: 'customer' }, { from: 'lead', to: 'mql' }], window: { value: 7, unit: 'days' } },
    });
    expect(res.statusCode).toBe(200);
    // within 7 days: A reached MQL (3 days), B did not (17 days), C did (3 days); nobody became a customer within 7 days
    expect(byKey(res.json().rows)).toEqual({
      'lead>customer all enterprise': [0, 1],
      'lead>customer all smb': [0, 2],
      'lead>mql all enterprise': [1, 1],
      'lead>mql all smb': [1, 2],
    });
  });

  it('names every bad field, after the live defaults, and writes nothing', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/conversion',
      payload: { dateRange: { from: '2026-05-01T00:00:00Z', to: '2026-03-01T00:00:00Z' }, period: 'fortnight', pairs: [{ from: 'sql', to: 'lead' }], colour: 'red' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json().type).toBe('https://sluice.dev/problems/invalid-conversion-query');
    expect((res.json().errors as Array<{ field: string }>).map((e) => e.field).sort()).toEqual(['', 'dateRange.to', 'pairs.0.to', 'period']);
    const missing = await app.inject({ method: 'POST', url: '/v1/conversion', payload: [] });
    expect(missing.statusCode).toBe(400);
  });
});

describe('POST /v1/close-rates', () => {
  it('ranks activities by close rate against the average, the population and customer stage from the live rules', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/close-rates', payload: { dateRange: spring } });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    // three leads entered "lead" in the range, one (A) became a customer
    expect([body.leads, body.customers]).toEqual([3, 1]);
    expect(body.averageCloseRate).toBeCloseTo(1 / 3, 10);
    const counts = Object.fromEntries((body.activities as Array<{ type: string; leads: number; customers: number }>).map((a) => [a.type, [a.customers, a.leads]]));
    // sales_accepted is a decision, not an activity: counted only when asked for
    expect(counts).toEqual({ form_submit: [1, 2], demo_held: [1, 2] });
    const decisions = await app.inject({ method: 'POST', url: '/v1/close-rates', payload: { dateRange: spring, types: ['sales_accepted'] } });
    expect(decisions.json().activities.map((a: { type: string; leads: number; customers: number }) => [a.type, a.customers, a.leads])).toEqual([['sales_accepted', 1, 1]]);
  });
});

describe('POST /v1/conversion-drivers', () => {
  it('tests each touchpoint before converting and each profile fact, from lead to customer of the live rules', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/conversion-drivers', payload: { dateRange: spring } });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    // A, B and C entered "lead" in the range; A became a customer
    expect([body.leads, body.converted]).toEqual([3, 1]);
    // A's form and demo came before its purchase (its payment is the conversion itself, sales_accepted a decision); B had a form, C a demo
    const counts = (body.drivers as Array<{ kind: string; key: string; value: string; leads: number; converted: number }>).map((d) => [d.kind, d.key, d.value, d.converted, d.leads]);
    expect(counts).toEqual(
      expect.arrayContaining([
        ['event', 'form_submit', '', 1, 2],
        ['event', 'demo_held', '', 1, 2],
        ['profile', 'businessUnit', 'enterprise', 1, 1],
        ['profile', 'businessUnit', 'smb', 0, 2],
      ]),
    );
    expect(counts).toHaveLength(4);
    // enterprise: [[1, 0], [0, 2]]; Fisher p = P(table) = 1/3; the odds ratio with 0.5 added to each cell (1.5 x 2.5) / (0.5 x 0.5) = 15
    const enterprise = body.drivers.find((d: { value: string }) => d.value === 'enterprise');
    expect(enterprise).toMatchObject({ rateWith: 1, rateWithout: 0, effect: 'unclear' });
    expect(enterprise.pValue).toBeCloseTo(1 / 3, 10);
    expect(enterprise.oddsRatio).toBeCloseTo(15, 10);
  });

  it('names a bad field', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/conversion-drivers', payload: { dateRange: spring, from: 'sql', to: 'sql', profileKeys: ['shoeSize'] } });
    expect(res.statusCode).toBe(400);
    expect((res.json().errors as Array<{ field: string }>).map((e) => e.field).sort()).toEqual(['profileKeys.0', 'to']);
  });
});

describe('POST /v1/time-to-convert', () => {
  it('gives the distribution between two stages of the live rules, with given bucket edges', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/time-to-convert',
      payload: { from: 'lead', to: 'mql', dateRange: spring, buckets: [{ value: 1, unit: 'days' }, { value: 7, unit: 'days' }] },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.buckets.map((b: { label: string }) => b.label)).toHaveLength(3);
    // A took 3 days, B 17, C 3 (its MQL passed through at the jump to SQL): [0, 1d) none, [1d, 7d) two, [7d, inf) one
    expect(body.rows).toHaveLength(1);
    const [row] = body.rows;
    expect([row.entered, row.converted, row.histogram]).toEqual([3, 3, [0, 2, 1]]);
    expect(row.medianMs).toBe(3 * DAY);
    expect(row.meanMs).toBeCloseTo((23 / 3) * DAY, 0);
  });

  it('measures between touchpoint steps as funnels count actors', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/time-to-convert', payload: { from: { type: 'form_submit' }, to: { type: 'demo_held' }, dateRange: spring } });
    expect(res.statusCode).toBe(200);
    // A: form 2 Mar -> demo 12 Mar (10 days); B never had a demo
    const [row] = res.json().rows;
    expect([row.entered, row.converted, row.medianMs]).toEqual([2, 1, 10 * DAY]);
  });

  it('gives its trend per month of entering, in the live time zone, and names a bad period', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/time-to-convert',
      payload: { from: 'lead', to: 'mql', dateRange: spring, buckets: [{ value: 1, unit: 'days' }, { value: 7, unit: 'days' }], period: 'month' },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.query.timeZone).toBe('Europe/Berlin');
    // March: A (3 days) and B (17): mean and median 10 days, p90 3 + 0.9 x 14 = 15.6 days, [1d, 7d) one, [7d, inf) one
    // April: C (3 days, its MQL passed through)
    const rows = body.rows as Array<{ period: string; periodLabel: string; entered: number; converted: number; meanMs: number; medianMs: number; p90Ms: number; histogram: number[] }>;
    expect(rows.map((r) => [r.period, r.periodLabel, r.entered, r.converted, r.meanMs, r.medianMs, r.histogram])).toEqual([
      ['2026-03-01', '2026-03', 2, 2, 10 * DAY, 10 * DAY, [0, 1, 1]],
      ['2026-04-01', '2026-04', 1, 1, 3 * DAY, 3 * DAY, [0, 1, 0]],
    ]);
    expect(rows[0]!.p90Ms).toBeCloseTo(15.6 * DAY, 0);

    const bad = await app.inject({ method: 'POST', url: '/v1/time-to-convert', payload: { from: 'lead', to: 'mql', dateRange: spring, period: 'fortnight' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors).toEqual([{ field: 'period', message: 'must be one of day, week, month, quarter, year' }]);
  });

  it('names a stage and a step mixed up', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/time-to-convert', payload: { from: 'lead', to: { type: 'demo_held' }, dateRange: spring } });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.map((e: { field: string }) => e.field)).toEqual(['to']);
  });
});

describe('POST /v1/cohorts', () => {
  it('counts customers retained per month since their first purchase, in the live time zone', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/cohorts', payload: { dateRange: { from: spring.from, to: '2026-07-01T00:00:00+02:00' }, offsets: 3 } });
    expect(res.statusCode).toBe(200);
    const cohorts = res.json().cohorts as Array<{ periodLabel: string; customers: number; retained: number[] }>;
    // April: A and D bought, D renewed in June (offset 2); May: E and F bought, E was upsold the same month (offset 0)
    expect(cohorts.map((c) => [c.periodLabel, c.customers, c.retained])).toEqual([
      ['2026-04', 2, [0, 0, 1, 0]],
      ['2026-05', 2, [1, 0, 0, 0]],
    ]);
    const bySource = await app.inject({ method: 'POST', url: '/v1/cohorts', payload: { dateRange: { from: spring.from, to: '2026-07-01T00:00:00+02:00' }, offsets: 1, segment: 'purchaseSource' } });
    expect((bySource.json().cohorts as Array<{ periodLabel: string; segment: string; customers: number }>).map((c) => [c.periodLabel, c.segment, c.customers])).toEqual([
      ['2026-04', '', 2],
      ['2026-05', '', 1],
      ['2026-05', 'partner', 1],
    ]);
  });

  it('asks a body without asOf as of the moment it arrives: periods begun after it are null, earlier ones counted', async () => {
    const before = Date.now();
    const res = await app.inject({ method: 'POST', url: '/v1/cohorts', payload: { dateRange: { from: spring.from, to: '2026-07-01T00:00:00+02:00' }, offsets: 48 } });
    const after = Date.now();
    expect(res.statusCode).toBe(200);
    const asOf = Date.parse(res.json().query.asOf as string);
    expect(asOf).toBeGreaterThanOrEqual(before - 1);
    expect(asOf).toBeLessThanOrEqual(after + 1);
    // April's cohort: offset k is the calendar month k after April 2026 in the live zone (Europe/Berlin); those up to asOf's month have begun
    const april = (res.json().cohorts as Array<{ periodLabel: string; retained: (number | null)[] }>).find((c) => c.periodLabel === '2026-04')!;
    const [year, month] = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin', year: 'numeric', month: '2-digit' }).format(asOf).split('-').map(Number);
    const begunOffsets = (year! - 2026) * 12 + (month! - 4) + 1;
    expect(april.retained.map((r) => r !== null)).toEqual(april.retained.map((_, k) => k < begunOffsets));
    expect(april.retained.slice(0, 3)).toEqual([0, 0, 1]);
  });
});

describe('POST /v1/plans/reverse with a deal size measured from payments', () => {
  const plan = (dealSize: Record<string, unknown>) => ({
    asOf: '2026-06-01T12:00:00+02:00',
    timeZone: 'Europe/Berlin',
    stageModel: { stages: ['sql', 'customer'] },
    businessUnits: [{ id: 'all', dealSize, transitions: [{ from: 'sql', to: 'customer', rate: { given: 0.5 } }] }],
    targets: [{ businessUnit: 'all', period: '2026-Q3', revenue: 240_000 }],
    uncertainty: { seed: 1, draws: 100 },
  });

  it('sizes deals in the named currency from the deals won in the last 12 months', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/plans/reverse', payload: plan({ currency: 'EUR' }) });
    expect(res.statusCode).toBe(200);
    const unit = res.json().businessUnits[0];
    // A's 24,000 EUR is the one euro deal: 240,000 / 24,000 = 10 deals, 20 SQLs at a rate of one half
    expect(unit.dealSize).toMatchObject({ source: 'measured', value: 24_000, observations: 1, currency: 'EUR' });
    expect(unit.targets[0].volumes.map((v: { required: number }) => v.required)).toEqual([20, 10]);
    const given = await app.inject({ method: 'POST', url: '/v1/plans/reverse', payload: plan({ currency: 'USD', given: 2_000 }) });
    expect(given.json().businessUnits[0].dealSize).toMatchObject({ source: 'overridden', value: 2_000, observations: 1, currency: 'USD' });
  });

  it('refuses to average euros with dollars and names the field to set', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/plans/reverse', payload: plan({}) });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([{ field: 'businessUnits.0.dealSize.currency', message: expect.stringContaining('paid in EUR (1 deal) and USD (1 deal)') }]);
  });

  it('given a deal size and no currency over euros and dollars, then the given size plans (as the dashboard asks on a multi-currency demo)', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/plans/reverse', payload: plan({ given: 24_000 }) });
    expect(res.statusCode).toBe(200);
    const unit = res.json().businessUnits[0];
    expect(unit.dealSize).toMatchObject({ source: 'given', value: 24_000 });
    expect(unit.targets[0].volumes.map((v: { required: number }) => v.required)).toEqual([20, 10]);
  });
});

describe('hostile strings in every field of the stage queries', () => {
  const hostile = "x'); DROP TABLE stage_transitions; --";
  const conversion = (patch: Record<string, unknown>) => ({ dateRange: spring, period: 'all', ...patch });
  it.each([
    ['configVersion', '/v1/conversion', conversion({ configVersion: hostile }), 200],
    ['a filter value', '/v1/conversion', conversion({ filters: [{ key: 'businessUnit', values: [hostile] }] }), 200],
    ['a stage', '/v1/conversion', conversion({ stages: ['lead', hostile] }), 400],
    ['a pair', '/v1/conversion', conversion({ pairs: [{ from: 'lead', to: hostile }] }), 400],
    ['the segment', '/v1/conversion', conversion({ segment: hostile }), 400],
    ['a filter key', '/v1/conversion', conversion({ filters: [{ key: hostile, values: ['x'] }] }), 400],
    ['the time zone', '/v1/conversion', conversion({ timeZone: hostile }), 400],
    ['the period', '/v1/conversion', conversion({ period: hostile }), 400],
    ['asOf', '/v1/conversion', conversion({ asOf: hostile }), 400],
    ['the close-rates config version', '/v1/close-rates', { dateRange: spring, configVersion: hostile }, 200],
    ['the close-rates property', '/v1/close-rates', { dateRange: spring, property: `properties.${hostile}` }, 200],
    ['a close-rates stage', '/v1/close-rates', { dateRange: spring, populationStage: hostile }, 400],
    ['a close-rates type', '/v1/close-rates', { dateRange: spring, types: [hostile] }, 400],
    ['a time-to-convert stage', '/v1/time-to-convert', { dateRange: spring, from: 'lead', to: hostile }, 400],
    ['a time-to-convert step filter', '/v1/time-to-convert', { dateRange: spring, from: { type: 'form_submit', where: [{ key: 'source', op: 'eq', value: hostile }] }, to: { type: 'demo_held' } }, 200],
    ['a time-to-convert breakdown', '/v1/time-to-convert', { dateRange: spring, from: { type: 'form_submit' }, to: { type: 'demo_held' }, breakdown: `properties.${hostile}` }, 200],
    ['the cohorts purchase type', '/v1/cohorts', { dateRange: spring, purchaseTypes: [hostile] }, 400],
    ['the cohorts config version', '/v1/cohorts', { dateRange: spring, segment: 'businessUnit', configVersion: hostile }, 200],
    ['the cohorts time zone', '/v1/cohorts', { dateRange: spring, timeZone: hostile }, 400],
  ])('treats a hostile string in %s as data or rejects it, never as SQL', async (_label, url, payload, status) => {
    const res = await app.inject({ method: 'POST', url, payload });
    expect(res.statusCode).toBe(status);
    // the tables are still there and still count everyone
    const again = await app.inject({ method: 'POST', url: '/v1/conversion', payload: conversion({ pairs: [{ from: 'lead', to: 'mql' }] }) });
    expect(byKey(again.json().rows)).toEqual({ 'lead>mql all': [3, 3] });
  });
});

describe('request timeouts', () => {
  it('given the engine held by a slow query, when every query route is asked with a 1-second timeout, then each answers 504 query-timeout in time', async () => {
    // chDB runs parameterized queries one at a time: three seconds of sleep hold back every query behind them
    const holding = client.rows('SELECT sum(sleepEachRow({seconds:Float64})) AS z FROM numbers(3) SETTINGS max_block_size = 1', { seconds: 1 });
    const funnel = { steps: [{ type: 'form_submit' }, { type: 'demo_held' }], window: { value: 30, unit: 'days' }, dateRange: spring };
    const asks: Array<[string, object]> = [
      ['/v1/funnels?timeoutSeconds=1', funnel],
      ['/v1/funnels/leads?stepIndex=0&timeoutSeconds=1', funnel],
      ['/v1/conversion', { dateRange: spring, timeoutSeconds: 1 }],
      ['/v1/close-rates', { dateRange: spring, timeoutSeconds: 1 }],
      ['/v1/conversion-drivers', { dateRange: spring, timeoutSeconds: 1 }],
      ['/v1/time-to-convert', { dateRange: spring, from: 'lead', to: 'customer', timeoutSeconds: 1 }],
      ['/v1/cohorts', { dateRange: spring, timeoutSeconds: 1 }],
      ['/v1/reports/cost', { dateRange: spring, timeoutSeconds: 1 }],
    ];
    // asked before the sleep is over, each answers at its own timeout: the sleep would have let them all through (200) after it
    const answers = await Promise.all(
      asks.map(async ([url, payload]) => {
        const res = await app.inject({ method: 'POST', url, payload });
        return `${url}: ${res.statusCode} ${res.json().type}`;
      }),
    );
    await holding;
    expect(answers).toEqual(asks.map(([url]) => `${url}: 504 https://sluice.dev/problems/query-timeout`));
  });
});
