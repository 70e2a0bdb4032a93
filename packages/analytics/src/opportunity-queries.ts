import { z } from 'zod';
import { instantMs } from '@sluice/domain';
import { OPPORTUNITY_GROUPS, dealSizes, salesCycles, salesVelocity, stageFlow, winRates } from '@sluice/revenue';
import type { DealSizeRow, OpportunityJourney, Range, SalesCycleRow, StageFlowRow, VelocityRow, WinRateRow } from '@sluice/revenue';
import type { AnalyticsClient } from './client.js';
import { opportunityJourneysBefore } from './opportunity-journeys.js';
import { DateRange, TimeoutSeconds } from './stage-queries.js';

/**
 * The opportunity analytics queries (issue 17, item 5): the journeys come
 * from ClickHouse as of the range's end (opportunityJourneysBefore), the
 * measures are @sluice/revenue's, where their definitions are written down.
 */

const OpportunityGroupSchema = z.enum(OPPORTUNITY_GROUPS, { error: `must be one of ${OPPORTUNITY_GROUPS.join(', ')}` });

/** The opportunities closed (won, created) in [from, to), as the log stood at `to`. */
export const OpportunityRangeQuerySchema = z.strictObject({ dateRange: DateRange, timeoutSeconds: TimeoutSeconds });
export type OpportunityRangeQuery = z.output<typeof OpportunityRangeQuerySchema>;

export const OpportunityGroupedQuerySchema = z.strictObject({
  dateRange: DateRange,
  /** stage: each stage the deal was ever in; owner: at the close; segment: the creation's; source: the account's first touch. Absent: one row. */
  groupBy: OpportunityGroupSchema.optional(),
  timeoutSeconds: TimeoutSeconds,
});
export type OpportunityGroupedQuery = z.output<typeof OpportunityGroupedQuerySchema>;

async function journeysOf(client: AnalyticsClient, dateRange: { from: string; to: string }): Promise<{ journeys: OpportunityJourney[]; range: Range }> {
  const range = { fromMs: instantMs(dateRange.from), toMs: instantMs(dateRange.to) };
  return { journeys: await opportunityJourneysBefore(client, range.toMs), range };
}

export interface WinRatesResult {
  query: OpportunityGroupedQuery;
  rows: WinRateRow[];
}
export async function runWinRates(client: AnalyticsClient, query: OpportunityGroupedQuery): Promise<WinRatesResult> {
  const { journeys, range } = await journeysOf(client, query.dateRange);
  return { query, rows: winRates(journeys, range, query.groupBy ?? null) };
}

export interface SalesCycleResult {
  query: OpportunityGroupedQuery;
  /** days from creation to the win, deals won in the range */
  cycles: SalesCycleRow[];
  /** stays in each stage that ended in the range: days in the stage and where the deals went next */
  stages: StageFlowRow[];
}
export async function runSalesCycle(client: AnalyticsClient, query: OpportunityGroupedQuery): Promise<SalesCycleResult> {
  const { journeys, range } = await journeysOf(client, query.dateRange);
  return { query, cycles: salesCycles(journeys, range, query.groupBy ?? null), stages: stageFlow(journeys, range) };
}

export interface VelocityResult {
  query: OpportunityRangeQuery;
  rows: VelocityRow[];
}
export async function runVelocity(client: AnalyticsClient, query: OpportunityRangeQuery): Promise<VelocityResult> {
  const { journeys, range } = await journeysOf(client, query.dateRange);
  return { query, rows: salesVelocity(journeys, range) };
}

export interface DealSizesResult {
  query: OpportunityRangeQuery;
  rows: DealSizeRow[];
}
export async function runDealSizes(client: AnalyticsClient, query: OpportunityRangeQuery): Promise<DealSizesResult> {
  const { journeys, range } = await journeysOf(client, query.dateRange);
  return { query, rows: dealSizes(journeys, range) };
}

const nullableNumber = z.number().nullable();
const Group = z.string().nullable().describe('the group (null: not grouped, or the deals named none)');
const DistributionSchema = z.object({ count: z.number().int(), mean: nullableNumber, median: nullableNumber, p90: nullableNumber });

export const WinRatesAnswerSchema = z.object({
  query: z.looseObject({}),
  rows: z.array(z.object({ group: Group, closed: z.number().int(), won: z.number().int(), lost: z.number().int(), winRate: z.number() })),
});
export const SalesCycleAnswerSchema = z.object({
  query: z.looseObject({}),
  cycles: z.array(DistributionSchema.extend({ group: Group })),
  stages: z.array(z.object({ stage: z.string(), exits: z.number().int(), days: DistributionSchema, to: z.array(z.object({ next: z.string(), count: z.number().int(), share: z.number() })) })),
});
export const VelocityAnswerSchema = z.object({
  query: z.looseObject({}),
  rows: z.array(z.object({ currency: z.string(), opportunities: z.number().int(), averageWonAmount: nullableNumber, winRate: nullableNumber, cycleDays: nullableNumber, perDay: nullableNumber })),
});
export const DealSizesAnswerSchema = z.object({
  query: z.looseObject({}),
  rows: z.array(z.object({ currency: z.string(), won: z.number().int(), total: z.number(), average: z.number(), median: z.number(), p90: z.number() })),
});
