import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { FreshnessSchema, clickHouseForecastSource } from '@sluice/analytics';
import { ForecastAnswerSchema, ForecastQuerySchema, answerForecast } from '@sluice/revenue';
import { RuleConfigSchema } from '@sluice/schemas';
import { FRESHNESS_NOTE, marked } from './analytics.js';
import type { AnalyticsRoutes } from './analytics.js';
import { queryString } from './revenue.js';

/** The revenue forecast of a period and its back-test (issue 17, item 6). */
export const forecastRoutes: FastifyPluginAsync<AnalyticsRoutes> = async (app, { client, sink, rules, fresh }) => {
  const model = (rules ?? RuleConfigSchema.parse({ version: 'defaults' })).opportunities;

  app.withTypeProvider<ZodTypeProvider>().get('/v1/forecast', {
    config: { scope: 'read' },
    schema: {
      summary: 'The revenue forecast of a period, with its back-test',
      description:
        'Expected revenue of the period (a quarter 2026-Q3 or a month 2026-07 in timeZone) as of asOf (default now): won so far, plus each open ' +
        'opportunity expected to close in it (at its close date, or now if overdue) at its learned win probability (the posterior mean of a Beta ' +
        'prior of strength priorStrength centred on the probability frozen at stage entry, updated with the won and lost opportunities of the ' +
        'lookback of the same segment that stayed in that stage at least as long: age buckets 0, 30, 90 days), plus opportunities not yet ' +
        "created (the lookback's creation rate, win rate and won deals, whose cycle must end in the period). P10/P50/P90 from `runs` seeded " +
        'Monte Carlo draws, per currency, by forecast category and by owner. backtest=N forecasts each of the N periods before as of its start ' +
        'from the log as it then stood and compares with what was won: per period the absolute percentage error, and their mean (MAPE). ' +
        'The journeys and open pipelines are folded by ClickHouse from the opportunity events the touchpoint sink wrote; the forecast is @sluice/revenue\'s. ' +
        FRESHNESS_NOTE,
      querystring: ForecastQuerySchema,
      response: { 200: ForecastAnswerSchema.extend({ freshness: FreshnessSchema }) },
    },
    validatorCompiler: queryString(ForecastQuerySchema),
    handler: async (request, reply) => {
      const freshness = await fresh([sink]);
      // the API is the edge that may read the clock: the forecast takes the instant
      return marked(reply, freshness, await answerForecast(request.query, Date.now(), clickHouseForecastSource(client, model)));
    },
  });
};
