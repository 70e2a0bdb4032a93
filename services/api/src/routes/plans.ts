import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { AmbiguousCurrencyError, measurePlanDealSize } from '@sluice/analytics';
import { historyRequestsOf, lookbackRange, planInputSchema, planReverseFunnel, withMeasuredHistory, withRuleSlaTargets } from '@sluice/planner';
import type { HistoryRequest, MeasuredDealSize } from '@sluice/planner';
import { measureFunnel } from '@sluice/projector';
import type { ProjectionStore } from '@sluice/projector';
import { ProblemError } from '../problem.js';
import { freshEnough } from './analytics.js';
import type { Analytics } from './analytics.js';

export interface PlanRouteOptions {
  /** the read models: when present, steps without a measurement are measured from them, and the pipeline held now is counted */
  projections?: ProjectionStore;
  /** ClickHouse under the live rules: when present, each business unit's deal size is measured from its payments */
  analytics?: Analytics;
}

/** months of cohorts (and of won deals) behind measured rates and deal sizes */
const LOOKBACK_MONTHS = 12;

/**
 * Each unit's deal size from the payments of the deals it won in the lookback,
 * keyed by unit id (the CLI's `sluice plan` measures the same way). Deals paid
 * in several currencies, with none named, go to `ambiguous` with the unit's
 * index in the body (the API answers a 400 naming dealSize.currency).
 */
export async function measuredDealSizes(
  body: unknown,
  { client, rules }: Pick<Analytics, 'client' | 'rules'>,
  ambiguous: (unitIndex: number, err: AmbiguousCurrencyError) => never,
  lookbackMonths = LOOKBACK_MONTHS,
): Promise<Map<string, MeasuredDealSize>> {
  const sizes = new Map<string, MeasuredDealSize>();
  if (rules === undefined) return sizes;
  for (const [index, request] of historyRequestsOf(body).entries()) {
    const dateRange = lookbackRange(request, lookbackMonths);
    if (dateRange === undefined) continue;
    try {
      const size = await measurePlanDealSize(client, {
        configVersion: rules.version,
        customerStage: rules.stageModel.customerStage,
        dateRange,
        ...(request.businessUnit === 'all' ? {} : { businessUnit: request.businessUnit }),
        ...(request.currency === undefined ? {} : { currency: request.currency }),
      });
      if (size !== undefined) sizes.set(request.businessUnit, size);
    } catch (err) {
      if (!(err instanceof AmbiguousCurrencyError)) throw err;
      ambiguous(index, err);
    }
  }
  return sizes;
}

function currencyProblem(unitIndex: number, err: AmbiguousCurrencyError): never {
  throw new ProblemError(400, 'invalid-plan-input', 'Invalid plan input', err.message, [{ field: `businessUnits.${unitIndex}.dealSize.currency`, message: err.message }]);
}

function measuredHistory(projections: ProjectionStore | undefined, dealSizes: Map<string, MeasuredDealSize>) {
  return (request: HistoryRequest) => {
    const dealSize = dealSizes.get(request.businessUnit);
    const funnel = projections
      ? measureFunnel(projections, { ...request, businessUnit: request.businessUnit === 'all' ? undefined : request.businessUnit, lookbackMonths: LOOKBACK_MONTHS })
      : { steps: [], pipeline: {} };
    return { ...funnel, ...(dealSize === undefined ? {} : { dealSize }) };
  };
}

export const planRoutes: FastifyPluginAsync<PlanRouteOptions> = async (app, { projections, analytics }) => {
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
        'the deal size is measured from the payments of the deals won in those 12 months (from winning to 90 days after), in ' +
        'dealSize.currency or the one currency they were paid in; a given deal size overrides it. Business unit "all" measures across units.',
      body: planInputSchema,
    },
    // the planner validates the body itself so each issue names its field path
    validatorCompiler: () => (value) => ({ value }),
    handler: async (request) => {
      if (analytics) await freshEnough(analytics.sink, analytics.stageSink);
      // an SLA section takes the live rules' marketing stage and commitment, the targets the SLA report checks
      const requested = withRuleSlaTargets(request.body, analytics?.rules?.sla);
      const dealSizes = analytics ? await measuredDealSizes(requested, analytics, currencyProblem) : new Map<string, MeasuredDealSize>();
      const body = projections || dealSizes.size > 0 ? withMeasuredHistory(requested, measuredHistory(projections, dealSizes)) : requested;
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
