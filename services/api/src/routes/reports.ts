import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { SlaNotConfiguredError } from '@sluice/projector';
import { SlaReportQuerySchema } from '@sluice/schemas';
import { ProblemError } from '../problem.js';
import type { FreshnessCheck } from './analytics.js';
import { FRESHNESS_NOTE, invalidQuery, marked } from './analytics.js';
import type { ReadSide } from './projections.js';

export interface ReportRouteOptions {
  /** the read models and their rules: the SLA report is absent without them */
  projections?: ReadSide;
  fresh: FreshnessCheck;
}

/** The marketing <-> sales SLA report of issue 8, from the read models (the cost report is a declared ClickHouse query: routes/queries.ts). */
export const reportRoutes: FastifyPluginAsync<ReportRouteOptions> = async (app, { projections, fresh }) => {
  const typed = app.withTypeProvider<ZodTypeProvider>();
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
