import { dealsFor, requiredVolumes } from './chain.js';
import type { DealSizePosterior, RatePosterior } from './estimates.js';
import type { Quantiles } from './plan-output.js';
import type { Rng } from './random.js';
import { nearestRank, sampleBeta, sampleNormal } from './random.js';

/**
 * Uncertainty of the required volumes: each draw takes every measured rate
 * (and the measured deal size) from its posterior, walks the chain back from
 * the revenue target, and the draws' P10 / P50 / P90 per stage are reported.
 * Fixed quantities (given, overridden) are the same in every draw, so a plan
 * of given numbers only has P10 = P50 = P90 = the required volume.
 */

export interface UncertainRate {
  point: number;
  posterior: RatePosterior | null;
}

export interface UncertainDealSize {
  point: number;
  posterior: DealSizePosterior | null;
}

export interface VolumeSimulation {
  revenue: number;
  dealSize: UncertainDealSize;
  rates: readonly UncertainRate[];
  draws: number;
  rng: Rng;
}

/** Quantiles of the volume entering each stage, first stage first. */
export function simulateVolumes(simulation: VolumeSimulation): Quantiles[] {
  const { revenue, dealSize, rates, draws, rng } = simulation;
  const perStage = Array.from({ length: rates.length + 1 }, () => new Float64Array(draws));
  const drawnRates = new Array<number>(rates.length);
  for (let i = 0; i < draws; i++) {
    const size = dealSize.posterior === null ? dealSize.point : drawDealSize(rng, dealSize.posterior, dealSize.point);
    rates.forEach((rate, k) => {
      drawnRates[k] = rate.posterior === null ? rate.point : sampleBeta(rng, rate.posterior.alpha, rate.posterior.beta);
    });
    requiredVolumes(dealsFor(revenue, size), drawnRates).forEach((volume, stage) => {
      (perStage[stage] as Float64Array)[i] = volume;
    });
  }
  return perStage.map(quantilesOf);
}

/** Posterior P10 / P50 / P90 of one measured rate. */
export function rateQuantiles(posterior: RatePosterior, draws: number, rng: Rng): Quantiles {
  const values = new Float64Array(draws);
  for (let i = 0; i < draws; i++) values[i] = sampleBeta(rng, posterior.alpha, posterior.beta);
  return quantilesOf(values);
}

function quantilesOf(values: Float64Array): Quantiles {
  values.sort();
  return { p10: nearestRank(values, 0.1), p50: nearestRank(values, 0.5), p90: nearestRank(values, 0.9) };
}

/**
 * A deal size from the normal sampling distribution of the measured mean,
 * truncated to positive amounts. With a standard error this large relative to
 * the mean the measurement says little anyway, so after a few misses the mean
 * itself is used rather than looping on.
 */
function drawDealSize(rng: Rng, posterior: DealSizePosterior, fallback: number): number {
  for (let attempt = 0; attempt < 16; attempt++) {
    const size = posterior.mean + posterior.standardError * sampleNormal(rng);
    if (size > 0) return size;
  }
  return fallback;
}
