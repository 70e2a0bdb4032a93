import { historyRequestsOf, lookbackRange } from '@sluice/planner';
import type { HistoryStep, MeasuredDealSize, UnitHistory } from '@sluice/planner';
import { sumSteps } from '@sluice/projector';
import type { ReadModels } from '@sluice/projector';
import type { RuleConfig } from '@sluice/schemas';
import type { AnalyticsClient } from '../../client.js';
import { AmbiguousCurrencyError, measurePlanDealSize } from '../../deal-size.js';
import { runStageConversion } from '../../stage-conversion.js';

/**
 * What a reverse plan measures before the planner runs (the planner itself is
 * synchronous and pure): each business unit's deal size, its steps by account
 * and its funnel history, from ClickHouse and the read models. The API's plan
 * route and `sluice plan` measure through these alike.
 */

/** ClickHouse under the live rules: without rules nothing is measured there. */
export interface PlanMeasuring {
  client: AnalyticsClient;
  rules?: RuleConfig | undefined;
}

/** months of cohorts (and of won deals) behind measured rates and deal sizes */
export const LOOKBACK_MONTHS = 12;

/**
 * Each unit's deal size from the payments of the deals it won in the lookback,
 * keyed by unit id (the CLI's `sluice plan` measures the same way). Deals paid
 * in several currencies, with none named, go to `ambiguous` with the unit's
 * index in the body (the API answers a 400 naming dealSize.currency), unless
 * the unit gives its deal size: that size plans, and no measurement is shown beside it.
 */
export async function measuredDealSizes(
  body: unknown,
  { client, rules }: PlanMeasuring,
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
      if (!request.dealSizeGiven) ambiguous(index, err);
    }
  }
  return sizes;
}

/**
 * Each business unit's steps counted by account, keyed by unit id, for a plan
 * input whose unit is accounts (empty otherwise): ClickHouse's stage conversion
 * by account over the cohorts the lead-level measurement (measureFunnel, from
 * the read models) uses: entries into each step's `from` in the lookback
 * months before asOf's local day, converted at any time so far, the lag the
 * mean over the converted; the rules' stages step to step, of which the plan's
 * chain picks its consecutive pairs, as measureFunnel does. One difference:
 * the read models' counters cut cohort days in the rules' time zone, this
 * query in the plan's `timeZone`; they agree when the two zones do.
 */
export async function measuredAccountSteps(
  body: unknown,
  { client, rules }: PlanMeasuring,
  lookbackMonths = LOOKBACK_MONTHS,
): Promise<Map<string, HistoryStep[]>> {
  const steps = new Map<string, HistoryStep[]>();
  if (rules === undefined) return steps;
  for (const request of historyRequestsOf(body)) {
    const dateRange = lookbackRange(request, lookbackMonths);
    if (request.unit !== 'accounts' || dateRange === undefined) continue;
    const conversion = await runStageConversion(client, {
      configVersion: rules.version,
      stages: rules.stageModel.stages.map((stage) => stage.id),
      pairs: 'step_to_step',
      period: 'all',
      timeZone: request.timeZone,
      dateRange,
      unit: 'account',
      ...(request.businessUnit === 'all' ? {} : { filters: [{ key: 'businessUnit', values: [request.businessUnit] }] }),
    });
    steps.set(request.businessUnit, sumSteps(conversion.rows.map((row) => ({ ...row, avgMs: row.meanMs })), request.stages));
  }
  return steps;
}

/**
 * Each business unit's funnel history from the read models, keyed by unit id:
 * by lead, the live counters' steps and the leads held now; by account, the
 * steps ClickHouse measured (measuredAccountSteps) and the accounts held now.
 * 'all' spans every business unit. Measured ahead of the planner, which asks
 * for them synchronously.
 */
export async function measuredFunnels(body: unknown, readModels: ReadModels, accountSteps: ReadonlyMap<string, HistoryStep[]>, lookbackMonths = LOOKBACK_MONTHS): Promise<Map<string, UnitHistory>> {
  const funnels = new Map<string, UnitHistory>();
  for (const request of historyRequestsOf(body)) {
    const options = { ...request, businessUnit: request.businessUnit === 'all' ? undefined : request.businessUnit, lookbackMonths };
    const funnel =
      request.unit === 'leads'
        ? await readModels.measureFunnel(options)
        : { steps: accountSteps.get(request.businessUnit) ?? [], pipeline: await readModels.heldPipeline({ ...options, unit: 'accounts' }) };
    funnels.set(request.businessUnit, funnel);
  }
  return funnels;
}
