import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { CostReportQuerySchema, parseCostReportQuery, runCostReport, withRuleDefaults } from '@sluice/analytics';
import { SlaNotConfiguredError } from '@sluice/projector';
import { SlaReportQuerySchema } from '@sluice/schemas';
import { ProblemError } from '../problem.js';
import type { Analytics, FreshnessCheck } from './analytics.js';
import { FRESHNESS_NOTE, invalidQuery, marked } from './analytics.js';
import type { ReadSide } from './projections.js';

export interface ReportRouteOptions {
  /** ClickHouse: the cost report is absent without it */
  analytics?: Analytics;
  /** the read models and their rules: the SLA report is absent without them */
  projections?: ReadSide;
  fresh: FreshnessCheck;
}

/** The two reports of issue 8: spend and return (ClickHouse), and the marketing <-> sales SLA (the read models). */
export const reportRoutes: FastifyPluginAsync<ReportRouteOptions> = async (app, { analytics, projections, fresh }) => {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  if (analytics !== undefined) {
    typed.post('/v1/reports/cost', {
      config: { scope: 'read' },
      schema: {
        summary: 'Spend and return per source, channel, campaign or business unit and period',
        description:
          'Spend (spread over the period each spend row covers), leads, MQLs, SQLs, customers (stage entries) and revenue (payments) per ' +
          'period in the business time zone and group; cost per lead, MQL, SQL and acquisition, ROI and payback (spend / revenue, in periods). ' +
          'Leads are attributed to a source by first touch (default) or last touch (`attribution`), stated in the answer. Amounts are ' +
          'converted to the configured report currency with the configured rates, which the answer lists (without a rate table: the currency ' +
          'most amounts are in). Amounts it cannot convert (a currency without a rate) are left out of every row and listed in `excluded` ' +
          '(measure, currency, events, amount, reason); the rest is answered. ' +
          'A ratio over zero is null with its reason. configVersion, stages, timeZone, businessUnits and currencies default to the live rules. ' +
          FRESHNESS_NOTE,
        body: CostReportQuerySchema,
      },
      validatorCompiler: () => (value) => ({ value }),
      handler: async (request, reply) => {
        const parsed = parseCostReportQuery(withRuleDefaults('cost', request.body, analytics.rules));
        if (!parsed.ok) throw invalidQuery('invalid-cost-report', 'cost report', parsed.issues);
        const timed = analytics.client.withTimeout(parsed.query.timeoutSeconds);
        const freshness = await fresh([analytics.sink, analytics.stageSink], parsed.query.timeoutSeconds);
        return marked(reply, freshness, await runCostReport(timed, parsed.query));
      },
    });
  }
  if (projections !== undefined) {
    typed.post('/v1/reports/sla', {
      config: { scope: 'read' },
      schema: {
        summary: 'The marketing <-> sales SLA for a period',
        description:
          'For the leads whose SLA clock started in the date range (they entered the SLA start stage, usually MQL): MQLs delivered per ' +
          'business unit against the monthly commitment (sla.mqlsPerMonth); first sales touch within sla.firstTouchWithinMinutes (exactly ' +
          'at the target is met) and the committed attempts in the first week, per owner and business unit, at asOf (default now); the ' +
          'breaching leads; speed to lead (median, p90) and persistence against conversion to the next stage. Targets come from the live rules. ' +
          FRESHNESS_NOTE,
        body: SlaReportQuerySchema,
      },
      validatorCompiler: () => (value) => ({ value }),
      handler: async (request, reply) => {
        const parsed = SlaReportQuerySchema.safeParse(request.body);
        if (!parsed.success) throw invalidQuery('invalid-sla-report', 'SLA report', parsed.error.issues.map((i) => ({ field: i.path.map(String).join('.'), message: i.message })));
        const q = parsed.data;
        const freshness = await fresh([projections.projector]);
        try {
          return marked(reply, freshness, await projections.readModels.slaReport(projections.config, {
            fromMs: Date.parse(q.dateRange.from),
            toMs: Date.parse(q.dateRange.to),
            // the API is the edge that may read the clock: the report itself takes the instant
            asOfMs: q.asOf === undefined ? Date.now() : Date.parse(q.asOf),
            breachLimit: q.breachLimit,
          }));
        } catch (err) {
          if (err instanceof SlaNotConfiguredError) throw new ProblemError(409, 'no-sla', 'No SLA configured', err.message);
          throw err;
        }
      },
    });
  }
};
