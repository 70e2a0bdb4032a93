import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import {
  ActivityCloseRatesQuerySchema,
  StageConversionQuerySchema,
  parseActivityCloseRatesQuery,
  parseStageConversionQuery,
  runActivityCloseRates,
  runStageConversion,
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
};
