import { z } from 'zod';
import { TimeToConvertQuerySchema, runTimeToConvert } from '../../time-to-convert.js';
import { EchoedQuery, bodyTimeout } from '../declaration.js';
import { formatTimeToConvert } from './format.js';
import type { StageQueryDeclaration } from '../declaration.js';
import type { TimeToConvertQuery, TimeToConvertResult } from '../../time-to-convert.js';

/** The semantics are written down with the reference beside it (reference.ts), which the SQL is property-tested against. */
export const timeToConvert = {
  name: 'time-to-convert',
  path: '/v1/time-to-convert',
  kind: 'timeToConvert',
  slug: 'invalid-time-to-convert-query',
  what: 'time-to-convert query',
  summary: 'Time to convert: its distribution between two stages or two touchpoint steps',
  description:
    'Between two stages (the leads that entered `from` in the date range and reached `to`, skipped stages passed through) or two ' +
    'touchpoint steps (the first `from` event in range, the first `to` event at or after it, actors as funnels count them; with unit ' +
    '"accounts_pooled" each account, its people\'s events pooled as the funnel pools them), within an ' +
    'optional inclusive window: count, mean, median, p90 and a histogram (given edges, or a fixed ladder from 1 minute to 2 years), ' +
    'per segment (stages) or breakdown (steps). With a period (day, ISO week, month, quarter or year) the rows are per period of ' +
    'entering `from` in the business time zone as well, cut as stage conversion cuts cohorts: the trend. configVersion and timeZone ' +
    'default to the live rules of the server.',
  request: TimeToConvertQuerySchema,
  response: z.object({
    query: EchoedQuery,
    buckets: z.array(z.looseObject({})),
    rows: z.array(z.looseObject({ segment: z.string() })),
    segments: z.number().int(),
    truncated: z.boolean(),
  }),
  reads: ['touchpoints', 'stageTables'],
  timeoutSeconds: bodyTimeout,
  run: runTimeToConvert,
  format: formatTimeToConvert,
} satisfies StageQueryDeclaration<TimeToConvertQuery, TimeToConvertResult>;
