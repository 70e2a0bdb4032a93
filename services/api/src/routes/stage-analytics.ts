import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import {
  ActivityCloseRatesQuerySchema,
  ConversionDriversQuerySchema,
  DEFAULT_QUERY_TIMEOUT_SECONDS,
  MAX_QUERY_TIMEOUT_SECONDS,
  RetentionCohortsQuerySchema,
  StageConversionQuerySchema,
  TimeToConvertQuerySchema,
  parseActivityCloseRatesQuery,
  parseConversionDriversQuery,
  parseRetentionCohortsQuery,
  parseStageConversionQuery,
  parseTimeToConvertQuery,
  runActivityCloseRates,
  runConversionDrivers,
  runRetentionCohorts,
  runStageConversion,
  runTimeToConvert,
  withRuleDefaults,
} from '@sluice/analytics';
import type { AnalyticsClient, FieldIssue, StageQueryKind } from '@sluice/analytics';
import { FRESHNESS_NOTE, invalidQuery, marked } from './analytics.js';
import type { AnalyticsRoutes } from './analytics.js';

/** One stage-level query as a route: its body schema (for OpenAPI), its parser, its runner. */
interface StageRoute<Q, R> {
  path: string;
  kind: StageQueryKind;
  /** the problem type and the words for a 400: "invalid-conversion-query", "conversion query" */
  slug: string;
  what: string;
  summary: string;
  description: string;
  body: z.ZodType;
  parse(input: unknown): { ok: true; query: Q } | { ok: false; issues: FieldIssue[] };
  // Q is what parse gives; a runner taking more (its raw input too) must not widen it
  run(client: AnalyticsClient, query: NoInfer<Q>): Promise<R>;
}

const TIMEOUT_NOTE = `timeoutSeconds (1 to ${MAX_QUERY_TIMEOUT_SECONDS}, default ${DEFAULT_QUERY_TIMEOUT_SECONDS}) bounds the whole request: its queries answer within it together, else 504 query-timeout.`;

function register<Q extends { timeoutSeconds: number }, R extends object>(app: FastifyInstance, route: StageRoute<Q, R>, { client, sink, stageSink, rules, fresh }: AnalyticsRoutes): void {
  app.withTypeProvider<ZodTypeProvider>().post(route.path, {
    config: { scope: 'read' },
    schema: { summary: route.summary, description: `${route.description} ${TIMEOUT_NOTE} ${FRESHNESS_NOTE}`, body: route.body },
    // the body is checked in the handler, after the live defaults, so every issue names its field
    validatorCompiler: () => (value) => ({ value }),
    handler: async (request, reply) => {
      const parsed = route.parse(withRuleDefaults(route.kind, request.body, rules));
      if (!parsed.ok) throw invalidQuery(route.slug, route.what, parsed.issues);
      const timed = client.withTimeout(parsed.query.timeoutSeconds);
      // retention and close rates read the touchpoints too
      const freshness = await fresh([sink, stageSink], parsed.query.timeoutSeconds);
      return marked(reply, freshness, await route.run(timed, parsed.query));
    },
  });
}

/** Stage-level analytics in ClickHouse over the stage tables the projector writes (and, for retention, the touchpoints). */
export const stageAnalyticsRoutes: FastifyPluginAsync<AnalyticsRoutes> = async (app, analytics) => {
  register(
    app,
    {
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
      body: StageConversionQuerySchema,
      parse: parseStageConversionQuery,
      run: runStageConversion,
    },
    analytics,
  );
  register(
    app,
    {
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
      body: ActivityCloseRatesQuerySchema,
      parse: parseActivityCloseRatesQuery,
      run: runActivityCloseRates,
    },
    analytics,
  );
  register(
    app,
    {
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
      body: ConversionDriversQuerySchema,
      parse: parseConversionDriversQuery,
      run: runConversionDrivers,
    },
    analytics,
  );
  register(
    app,
    {
      path: '/v1/time-to-convert',
      kind: 'timeToConvert',
      slug: 'invalid-time-to-convert-query',
      what: 'time-to-convert query',
      summary: 'Time to convert: its distribution between two stages or two touchpoint steps',
      description:
        'Between two stages (the leads that entered `from` in the date range and reached `to`, skipped stages passed through) or two ' +
        'touchpoint steps (the first `from` event in range, the first `to` event at or after it, actors as funnels count them), within an ' +
        'optional inclusive window: count, mean, median, p90 and a histogram (given edges, or a fixed ladder from 1 minute to 2 years), ' +
        'per segment (stages) or breakdown (steps). With a period (day, ISO week, month, quarter or year) the rows are per period of ' +
        'entering `from` in the business time zone as well, cut as stage conversion cuts cohorts: the trend. configVersion and timeZone ' +
        'default to the live rules of the server.',
      body: TimeToConvertQuerySchema,
      parse: parseTimeToConvertQuery,
      run: runTimeToConvert,
    },
    analytics,
  );
  register(
    app,
    {
      path: '/v1/cohorts',
      kind: 'retention',
      slug: 'invalid-cohorts-query',
      what: 'cohorts query',
      summary: 'Retention cohorts: customers renewing or upsold by periods since purchase',
      description:
        'Customers by the month or quarter of their first purchase (payment by default) in the business time zone; for each offset since, ' +
        'how many had a retention event (renewal or upsell by default) in that calendar period, and the rate over the cohort. Segment by ' +
        "the purchase's source, channel or campaign, or a lead profile key. With unit \"accounts\" a customer is an account (the one its " +
        "leads' profiles name; a lead without one is its own): its first purchase is its first lead's, and any of its leads retains it. " +
        'timeZone and configVersion default to the live rules of the server.',
      body: RetentionCohortsQuerySchema,
      parse: parseRetentionCohortsQuery,
      run: runRetentionCohorts,
    },
    analytics,
  );
};
