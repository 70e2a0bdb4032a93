import type { StageTransition } from '@sluice/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsClient } from './client.js';
import { closeRateCountsSql, runActivityCloseRates } from './close-rates.js';
import { Params } from './funnel-sql.js';
import { runStageConversion, stageConversionSql } from './stage-conversion.js';
import type { StageConversionQueryInput } from './stage-queries.js';
import { ActivityCloseRatesQuerySchema, StageConversionQuerySchema, parseActivityCloseRatesQuery, parseStageConversionQuery } from './stage-queries.js';
import { applyTouchpointBatch } from './sink.js';
import type { LeadProfileRow } from './stage-tables.js';
import { applyLeadProfiles, applyStageTransitionChanges } from './stage-tables.js';
import { testBackends } from './test-backends.js';
import { recordedLog } from './test-log.js';

const DAY = 86_400_000;
const CLASSIC = ['visitor', 'lead', 'mql', 'sql', 'customer'];
const base: StageConversionQueryInput = {
  configVersion: 'v1',
  stages: CLASSIC,
  dateRange: { from: '2026-01-01T00:00:00Z', to: '2027-01-01T00:00:00Z' },
};

describe('stage conversion query validation', () => {
  const issues = (input: unknown) => {
    const parsed = parseStageConversionQuery(input);
    return parsed.ok ? [] : parsed.issues;
  };

  it('fills defaults for a minimal query', () => {
    expect(StageConversionQuerySchema.parse(base)).toMatchObject({ pairs: 'step_to_step', period: 'month', timeZone: 'UTC', filters: [], segmentLimit: 50, timeoutSeconds: 30 });
  });

  it('names every bad field', () => {
    expect(
      issues({
        ...base,
        configVersion: undefined,
        stages: ['visitor', 'lead', 'lead', 'mql'],
        pairs: [
          { from: 'mql', to: 'lead' },
          { from: 'lead', to: 'nope' },
        ],
        timeZone: 'Europe/Berln',
        window: { value: 4000, unit: 'days' },
        segment: 'favouriteColour',
        filters: [{ key: 'channel', values: [] }],
        timeoutSeconds: 0,
        extra: 1,
      }),
    ).toEqual([
      { field: 'configVersion', message: 'required' },
      { field: 'timeZone', message: 'must be an IANA time zone such as UTC or Europe/Berlin' },
      { field: 'window', message: 'must be at most 3650 days' },
      { field: 'segment', message: 'must be one of businessUnit, source, channel, campaign, role, industry, country, companySize, leadSource, owner, currentStage' },
      { field: 'filters.0.values', message: 'needs at least one value' },
      { field: 'timeoutSeconds', message: 'Too small: expected number to be >=1' },
      { field: '', message: 'unknown property: extra' },
      { field: 'stages.2', message: 'duplicate stage "lead"' },
      { field: 'pairs.0.to', message: 'must come after "mql" in stages' },
      { field: 'pairs.1.to', message: 'unknown stage "nope"; stages: visitor, lead, lead, mql' },
    ]);
  });

  it('bounds the date range, the periods in it and the rows a query may return', () => {
    expect(issues({ ...base, dateRange: { from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' } })).toEqual([{ field: 'dateRange.to', message: 'from must be before to' }]);
    expect(issues({ ...base, dateRange: { from: '1969-06-01T00:00:00Z', to: '2026-01-01T00:00:00Z' } })).toEqual([
      { field: 'dateRange.from', message: 'must be between 1970-01-02 and 2149-01-01' },
      { field: 'dateRange.to', message: 'must span at most 3660 days' },
    ]);
    expect(issues({ ...base, period: 'day', dateRange: { from: '2020-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' } })).toEqual([
      { field: 'period', message: 'the date range holds up to 2193 day periods, at most 1000: choose a longer period or a shorter range' },
    ]);
    expect(issues({ ...base, period: 'day', segment: 'campaign', segmentLimit: 500 })).toEqual([
      { field: 'segmentLimit', message: 'pairs x periods x segments could reach 732000 rows, at most 200000: lower segmentLimit, ask fewer pairs or a longer period' },
    ]);
  });

  it('puts the timeout in the query and every value in parameters', () => {
    const p = new Params();
    const q = StageConversionQuerySchema.parse({ ...base, configVersion: "v1'; DROP TABLE x; --", segment: 'companySize', filters: [{ key: 'channel', values: ["it's"] }], timeoutSeconds: 7 });
    const sql = stageConversionSql(q, p);
    expect(sql).toMatch(/SETTINGS max_execution_time = 7\s*$/);
    expect(sql).not.toContain('DROP');
    expect(sql).not.toContain("it's");
    expect(p.values).toMatchObject({ config_version: "v1'; DROP TABLE x; --", filter_0: ["it's"], time_zone: 'UTC' });
  });
});

describe('activity close rates query validation', () => {
  const input = { configVersion: 'v1', populationStage: 'lead', customerStage: 'customer', dateRange: base.dateRange };

  it('fills defaults and names bad fields', () => {
    expect(ActivityCloseRatesQuerySchema.parse(input)).toMatchObject({ confidence: 0.95, minLeads: 30, mqlLiftAtLeast: 3, activityLimit: 200, timeoutSeconds: 30 });
    const parsed = parseActivityCloseRatesQuery({ ...input, customerStage: 'lead', property: 'pageType', types: ['visit', 'teleport'], confidence: 0.8 });
    expect(parsed.ok ? [] : parsed.issues).toEqual([
      { field: 'property', message: 'must be properties.<path>, e.g. properties.pageType' },
      { field: 'types.1', message: expect.stringMatching(/^unknown event type "teleport"; known types: /) },
      { field: 'confidence', message: 'must be 0.9, 0.95 or 0.99' },
      { field: 'customerStage', message: 'must differ from populationStage' },
    ]);
  });

  it('binds the property path and puts the timeout in the query', () => {
    const p = new Params();
    const sql = closeRateCountsSql(ActivityCloseRatesQuerySchema.parse({ ...input, property: "properties.x.it's", timeoutSeconds: 9 }), p);
    expect(sql).toMatch(/SETTINGS max_execution_time = 9\s*$/);
    expect(p.values).toMatchObject({ property: "x.it's" });
  });
});

const transition = (configVersion: string, leadId: string, to: string, iso: string, skipped = false): StageTransition => ({
  leadId,
  anonymousId: undefined,
  from: null,
  to,
  at: Date.parse(iso),
  skipped,
  rule: `${to}.rule`,
  eventId: `${leadId}-${to}`,
  configVersion,
});
const profile = (configVersion: string, leadId: string, more: Partial<LeadProfileRow>): LeadProfileRow => ({
  leadId,
  configVersion,
  businessUnit: '',
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
  ...more,
});

for (const backend of testBackends()) {
  describe.skipIf(backend.skip)(`stage-level queries (${backend.name})`, () => {
    let client: AnalyticsClient;
    beforeAll(async () => {
      client = await backend.open();
    });
    afterAll(() => backend.close());

    it('given leads around the Berlin spring DST change, when weekly lead -> MQL -> SQL conversion is asked per channel, then cohorts follow Berlin weeks and skips pass through', async () => {
      const cv = 'example-dst';
      await applyStageTransitionChanges(client, {
        version: 1,
        upserts: [
          // Sunday 2026-03-29 23:30 CEST is still week 13 in Berlin (Monday starts at 22:00 UTC)
          transition(cv, 'A', 'lead', '2026-03-29T21:30:00Z'),
          transition(cv, 'A', 'mql', '2026-04-01T09:00:00Z'),
          transition(cv, 'A', 'sql', '2026-04-02T09:00:00Z'),
          // Monday 00:30 CEST: week 14
          transition(cv, 'B', 'lead', '2026-03-29T22:30:00Z'),
          transition(cv, 'B', 'mql', '2026-04-03T09:00:00Z', true),
          transition(cv, 'B', 'sql', '2026-04-03T09:00:00Z'),
          transition(cv, 'C', 'lead', '2026-03-30T08:00:00Z'),
        ],
        removals: [],
      });
      await applyLeadProfiles(client, [profile(cv, 'A', { channel: 'paid' }), profile(cv, 'B', { channel: 'paid' }), profile(cv, 'C', { channel: 'organic' })], 1);
      const result = await runStageConversion(client, { ...base, configVersion: cv, stages: ['lead', 'mql', 'sql'], period: 'week', timeZone: 'Europe/Berlin', segment: 'channel' });
      expect(result.rows.map((r) => [r.from, r.to, r.periodLabel, r.period, r.segment, r.entered, r.converted, r.skippedFrom, r.medianMs])).toEqual([
        ['lead', 'mql', '2026-W13', '2026-03-23', 'paid', 1, 1, 0, Date.parse('2026-04-01T09:00:00Z') - Date.parse('2026-03-29T21:30:00Z')],
        ['lead', 'mql', '2026-W14', '2026-03-30', 'organic', 1, 0, 0, null],
        ['lead', 'mql', '2026-W14', '2026-03-30', 'paid', 1, 1, 0, Date.parse('2026-04-03T09:00:00Z') - Date.parse('2026-03-29T22:30:00Z')],
        ['mql', 'sql', '2026-W14', '2026-03-30', 'paid', 2, 2, 1, DAY / 2],
      ]);
      expect(result).toMatchObject({ segments: 2, truncated: false });

      // the largest segment only; from the first stage; a 3-day window as of Wednesday
      const narrowed = await runStageConversion(client, {
        ...base,
        configVersion: cv,
        stages: ['lead', 'mql', 'sql'],
        pairs: 'from_first',
        period: 'all',
        segment: 'channel',
        segmentLimit: 1,
        window: { value: 3, unit: 'days' },
        asOf: '2026-04-01T12:00:00Z',
      });
      expect(narrowed.rows.map((r) => [r.to, r.segment, r.entered, r.converted, r.open])).toEqual([
        ['mql', 'paid', 2, 1, 1],
        ['sql', 'paid', 2, 0, 2],
      ]);
      expect(narrowed).toMatchObject({ segments: 2, truncated: true });
    });

    it('binds awkward values: a config version and filter values that look like SQL', async () => {
      const cv = "v'); DROP TABLE stage_transitions; --";
      await applyStageTransitionChanges(client, { version: 1, upserts: [transition(cv, 'A', 'lead', '2026-05-01T00:00:00Z'), transition(cv, 'A', 'mql', '2026-05-02T00:00:00Z')], removals: [] });
      await applyLeadProfiles(client, [profile(cv, 'A', { campaign: "it's {x:String}" })], 1);
      const result = await runStageConversion(client, { ...base, configVersion: cv, stages: ['lead', 'mql'], period: 'all', filters: [{ key: 'campaign', values: ["it's {x:String}"] }] });
      expect(result.rows.map((r) => [r.entered, r.converted])).toEqual([[1, 1]]);
    });

    it('ranks activities by close rate evidence and suggests an MQL rule for the one closing at 3x the average', async () => {
      const cv = 'example-close';
      const day = (d: number) => new Date(Date.UTC(2025, 2, 1) + d * DAY).toISOString();
      // 60 leads; 6 customers (10%). 10 viewed pricing, 3 of them became customers (30%: 3x)
      const upserts: StageTransition[] = [];
      const lines = [];
      for (let i = 0; i < 60; i++) {
        const lead = `close-L${i}`;
        upserts.push(transition(cv, lead, 'lead', day(0)));
        const customer = i < 3 || (i >= 10 && i < 13);
        if (customer) upserts.push(transition(cv, lead, 'customer', day(30)));
        lines.push({ type: 'email_open', at: day(1), lead });
        if (i < 10) lines.push({ type: 'page_view', at: day(2), lead, properties: { url: 'https://x.example/pricing', pageType: 'pricing' } });
        // after becoming a customer: does not count
        if (customer) lines.push({ type: 'page_view', at: day(31), lead, properties: { url: 'https://x.example/docs', pageType: 'docs' } });
      }
      await applyStageTransitionChanges(client, { version: 1, upserts, removals: [] });
      await applyTouchpointBatch(client, recordedLog(lines, 1_000_000, 'close-'));
      const result = await runActivityCloseRates(client, {
        configVersion: cv,
        populationStage: 'lead',
        customerStage: 'customer',
        dateRange: { from: day(0), to: day(1) },
        property: 'properties.pageType',
        minLeads: 10,
      });
      expect(result).toMatchObject({ leads: 60, customers: 6, averageCloseRate: 0.1, truncated: false });
      expect(result.activities.map((a) => [a.rank, a.type, a.value, a.leads, a.customers, a.lift, a.mqlCandidate, a.suggestedWeight])).toEqual([
        // 0.3 / 0.1 is 2.9999999999999996 in floating point; the candidate test compares counts, so it still qualifies
        [1, 'page_view', 'pricing', 10, 3, expect.closeTo(3, 12), true, 20],
        [2, 'email_open', '', 60, 6, 1, false, 0],
      ]);
      expect(result.suggestions.mqlRuleCandidates).toEqual([{ type: 'page_view', value: 'pricing', closeRate: 0.3, lift: expect.closeTo(3, 12), leads: 10 }]);
    });
  });
}
