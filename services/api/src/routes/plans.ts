import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { planInputSchema, planReverseFunnel } from '@sluice/planner';
import { ProblemError } from '../problem.js';

export const planRoutes: FastifyPluginAsync = async (app) => {
  app.withTypeProvider<ZodTypeProvider>().post('/v1/plans/reverse', {
    config: { scope: 'read' },
    schema: {
      summary: 'Plan backward from a revenue target',
      description:
        'From revenue targets per period and business unit to the deals, SQLs, MQLs, leads and visits required, ' +
        'when each must arrive (a calendar shifted by stage lags), the gap the current pipeline leaves, an SLA draft, ' +
        'P10/P50/P90 from Beta posteriors of measured rates (seeded Monte Carlo: the same input gives the same plan) and the ' +
        'sensitivity of each stage. A target that cannot be planned comes back as "infeasible" with its reasons.',
      body: planInputSchema,
    },
    // the planner validates the body itself so each issue names its field path
    validatorCompiler: () => (value) => ({ value }),
    handler: async (request) => {
      const outcome = planReverseFunnel(request.body);
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
