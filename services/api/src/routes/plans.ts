import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { planInputSchema, planReverseFunnel, withMeasuredHistory } from '@sluice/planner';
import { measureFunnel } from '@sluice/projector';
import type { ProjectionStore } from '@sluice/projector';
import { ProblemError } from '../problem.js';

export interface PlanRouteOptions {
  /** the read models: when present, steps without a measurement are measured from them, and the pipeline held now is counted */
  projections?: ProjectionStore;
}

/** months of cohorts behind measured rates */
const LOOKBACK_MONTHS = 12;

export const planRoutes: FastifyPluginAsync<PlanRouteOptions> = async (app, { projections }) => {
  app.withTypeProvider<ZodTypeProvider>().post('/v1/plans/reverse', {
    config: { scope: 'read' },
    schema: {
      summary: 'Plan backward from a revenue target',
      description:
        'From revenue targets per period and business unit to the deals, SQLs, MQLs, leads and visits required, ' +
        'when each must arrive (a calendar shifted by stage lags), the gap the current pipeline leaves, an SLA draft, ' +
        'P10/P50/P90 from Beta posteriors of measured rates (seeded Monte Carlo: the same input gives the same plan) and the ' +
        'sensitivity of each stage. A target that cannot be planned comes back as "infeasible" with its reasons. ' +
        'On a server with read models, every step the body gives no measurement for is measured from the last 12 months of cohorts ' +
        '(a given rate then overrides it, reported beside it), lags default to the measured means, and the pipeline held now is counted; ' +
        'business unit "all" measures across units.',
      body: planInputSchema,
    },
    // the planner validates the body itself so each issue names its field path
    validatorCompiler: () => (value) => ({ value }),
    handler: async (request) => {
      const body = projections
        ? withMeasuredHistory(request.body, (r) =>
            measureFunnel(projections, { ...r, businessUnit: r.businessUnit === 'all' ? undefined : r.businessUnit, lookbackMonths: LOOKBACK_MONTHS }),
          )
        : request.body;
      const outcome = planReverseFunnel(body);
      if (!outcome.ok) {
        throw new ProblemError(
          400,
          'invalid-plan-input',
          'Invalid plan input',
          `${outcome.issues.length} problem${outcome.issues.length > 1 ? 's' : ''} in the plan input`,
          outcome.issues.map((i) => ({ field: i.path.join('.'), message: i.message })),
        );
      }
      return outcome.plan;
    },
  });
};
