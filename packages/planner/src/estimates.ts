import type { DayDistribution } from './lag.js';
import { lagDistribution } from './lag.js';
import type { DealSizeEstimate, EstimateSource, RateEstimate } from './plan-output.js';
import type { DealSizeInput, PlanInput, RateInput, BusinessUnitInput } from './plan-input.js';

/**
 * From the input's given / measured / overridden quantities to the point
 * values the plan uses and the posteriors the Monte Carlo draws from.
 */

/**
 * Beta posterior of a measured rate under Jeffreys' prior Beta(1/2, 1/2):
 * uninformative, its median stays close to converted / entered, and it is
 * proper even when every lead converted.
 */
export interface RatePosterior {
  alpha: number;
  beta: number;
}

/** The sampling distribution of a measured average deal size (normal, by the central limit theorem). */
export interface DealSizePosterior {
  mean: number;
  standardError: number;
}

export type Evidence = Pick<PlanInput['uncertainty'], 'minObservations' | 'minConversions'>;

export interface RateModel {
  estimate: Omit<RateEstimate, 'interval'>;
  /** null when the rate is fixed (given, overridden) or unusable */
  posterior: RatePosterior | null;
  lag: DayDistribution;
}

export function rateModel(
  from: string,
  to: string,
  transition: BusinessUnitInput['transitions'][number] | undefined,
  evidence: Evidence,
): RateModel {
  const { distribution, summary } = lagDistribution(transition?.lag);
  const rate = transition?.rate;
  const measured = rate?.measured ?? null;
  const source = rateSource(rate);
  const point = rate?.given ?? (measured !== null && measured.entered > 0 ? measured.converted / measured.entered : null);
  const drivenByMeasurement = source === 'measured' && measured !== null && measured.entered > 0;
  return {
    estimate: {
      from,
      to,
      source,
      rate: point,
      observations: measured === null ? null : { entered: measured.entered, converted: measured.converted },
      lowEvidence:
        drivenByMeasurement && (measured.entered < evidence.minObservations || measured.converted < evidence.minConversions),
      lag: summary,
    },
    posterior: drivenByMeasurement ? { alpha: measured.converted + 0.5, beta: measured.entered - measured.converted + 0.5 } : null,
    lag: distribution,
  };
}

function rateSource(rate: RateInput | undefined): EstimateSource | 'missing' {
  if (rate === undefined) return 'missing';
  return overrideSource(rate.given, rate.measured);
}

function overrideSource(given: number | undefined, measured: object | undefined): EstimateSource {
  if (given === undefined) return 'measured';
  return measured === undefined ? 'given' : 'overridden';
}

export interface DealSizeModel {
  estimate: DealSizeEstimate;
  posterior: DealSizePosterior | null;
}

export function dealSizeModel(dealSize: DealSizeInput, evidence: Evidence): DealSizeModel {
  const measured = dealSize.measured;
  const source = overrideSource(dealSize.given, measured);
  const measuredAverage = measured !== undefined && measured.deals > 0 ? measured.revenue / measured.deals : null;
  const standardError =
    measured?.stdDev !== undefined && measured.deals > 0 ? measured.stdDev / Math.sqrt(measured.deals) : null;
  const drivenByMeasurement = source === 'measured' && measuredAverage !== null;
  return {
    estimate: {
      source,
      value: dealSize.given ?? measuredAverage,
      observations: measured?.deals ?? null,
      standardError,
      lowEvidence: drivenByMeasurement && (measured?.deals ?? 0) < evidence.minObservations,
      currency: dealSize.currency ?? null,
    },
    posterior:
      drivenByMeasurement && standardError !== null && standardError > 0
        ? { mean: measuredAverage, standardError }
        : null,
  };
}
