import type { LagInput } from './plan-input.js';

/**
 * Stage-to-stage lags as probability weights over whole calendar days:
 * `weights[d]` is the chance the step takes d days. Calendar months are the
 * plan's resolution, so a day is fine enough, and a dense array keeps
 * convolution (lags add up along the funnel) simple.
 */
export interface DayDistribution {
  readonly weights: readonly number[];
}

export type LagSource = LagInput['kind'] | 'assumed-zero';

export interface LagSummary {
  source: LagSource;
  /** expected days from entering `from` to entering `to` */
  meanDays: number;
  /** lag samples (or histogram counts) the distribution rests on; null for given values and summaries */
  observations: number | null;
}

export const SAME_DAY: DayDistribution = { weights: [1] };

/**
 * Quantile summaries become three points by Swanson's rule (30 % at P10,
 * 40 % at P50, 30 % at P90): the usual way to turn a P10/P50/P90 estimate
 * into a distribution without inventing a shape.
 */
const SWANSON = [0.3, 0.4, 0.3] as const;

export function lagDistribution(lag: LagInput | undefined): { distribution: DayDistribution; summary: LagSummary } {
  const points = weightedPoints(lag);
  const total = points.reduce((sum, point) => sum + point.weight, 0);
  const weights: number[] = [];
  let meanDays = 0;
  for (const { days, weight } of points) {
    const share = weight / total;
    meanDays += share * days;
    // fractional days split between the two whole days around them, so 2.25 days
    // puts 75 % on day 2 and 25 % on day 3 and the mean is kept
    const whole = Math.floor(days);
    const fraction = days - whole;
    weights[whole] = (weights[whole] ?? 0) + share * (1 - fraction);
    if (fraction > 0) weights[whole + 1] = (weights[whole + 1] ?? 0) + share * fraction;
  }
  return {
    distribution: { weights: Array.from(weights, (weight) => weight ?? 0) },
    summary: { source: lag?.kind ?? 'assumed-zero', meanDays, observations: observationsOf(lag) },
  };
}

function weightedPoints(lag: LagInput | undefined): Array<{ days: number; weight: number }> {
  switch (lag?.kind) {
    case undefined:
      return [{ days: 0, weight: 1 }];
    case 'given':
      return [{ days: lag.days, weight: 1 }];
    case 'samples':
      return lag.days.map((days) => ({ days, weight: 1 }));
    case 'histogram':
      return lag.buckets.map((bucket) => ({ days: bucket.days, weight: bucket.count }));
    case 'quantiles':
      return [
        { days: lag.p10, weight: SWANSON[0] },
        { days: lag.p50, weight: SWANSON[1] },
        { days: lag.p90, weight: SWANSON[2] },
      ];
  }
}

function observationsOf(lag: LagInput | undefined): number | null {
  if (lag?.kind === 'samples') return lag.days.length;
  if (lag?.kind === 'histogram') return lag.buckets.reduce((sum, bucket) => sum + bucket.count, 0);
  return null;
}

/** Distribution of the sum of two independent lags. */
export function convolve(a: DayDistribution, b: DayDistribution): DayDistribution {
  const weights = new Array<number>(a.weights.length + b.weights.length - 1).fill(0);
  a.weights.forEach((wa, i) => {
    if (wa === 0) return;
    b.weights.forEach((wb, j) => {
      weights[i + j] = (weights[i + j] as number) + wa * wb;
    });
  });
  return { weights };
}

/**
 * Lag from entering each stage to the deal, for every stage of the chain:
 * `stepLags[k]` is the lag of step k -> k + 1; the result has one more entry
 * (the deal stage itself, lag zero).
 */
export function lagsToDeal(stepLags: readonly DayDistribution[]): DayDistribution[] {
  const toDeal: DayDistribution[] = new Array<DayDistribution>(stepLags.length + 1);
  toDeal[stepLags.length] = SAME_DAY;
  for (let k = stepLags.length - 1; k >= 0; k--) {
    toDeal[k] = convolve(stepLags[k] as DayDistribution, toDeal[k + 1] as DayDistribution);
  }
  return toDeal;
}
