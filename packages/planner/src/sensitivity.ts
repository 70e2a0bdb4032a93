import { requiredVolumes } from './chain.js';
import type { Improvement, StageImprovement } from './plan-output.js';

/**
 * What improving one step of the funnel is worth: the step's rate is raised
 * by `points` (absolute) or by `relative` (multiplicative), capped at 100 %,
 * and the volumes no longer needed are reported for every stage above it.
 * Stages below the improved step need the same volume as before.
 */
export function rateSensitivity(
  stages: readonly string[],
  deals: number,
  rates: readonly number[],
  improvement: { points: number; relative: number },
): StageImprovement[] {
  const base = requiredVolumes(deals, rates);
  return rates.map((rate, k) => ({
    from: stages[k] as string,
    to: stages[k + 1] as string,
    baseRate: rate,
    byPoints: improve(stages, deals, rates, base, k, rate + improvement.points),
    byRelative: improve(stages, deals, rates, base, k, rate * (1 + improvement.relative)),
  }));
}

function improve(
  stages: readonly string[],
  deals: number,
  rates: readonly number[],
  base: readonly number[],
  step: number,
  wanted: number,
): Improvement {
  const rate = Math.min(1, wanted);
  const improved = requiredVolumes(deals, rates.with(step, rate));
  return {
    rate,
    capped: wanted > 1,
    saved: stages.slice(0, step + 1).map((stage, k) => ({ stage, volume: (base[k] as number) - (improved[k] as number) })),
  };
}
