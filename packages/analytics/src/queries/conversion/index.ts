import { z } from 'zod';
import { runStageConversion } from '../../stage-conversion.js';
import { StageConversionQuerySchema } from '../../stage-queries.js';
import { bodyTimeout } from '../declaration.js';
import { formatConversion } from './format.js';
import type { StageQueryDeclaration } from '../declaration.js';
import type { StageConversionResult } from '../../stage-conversion.js';
import type { StageConversionQuery } from '../../stage-queries.js';

/** The semantics are written down with the reference, @sluice/domain reference/stage-conversion.ts. */
export const conversion = {
  name: 'conversion',
  path: '/v1/conversion',
  kind: 'conversion',
  slug: 'invalid-conversion-query',
  what: 'conversion query',
  summary: 'Stage conversion per cohort and segment',
  description:
    'For pairs of stages (step_to_step, from_first or explicit), per cohort period of entering the first stage of the pair ' +
    '(day, ISO week, month, quarter, year or all, in the business time zone) and per segment (a lead profile key): leads entered, ' +
    'converted, rate, skipped through, still open (with asOf and a window), median and p90 time to convert. Skipped stages count as ' +
    'passed through; the window is inclusive. A series of periods is the conversion trend. Per row also how many of the cohort never ' +
    'reached the second stage and are disqualified or recycled now. unit "account" counts accounts (an account reaches a stage with its ' +
    'first lead) instead of leads. ' +
    'configVersion, stages and timeZone default to the live rules of the server.',
  request: StageConversionQuerySchema,
  response: z.object({
    pairs: z.array(z.object({ from: z.string(), to: z.string() })),
    rows: z
      .array(z.looseObject({ pair: z.number().int(), periodLabel: z.string(), segment: z.string(), entered: z.number(), converted: z.number(), rate: z.number() }))
      .describe('one row per (pair, period, segment) with entries; see StageConversionRow in the reference'),
    segments: z.number().int(),
    truncated: z.boolean(),
  }),
  reads: ['touchpoints', 'stageTables'],
  timeoutSeconds: bodyTimeout,
  run: runStageConversion,
  format: formatConversion,
} satisfies StageQueryDeclaration<StageConversionQuery, StageConversionResult>;
