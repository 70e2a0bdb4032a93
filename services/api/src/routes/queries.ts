import type { FastifyInstance, FastifyPluginAsync, FastifyRequest, FastifySchemaCompiler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { DEFAULT_QUERY_TIMEOUT_SECONDS, FreshnessSchema, MAX_QUERY_TIMEOUT_SECONDS, QUERIES, parseWith, withRuleDefaults } from '@sluice/analytics';
import type { AnyQuery, QueryReads } from '@sluice/analytics';
import type { Follower } from '@sluice/follower';
import { ProblemError } from '../problem.js';
import { FRESHNESS_NOTE, invalidQuery, marked } from './analytics.js';
import type { AnalyticsRoutes } from './analytics.js';

const TIMEOUT_NOTE = `timeoutSeconds (1 to ${MAX_QUERY_TIMEOUT_SECONDS}, default ${DEFAULT_QUERY_TIMEOUT_SECONDS}) bounds the whole request: its queries answer within it together, else 504 query-timeout.`;

/**
 * Fastify's one validation of each part, with the query's own words: a 400
 * naming every field (a missing one "required", unknown ones by name), which
 * the generic zod compiler does not say; the body's of the query's problem
 * type, the query string's as querystring.<option>.
 */
function validator(query: AnyQuery): FastifySchemaCompiler<unknown> {
  return ({ httpPart }) =>
    (value) => {
      if (httpPart === 'querystring' && query.options !== undefined) {
        const parsed = parseWith(query.options, value);
        if (parsed.ok) return { value: parsed.query };
        const issues = parsed.issues.map((i) => ({ field: ['querystring', i.field].filter(Boolean).join('.'), message: i.message }));
        return { error: new ProblemError(400, 'invalid-request', 'Invalid request', 'the query string is invalid', issues) };
      }
      const parsed = parseWith(query.request, value);
      return parsed.ok ? { value: parsed.query } : { error: invalidQuery(query.slug, query.what, parsed.issues) };
    };
}

function register(app: FastifyInstance, query: AnyQuery, { client, sink, stageSink, rules, fresh }: AnalyticsRoutes): void {
  const writers: Record<QueryReads, Follower | undefined> = { touchpoints: sink, stageTables: stageSink };
  app.withTypeProvider<ZodTypeProvider>().post(query.path, {
    config: { scope: 'read' },
    schema: {
      summary: query.summary,
      // a query with options bounds its time in the query string, where its schema describes timeoutSeconds
      description: [query.description, ...(query.options === undefined ? [TIMEOUT_NOTE] : []), FRESHNESS_NOTE].join(' '),
      body: query.request,
      ...(query.options === undefined ? {} : { querystring: query.options }),
      response: { 200: query.response.extend({ freshness: FreshnessSchema }) },
    },
    // the live rules fill what the body leaves out before it is validated, so every issue names a field of the whole query
    // (its body is not the query yet: unvalidated input)
    ...(query.kind === undefined
      ? {}
      : {
          preValidation: async (request: FastifyRequest) => {
            request.body = withRuleDefaults(query.kind!, request.body, rules);
          },
        }),
    validatorCompiler: validator(query),
    handler: async (request, reply) => {
      const { body, query: options } = request;
      const issues = query.crossCheck?.(body, options) ?? [];
      if (issues.length > 0) throw new ProblemError(400, 'invalid-request', 'Invalid request', issues.map((i) => `${i.field}: ${i.message}`).join('; '), issues);
      const timeoutSeconds = query.timeoutSeconds(body, options);
      const freshness = await fresh(
        query.reads.map((table) => writers[table]),
        timeoutSeconds,
      );
      return marked(reply, freshness, await query.run(client.withTimeout(timeoutSeconds), body, options));
    },
  });
}

/** Every query ClickHouse answers (funnels over the touchpoints; stage queries and reports over the stage tables the projector writes beside them): one route per declared query. */
export const queryRoutes: FastifyPluginAsync<AnalyticsRoutes> = async (app, analytics) => {
  for (const query of Object.values<AnyQuery>(QUERIES)) register(app, query, analytics);
};
