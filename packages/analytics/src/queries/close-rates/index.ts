import { z } from 'zod';
import { runActivityCloseRates } from '../../close-rates.js';
import { ActivityCloseRatesQuerySchema } from '../../stage-queries.js';
import { bodyTimeout } from '../declaration.js';
import { formatCloseRates } from './format.js';
import type { StageQueryDeclaration } from '../declaration.js';
import type { ActivityCloseRatesResult } from '../../close-rates.js';
import type { ActivityCloseRatesQuery } from '../../stage-queries.js';

/** The semantics are written down with the reference beside it (reference.ts), which the SQL is property-tested against. */
export const closeRates = {
  name: 'close-rates',
  path: '/v1/close-rates',
  kind: 'closeRates',
  slug: 'invalid-close-rates-query',
  what: 'close-rates query',
  summary: 'Closed-loop activity close rates',
  description:
    'For each touchpoint type (optionally split by a property), the leads of the population (those entering populationStage in the date ' +
    'range) who did it before becoming customers, how many closed, the close rate with a Wilson interval, and its lift over the average; ' +
    "ranked by the interval's lower bound, with MQL-rule candidates and score weights as suggestions. Profile facts and sales decisions " +
    "are left out unless `types` names them. configVersion, populationStage (the stage model's second stage) and customerStage default " +
    'to the live rules of the server.',
  request: ActivityCloseRatesQuerySchema,
  response: z.object({
    leads: z.number().int(),
    customers: z.number().int(),
    averageCloseRate: z.number().nullable(),
    confidence: z.number(),
    activities: z.array(z.looseObject({ rank: z.number().int(), type: z.string(), value: z.string(), leads: z.number().int(), customers: z.number().int() })),
    suggestions: z.looseObject({ mqlRuleCandidates: z.array(z.looseObject({})), scoreWeights: z.array(z.looseObject({})), note: z.string() }),
    truncated: z.boolean(),
  }),
  // the activities before winning are touchpoints
  reads: ['touchpoints', 'stageTables'],
  timeoutSeconds: bodyTimeout,
  run: runActivityCloseRates,
  format: formatCloseRates,
} satisfies StageQueryDeclaration<ActivityCloseRatesQuery, ActivityCloseRatesResult>;
