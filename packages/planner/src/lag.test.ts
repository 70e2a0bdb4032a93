import { describe, expect, it } from 'vitest';
import { convolve, lagDistribution, lagsToDeal } from './lag.js';

describe('given a lag as the input states it', () => {
  it('when it is a fractional given number of days, then its weight splits over the two days around it and its mean is kept', () => {
    const { distribution, summary } = lagDistribution({ kind: 'given', days: 2.25 });

    expect(distribution.weights).toEqual([0, 0, 0.75, 0.25]);
    expect(summary).toEqual({ source: 'given', meanDays: 2.25, observations: null });
  });

  it('when it is samples, then every sample weighs the same and the sample count is its evidence', () => {
    const { distribution, summary } = lagDistribution({ kind: 'samples', days: [1, 1, 3] });

    expect(distribution.weights).toEqual([0, 2 / 3, 0, 1 / 3]);
    expect(summary).toMatchObject({ source: 'samples', observations: 3 });
    expect(summary.meanDays).toBeCloseTo(5 / 3, 12); // (1 + 1 + 3) / 3
  });

  it('when it is a histogram, then buckets weigh by their counts', () => {
    const { distribution, summary } = lagDistribution({ kind: 'histogram', buckets: [{ days: 0, count: 1 }, { days: 3, count: 3 }] });

    expect(distribution.weights).toEqual([0.25, 0, 0, 0.75]);
    expect(summary).toEqual({ source: 'histogram', meanDays: 2.25, observations: 4 });
  });

  it("when it is a P10/P50/P90 summary, then Swanson's rule weighs them 30 / 40 / 30", () => {
    const { distribution, summary } = lagDistribution({ kind: 'quantiles', p10: 1, p50: 2, p90: 4 });

    expect(distribution.weights).toEqual([0, 0.3, 0.4, 0, 0.3]);
    expect(summary.meanDays).toBeCloseTo(0.3 * 1 + 0.4 * 2 + 0.3 * 4, 12); // 2.3
  });

  it('when it is missing, then the step is taken as same-day and says so', () => {
    const { distribution, summary } = lagDistribution(undefined);

    expect(distribution.weights).toEqual([1]);
    expect(summary).toEqual({ source: 'assumed-zero', meanDays: 0, observations: null });
  });
});

describe('given lags along the funnel', () => {
  it('when two independent lags follow each other, then their sum is the convolution', () => {
    // (0 or 1 day) + (0 or 2 days), all equally likely: 0, 1, 2, 3 days at 1/4 each
    expect(convolve({ weights: [0.5, 0.5] }, { weights: [0.5, 0, 0.5] }).weights).toEqual([0.25, 0.25, 0.25, 0.25]);
  });

  it('when computing each stage\'s lag to the deal, then the steps below it add up', () => {
    const twoDays = lagDistribution({ kind: 'given', days: 2 }).distribution;
    const threeDays = lagDistribution({ kind: 'given', days: 3 }).distribution;

    expect(lagsToDeal([twoDays, threeDays]).map((lag) => lag.weights.indexOf(1))).toEqual([5, 3, 0]);
  });
});
