import type { DateTime } from 'luxon';
import type { Period } from './calendar.js';
import { arrivalShares, dayNumber, instantInZone, isoOf, monthOfDay, parsePeriod, stageCalendar } from './calendar.js';
import { dealsFor, requiredVolumes } from './chain.js';
import type { DealSizeModel, RateModel } from './estimates.js';
import { dealSizeModel, rateModel } from './estimates.js';
import { infeasibility, overflowReason } from './feasibility.js';
import type { DayDistribution } from './lag.js';
import { lagsToDeal } from './lag.js';
import { rateQuantiles, simulateVolumes } from './monte-carlo.js';
import { pipelineGap } from './pipeline.js';
import type { BusinessUnitInput, PlanInput, PlanInputIssue, TargetInput } from './plan-input.js';
import { parsePlanInput, planningChain } from './plan-input.js';
import type { BusinessUnitPlan, PlanPeriod, PlannedTarget, RateEstimate, ReversePlan, TargetPlan } from './plan-output.js';
import { createRng } from './random.js';
import { rateSensitivity } from './sensitivity.js';
import { draftSla } from './sla.js';

export type PlanOutcome = { ok: true; plan: ReversePlan } | { ok: false; issues: PlanInputIssue[] };

/** Validate raw input (an API body, a CLI file) and plan it. Bad input comes back as issues naming each field. */
export function planReverseFunnel(raw: unknown): PlanOutcome {
  const parsed = parsePlanInput(raw);
  return parsed.ok ? { ok: true, plan: buildPlan(parsed.input) } : parsed;
}

interface PlanContext {
  input: PlanInput;
  stages: string[];
  asOf: DateTime;
  asOfDay: number;
}

/** Plan validated input. Pure: the same input gives the same plan, random draws included. */
export function buildPlan(input: PlanInput): ReversePlan {
  const asOf = instantInZone(input.asOf, input.timeZone);
  const context: PlanContext = { input, stages: planningChain(input.stageModel), asOf, asOfDay: dayNumber(asOf) };
  return {
    input,
    asOf: isoOf(asOf),
    stages: context.stages,
    unit: input.unit,
    businessUnits: input.businessUnits.map((unit) => planUnit(unit, context)),
  };
}

interface UnitContext extends PlanContext {
  unit: BusinessUnitInput;
  rateModels: RateModel[];
  dealSize: DealSizeModel;
  lagsToDeal: DayDistribution[];
}

function planUnit(unit: BusinessUnitInput, context: PlanContext): BusinessUnitPlan {
  const { input, stages } = context;
  const { seed, draws } = input.uncertainty;
  const rateModels = stages.slice(0, -1).map((from, k) => {
    const to = stages[k + 1] as string;
    return rateModel(from, to, unit.transitions.find((transition) => transition.from === from), input.uncertainty);
  });
  const unitContext: UnitContext = {
    ...context,
    unit,
    rateModels,
    dealSize: dealSizeModel(unit.dealSize, input.uncertainty),
    lagsToDeal: lagsToDeal(rateModels.map((model) => model.lag)),
  };
  const rates: RateEstimate[] = rateModels.map(({ estimate, posterior }) => ({
    ...estimate,
    interval:
      posterior === null ? null : rateQuantiles(posterior, draws, createRng(seed, `${unit.id}|rate|${estimate.from}->${estimate.to}`)),
  }));
  const targets = input.targets.filter((target) => target.businessUnit === unit.id).map((target) => planTarget(target, unitContext));
  const planned = targets.filter((target): target is PlannedTarget => target.status === 'planned');
  const warnings = unitWarnings(unitContext, rates);
  if (input.sla !== undefined && planned.length < targets.length && planned.length > 0) {
    const left = targets.filter((target) => target.status === 'infeasible').map((target) => target.period.label);
    warnings.push(`the SLA draft leaves out the infeasible targets ${left.join(', ')}`);
  }
  return {
    id: unit.id,
    dealSize: unitContext.dealSize.estimate,
    rates,
    targets,
    sla: input.sla === undefined || planned.length === 0 ? null : draftSla(input.sla, unit.id, planned, monthOfDay(context.asOfDay)),
    warnings,
  };
}

function planTarget(target: TargetInput, context: UnitContext): TargetPlan {
  const { input, stages, asOf, asOfDay, unit, rateModels, dealSize } = context;
  const period = parsePeriod(target.period, input.timeZone);
  const base = { businessUnit: unit.id, period: periodOf(period), revenue: target.revenue };
  const reasons = infeasibility(
    period,
    asOf,
    rateModels.map((model) => model.estimate),
    dealSize.estimate,
    input.unit,
  );
  if (reasons.length > 0) return { ...base, status: 'infeasible', reasons };

  // past the feasibility check every rate and the deal size are positive numbers
  const rates = rateModels.map((model) => model.estimate.rate as number);
  const size = dealSize.estimate.value as number;
  const deals = dealsFor(target.revenue, size);
  const required = requiredVolumes(deals, rates);
  const pointOverflow = overflowReason(required, stages, input.unit);
  if (pointOverflow !== null) return { ...base, status: 'infeasible', reasons: [pointOverflow] };

  const quantiles = simulateVolumes({
    revenue: target.revenue,
    dealSize: { point: size, posterior: dealSize.posterior },
    rates: rateModels.map((model, k) => ({ point: rates[k] as number, posterior: model.posterior })),
    draws: input.uncertainty.draws,
    rng: createRng(input.uncertainty.seed, `${unit.id}|${period.label}`),
  });
  const uncertainOverflow = overflowReason(
    quantiles.map((q) => q.p90),
    stages,
    input.unit,
  );
  if (uncertainOverflow !== null) {
    return { ...base, status: 'infeasible', reasons: [{ ...uncertainOverflow, message: `${uncertainOverflow.message} (at P90)` }] };
  }

  const calendar = stages.map((stage, k) =>
    stageCalendar(stage, required[k] as number, arrivalShares(period, context.lagsToDeal[k] as DayDistribution, asOfDay)),
  );
  const late = calendar.filter((entry) => entry.dueBeforeAsOf > 0);
  return {
    ...base,
    status: 'planned',
    dealSize: size,
    deals,
    volumes: stages.map((stage, k) => ({ stage, required: required[k] as number, ...(quantiles[k] as (typeof quantiles)[number]) })),
    calendar,
    pipeline: pipelineGap(unit.pipeline, { stages, rates, lagsToDeal: context.lagsToDeal, period, asOfDay, deals }),
    sensitivity: rateSensitivity(stages, deals, rates, input.sensitivity),
    warnings: late.map(
      (entry) =>
        `${entry.dueBeforeAsOf} of the ${entry.stage} volume should have arrived before asOf: only ${input.unit} already in the pipeline can stand in for it`,
    ),
  };
}

function periodOf(period: Period): PlanPeriod {
  return { label: period.label, kind: period.kind, start: isoOf(period.start), end: isoOf(period.end) };
}

function unitWarnings(context: UnitContext, rates: readonly RateEstimate[]): string[] {
  const { minObservations, minConversions } = context.input.uncertainty;
  const { unit } = context.input;
  const warnings: string[] = [];
  for (const rate of rates) {
    const step = `${rate.from} -> ${rate.to}`;
    if (rate.lowEvidence && rate.observations !== null) {
      warnings.push(
        `${step} rests on ${rate.observations.entered} ${unit} and ${rate.observations.converted} conversions ` +
          `(flagged below ${minObservations} ${unit} or ${minConversions} conversions): its volumes are rough`,
      );
    }
    if (rate.lag.source === 'assumed-zero') warnings.push(`no lag for ${step}: assumed same day`);
    if (rate.lag.observations !== null && rate.lag.observations < minObservations) {
      warnings.push(`the lag of ${step} rests on ${rate.lag.observations} samples (flagged below ${minObservations}): its calendar is rough`);
    }
  }
  const dealSize = context.dealSize.estimate;
  if (dealSize.lowEvidence) {
    warnings.push(`the average deal size rests on ${dealSize.observations ?? 0} payments (flagged below ${minObservations})`);
  }
  return warnings;
}
