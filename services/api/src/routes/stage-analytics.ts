import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import {
  ActivityCloseRatesQuerySchema,
  RetentionCohortsQuerySchema,
  StageConversionQuerySchema,
  TimeToConvertQuerySchema,
  parseActivityCloseRatesQuery,
  parseRetentionCohortsQuery,
  parseStageConversionQuery,
  parseTimeToConvertQuery,
  runActivityCloseRates,
  runRetentionCohorts,
  runStageConversion,
  runTimeToConvert,
  withRuleDefaults,
} from '@sluice/analytics';
import { freshEnough, invalidQuery } from './analytics.js';
import type { Analytics } from './analytics.js';

const LIVE_RULES_NOTE = 'configVersion, stages and timeZone default to the live rules of the server.';

/** Stage-level analytics in ClickHouse over the stage tables the projector writes. */
export const stageAnalyticsRoutes: FastifyPluginAsync<Analytics> = async (app, { client, sink, stageSink, rules }) => {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.post('/v1/conversion', {
    config: { scope: 'read' },
    schema: {
      summary: 'Stage conversion per cohort and segment',
      description:
        'For pairs of stages (step_to_step, from_first or explicit), per cohort period of entering the first stage of the pair ' +
        '(day, ISO week, month, quarter, year or all, in the business time zone) and per segment (a lead profile key): leads entered, ' +
        'converted, rate, skipped through, still open (with asOf and a window), median and p90 time to convert. Skipped stages count as ' +
        'passed through; the window is inclusive. A series of periods is the conversion trend. ' +
        LIVE_RULES_NOTE,
      body: StageConversionQuerySchema,
    },
    // the body is checked in the handler, after the live defaults, so every issue names its field
    validatorCompiler: () => (value) => ({ value }),
    handler: async (request) => {
      const parsed = parseStageConversionQuery(withRuleDefaults('conversion', request.body, rules));
      if (!parsed.ok) throw invalidQuery('invalid-conversion-query', 'conversion query', parsed.issues);
      await freshEnough(sink, stageSink);
      return runStageConversion(client, parsed.query);
    },
  });

  routes.post('/v1/close-rates', {
    config: { scope: 'read' },
    schema: {
      summary: 'Closed-loop activity close rates',
      description:
        'For each touchpoint type (optionally split by a property), the leads of the population (those entering populationStage in the date ' +
        'range) who did it before becoming customers, how many closed, the close rate with a Wilson interval, and its lift over the average; ' +
        'ranked by the interval\'s lower bound, with MQL-rule candidates and score weights as suggestions. configVersion, populationStage ' +
        '(the stage model\'s second stage) and customerStage default to the live rules of the server.',
      body: ActivityCloseRatesQuerySchema,
    },
    validatorCompiler: () => (value) => ({ value }),
    handler: async (request) => {
      const parsed = parseActivityCloseRatesQuery(withRuleDefaults('closeRates', request.body, rules));
      if (!parsed.ok) throw invalidQuery('invalid-close-rates-query', 'close-rates query', parsed.issues);
      await freshEnough(sink, stageSink);
      return runActivityCloseRates(client, parsed.query);
    },
  });

  routes.post('/v1/time-to-convert', {
    config: { scope: 'read' },
    schema: {
      summary: 'Time to convert: its distribution between two stages or two touchpoint steps',
      description:
        'Between two stages (the leads that entered `from` in the date range and reached `to`, skipped stages passed through) or two ' +
        'touchpoint steps (the first `from` event in range, the first `to` event at or after it, actors as funnels count them), within an ' +
        'optional inclusive window: count, mean, median, p90 and a histogram (given edges, or a fixed ladder from 1 minute to 2 years), ' +
        'per segment (stages) or breakdown (steps). configVersion defaults to the live rules of the server.',
      body: TimeToConvertQuerySchema,
    },
    validatorCompiler: () => (value) => ({ value }),
    handler: async (request) => {
      const parsed = parseTimeToConvertQuery(withRuleDefaults('timeToConvert', request.body, rules));
      if (!parsed.ok) throw invalidQuery('invalid-time-to-convert-query', 'time-to-convert query', parsed.issues);
      await freshEnough(sink, stageSink);
      return runTimeToConvert(client, parsed.query);
    },
  });

  routes.post('/v1/cohorts', {
    config: { scope: 'read' },
    schema: {
      summary: 'Retention cohorts: customers renewing or upsold by periods since purchase',
      description:
        'Customers by the month or quarter of their first purchase (payment by default) in the business time zone; for each offset since, ' +
        'how many had a retention event (renewal or upsell by default) in that calendar period, and the rate over the cohort. Segment by ' +
        'the purchase\'s source, channel or campaign, or a lead profile key. timeZone and configVersion default to the live rules of the server.',
      body: RetentionCohortsQuerySchema,
    },
    validatorCompiler: () => (value) => ({ value }),
    handler: async (request) => {
      const parsed = parseRetentionCohortsQuery(withRuleDefaults('retention', request.body, rules));
      if (!parsed.ok) throw invalidQuery('invalid-cohorts-query', 'cohorts query', parsed.issues);
      await freshEnough(sink, stageSink);
      return runRetentionCohorts(client, parsed.query);
    },
  });
};
