export { buildPlan, planReverseFunnel } from './plan.js';
export type { PlanOutcome } from './plan.js';
export {
  parsePlanInput,
  planRequestIssues,
  planInputSchema,
  planRequestSchema,
  PLAN_LIMITS,
  planningChain,
  rateInputSchema,
  lagInputSchema,
  dealSizeInputSchema,
  transitionInputSchema,
  businessUnitInputSchema,
  targetInputSchema,
  PERIOD_LABEL,
  MAX_LAG_DAYS,
  PLAN_COUNTING_UNITS,
} from './plan-input.js';
export type {
  PlanInput,
  PlanInputRaw,
  PlanInputIssue,
  PlanCountingUnit,
  ParsedPlanInput,
  RateInput,
  LagInput,
  DealSizeInput,
  BusinessUnitInput,
  TargetInput,
} from './plan-input.js';
export type * from './plan-output.js';
export type { LagSummary, LagSource } from './lag.js';
export { historyRequestsOf, lookbackRange, withMeasuredHistory } from './history.js';
export type { HistoryRequest, HistoryStep, MeasuredDealSize, UnitHistory } from './history.js';
export { withRuleSlaTargets } from './sla.js';
