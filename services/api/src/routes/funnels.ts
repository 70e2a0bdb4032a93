import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  DEFAULT_QUERY_TIMEOUT_SECONDS,
  FUNNEL_LIMITS,
  FunnelDefinitionSchema,
  FunnelLeadsQuerySchema,
  FunnelQueryOptionsSchema,
  listFunnelLeads,
  parseFunnelDefinition,
  runFunnel,
} from '@sluice/analytics';
import type { FunnelDefinition } from '@sluice/analytics';
import { ProblemError } from '../problem.js';
import { definedOnly } from '../query-string.js';
import { FRESHNESS_NOTE, checkedQueryString, invalidQuery, marked } from './analytics.js';
import type { AnalyticsRoutes } from './analytics.js';

function definitionOf(body: unknown): FunnelDefinition {
  const parsed = parseFunnelDefinition(body);
  if (parsed.ok) return parsed.definition;
  throw invalidQuery('invalid-funnel', 'funnel definition', parsed.issues);
}

// query strings arrive as text: coerce the numeric options before the package's own schemas check them
const TIMEOUT_DESCRIPTION = `1 to ${FUNNEL_LIMITS.maxTimeoutSeconds} (default ${DEFAULT_QUERY_TIMEOUT_SECONDS}): the request's queries answer within it together, else 504 query-timeout`;
const FunnelQuery = z.object({
  timeoutSeconds: z.coerce.number().optional().describe(TIMEOUT_DESCRIPTION),
  breakdownLimit: z.coerce.number().optional(),
});
const LeadsQuery = z.object({
  stepIndex: z.coerce.number(),
  status: z.enum(['reached', 'dropped']).optional(),
  breakdownValue: z.string().optional(),
  limit: z.coerce.number().optional(),
  after: z.string().optional(),
  timeoutSeconds: z.coerce.number().optional().describe(TIMEOUT_DESCRIPTION),
});

export const funnelRoutes: FastifyPluginAsync<AnalyticsRoutes> = async (app, { client, sink, fresh }) => {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  routes.post('/v1/funnels', {
    config: { scope: 'read' },
    schema: {
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
        '(any of them may take an event, and the sets of steps taken grow combinatorially); timeoutSeconds bounds the whole request. ' +
        FRESHNESS_NOTE,
      body: FunnelDefinitionSchema,
      querystring: FunnelQuery,
    },
    // body and query are checked in the handler, so every issue names its field
    validatorCompiler: () => (value) => ({ value }),
    handler: async (request, reply) => {
      const definition = definitionOf(request.body);
      const options = checkedQueryString(FunnelQueryOptionsSchema, definedOnly(checkedQueryString(FunnelQuery, request.query)));
      const timed = client.withTimeout(options.timeoutSeconds);
      const freshness = await fresh([sink], options.timeoutSeconds);
      return marked(reply, freshness, await runFunnel(timed, definition, options));
    },
  });
  routes.post('/v1/funnels/leads', {
    config: { scope: 'read' },
    schema: {
      summary: 'The leads at one step of a funnel',
      description: `The body is the funnel definition; the query string picks the step (0-based), reached or dropped, a breakdown value, and the page. ${FRESHNESS_NOTE}`,
      body: FunnelDefinitionSchema,
      querystring: LeadsQuery,
    },
    validatorCompiler: () => (value) => ({ value }),
    handler: async (request, reply) => {
      const definition = definitionOf(request.body);
      const query = checkedQueryString(FunnelLeadsQuerySchema, definedOnly(checkedQueryString(LeadsQuery, request.query)));
      if (query.stepIndex >= definition.steps.length) {
        throw new ProblemError(400, 'invalid-request', 'Invalid request', `stepIndex ${query.stepIndex} is past the funnel's last step (${definition.steps.length - 1})`, [
          { field: 'querystring.stepIndex', message: `must be below ${definition.steps.length}` },
        ]);
      }
      const timed = client.withTimeout(query.timeoutSeconds);
      const freshness = await fresh([sink], query.timeoutSeconds);
      return marked(reply, freshness, await listFunnelLeads(timed, definition, query));
    },
  });
};
