import type { FastifyInstance, FastifyPluginAsync, FastifyRequest, FastifySchemaCompiler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { DEFAULT_QUERY_TIMEOUT_SECONDS, FreshnessSchema, MAX_QUERY_TIMEOUT_SECONDS, QUERIES, READ_MODEL_QUERIES, parseWith, withAsOfDefault, withRuleDefaults } from '@sluice/analytics';
import type { AnalyticsClient, AnyQuery, AnyReadModelQuery, QueryDeclaration, QueryReads, ReadModelSource } from '@sluice/analytics';
import type { Follower } from '@sluice/follower';
import type { RuleConfig } from '@sluice/schemas';
import { ProblemError } from '../problem.js';
import { FRESHNESS_NOTE, invalidQuery, marked } from './analytics.js';
import type { Analytics, FreshnessCheck } from './analytics.js';
import type { ReadSide } from './projections.js';

const TIMEOUT_NOTE = `timeoutSeconds (1 to ${MAX_QUERY_TIMEOUT_SECONDS}, default ${DEFAULT_QUERY_TIMEOUT_SECONDS}) bounds the whole request: its queries answer within it together, else 504 query-timeout.`;

/**
 * Fastify's one validation of each part, with the query's own words: a 400
 * naming every field (a missing one "required", unknown ones by name), which
 * the generic zod compiler does not say; the body's of the query's problem
 * type, the query string's as querystring.<option>.
 */
function validator<S>(query: QueryDeclaration<unknown, object, unknown, S>): FastifySchemaCompiler<unknown> {
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

/** Where a route's answer comes from: what its query runs on, under the request's timeout, and the followers writing what it reads. */
interface QuerySource<S> {
  open(timeoutSeconds: number | undefined): S;
  writers: Partial<Record<QueryReads, Follower>>;
  rules: RuleConfig | undefined;
  fresh: FreshnessCheck;
}

function register<S>(app: FastifyInstance, query: QueryDeclaration<unknown, object, unknown, S>, { open, writers, rules, fresh }: QuerySource<S>): void {
  app.withTypeProvider<ZodTypeProvider>().post(query.path, {
    config: { scope: 'read' },
    schema: {
      summary: query.summary,
      // a query with options bounds its time in the query string, where its schema describes timeoutSeconds
      description: [query.description, ...(query.options === undefined && query.timeoutSeconds !== undefined ? [TIMEOUT_NOTE] : []), FRESHNESS_NOTE].join(' '),
      body: query.request,
      ...(query.options === undefined ? {} : { querystring: query.options }),
      response: { 200: query.response.extend({ freshness: FreshnessSchema }) },
    },
    // the live rules fill what the body leaves out before it is validated, so every issue names a field of the whole query
    // (its body is not the query yet: unvalidated input)
    ...(query.kind === undefined && query.asOfDefaultsToNow === undefined
      ? {}
      : {
          preValidation: async (request: FastifyRequest) => {
            // the API is the edge that may read the clock: a body without asOf is asked as of its arrival where the query says so
            const body = withAsOfDefault(query, request.body, new Date());
            request.body = query.kind === undefined ? body : withRuleDefaults(query.kind, body, rules);
          },
        }),
    validatorCompiler: validator(query),
    handler: async (request, reply) => {
      const { body, query: options } = request;
      const issues = query.crossCheck?.(body, options) ?? [];
      if (issues.length > 0) throw new ProblemError(400, 'invalid-request', 'Invalid request', issues.map((i) => `${i.field}: ${i.message}`).join('; '), issues);
      const timeoutSeconds = query.timeoutSeconds?.(body, options);
      const freshness = await fresh(
        query.reads.map((what) => writers[what]),
        timeoutSeconds,
      );
      return marked(reply, freshness, await query.run(open(timeoutSeconds), body, options));
    },
  });
}

export interface QueryRouteOptions {
  /** ClickHouse and its followers: the ClickHouse queries are absent without it */
  analytics?: Analytics;
  /** the read models and their rules: their queries are absent without them */
  projections?: ReadSide;
  fresh: FreshnessCheck;
}

/**
 * One route per declared query: those ClickHouse answers (funnels over the
 * touchpoints; stage queries and the cost report over the stage tables the
 * projector writes beside them) and those the read models answer.
 */
export const queryRoutes: FastifyPluginAsync<QueryRouteOptions> = async (app, { analytics, projections, fresh }) => {
  if (analytics !== undefined) {
    const { client, sink, stageSink, rules } = analytics;
    const source: QuerySource<AnalyticsClient> = {
      open: (timeoutSeconds) => client.withTimeout(timeoutSeconds ?? DEFAULT_QUERY_TIMEOUT_SECONDS),
      writers: { touchpoints: sink, ...(stageSink === undefined ? {} : { stageTables: stageSink }) },
      rules,
      fresh,
    };
    for (const query of Object.values<AnyQuery>(QUERIES)) register(app, query, source);
  }
  if (projections !== undefined) {
    const { readModels, config, projector } = projections;
    const source: QuerySource<ReadModelSource> = {
      // the API is the edge that may read the clock: a query takes "now" as an instant
      open: () => ({ readModels, rules: config, nowMs: Date.now() }),
      writers: { readModels: projector },
      rules: config,
      fresh,
    };
    for (const query of Object.values<AnyReadModelQuery>(READ_MODEL_QUERIES)) register(app, query, source);
  }
};
