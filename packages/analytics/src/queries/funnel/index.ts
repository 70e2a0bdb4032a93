import { z } from 'zod';
import { FUNNEL_LIMITS, FunnelDefinitionSchema, FunnelQueryOptionsSchema } from '../../funnel-definition.js';
import { runFunnel } from '../../funnel.js';
import { formatFunnel } from './format.js';
import type { QueryDeclaration } from '../declaration.js';
import type { FunnelDefinition, FunnelQueryOptions } from '../../funnel-definition.js';
import type { FunnelResult } from '../../funnel.js';

/** The options as the query string carries them: an unknown parameter is ignored, as a URL's are. */
const FunnelQueryString = z.object(FunnelQueryOptionsSchema.shape);

const StepCount = z.looseObject({
  index: z.number().int(),
  leads: z.number(),
  conversionFromPrevious: z.number().nullable(),
  conversionFromFirst: z.number().nullable(),
  droppedFromPrevious: z.number(),
});
const Breakdown = z.looseObject({ key: z.string(), keys: z.array(z.string()), groups: z.array(z.object({ value: z.string(), steps: z.array(StepCount) })), truncated: z.boolean() });

/** The semantics are written down with the reference beside it (reference.ts), which the SQL is property-tested against. */
export const funnel = {
  name: 'funnel',
  path: '/v1/funnels',
  slug: 'invalid-funnel',
  what: 'funnel definition',
  summary: 'Count an event funnel',
  description:
    'Steps are touchpoint types with property filters; order ordered | strict | unordered; an inclusive conversion window; exclusions ' +
    'between steps; breakdown by a property. Each counting choice is an option with a default: windowAnchor (first_step | per_step), ' +
    'dateScope (first_step | all_steps), ties (log_order | funnel_order: how events at one instant are ordered), tieGraceSeconds (times read ' +
    'at that resolution, a slot being one instant), exclusionEffect (drop_out | remove), entry (best | first), reentry, unit (leads: unique leads, ' +
    'anonymous visitors not yet identified counting as themselves | accounts | totals: every attempt) and attribution (first_touch | ' +
    'last_touch | step:N | all_values). holdConstant keeps keys equal along a chain; compareTo adds the same funnel over the previous ' +
    'period or another range; timeToConvert adds the time between steps (mean, median, p90, histogram). A step marked optional may be skipped ' +
    '(ordered and strict): it counts the units that took it, and rates run from the previous required step. Each step reports the units reaching it, conversion from the previous and the first step, and drop-off. ' +
    `Bounds: at most ${FUNNEL_LIMITS.maxSteps} steps; unordered at most ${FUNNEL_LIMITS.maxUnorderedSteps}, of which at most ${FUNNEL_LIMITS.maxUnorderedStepsPerType} of one event type ` +
    '(any of them may take an event, and the sets of steps taken grow combinatorially); timeoutSeconds bounds the whole request.',
  request: FunnelDefinitionSchema,
  options: FunnelQueryString,
  response: z.object({
    unit: z.string().describe('what `leads` counts in every step: leads, accounts (best lead), accounts_pooled (buying groups) or attempts (totals)'),
    steps: z.array(StepCount.extend({ type: z.string(), label: z.string().optional(), optional: z.literal(true).optional() })),
    breakdown: Breakdown.optional(),
    timeToConvert: z.looseObject({ buckets: z.array(z.looseObject({})), pairs: z.array(z.looseObject({ fromStep: z.number().int(), toStep: z.number().int() })) }).optional(),
    comparison: z
      .looseObject({ dateRange: z.object({ from: z.string(), to: z.string() }), steps: z.array(StepCount), breakdown: Breakdown.optional() })
      .optional()
      .describe('with compareTo: the same funnel over the other date range'),
  }),
  reads: ['touchpoints'],
  timeoutSeconds: (_definition, options) => options.timeoutSeconds,
  run: runFunnel,
  format: formatFunnel,
} satisfies QueryDeclaration<FunnelDefinition, FunnelResult, FunnelQueryOptions>;
