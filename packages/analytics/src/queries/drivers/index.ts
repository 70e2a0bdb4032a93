import { z } from 'zod';
import { ConversionDriversQuerySchema, runConversionDrivers } from '../../conversion-drivers.js';
import { bodyTimeout } from '../declaration.js';
import { formatDrivers } from './format.js';
import type { StageQueryDeclaration } from '../declaration.js';
import type { ConversionDriversQuery, ConversionDriversResult } from '../../conversion-drivers.js';

/** The semantics are written down with the reference beside it (reference.ts), which the SQL is property-tested against. */
export const drivers = {
  name: 'drivers',
  path: '/v1/conversion-drivers',
  kind: 'drivers',
  slug: 'invalid-conversion-drivers-query',
  what: 'conversion-drivers query',
  summary: 'Conversion drivers: touchpoints and profile facts that raise or lower the odds of converting',
  description:
    'Of the leads entering `from` in the date range, which touchpoints (a type, or a type and property value, done before converting ' +
    'or by the window end) and profile facts (lead profile keys and values) go with reaching `to` more or less often: per feature the ' +
    'leads with it, the conversion rate with and without, the odds ratio with a Woolf interval, a two-sided Fisher exact p-value and a ' +
    'Benjamini-Hochberg q-value over all features tested; `effect` is raises or lowers only when q < 1 - confidence. Associations, not ' +
    "causes. configVersion, from (the stage model's second stage) and to (its customer stage) default to the live rules of the server.",
  request: ConversionDriversQuerySchema,
  response: z.object({
    leads: z.number().int(),
    converted: z.number().int(),
    conversionRate: z.number().nullable(),
    confidence: z.number(),
    drivers: z.array(z.looseObject({ rank: z.number().int(), key: z.string(), value: z.string(), leads: z.number().int(), effect: z.string() })),
    note: z.string(),
    truncated: z.boolean(),
  }),
  reads: ['touchpoints', 'stageTables'],
  timeoutSeconds: bodyTimeout,
  run: runConversionDrivers,
  format: formatDrivers,
} satisfies StageQueryDeclaration<ConversionDriversQuery, ConversionDriversResult>;
