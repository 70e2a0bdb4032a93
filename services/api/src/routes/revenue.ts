import type { FastifyPluginAsync, FastifySchemaCompiler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { FreshnessSchema, clickHouseWaterfallSource, openOpportunitiesAsOf, parseWith } from '@sluice/analytics';
import { PipelineAnswerSchema, PipelineQuerySchema, WaterfallAnswerSchema, WaterfallQuerySchema, answerPipelineOfFolded, answerWaterfallOfFolded } from '@sluice/revenue';
import { RuleConfigSchema } from '@sluice/schemas';
import { ProblemError } from '../problem.js';
import { FRESHNESS_NOTE, marked } from './analytics.js';
import type { AnalyticsRoutes } from './analytics.js';

/** A 400 naming every bad query-string field (querystring.<field>), as the other routes with options do. */
export function queryString(schema: z.ZodType): FastifySchemaCompiler<unknown> {
  return () => (value) => {
    const parsed = parseWith(schema, value);
    if (parsed.ok) return { value: parsed.query };
    const issues = parsed.issues.map((i) => ({ field: ['querystring', i.field].filter(Boolean).join('.'), message: i.message }));
    return { error: new ProblemError(400, 'invalid-request', 'Invalid request', 'the query string is invalid', issues) };
  };
}

const SOURCE_NOTE =
  'ClickHouse folds the opportunity events the touchpoint sink wrote (parameter-bound SQL, held equal to the @sluice/revenue fold by a property test); the live opportunity stage model (rules `opportunities`) gives the probabilities and categories.';

/** The open pipeline at an instant and the waterfall of a period (issue 17). */
export const revenueRoutes: FastifyPluginAsync<AnalyticsRoutes> = async (app, { client, sink, rules, fresh }) => {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const model = (rules ?? RuleConfigSchema.parse({ version: 'defaults' })).opportunities;

  typed.get('/v1/pipeline', {
    config: { scope: 'read' },
    schema: {
      summary: 'The open pipeline as of an instant',
      description:
        'Every opportunity created before asOf (default now) and not won or lost before it, as its events up to then made it (exact for any past ' +
        'instant), grouped by groupBy (stage, category, owner, businessUnit, segment; none: one row per currency) with count, amount, weighted ' +
        'amount (amount × the win probability frozen when the deal entered its stage) and days in stage, one row per currency: amounts in ' +
        'different currencies are never added. ' +
        SOURCE_NOTE +
        ' ' +
        FRESHNESS_NOTE,
      querystring: PipelineQuerySchema,
      response: { 200: PipelineAnswerSchema.extend({ freshness: FreshnessSchema }) },
    },
    validatorCompiler: queryString(PipelineQuerySchema),
    handler: async (request, reply) => {
      const freshness = await fresh([sink]);
      // the API is the edge that may read the clock: the fold takes the instant
      return marked(reply, freshness, await answerPipelineOfFolded(request.query, Date.now(), model, (asOfMs) => openOpportunitiesAsOf(client, asOfMs)));
    },
  });

  typed.get('/v1/waterfall', {
    config: { scope: 'read' },
    schema: {
      summary: 'The pipeline waterfall of a period',
      description:
        'The pipeline of the period [from, to) is every open opportunity whose close date lies in it. Per group (groupBy: owner, businessUnit, ' +
        'segment, as of `to`) and currency: start + created + pulledIn + amountUp - amountDown - pushedOut - lost - won = end, start and end ' +
        'being that pipeline as of from and as of to, each term listing its opportunities. pushedOut: close date moved out of the period; ' +
        'pulledIn: moved into it (a deal won in the period while its close date lay outside is pulled in, then won). ' +
        SOURCE_NOTE +
        ' ' +
        FRESHNESS_NOTE,
      querystring: WaterfallQuerySchema,
      response: { 200: WaterfallAnswerSchema.extend({ freshness: FreshnessSchema }) },
    },
    validatorCompiler: queryString(WaterfallQuerySchema),
    handler: async (request, reply) => {
      const freshness = await fresh([sink]);
      return marked(reply, freshness, await answerWaterfallOfFolded(request.query, clickHouseWaterfallSource(client)));
    },
  });
};
