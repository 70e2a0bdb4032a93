import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { dayNumber, parsePeriod } from './calendar.js';
import { lagDistribution, lagsToDeal } from './lag.js';
import { pipelineGap } from './pipeline.js';
import { CLASSIC_STAGES } from './test-fixtures.js';

const zone = 'Europe/Berlin';
const given = (days: number) => lagDistribution({ kind: 'given', days }).distribution;
// visitor -> lead 0 d, lead -> mql 0 d, mql -> sql 10 d, sql -> customer 30 d:
// to the deal a visitor, lead or MQL needs 40 days, an SQL 30
const context = (period: string, deals: number) => ({
  stages: CLASSIC_STAGES,
  rates: [0.04, 0.25, 0.5, 0.2],
  lagsToDeal: lagsToDeal([given(0), given(0), given(10), given(30)]),
  period: parsePeriod(period, zone),
  asOfDay: dayNumber(DateTime.fromISO('2026-12-10', { zone })),
  deals,
});

describe('given leads already held in the pipeline on 10 December 2026', () => {
  const held = { lead: 200, mql: 100, sql: 40 };

  it('when their lags land them in January, then they count for their chance to close and the rest is new volume', () => {
    // SQLs:  10 Dec + 30 d = 9 Jan  (in January) -> 40 x 0.2              = 8 deals
    // MQLs:  10 Dec + 40 d = 19 Jan (in January) -> 100 x 0.5 x 0.2       = 10 deals
    // leads: 10 Dec + 40 d = 19 Jan (in January) -> 200 x 0.25 x 0.5 x 0.2 = 5 deals
    // expected 23 of the 50 deals; 27 remain: 135 SQLs, 270 MQLs, 1,080 leads, 27,000 visits
    const gap = pipelineGap(held, context('2027-01', 50));

    expect(gap.held.map(({ stage, count, chanceToCloseInPeriod }) => ({ stage, count, chanceToCloseInPeriod }))).toEqual([
      { stage: 'lead', count: 200, chanceToCloseInPeriod: 0.025 },
      { stage: 'mql', count: 100, chanceToCloseInPeriod: 0.1 },
      { stage: 'sql', count: 40, chanceToCloseInPeriod: 0.2 },
    ]);
    expect(gap.expectedDeals).toBeCloseTo(23, 9);
    expect(gap.remainingDeals).toBe(27);
    expect(gap.newVolumes).toEqual([
      { stage: 'visitor', volume: 27_000 },
      { stage: 'lead', volume: 1_080 },
      { stage: 'mql', volume: 270 },
      { stage: 'sql', volume: 135 },
      { stage: 'customer', volume: 27 },
    ]);
  });

  it('when their lags land them before the period, then they do not count for it', () => {
    const gap = pipelineGap(held, context('2027-02', 50));

    expect(gap.expectedDeals).toBe(0);
    expect(gap.remainingDeals).toBe(50);
  });

  it('when the pipeline is expected to deliver more than the target, then nothing new is needed', () => {
    const gap = pipelineGap(held, context('2027-01', 20));

    expect(gap.remainingDeals).toBe(0);
    expect(gap.newVolumes.every((entry) => entry.volume === 0)).toBe(true);
  });

  it('when no pipeline is known, then every deal is still to be sourced', () => {
    const gap = pipelineGap(undefined, context('2027-01', 50));

    expect(gap).toMatchObject({ held: [], expectedDeals: 0, remainingDeals: 50 });
  });
});
