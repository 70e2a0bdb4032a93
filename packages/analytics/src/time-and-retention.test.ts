import type { StageTransition } from '@sluice/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsClient } from './client.js';
import { Params } from './funnel-sql.js';
import { RetentionCohortsQuerySchema, parseRetentionCohortsQuery, retentionCohortsSql, runRetentionCohorts } from './retention-cohorts.js';
import { applyTouchpointBatch } from './sink.js';
import { applyLeadProfiles, applyStageTransitionChanges } from './stage-tables.js';
import { testBackends } from './test-backends.js';
import { recordedLog } from './test-log.js';
import { TimeToConvertQuerySchema, parseTimeToConvertQuery, runTimeToConvert, timeToConvertSql } from './time-to-convert.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const RANGE = { from: '2026-01-01T00:00:00Z', to: '2027-01-01T00:00:00Z' };
const issuesOf = (parsed: { ok: true } | { ok: false; issues: unknown[] }) => (parsed.ok ? [] : parsed.issues);

describe('time to convert query validation', () => {
  it('fills defaults: automatic buckets, no filters, 50 segments, 30 s', () => {
    expect(TimeToConvertQuerySchema.parse({ configVersion: 'v1', from: 'mql', to: 'sql', dateRange: RANGE })).toMatchObject({ buckets: 'auto', filters: [], segmentLimit: 50, timeoutSeconds: 30 });
  });

  it('names every bad field: the same stage twice, edges out of order or too long, unknown keys', () => {
    const parsed = parseTimeToConvertQuery({
      configVersion: 'v1',
      from: 'mql',
      to: 'mql',
      dateRange: RANGE,
      buckets: [{ value: 2, unit: 'days' }, { value: 48, unit: 'hours' }, { value: 4000, unit: 'days' }],
      segment: 'favouriteColour',
      extra: true,
    });
    expect(issuesOf(parsed)).toEqual([
      { field: 'buckets.2', message: 'must be at most 3650 days' },
      { field: 'segment', message: 'must be one of businessUnit, source, channel, campaign, role, industry, country, companySize, leadSource, owner, currentStage' },
      { field: '', message: 'unknown property: extra' },
      { field: 'to', message: 'must differ from from' },
      // 48 hours is the 2 days before it: not strictly ascending
      { field: 'buckets.1', message: 'edges must be strictly ascending' },
    ]);
  });

  it('takes both ends as stages or both as touchpoint steps, with the options of each', () => {
    expect(issuesOf(parseTimeToConvertQuery({ from: 'mql', to: { type: 'payment' }, dateRange: RANGE, breakdown: 'channel' }))).toEqual([
      { field: 'to', message: 'must be a stage id, as from is' },
      { field: 'configVersion', message: 'required between stages: the rule configuration version whose transitions to read' },
      { field: 'breakdown', message: 'only between touchpoint steps; between stages use segment' },
    ]);
    expect(issuesOf(parseTimeToConvertQuery({ from: { type: 'visit' }, to: { type: 'payment', where: [{ key: 'nope', op: 'eq', value: 1 }] }, dateRange: RANGE, segment: 'owner' }))).toEqual([
      // the union reports the step's own problem, not just that it is neither kind
      { field: 'to.where.0.key', message: 'must be one of source, channel, campaign, accountId or properties.<path> (e.g. properties.x.utm_term)' },
      { field: 'segment', message: 'only between stages; between touchpoint steps use breakdown' },
    ]);
  });

  it('bounds a trend: periods in the range, and periods x segments', () => {
    // 2026 in days: ceil(365 / 1) + 1 = 366 periods, under 1000; 3000 days of days are not
    const long = { from: '2020-01-01T00:00:00Z', to: '2028-03-19T00:00:00Z' };
    expect(issuesOf(parseTimeToConvertQuery({ configVersion: 'v1', from: 'mql', to: 'sql', dateRange: long, period: 'day' }))).toEqual([
      { field: 'period', message: 'the date range holds up to 3001 day periods, at most 1000: choose a longer period or a shorter range' },
    ]);
    // 366 days x 500 segments = 183,000 rows fit under 200,000; 2026 plus 100 days (466 x 500) does not
    expect(issuesOf(parseTimeToConvertQuery({ from: { type: 'visit' }, to: { type: 'payment' }, dateRange: RANGE, period: 'day', breakdown: 'channel', segmentLimit: 500 }))).toEqual([]);
    const longer = { from: RANGE.from, to: '2027-04-11T00:00:00Z' };
    expect(issuesOf(parseTimeToConvertQuery({ from: { type: 'visit' }, to: { type: 'payment' }, dateRange: longer, period: 'day', breakdown: 'channel', segmentLimit: 500 }))).toEqual([
      { field: 'segmentLimit', message: 'periods x segments could reach 233000 rows, at most 200000: lower segmentLimit or choose a longer period' },
    ]);
  });

  it('puts every value in parameters', () => {
    const p = new Params();
    const q = TimeToConvertQuerySchema.parse({ configVersion: "v1'; DROP TABLE x; --", from: 'mql', to: 'sql', dateRange: RANGE, segment: 'channel', filters: [{ key: 'owner', values: ["it's"] }] });
    const sql = timeToConvertSql(q, p);
    expect(sql).not.toContain('DROP');
    expect(sql).not.toContain("it's");
    expect(p.values).toMatchObject({ config_version: "v1'; DROP TABLE x; --", from_stage: 'mql', to_stage: 'sql', filter_0: ["it's"] });
  });
});

describe('retention cohorts query validation', () => {
  it('fills defaults: months, payment purchases, renewal and upsell, 12 offsets', () => {
    expect(RetentionCohortsQuerySchema.parse({ dateRange: RANGE })).toMatchObject({ period: 'month', timeZone: 'UTC', purchaseTypes: ['payment'], retentionTypes: ['renewal', 'upsell'], offsets: 12, segmentLimit: 50 });
  });

  it('needs a config version for a profile segment, not for the purchase envelope', () => {
    expect(issuesOf(parseRetentionCohortsQuery({ dateRange: RANGE, segment: 'businessUnit' }))).toEqual([
      { field: 'configVersion', message: 'required with the profile segment "businessUnit": the rule configuration whose lead profiles to read' },
    ]);
    expect(parseRetentionCohortsQuery({ dateRange: RANGE, segment: 'purchaseChannel' }).ok).toBe(true);
  });

  it('names bad event types and bounds offsets and the cells a query may return', () => {
    expect(issuesOf(parseRetentionCohortsQuery({ dateRange: RANGE, period: 'week', purchaseTypes: ['payed'], offsets: 121 }))).toEqual([
      { field: 'period', message: 'Invalid option: expected one of "month"|"quarter"' },
      { field: 'purchaseTypes.0', message: expect.stringMatching(/^unknown event type "payed"; known types: /) },
      { field: 'offsets', message: 'Too big: expected number to be <=120' },
    ]);
    // ten years (3652 days): at most ceil(3652 / 28) + 1 = 132 month cohorts, x 500 segments x 121 offsets = 7,986,000
    const big = { dateRange: { from: '2016-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }, segment: 'purchaseCampaign', segmentLimit: 500, offsets: 120 };
    expect(issuesOf(parseRetentionCohortsQuery(big))).toEqual([
      { field: 'segmentLimit', message: 'cohorts x segments x offsets could reach 7986000 cells, at most 2000000: lower segmentLimit or offsets, or ask a shorter range' },
    ]);
  });

  it('puts every value in parameters', () => {
    const p = new Params();
    const q = RetentionCohortsQuerySchema.parse({ dateRange: RANGE, timeZone: 'Europe/Berlin', segment: 'owner', configVersion: "v'; DROP TABLE x; --" });
    const sql = retentionCohortsSql(q, p);
    expect(sql).not.toContain('DROP');
    expect(sql).not.toContain('Europe/Berlin');
    expect(p.values).toMatchObject({ config_version: "v'; DROP TABLE x; --", time_zone: 'Europe/Berlin', purchase_types: ['payment'] });
  });
});

for (const backend of testBackends()) {
  describe.skipIf(backend.skip)(`time to convert and retention cohorts by example (${backend.name})`, () => {
    let client: AnalyticsClient;
    beforeAll(async () => {
      client = await backend.open();
      await backend.reset(client);
    });
    afterAll(() => backend.close());

    it('given three MQLs, when two become SQLs in 3 h and 10 d, then the statistics and the trimmed ladder say so, per channel', async () => {
      const t0 = Date.parse('2026-03-02T09:00:00Z');
      const move = (lead: string, to: string, at: number, from: string | null): StageTransition => ({ leadId: lead, anonymousId: undefined, from, to, at, skipped: false, rule: `${to}.r`, eventId: `${lead}-${to}`, configVersion: 'ex' });
      await applyStageTransitionChanges(client, {
        upserts: [move('A', 'mql', t0, null), move('A', 'sql', t0 + 3 * HOUR, 'mql'), move('B', 'mql', t0, null), move('B', 'sql', t0 + 10 * DAY, 'mql'), move('C', 'mql', t0, null)],
        removals: [],
        version: 1,
      });
      const profile = { businessUnit: '', source: '', campaign: '', role: '', industry: '', country: '', companySize: 0, leadSource: '', owner: '', currentStage: '', configVersion: 'ex' };
      await applyLeadProfiles(client, [{ ...profile, leadId: 'A', channel: 'ads' }, { ...profile, leadId: 'B', channel: 'ads' }, { ...profile, leadId: 'C', channel: 'email' }], 1);
      const result = await runTimeToConvert(client, { configVersion: 'ex', from: 'mql', to: 'sql', dateRange: RANGE, segment: 'channel' });
      // ads: 3 h and 240 h; mean 121.5 h; median (R-7, h = 1.5) 121.5 h; p90 (h = 1.9) 3 h + 0.9 x 237 h
      // 3 h is in [1h, 6h), 10 d in [7d, 14d): the ladder keeps 1h-6h .. 7d-14d
      expect(result).toMatchObject({
        buckets: [
          { fromMs: HOUR, toMs: 6 * HOUR, label: '1h-6h' },
          { fromMs: 6 * HOUR, toMs: DAY, label: '6h-1d' },
          { fromMs: DAY, toMs: 2 * DAY, label: '1d-2d' },
          { fromMs: 2 * DAY, toMs: 7 * DAY, label: '2d-7d' },
          { fromMs: 7 * DAY, toMs: 14 * DAY, label: '7d-14d' },
        ],
        rows: [
          { segment: 'ads', entered: 2, converted: 2, meanMs: 121.5 * HOUR, medianMs: 121.5 * HOUR, p90Ms: 3 * HOUR + (1.9 - 1) * 237 * HOUR, histogram: [1, 0, 0, 0, 1] },
          { segment: 'email', entered: 1, converted: 0, meanMs: null, medianMs: null, p90Ms: null, histogram: [0, 0, 0, 0, 0] },
        ],
        segments: 2,
        truncated: false,
      });
      expect(result.query).toMatchObject({ from: 'mql', to: 'sql', buckets: 'auto', segmentLimit: 50 });
      expect(JSON.parse(JSON.stringify(result))).toEqual(result);
    });

    it('given Berlin customers, when they renew across month ends, then offsets follow local dates', async () => {
      const log = recordedLog([
        // 2026-01-31 23:30 UTC is 2026-02-01 00:30 in Berlin: a February customer
        { type: 'payment', at: '2026-01-31T23:30:00Z', lead: 'P', channel: 'ads' },
        { type: 'renewal', at: '2026-03-31T21:59:59.999Z', lead: 'P' }, // 23:59:59.999 CEST on March 31: offset 1
        { type: 'upsell', at: '2026-03-31T22:00:00Z', lead: 'P' }, // 00:00 CEST on April 1: offset 2
        { type: 'payment', at: '2026-02-10T12:00:00Z', lead: 'Q', channel: 'email' },
        { type: 'renewal', at: '2026-02-10T12:00:00Z', lead: 'Q' }, // with the purchase: offset 0
      ]);
      await applyTouchpointBatch(client, log);
      const result = await runRetentionCohorts(client, { timeZone: 'Europe/Berlin', dateRange: RANGE, offsets: 3 });
      // February: P and Q; offset 0: Q, 1: P, 2: P -> [1, 1, 1, 0] of 2
      expect(result.cohorts).toEqual([{ period: '2026-02-01', periodLabel: '2026-02', segment: '', customers: 2, retained: [1, 1, 1, 0], rates: [0.5, 0.5, 0.5, 0] }]);
      // as of mid-March in Berlin, April and May (offsets 2 and 3) have not begun: null, not 0, though P renewed on April 1
      const asOfMarch = await runRetentionCohorts(client, { timeZone: 'Europe/Berlin', dateRange: RANGE, offsets: 3, asOf: '2026-03-15T00:00:00+01:00' });
      expect(asOfMarch.cohorts).toEqual([expect.objectContaining({ customers: 2, retained: [1, 1, null, null], rates: [0.5, 0.5, null, null] })]);
      const byChannel = await runRetentionCohorts(client, { timeZone: 'Europe/Berlin', dateRange: RANGE, offsets: 1, segment: 'purchaseChannel', segmentLimit: 1 });
      // one customer each: the tie goes to the smaller value, ads
      expect(byChannel).toMatchObject({ cohorts: [{ segment: 'ads', customers: 1, retained: [0, 1] }], segments: 2, truncated: true });
    });
  });
}
