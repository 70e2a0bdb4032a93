import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import type { StageConversionSpec, StageFact } from './stage-conversion.js';
import type { LeadLifecycleFacts } from './segments.js';
import { cohortPeriodOf, keepLargestSegments, quantileInclusive, stageConversion, stagePairs } from './stage-conversion.js';
import { companySizeBand, segmentValue } from './segments.js';

const DAY = 86_400_000;
const at = (iso: string) => Date.parse(iso);
const fact = (leadId: string, stage: string, enteredAtMs: number, skipped = false): StageFact => ({ leadId, stage, enteredAtMs, skipped });
const spec = (more: Partial<StageConversionSpec> = {}): StageConversionSpec => ({
  pairs: [{ from: 'lead', to: 'mql' }],
  period: 'all',
  timeZone: 'UTC',
  fromMs: at('2026-01-01T00:00:00Z'),
  toMs: at('2027-01-01T00:00:00Z'),
  ...more,
});

describe('cohort periods in the business time zone', () => {
  const period = (iso: string, p: Parameters<typeof cohortPeriodOf>[1], zone: string) => cohortPeriodOf(at(iso), p, zone);

  it('cuts days at local midnight, across the Berlin spring DST change (23-hour day)', () => {
    expect(period('2026-03-28T22:59:59.999Z', 'day', 'Europe/Berlin')).toEqual({ period: '2026-03-28', label: '2026-03-28' });
    expect(period('2026-03-28T23:00:00.000Z', 'day', 'Europe/Berlin')).toEqual({ period: '2026-03-29', label: '2026-03-29' });
    // 2026-03-29 has 23 hours in Berlin: the next local midnight is 22:00 UTC, not 23:00
    expect(period('2026-03-29T21:59:59.999Z', 'day', 'Europe/Berlin').period).toBe('2026-03-29');
    expect(period('2026-03-29T22:00:00.000Z', 'day', 'Europe/Berlin').period).toBe('2026-03-30');
  });

  it('starts ISO weeks on Monday at local midnight, across the New York DST change', () => {
    // Sunday 2026-03-08 is the change (02:00 EST -> 03:00 EDT); Monday 00:00 EDT is 04:00 UTC
    expect(period('2026-03-09T03:59:59.999Z', 'week', 'America/New_York')).toEqual({ period: '2026-03-02', label: '2026-W10' });
    expect(period('2026-03-09T04:00:00.000Z', 'week', 'America/New_York')).toEqual({ period: '2026-03-09', label: '2026-W11' });
    // the Monday before the change begins at 05:00 UTC (EST)
    expect(period('2026-03-02T04:59:59.999Z', 'week', 'America/New_York')).toEqual({ period: '2026-02-23', label: '2026-W09' });
    expect(period('2026-03-02T05:00:00.000Z', 'week', 'America/New_York')).toEqual({ period: '2026-03-02', label: '2026-W10' });
  });

  it('across the Berlin autumn DST change (25-hour day), the week still ends at local midnight', () => {
    expect(period('2026-10-25T22:59:59.999Z', 'week', 'Europe/Berlin')).toEqual({ period: '2026-10-19', label: '2026-W43' });
    expect(period('2026-10-25T23:00:00.000Z', 'week', 'Europe/Berlin')).toEqual({ period: '2026-10-26', label: '2026-W44' });
  });

  it('puts a year boundary where the zone has it, and ISO weeks where ISO has them', () => {
    const newYearInBerlin = '2025-12-31T23:30:00Z';
    expect(period(newYearInBerlin, 'day', 'Europe/Berlin').period).toBe('2026-01-01');
    expect(period(newYearInBerlin, 'month', 'Europe/Berlin')).toEqual({ period: '2026-01-01', label: '2026-01' });
    expect(period(newYearInBerlin, 'quarter', 'Europe/Berlin')).toEqual({ period: '2026-01-01', label: '2026-Q1' });
    expect(period(newYearInBerlin, 'year', 'Europe/Berlin')).toEqual({ period: '2026-01-01', label: '2026' });
    expect(period(newYearInBerlin, 'month', 'UTC')).toEqual({ period: '2025-12-01', label: '2025-12' });
    expect(period(newYearInBerlin, 'quarter', 'UTC')).toEqual({ period: '2025-10-01', label: '2025-Q4' });
    expect(period('2026-01-01T03:00:00Z', 'year', 'America/New_York')).toEqual({ period: '2025-01-01', label: '2025' });
    // Thursday 2026-01-01 is in ISO week 1 of 2026, which starts Monday 2025-12-29
    expect(period(newYearInBerlin, 'week', 'Europe/Berlin')).toEqual({ period: '2025-12-29', label: '2026-W01' });
    expect(period(newYearInBerlin, 'week', 'UTC')).toEqual({ period: '2025-12-29', label: '2026-W01' });
    // Friday 2027-01-01 is in week 53 of 2026
    expect(period('2027-01-01T12:00:00Z', 'week', 'UTC')).toEqual({ period: '2026-12-28', label: '2026-W53' });
    expect(period('2026-07-01T12:00:00Z', 'all', 'UTC')).toEqual({ period: '', label: 'all' });
  });

  it('every instant lies in [period start, next period start) in the zone', () => {
    const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata'];
    fc.assert(
      fc.property(fc.integer({ min: at('2000-01-01T00:00:00Z'), max: at('2040-01-01T00:00:00Z') }), fc.constantFrom(...zones), fc.constantFrom('day', 'week', 'month', 'quarter', 'year' as const), (ms, zone, p) => {
        const { period: start } = cohortPeriodOf(ms, p, zone);
        const begin = DateTime.fromISO(start, { zone });
        const unit = p === 'week' ? { weeks: 1 } : p === 'day' ? { days: 1 } : p === 'month' ? { months: 1 } : p === 'quarter' ? { quarters: 1 } : { years: 1 };
        expect(begin.toMillis()).toBeLessThanOrEqual(ms);
        expect(begin.plus(unit).toMillis()).toBeGreaterThan(ms);
        if (p === 'week') expect(begin.weekday).toBe(1);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('stage conversion reference, by example', () => {
  it('counts a skipped stage as passed through, with zero time in it', () => {
    // L1: lead -> mql -> sql; L2 jumped lead -> sql (mql skipped at the sql time); L3 stays a lead
    const facts = [
      fact('L1', 'lead', at('2026-03-02T09:00:00Z')),
      fact('L1', 'mql', at('2026-03-04T09:00:00Z')),
      fact('L1', 'sql', at('2026-03-05T09:00:00Z')),
      fact('L2', 'lead', at('2026-03-03T09:00:00Z')),
      fact('L2', 'mql', at('2026-03-03T12:00:00Z'), true),
      fact('L2', 'sql', at('2026-03-03T12:00:00Z')),
      fact('L3', 'lead', at('2026-03-03T10:00:00Z')),
    ];
    const rows = stageConversion(facts, spec({ pairs: stagePairs(['lead', 'mql', 'sql'], 'step_to_step') }));
    expect(rows.map((r) => [r.from, r.to, r.entered, r.converted, r.skippedFrom, r.medianMs])).toEqual([
      ['lead', 'mql', 3, 2, 0, (2 * DAY + 3 * 3_600_000) / 2],
      ['mql', 'sql', 2, 2, 1, DAY / 2],
    ]);
    const fromFirst = stageConversion(facts, spec({ pairs: stagePairs(['lead', 'mql', 'sql'], 'from_first') }));
    expect(fromFirst.map((r) => [r.from, r.to, r.entered, r.converted])).toEqual([
      ['lead', 'mql', 3, 2],
      ['lead', 'sql', 3, 2],
    ]);
  });

  it('takes a conversion exactly at the end of the window and not a millisecond later', () => {
    const t0 = at('2026-03-02T09:00:00Z');
    const facts = [fact('A', 'lead', t0), fact('A', 'mql', t0 + 7 * DAY), fact('B', 'lead', t0), fact('B', 'mql', t0 + 7 * DAY + 1)];
    const [row] = stageConversion(facts, spec({ windowMs: 7 * DAY }));
    expect(row).toMatchObject({ entered: 2, converted: 1, rate: 0.5, medianMs: 7 * DAY, p90Ms: 7 * DAY });
    expect(stageConversion(facts, spec())[0]).toMatchObject({ converted: 2 });
  });

  it('cohorts by the period the lead entered `from`, in the business zone', () => {
    // 23:30 UTC on Sunday 2026-03-01 is Monday 00:30 in Berlin
    const facts = [fact('A', 'lead', at('2026-03-01T23:30:00Z')), fact('A', 'mql', at('2026-03-20T09:00:00Z')), fact('B', 'lead', at('2026-03-01T22:30:00Z'))];
    const berlin = stageConversion(facts, spec({ period: 'week', timeZone: 'Europe/Berlin' }));
    expect(berlin.map((r) => [r.periodLabel, r.entered, r.converted])).toEqual([
      ['2026-W09', 1, 0],
      ['2026-W10', 1, 1],
    ]);
    const utc = stageConversion(facts, spec({ period: 'week', timeZone: 'UTC' }));
    expect(utc.map((r) => [r.periodLabel, r.entered, r.converted])).toEqual([['2026-W09', 2, 1]]);
  });

  it('as of an instant, ignores later facts and counts the leads whose window is still open', () => {
    const t0 = at('2026-03-02T09:00:00Z');
    const facts = [
      fact('A', 'lead', t0),
      fact('A', 'mql', t0 + 2 * DAY),
      fact('B', 'lead', t0 + 5 * DAY),
      fact('B', 'mql', t0 + 9 * DAY), // after asOf: not yet
      fact('C', 'lead', t0 - 20 * DAY),
    ];
    const asOfMs = t0 + 6 * DAY;
    const rows = stageConversion(facts, spec({ windowMs: 7 * DAY, asOfMs }));
    expect(rows).toEqual([expect.objectContaining({ entered: 3, converted: 1, open: 1 })]);
    expect(stageConversion(facts, spec({ windowMs: 7 * DAY }))[0]!.open).toBeNull();
  });

  it('keeps the largest segments, ties by value', () => {
    const rows = [
      { segment: 'b', entered: 2 },
      { segment: 'a', entered: 1 },
      { segment: 'a', entered: 1 },
      { segment: 'c', entered: 1 },
    ];
    expect(keepLargestSegments(rows, 2, (r) => r.entered)).toEqual([
      { segment: 'b', entered: 2 },
      { segment: 'a', entered: 1 },
      { segment: 'a', entered: 1 },
    ]);
  });

  it('interpolates quantiles like ClickHouse quantileExactInclusive', () => {
    expect(quantileInclusive([], 0.5)).toBeNull();
    expect(quantileInclusive([5], 0.9)).toBe(5);
    expect(quantileInclusive([4, 1, 3, 2], 0.5)).toBe(2.5);
    // the same floating-point steps as ClickHouse: 4 + 0.6 * 6 lands on 7.599999999999998
    expect(quantileInclusive([1, 2, 3, 4, 10], 0.9)).toBe(7.599999999999998);
  });

  it('segments by profile, company sizes in bands', () => {
    expect([0, 1, 10, 11, 5000, 5001].map(companySizeBand)).toEqual(['', '1-10', '1-10', '11-50', '1001-5000', '5001+']);
    expect(segmentValue(undefined, 'channel')).toBe('');
  });

  it('refuses two facts for one lead and stage', () => {
    expect(() => stageConversion([fact('A', 'lead', 1), fact('A', 'lead', 2)], spec())).toThrow(/one per lead and stage/);
  });

  it('given leads of one account, when counted by account, then the account enters at its first lead and converts at its first lead to convert', () => {
    const t0 = at('2026-03-02T09:00:00Z');
    const lifecycle = new Map<string, LeadLifecycleFacts>([
      ['A1', { accountId: 'acme', sideState: '', sideSinceMs: 0 }],
      ['A2', { accountId: 'acme', sideState: '', sideSinceMs: 0 }],
      ['B1', { accountId: 'beta', sideState: '', sideSinceMs: 0 }],
    ]);
    const facts = [
      fact('A1', 'lead', t0 + 1 * DAY), // acme enters lead on day 1 (A1 first)
      fact('A2', 'lead', t0 + 3 * DAY),
      fact('A2', 'mql', t0 + 4 * DAY), // acme converts on day 4 through A2: 3 days after its entry
      fact('B1', 'lead', t0 + 2 * DAY), // beta: one lead, no MQL
      fact('C', 'lead', t0 + 5 * DAY), // no account: an account of its own, converts same day
      fact('C', 'mql', t0 + 5 * DAY),
    ];
    const segmentOf = (leadId: string) => (leadId.startsWith('A1') ? 'first' : 'other');
    // leads: A1, A2, B1, C entered; A2 and C converted
    expect(stageConversion(facts, spec(), () => '', (l) => lifecycle.get(l))[0]).toMatchObject({ entered: 4, converted: 2 });
    // accounts: acme, beta, C entered; acme (day 1 -> day 4) and C (0 ms) converted; median of [0, 3 days]
    const rows = stageConversion(facts, spec({ unit: 'account' }), () => '', (l) => lifecycle.get(l));
    expect(rows).toEqual([expect.objectContaining({ entered: 3, converted: 2, medianMs: 1.5 * DAY, p90Ms: expect.closeTo(2.7 * DAY, 3) })]);
    // acme's segment is A1's, its first lead into `lead`; beta and C are 'other'
    const bySegment = stageConversion(facts, spec({ unit: 'account' }), segmentOf, (l) => lifecycle.get(l));
    expect(bySegment.map((r) => [r.segment, r.entered, r.converted])).toEqual([
      ['first', 1, 1],
      ['other', 2, 1],
    ]);
  });

  it('given an account whose leads entered together, then its entry is skipped only when every lead skipped it', () => {
    const t0 = at('2026-03-02T09:00:00Z');
    const acme = (): LeadLifecycleFacts => ({ accountId: 'acme', sideState: '', sideSinceMs: 0 });
    const together = [fact('A1', 'lead', t0, true), fact('A2', 'lead', t0, false)];
    expect(stageConversion(together, spec({ unit: 'account' }), () => '', acme)[0]).toMatchObject({ entered: 1, skippedFrom: 0 });
    const bothSkipped = [fact('A1', 'lead', t0, true), fact('A2', 'lead', t0, true), fact('A3', 'lead', t0 + 1, false)];
    expect(stageConversion(bothSkipped, spec({ unit: 'account' }), () => '', acme)[0]).toMatchObject({ entered: 1, skippedFrom: 1 });
  });

  it('given disqualified and recycled leads, then each pair counts those of its cohort that never reached `to` and are in the side state (as of asOf)', () => {
    const t0 = at('2026-03-02T09:00:00Z');
    const side = (sideState: LeadLifecycleFacts['sideState'], sinceDays: number, accountId = ''): LeadLifecycleFacts => ({ accountId, sideState, sideSinceMs: t0 + sinceDays * DAY });
    const lifecycle = new Map<string, LeadLifecycleFacts>([
      ['D', side('disqualified', 2)], // disqualified as a lead: counts for lead -> mql and lead -> sql
      ['R', side('recycled', 6)], // MQL recycled on day 6: counts for mql -> sql and lead -> sql, not lead -> mql (it got there)
      ['W', side('disqualified', 9)], // reached sql, then disqualified: left no pair early
      ['X1', side('disqualified', 3, 'x')], // account x: one lead disqualified, the other still in the funnel
      ['X2', side('', 0, 'x')],
    ]);
    const facts = [
      fact('D', 'lead', t0),
      fact('R', 'lead', t0),
      fact('R', 'mql', t0 + 1 * DAY),
      fact('W', 'lead', t0),
      fact('W', 'mql', t0),
      fact('W', 'sql', t0 + 8 * DAY),
      fact('X1', 'lead', t0),
      fact('X2', 'lead', t0 + DAY),
    ];
    const pairs = [
      { from: 'lead', to: 'mql' },
      { from: 'mql', to: 'sql' },
      { from: 'lead', to: 'sql' },
    ];
    const counts = (more: Partial<StageConversionSpec>) => stageConversion(facts, spec({ pairs, ...more }), () => '', (l) => lifecycle.get(l)).map((r) => [r.from, r.to, r.entered, r.disqualified, r.recycled]);
    // lead -> mql: D, R, W, X1, X2 entered; D and X1 disqualified, none recycled (R reached mql)
    // mql -> sql: R, W entered; R recycled
    // lead -> sql: all five entered; D, X1 disqualified, R recycled (W reached sql before its episode)
    expect(counts({})).toEqual([
      ['lead', 'mql', 5, 2, 0],
      ['mql', 'sql', 2, 0, 1],
      ['lead', 'sql', 5, 2, 1],
    ]);
    // as of day 4 R's episode (day 6) has not begun, and W has not reached sql: its day-9 episode has not begun either
    expect(counts({ asOfMs: t0 + 4 * DAY })).toEqual([
      ['lead', 'mql', 5, 2, 0],
      ['mql', 'sql', 2, 0, 0],
      ['lead', 'sql', 5, 2, 0],
    ]);
    // by account, x (X1 disqualified, X2 not) is in the funnel: only D remains disqualified
    expect(counts({ unit: 'account' })).toEqual([
      ['lead', 'mql', 4, 1, 0],
      ['mql', 'sql', 2, 0, 1],
      ['lead', 'sql', 4, 1, 1],
    ]);
  });
});
