import type { Period } from './calendar.js';
import { shareClosingInPeriod } from './calendar.js';
import { chanceToClose, requiredVolumes, wholeUnitsAtLeast } from './chain.js';
import type { DayDistribution } from './lag.js';
import type { PipelineGap } from './plan-output.js';

export interface PipelineContext {
  /** planning chain, first stage to deal stage */
  stages: readonly string[];
  /** point rates, one per step */
  rates: readonly number[];
  /** lag from entering each stage to the deal, one per stage */
  lagsToDeal: readonly DayDistribution[];
  period: Period;
  asOfDay: number;
  deals: number;
}

/**
 * What the pipeline already holds against a target. A lead held in a stage
 * counts for its chance to become a deal inside the period: the rates from
 * its stage to the deal, times the chance its lag to the deal lands in the
 * period. Its age in the stage is not known here, so it is taken as entering
 * the stage on asOf (a cautious reading: older leads are closer to closing).
 * Across several periods of one unit these chances split the same held lead,
 * so nothing is counted twice.
 */
export function pipelineGap(held: Readonly<Record<string, number>> | undefined, context: PipelineContext): PipelineGap {
  const { stages, rates, lagsToDeal, period, asOfDay, deals } = context;
  const rows = stages
    .slice(0, -1)
    .map((stage, k) => ({ stage, k, count: held?.[stage] }))
    .filter((row): row is { stage: string; k: number; count: number } => row.count !== undefined)
    .map(({ stage, k, count }) => {
      const chance = chanceToClose(rates, k) * shareClosingInPeriod(period, lagsToDeal[k] as DayDistribution, asOfDay);
      return { stage, count, chanceToCloseInPeriod: chance, expectedDeals: count * chance };
    });
  const expectedDeals = rows.reduce((sum, row) => sum + row.expectedDeals, 0);
  const remainingDeals = wholeUnitsAtLeast(Math.max(0, deals - expectedDeals));
  return {
    held: rows,
    expectedDeals,
    remainingDeals,
    newVolumes: requiredVolumes(remainingDeals, rates).map((volume, k) => ({ stage: stages[k] as string, volume })),
  };
}
