import { OpportunityGroupedQuerySchema, SalesCycleAnswerSchema, runSalesCycle } from '../../opportunity-queries.js';
import type { OpportunityGroupedQuery, SalesCycleResult } from '../../opportunity-queries.js';
import { bodyTimeout } from '../declaration.js';
import type { StageQueryDeclaration } from '../declaration.js';
import { formatSalesCycle } from './format.js';

/** The semantics are written down with the reference, @sluice/revenue opportunity-analytics.ts. */
export const salesCycle = {
  name: 'sales-cycle',
  path: '/v1/sales-cycle',
  slug: 'invalid-sales-cycle-query',
  what: 'sales-cycle query',
  summary: 'Opportunity sales cycle, stage durations and stage-to-stage conversion',
  description:
    'cycles: days from creation to the win of the opportunities won in the date range (count, mean, median, p90; groupBy as for win rates). ' +
    'stages: every stay in a stage that ended in the range, by stage: days in the stage and where the deal went next (another stage, won, ' +
    'lost) with its share. Percentiles are ClickHouse quantileExact: the value at floor(p x n) of the sorted values, no interpolation.',
  request: OpportunityGroupedQuerySchema,
  response: SalesCycleAnswerSchema,
  reads: ['touchpoints'],
  timeoutSeconds: bodyTimeout,
  run: runSalesCycle,
  format: formatSalesCycle,
} satisfies StageQueryDeclaration<OpportunityGroupedQuery, SalesCycleResult>;
