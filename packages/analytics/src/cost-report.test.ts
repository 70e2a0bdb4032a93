import type { CostInput, CostSpec, LeadProfileFacts, StageFact, StageTransition } from '@sluice/domain';
import { costTallies, instantMs, priceCost, touchpointsFromLog } from '@sluice/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsClient } from './client.js';
import { CostReportQuerySchema, costReportSql, costReportTallies, costSpecOf, parseCostReportQuery, runCostReport } from './cost-report.js';
import type { CostReportQueryInput } from './cost-report.js';
import { Params } from './funnel-sql.js';
import { applyTouchpointBatch } from './sink.js';
import { applyLeadProfiles, applyStageTransitionChanges } from './stage-tables.js';
import { testBackends } from './test-backends.js';
import type { LogLine } from './test-log.js';
import { recordedLog } from './test-log.js';

const RANGE = { from: '2026-01-01T00:00:00Z', to: '2026-04-01T00:00:00Z' };
const STAGES = { lead: 'lead', mql: 'mql', sql: 'sql', customer: 'customer' };
const UNITS = { default: 'smb', units: [{ id: 'smb', name: 'SMB' }, { id: 'enterprise', name: 'Enterprise', aliases: ['Large accounts'] }] };
const RATES = { report: 'EUR', rates: { USD: 0.9 } };
const base = { configVersion: 'v1', stages: STAGES, dateRange: RANGE, businessUnits: UNITS } satisfies CostReportQueryInput;
const issuesOf = (parsed: { ok: true } | { ok: false; issues: unknown[] }) => (parsed.ok ? [] : parsed.issues);

const spend = (source: string, amount: number, currency: string, periodStart: string, periodEnd: string, businessUnit?: string): LogLine => ({
  type: 'spend',
  at: periodEnd,
  source,
  channel: source === 'newsletter' ? 'email' : 'paid',
  properties: { amount, currency, periodStart, periodEnd, ...(businessUnit === undefined ? {} : { businessUnit }) },
});

/**
 * L1: a google ad click as a visitor, identified by a linkedin form (lead),
 * a newsletter click (MQL), sales accepted (SQL), customer on Mar 1 and a
 * 1000 EUR payment. L2: a google visit makes a lead in January, nothing more.
 * L3: bing, lead and MQL in February, customer in March paying 500 USD.
 * Spend: google in January (3100 EUR) and over Feb 15 - Mar 15 (2800 EUR,
 * 28 days: half in each month), bing in March (900 USD), the newsletter in
 * March for the large-accounts unit (600 EUR): no lead came from it.
 */
const LOG: LogLine[] = [
  { type: 'ad_click', at: '2026-01-03T10:00:00Z', anon: 'a1', source: 'google', channel: 'paid' },
  { type: 'form_submit', at: '2026-01-10T10:00:00Z', anon: 'a1', lead: 'L1', source: 'linkedin', channel: 'social', properties: { formId: 'f' } },
  { type: 'visit', at: '2026-01-15T10:00:00Z', lead: 'L2', source: 'google', channel: 'paid' },
  { type: 'visit', at: '2026-02-02T10:00:00Z', lead: 'L3', source: 'bing', channel: 'paid' },
  { type: 'email_click', at: '2026-02-05T10:00:00Z', lead: 'L1', source: 'newsletter', channel: 'email' },
  { type: 'call', at: '2026-02-06T10:00:00Z', lead: 'L1', properties: { direction: 'outbound', outcome: 'connected', durationSeconds: 60 } },
  { type: 'payment', at: '2026-03-02T10:00:00Z', lead: 'L1', properties: { amount: 1000, currency: 'EUR' } },
  { type: 'payment', at: '2026-03-20T10:00:00Z', lead: 'L3', properties: { amount: 500, currency: 'USD' } },
  spend('google', 3100, 'EUR', '2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z'),
  spend('google', 2800, 'EUR', '2026-02-15T00:00:00Z', '2026-03-15T00:00:00Z'),
  spend('bing', 900, 'USD', '2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z'),
  spend('newsletter', 600, 'EUR', '2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z', 'Large accounts'),
];
const ENTRIES: Array<[string, string, string]> = [
  ['L1', 'lead', '2026-01-10T10:00:00Z'],
  ['L1', 'mql', '2026-02-05T10:00:00Z'],
  ['L1', 'sql', '2026-02-20T10:00:00Z'],
  ['L1', 'customer', '2026-03-01T10:00:00Z'],
  ['L2', 'lead', '2026-01-15T10:00:00Z'],
  ['L3', 'lead', '2026-02-02T10:00:00Z'],
  ['L3', 'mql', '2026-02-02T10:00:00Z'],
  ['L3', 'sql', '2026-03-10T10:00:00Z'],
  ['L3', 'customer', '2026-03-20T10:00:00Z'],
];
const emptyProfile: LeadProfileFacts = { businessUnit: 'smb', source: '', channel: '', campaign: '', role: '', industry: '', country: '', companySize: 0, leadSource: '', owner: '', currentStage: '' };
const PROFILES = new Map<string, LeadProfileFacts>([
  ['L1', { ...emptyProfile, source: 'google', channel: 'paid' }],
  ['L2', { ...emptyProfile, source: 'google', channel: 'paid', businessUnit: 'enterprise' }],
  ['L3', { ...emptyProfile, source: 'bing', channel: 'paid' }],
]);

/** The reference's inputs for the same log and stage tables. */
function referenceInput(lines: readonly LogLine[]): CostInput {
  const log = recordedLog(lines);
  const unitOf = (name: unknown) => UNITS.units.find((u) => [u.id, ...(u.aliases ?? [])].some((n) => n.toLowerCase() === String(name ?? '').toLowerCase()))?.id ?? UNITS.default;
  return {
    spend: lines
      .filter((l) => l.type === 'spend')
      .map((l) => {
        const p = l.properties as { amount: number; currency: string; periodStart: string; periodEnd: string; businessUnit?: string };
        return { source: l.source!, channel: l.channel ?? '', campaign: l.campaign ?? '', businessUnit: unitOf(p.businessUnit), amount: p.amount, currency: p.currency, startMs: instantMs(p.periodStart), endMs: instantMs(p.periodEnd) };
      }),
    stageFacts: ENTRIES.map(([leadId, stage, at]): StageFact => ({ leadId, stage, enteredAtMs: instantMs(at), skipped: false })),
    touchpoints: touchpointsFromLog(log.filter((e) => e.type !== 'spend')),
    profiles: PROFILES,
  };
}

describe('cost report query validation', () => {
  it('fills defaults: months, first touch by source, payments as revenue', () => {
    expect(CostReportQuerySchema.parse(base)).toMatchObject({ period: 'month', groupBy: 'source', attribution: 'first_touch', revenueTypes: ['payment'], timeZone: 'UTC' });
  });

  it('names every bad field: a stage used twice, an unknown model, a currency code', () => {
    expect(issuesOf(parseCostReportQuery({ ...base, stages: { ...STAGES, sql: 'mql' }, attribution: 'linear', currencies: { report: 'euro' } }))).toEqual([
      { field: 'attribution', message: 'Invalid option: expected one of "first_touch"|"last_touch"' },
      { field: 'currencies.report', message: 'must be an ISO 4217 code such as EUR or USD' },
      { field: 'stages.sql', message: '"mql" is already the mql stage' },
    ]);
  });

  it('puts every value in parameters', () => {
    const p = new Params();
    const q = CostReportQuerySchema.parse({ ...base, configVersion: "v'; DROP TABLE x; --", groupBy: 'businessUnit', businessUnits: { default: 'smb', units: [{ id: 'smb', name: 'S', aliases: ["it's"] }] } });
    const sql = costReportSql(q, [{ period: '2026-01-01', label: '2026-01', startMs: 0, endMs: 1 }], p);
    expect(sql).not.toContain('DROP');
    expect(sql).not.toContain("it's");
    expect(p.values).toMatchObject({ config_version: "v'; DROP TABLE x; --", unit_names: ['smb', "it's"], unit_ids: ['smb', 'smb'] });
  });
});

for (const backend of testBackends()) {
  describe.skipIf(backend.skip)(`cost report by example (${backend.name})`, () => {
    let client: AnalyticsClient;
    beforeAll(async () => {
      client = await backend.open();
      await backend.reset(client);
      await applyTouchpointBatch(client, recordedLog(LOG));
      const upserts = ENTRIES.map(([lead, to, at]): StageTransition => ({ leadId: lead, anonymousId: undefined, from: null, to, at: instantMs(at), skipped: false, rule: `${to}.r`, eventId: `${lead}-${to}`, configVersion: 'v1' }));
      await applyStageTransitionChanges(client, { upserts, removals: [], version: 1 });
      await applyLeadProfiles(client, [...PROFILES].map(([leadId, p]) => ({ ...p, leadId, configVersion: 'v1' })), 1);
    });
    afterAll(() => backend.close());

    const slim = (rows: ReadonlyArray<{ label: string; segment: string; spend: number; leads: number; mqls: number; sqls: number; customers: number; revenue: number }>) =>
      rows.map((r) => [r.label, r.segment, Math.round(r.spend * 100) / 100, r.leads, r.mqls, r.sqls, r.customers, Math.round(r.revenue * 100) / 100]);

    it('given first touch, then leads, MQLs, customers and revenue go to the source that first brought each lead', async () => {
      const report = await runCostReport(client, { ...base, currencies: RATES });
      expect(report.query.attribution).toBe('first_touch');
      expect(report.currency).toEqual({ report: 'EUR', ratesUsed: { USD: 0.9 } });
      expect(report.excluded).toEqual([]);
      // [period, segment, spend, leads, mqls, sqls, customers, revenue]; bing's 900 USD and 500 USD at 0.9
      expect(slim(report.rows)).toEqual([
        ['2026-01', 'google', 3100, 2, 0, 0, 0, 0],
        ['2026-02', 'bing', 0, 1, 1, 0, 0, 0],
        ['2026-02', 'google', 1400, 0, 1, 1, 0, 0],
        ['2026-03', 'bing', 810, 0, 0, 1, 1, 450],
        ['2026-03', 'google', 1400, 0, 0, 0, 1, 1000],
        ['2026-03', 'newsletter', 600, 0, 0, 0, 0, 0],
      ]);
      const jan = report.rows[0]!;
      expect(jan.costPerLead).toBe(1550);
      expect([jan.costPerAcquisition, jan.roi, jan.paybackPeriods]).toEqual([null, -1, null]);
      expect(jan.reasons).toEqual({ costPerMql: 'no MQLs', costPerSql: 'no SQLs', costPerAcquisition: 'no customers', paybackPeriods: 'no revenue' });
      const marchGoogle = report.rows[4]!;
      expect([marchGoogle.costPerAcquisition, marchGoogle.roi, marchGoogle.paybackPeriods]).toEqual([1400, (1000 - 1400) / 1400, 1.4]);
      expect(slim([report.total])).toEqual([['all', '', 3100 + 2800 + 810 + 600, 3, 2, 2, 2, 1450]]);
    });

    it('given last touch, then each count goes to the last sourced touch at or before it: the linkedin form and the newsletter click take over', async () => {
      const report = await runCostReport(client, { ...base, currencies: RATES, attribution: 'last_touch' });
      expect(report.query.attribution).toBe('last_touch');
      expect(slim(report.rows)).toEqual([
        ['2026-01', 'google', 3100, 1, 0, 0, 0, 0],
        ['2026-01', 'linkedin', 0, 1, 0, 0, 0, 0],
        ['2026-02', 'bing', 0, 1, 1, 0, 0, 0],
        ['2026-02', 'google', 1400, 0, 0, 0, 0, 0],
        ['2026-02', 'newsletter', 0, 0, 1, 1, 0, 0],
        ['2026-03', 'bing', 810, 0, 0, 1, 1, 450],
        ['2026-03', 'google', 1400, 0, 0, 0, 0, 0],
        ['2026-03', 'newsletter', 600, 0, 0, 0, 1, 1000],
      ]);
    });

    it('given a period with spend and no leads, then the cost per lead is null with its reason, never Infinity or NaN', async () => {
      const report = await runCostReport(client, { ...base, currencies: RATES, period: 'all', groupBy: 'channel' });
      const email = report.rows.find((r) => r.segment === 'email')!;
      expect([email.spend, email.leads, email.costPerLead, email.reasons.costPerLead]).toEqual([600, 0, null, 'no leads']);
      expect(JSON.stringify(report)).not.toMatch(/Infinity|NaN/);
    });

    it('given the business unit, then spend goes to the unit it names (aliases resolved, none: the default) and leads to their own', async () => {
      const report = await runCostReport(client, { ...base, currencies: RATES, period: 'all', groupBy: 'businessUnit' });
      expect(slim(report.rows)).toEqual([
        ['all', 'enterprise', 600, 1, 0, 0, 0, 0],
        ['all', 'smb', 3100 + 2800 + 810, 2, 2, 2, 2, 1450],
      ]);
    });

    it('given amounts in a currency without a rate, then it answers for the rest and lists what it left out and why, never summing currencies as one', async () => {
      // EUR: the google and newsletter spend (3 rows; the one over Feb 15 - Mar 15 counts once) and L1's payment
      const toGbp = await runCostReport(client, { ...base, currencies: { report: 'GBP', rates: { USD: 0.8 } }, period: 'all' });
      expect(toGbp.currency).toEqual({ report: 'GBP', ratesUsed: { USD: 0.8 } });
      expect(toGbp.excluded).toEqual([
        { measure: 'spend', currency: 'EUR', events: 3, amount: 3100 + 2800 + 600, reason: 'no rate from EUR to GBP in currencies.rates' },
        { measure: 'revenue', currency: 'EUR', events: 1, amount: 1000, reason: 'no rate from EUR to GBP in currencies.rates' },
      ]);
      expect(slim([toGbp.total])).toEqual([['all', '', 900 * 0.8, 3, 2, 2, 2, 500 * 0.8]]);

      // no rate table: the currency most amounts are in (EUR: 4, USD: 2) is the report's; USD is left out
      const noTable = await runCostReport(client, { ...base, period: 'all' });
      expect(noTable.currency).toEqual({ report: 'EUR', ratesUsed: {} });
      const noRate = 'no rate table to convert USD to EUR: set currencies.report and currencies.rates in the configuration';
      expect(noTable.excluded).toEqual([
        { measure: 'spend', currency: 'USD', events: 1, amount: 900, reason: noRate },
        { measure: 'revenue', currency: 'USD', events: 1, amount: 500, reason: noRate },
      ]);
      expect(slim([noTable.total])).toEqual([['all', '', 6500, 3, 2, 2, 2, 1000]]);
    });

    it.each([
      ['first_touch', 'source', 'month', 'UTC'],
      ['last_touch', 'source', 'week', 'Europe/Berlin'],
      ['last_touch', 'channel', 'day', 'America/New_York'],
      ['first_touch', 'businessUnit', 'quarter', 'UTC'],
    ] as const)('agrees with the reference (%s by %s per %s in %s)', async (attribution, groupBy, period, timeZone) => {
      const q = CostReportQuerySchema.parse({ ...base, currencies: RATES, attribution, groupBy, period, timeZone });
      const spec: CostSpec = costSpecOf(q);
      const expected = costTallies(referenceInput(LOG), spec);
      const actual = await costReportTallies(client, q);
      expect(actual.map((t) => [t.period, t.segment, t.leads, t.mqls, t.sqls, t.customers])).toEqual(expected.map((t) => [t.period, t.segment, t.leads, t.mqls, t.sqls, t.customers]));
      actual.forEach((t, i) => {
        for (const kind of ['spend', 'revenue'] as const) {
          expect(Object.keys(t[kind]).sort()).toEqual(Object.keys(expected[i]![kind]).sort());
          for (const [c, amount] of Object.entries(t[kind])) expect(amount).toBeCloseTo(expected[i]![kind][c]!, 6);
          expect(t.events[kind]).toEqual(expected[i]!.events[kind]);
        }
      });
      expect(priceCost(actual, q.currencies).excluded).toEqual([]);
    });
  });
}

for (const backend of testBackends()) {
  describe.skipIf(backend.skip)(`cost report on amounts stored before they were bounded (${backend.name})`, () => {
    let client: AnalyticsClient;
    // two payments of 1.7e308 EUR (accepted before amounts were bounded at 1e15) sum to more than a double holds
    const huge: LogLine[] = [
      { type: 'payment', at: '2026-03-03T10:00:00Z', lead: 'L1', properties: { amount: 1.7e308, currency: 'EUR' } },
      { type: 'payment', at: '2026-03-04T10:00:00Z', lead: 'L1', properties: { amount: 1.7e308, currency: 'EUR' } },
    ];
    beforeAll(async () => {
      client = await backend.open();
      await backend.reset(client);
      await applyTouchpointBatch(client, recordedLog([...LOG, ...huge]));
    });
    afterAll(() => backend.close());

    it('given revenue that overflows, then the report leaves that currency out with the reason instead of answering null', async () => {
      const report = await runCostReport(client, { ...base, currencies: RATES, period: 'all' });
      expect(report.excluded).toEqual([{ measure: 'revenue', currency: 'EUR', events: 3, amount: null, reason: 'the amounts add up to more than a number holds' }]);
      expect(report.total.revenue).toBeCloseTo(500 * 0.9, 6);
      expect(report.rows.every((r) => typeof r.revenue === 'number' && Number.isFinite(r.revenue))).toBe(true);
      expect(JSON.stringify(report)).not.toMatch(/"revenue":null|Infinity|NaN/);
    });

    it('agrees with the reference on the same log', () => {
      const input = referenceInput([...LOG, ...huge]);
      const priced = priceCost(costTallies(input, costSpecOf(CostReportQuerySchema.parse({ ...base, currencies: RATES, period: 'all' }))), RATES);
      expect(priced.excluded).toEqual([{ measure: 'revenue', currency: 'EUR', events: 3, amount: null, reason: 'the amounts add up to more than a number holds' }]);
    });
  });
}
