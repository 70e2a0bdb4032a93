import { OpportunityRangeQuerySchema, VelocityAnswerSchema, runVelocity } from '../../opportunity-queries.js';
import type { OpportunityRangeQuery, VelocityResult } from '../../opportunity-queries.js';
import { bodyTimeout } from '../declaration.js';
import type { StageQueryDeclaration } from '../declaration.js';
import { formatVelocity } from './format.js';

/** The semantics are written down with the reference, @sluice/revenue opportunity-analytics.ts. */
export const velocity = {
  name: 'velocity',
  path: '/v1/velocity',
  slug: 'invalid-velocity-query',
  what: 'velocity query',
  summary: 'Sales velocity per currency',
  description:
    'Per currency: opportunities created in the date range x the average amount of the deals won in it x the win rate (won / closed in it) / ' +
    'the mean days from creation to win of the deals won in it: expected revenue per day. Null when a factor cannot be measured.',
  request: OpportunityRangeQuerySchema,
  response: VelocityAnswerSchema,
  reads: ['touchpoints'],
  timeoutSeconds: bodyTimeout,
  run: runVelocity,
  format: formatVelocity,
} satisfies StageQueryDeclaration<OpportunityRangeQuery, VelocityResult>;
