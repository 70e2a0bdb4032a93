import { DealSizesAnswerSchema, OpportunityRangeQuerySchema, runDealSizes } from '../../opportunity-queries.js';
import type { DealSizesResult, OpportunityRangeQuery } from '../../opportunity-queries.js';
import { bodyTimeout } from '../declaration.js';
import type { StageQueryDeclaration } from '../declaration.js';
import { formatDealSizes } from './format.js';

/** The semantics are written down with the reference, @sluice/revenue opportunity-analytics.ts. */
export const dealSizes = {
  name: 'deal-sizes',
  path: '/v1/deal-sizes',
  slug: 'invalid-deal-sizes-query',
  what: 'deal-sizes query',
  summary: 'Won opportunity sizes per currency',
  description:
    'The opportunities won in the date range, per currency (never added across currencies): count, total, average, median and p90 of ' +
    'the signed amount (quantileExact: a value that occurred).',
  request: OpportunityRangeQuerySchema,
  response: DealSizesAnswerSchema,
  reads: ['touchpoints'],
  timeoutSeconds: bodyTimeout,
  run: runDealSizes,
  format: formatDealSizes,
} satisfies StageQueryDeclaration<OpportunityRangeQuery, DealSizesResult>;
