import { describe, expect, it } from 'vitest';
import { backtest, forecastPeriod, forecastSourceOfEvents, learnedProbability } from './forecast.js';
import { opportunityJourneys } from './opportunity-analytics.js';
import { model, ms, on, opp } from './test-opportunities.js';

/**
 * h1: created Jan 1 in discovery, proposal Jan 15, won Feb 1 at 1,000 EUR (a 31-day cycle).
 * h2: created Jan 1 in discovery at 2,000 EUR, lost there Feb 1.
 * o1: created Mar 20 in proposal (the model's 50%) at 10,000 EUR closing Jun 1, won May 1.
 */
function history() {
  return [
    opp('opportunity_created', on(1, 1), { opportunityId: 'h1', stage: 'discovery', amount: 1_000, currency: 'EUR', closeDate: on(3, 1) }, 'acme', 'h1-1'),
    opp('opportunity_stage_changed', on(1, 15), { opportunityId: 'h1', stage: 'proposal' }, 'acme', 'h1-2'),
    opp('opportunity_won', on(2, 1), { opportunityId: 'h1' }, 'acme', 'h1-3'),
    opp('opportunity_created', on(1, 1), { opportunityId: 'h2', stage: 'discovery', amount: 2_000, currency: 'EUR', closeDate: on(3, 1) }, 'globex', 'h2-1'),
    opp('opportunity_lost', on(2, 1), { opportunityId: 'h2', reason: 'price' }, 'globex', 'h2-2'),
    opp('opportunity_created', on(3, 20), { opportunityId: 'o1', stage: 'proposal', amount: 10_000, currency: 'EUR', closeDate: on(6, 1), ownerId: 'ann' }, 'initech', 'o1-1'),
    opp('opportunity_won', on(5, 1), { opportunityId: 'o1' }, 'initech', 'o1-2'),
  ];
}

const Q1 = { label: '2026-Q1', startMs: ms(on(1, 1)), endMs: ms(on(4, 1)) };
const Q2 = { label: '2026-Q2', startMs: ms(on(4, 1)), endMs: ms(on(7, 1)) };
const source = () => forecastSourceOfEvents(history(), model);
const options = { priorStrength: 2, lookbackDays: 365, runs: 4000, seed: 7 };

describe('forecast (hand-worked)', () => {
  it('the learned probability is the Beta prior of strength k at the stage probability, updated with the closed deals that stayed as long in the stage', () => {
    const closed = opportunityJourneys(history(), ms(on(4, 1))).filter((j) => j.status !== 'open');
    // h1 was in proposal and won, h2 never reached it: (2 x 0.5 + 1) / (2 + 1)
    expect(learnedProbability({ stage: 'proposal', segment: null, probability: 0.5, daysInStage: 12 }, closed, 2)).toEqual({ ageBucketDays: 0, prior: 0.5, won: 1, lost: 0, probability: 2 / 3 });
    // 40 days in proposal: h1 left it after 17, so no evidence and the prior stands
    expect(learnedProbability({ stage: 'proposal', segment: null, probability: 0.5, daysInStage: 40 }, closed, 2)).toMatchObject({ ageBucketDays: 30, won: 0, lost: 0, probability: 0.5 });
    // k = 0 with evidence is history alone
    expect(learnedProbability({ stage: 'discovery', segment: null, probability: 0.1, daysInStage: 1 }, closed, 0).probability).toBe(0.5);
  });

  it('Q2 as of its start: the open deal at 2/3 plus the not-yet-created deals, 3/365 a day x 1/2 x 1,000 x (91 - 31) days', async () => {
    const f = await forecastPeriod(source(), Q2, Q2.startMs, options);
    const fromNew = ((3 / 365) * 0.5 * 1_000 * (91 - 31)) / 1;
    expect(f.rows).toHaveLength(1);
    expect(f.rows[0]!.pipeline).toBeCloseTo((2 / 3) * 10_000, 9);
    expect(f.rows[0]!.notYetCreated).toBeCloseTo(fromNew, 9);
    expect(f.rows[0]!.expected).toBeCloseTo((2 / 3) * 10_000 + fromNew, 9);
    expect(f.notYetCreated).toEqual({ creationsPerDay: 3 / 365, winRate: 0.5, wonDeals: 1, daysLeft: 91 });
    expect(f.byCategory.map((r) => r.group)).toEqual(['best_case', 'new']);
    expect(f.byOwner.map((r) => r.group)).toEqual(['ann', null]);
    // draws: the deal is won or not, plus new 1,000s: P10 has it lost, P50 and P90 won
    const { p10, p50, p90 } = f.rows[0]!;
    expect(p10).toBeLessThan(10_000);
    expect(p50).toBeGreaterThanOrEqual(10_000);
    expect(p90).toBeGreaterThanOrEqual(p50);
  });

  it('the same seed gives the same bands, and the expected value is exact, whatever the seed', async () => {
    const a = await forecastPeriod(source(), Q2, Q2.startMs, options);
    expect(await forecastPeriod(source(), Q2, Q2.startMs, options)).toEqual(a);
    const other = await forecastPeriod(source(), Q2, Q2.startMs, { ...options, seed: 8 });
    expect(other.rows[0]!.expected).toBe(a.rows[0]!.expected);
  });

  it('a period already under way counts what was won so far as certain', async () => {
    const f = await forecastPeriod(source(), Q1, ms(on(3, 1)), options);
    expect(f.rows[0]).toMatchObject({ currency: 'EUR', wonSoFar: 1_000 });
    expect(f.byCategory.find((r) => r.group === 'closed')).toMatchObject({ expected: 1_000, p10: 1_000, p90: 1_000 });
  });

  it('back-test of Q1 and Q2: Q1 forecast 0 against 1,000 won (error 1), Q2 forecast against 10,000 won; the MAPE is their mean', async () => {
    const b = await backtest(source(), [Q1, Q2], options);
    const q2Forecast = (2 / 3) * 10_000 + (3 / 365) * 0.5 * 1_000 * 60;
    const q2Error = Math.abs(q2Forecast - 10_000) / 10_000;
    expect(b.periods.map((p) => [p.label, p.rows.map((r) => [r.currency, r.actual])])).toEqual([
      ['2026-Q1', [['EUR', 1_000]]],
      ['2026-Q2', [['EUR', 10_000]]],
    ]);
    expect(b.periods[0]!.rows[0]).toMatchObject({ forecast: 0, absolutePercentageError: 1 });
    expect(b.periods[1]!.rows[0]!.forecast).toBeCloseTo(q2Forecast, 9);
    expect(b.periods[1]!.rows[0]!.absolutePercentageError).toBeCloseTo(q2Error, 9);
    expect(b.meanAbsolutePercentageError).toHaveLength(1);
    expect(b.meanAbsolutePercentageError[0]!.periods).toBe(2);
    expect(b.meanAbsolutePercentageError[0]!.value).toBeCloseTo((1 + 0.308_675_799) / 2, 6);
  });
});
