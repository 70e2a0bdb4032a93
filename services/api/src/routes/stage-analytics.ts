import type { FastifyInstance, FastifyPluginAsync, FastifyRequest, FastifySchemaCompiler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { DEFAULT_QUERY_TIMEOUT_SECONDS, FreshnessSchema, MAX_QUERY_TIMEOUT_SECONDS, STAGE_QUERIES, parseWith, withRuleDefaults } from '@sluice/analytics';
import type { AnyStageQuery } from '@sluice/analytics';
import { FRESHNESS_NOTE, invalidQuery, marked } from './analytics.js';
import type { AnalyticsRoutes } from './analytics.js';

const TIMEOUT_NOTE = `timeoutSeconds (1 to ${MAX_QUERY_TIMEOUT_SECONDS}, default ${DEFAULT_QUERY_TIMEOUT_SECONDS}) bounds the whole request: its queries answer within it together, else 504 query-timeout.`;

/**
 * Fastify's one validation of the body, with the query's own words: a 400 of
 * the query's problem type naming every field (a missing one "required",
 * unknown ones by name), which the generic zod compiler does not say.
 */
function bodyValidator(query: AnyStageQuery): FastifySchemaCompiler<unknown> {
  return () => (body) => {
    const parsed = parseWith(query.request, body);
    return parsed.ok ? { value: parsed.query } : { error: invalidQuery(query.slug, query.what, parsed.issues) };
  };
}

function register(app: FastifyInstance, query: AnyStageQuery, { client, sink, stageSink, rules, fresh }: AnalyticsRoutes): void {
  app.withTypeProvider<ZodTypeProvider>().post(query.path, {
    config: { scope: 'read' },
    schema: {
      summary: query.summary,
      description: `${query.description} ${TIMEOUT_NOTE} ${FRESHNESS_NOTE}`,
      body: query.request,
      response: { 200: query.response.extend({ freshness: FreshnessSchema }) },
    },
    // the live rules fill what the body leaves out before it is validated, so every issue names a field of the whole query
    // (its body is not the query yet: unvalidated input)
    preValidation: async (request: FastifyRequest) => {
      request.body = withRuleDefaults(query.kind, request.body, rules);
    },
    validatorCompiler: bodyValidator(query),
    handler: async (request, reply) => {
      const valid = request.body;
      // retention and close rates read the touchpoints too
      const freshness = await fresh([sink, stageSink], valid.timeoutSeconds);
      return marked(reply, freshness, await query.run(client.withTimeout(valid.timeoutSeconds), valid));
    },
  });
}

/** Stage-level analytics in ClickHouse over the stage tables the projector writes (and, for retention, the touchpoints): one route per declared query. */
export const stageAnalyticsRoutes: FastifyPluginAsync<AnalyticsRoutes> = async (app, analytics) => {
  for (const query of Object.values<AnyStageQuery>(STAGE_QUERIES)) register(app, query, analytics);
};
