import { OpportunityGroupedQuerySchema, WinRatesAnswerSchema, runWinRates } from '../../opportunity-queries.js';
import type { OpportunityGroupedQuery, WinRatesResult } from '../../opportunity-queries.js';
import { bodyTimeout } from '../declaration.js';
import type { StageQueryDeclaration } from '../declaration.js';
import { formatWinRates } from './format.js';

/** The semantics are written down with the reference, @sluice/revenue opportunity-analytics.ts. */
export const winRates = {
  name: 'win-rates',
  path: '/v1/win-rates',
  slug: 'invalid-win-rates-query',
  what: 'win-rates query',
  summary: 'Opportunity win rates',
  description:
    'Won / closed over the opportunities won or lost in the date range, as the log stood at its end; groupBy splits them by each stage the ' +
    "deal was ever in (stage reached), its owner at the close, its segment, or the source of its account's first touch (the earliest event " +
    'about a person naming the account). Journeys are folded by ClickHouse from the opportunity events the touchpoint sink wrote.',
  request: OpportunityGroupedQuerySchema,
  response: WinRatesAnswerSchema,
  reads: ['touchpoints'],
  timeoutSeconds: bodyTimeout,
  run: runWinRates,
  format: formatWinRates,
} satisfies StageQueryDeclaration<OpportunityGroupedQuery, WinRatesResult>;
