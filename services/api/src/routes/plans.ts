import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DEFAULT_QUERY_TIMEOUT_SECONDS, FreshnessSchema } from '@sluice/analytics';
import type { AmbiguousCurrencyError } from '@sluice/analytics';
import { measuredAccountSteps, measuredDealSizes, measuredFunnels } from '@sluice/analytics/plan';
import { PLAN_COUNTING_UNITS, PLAN_LIMITS, planRequestIssues, planRequestSchema, planReverseFunnel, withMeasuredHistory, withRuleSlaTargets } from '@sluice/planner';
import type { HistoryRequest, HistoryStep, MeasuredDealSize, PlanInputIssue, UnitHistory } from '@sluice/planner';
import { ProblemError } from '../problem.js';
import { FRESHNESS_NOTE, marked } from './analytics.js';
import type { Analytics, FreshnessCheck } from './analytics.js';
import type { ReadSide } from './projections.js';

export interface PlanRouteOptions {
  /** the read models: when present, steps without a measurement are measured from them, and the pipeline held now is counted */
  projections?: Pick<ReadSide, 'readModels' | 'projector'>;
  /** ClickHouse under the live rules: when present, each business unit's deal size is measured from its payments, and plans may count accounts */
  analytics?: Analytics;
  fresh: FreshnessCheck;
}

/** A unit's deals paid in several currencies, with none named: the field to name one in. */
function currencyProblem(unitIndex: number, err: AmbiguousCurrencyError): never {
  throw new ProblemError(400, 'invalid-plan-input', 'Invalid plan input', err.message, [{ field: `businessUnits.${unitIndex}.dealSize.currency`, message: err.message }]);
}

function measuredHistory(funnels: Map<string, UnitHistory> | undefined, dealSizes: Map<string, MeasuredDealSize>, accountSteps: Map<string, HistoryStep[]>) {
  return (request: HistoryRequest) => {
    const dealSize = dealSizes.get(request.businessUnit);
    const funnel = funnels?.get(request.businessUnit) ?? { steps: accountSteps.get(request.businessUnit) ?? [], pipeline: {} };
    return { ...funnel, ...(dealSize === undefined ? {} : { dealSize }) };
  };
}

function invalidPlanInput(issues: readonly PlanInputIssue[]): ProblemError {
  return new ProblemError(
    400,
    'invalid-plan-input',
    'Invalid plan input',
    `${issues.length} problem${issues.length > 1 ? 's' : ''} in the plan input`,
    issues.map((i) => ({ field: i.path.join('.'), message: i.message })),
  );
}

/** Counting accounts reads ClickHouse's stage tables under the live rules; a server without them says so, naming the field. */
function accountsNeedClickHouse(body: unknown, analytics: Analytics | undefined): ProblemError | undefined {
  const asked = typeof body === 'object' && body !== null && (body as { unit?: unknown }).unit === 'accounts';
  if (!asked || analytics?.rules !== undefined) return undefined;
  const message = 'counting accounts needs ClickHouse (its stage tables under the live rules), which this server runs without: plan with unit "leads"';
  return new ProblemError(400, 'invalid-plan-input', 'Invalid plan input', message, [{ field: 'unit', message }]);
}

export const planRoutes: FastifyPluginAsync<PlanRouteOptions> = async (app, { projections: read, analytics, fresh }) => {
  const readModels = read?.readModels;
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
        'dealSize.currency or the one currency they were paid in; a given deal size overrides it. Business unit "all" measures across units. ' +
        'With unit "accounts" every volume counts accounts: steps are measured by account from ClickHouse\'s stage tables (an account ' +
        'enters a stage when its first lead does; a lead without an account counts as one) and the pipeline counts each open account at ' +
        'the furthest stage its leads hold; a server without ClickHouse answers 400 naming unit. The plan says what it counts in unit. ' +
        `Bounds (a 400 names the field): at most ${PLAN_LIMITS.maxStages} stages, ${PLAN_LIMITS.maxBusinessUnits} business units and ${PLAN_LIMITS.maxTargets} targets; ` +
        `uncertainty.draws from 100 to ${PLAN_LIMITS.maxDraws.toLocaleString('en')}, and draws x (targets + business units) x stages of the planning chain at most ` +
        `${PLAN_LIMITS.maxDrawWork.toLocaleString('en')}; each business unit's lags, each step at its longest, add up to at most ${PLAN_LIMITS.maxChainLagDays} days along the chain. ` +
        `The body is checked before anything is measured; measuring answers within ${DEFAULT_QUERY_TIMEOUT_SECONDS} s (504 query-timeout past it). ${FRESHNESS_NOTE}`,
      body: planRequestSchema,
      response: {
        200: z.object({
          input: z.unknown().describe('the validated input, defaults applied and measurements filled in: with it the plan can be rebuilt exactly'),
          asOf: z.string(),
          stages: z.array(z.string()).describe('the stages planned, first stage to deal stage'),
          unit: z.enum(PLAN_COUNTING_UNITS).describe('what every volume, observation and pipeline count counts'),
          businessUnits: z.array(z.unknown()).describe('BusinessUnitPlan of @sluice/planner: deal size, rates, and per target the volumes, calendar, pipeline and sensitivity (or infeasible with reasons)'),
          freshness: FreshnessSchema,
        }),
      },
    },
    // fastify's one check of the body, the planner's own (each issue names its field path): nothing is read for a body that cannot be
    // planned, or past the bounds (the zone and asOf measuring reads included). The body stays as sent: the measurements complete it
    // before the planner reads the whole input.
    validatorCompiler: () => (value) => {
      const issues = planRequestIssues(value);
      const refused = issues.length > 0 ? invalidPlanInput(issues) : accountsNeedClickHouse(value, analytics);
      return refused === undefined ? { value } : { error: refused };
    },
    handler: async (request, reply) => {
      // every measuring query of the plan answers within one query timeout, together
      const measuring = analytics ? { ...analytics, client: analytics.client.withTimeout(DEFAULT_QUERY_TIMEOUT_SECONDS) } : undefined;
      const freshness = await fresh([read?.projector, analytics?.sink, analytics?.stageSink], DEFAULT_QUERY_TIMEOUT_SECONDS);
      // an SLA section takes the live rules' marketing stage and commitment, the targets the SLA report checks
      const requested = withRuleSlaTargets(request.body, analytics?.rules?.sla);
      const dealSizes = measuring ? await measuredDealSizes(requested, measuring, currencyProblem) : new Map<string, MeasuredDealSize>();
      const accountSteps = measuring ? await measuredAccountSteps(requested, measuring) : new Map<string, HistoryStep[]>();
      const funnels = readModels ? await measuredFunnels(requested, readModels, accountSteps) : undefined;
      const measured = funnels !== undefined || dealSizes.size > 0 || accountSteps.size > 0;
      const body = measured ? withMeasuredHistory(requested, measuredHistory(funnels, dealSizes, accountSteps)) : requested;
      const outcome = planReverseFunnel(body);
      if (!outcome.ok) throw invalidPlanInput(outcome.issues);
      return marked(reply, freshness, outcome.plan);
    },
  });
};
