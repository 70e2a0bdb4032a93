// The reverse plan's part of the query registry: what it measures before the
// (pure, synchronous) planner runs, and how a plan reads as text. Its schemas
// and its semantics are the planner's (@sluice/planner).
export { LOOKBACK_MONTHS, measuredAccountSteps, measuredDealSizes, measuredFunnels } from './measure.js';
export type { PlanMeasuring } from './measure.js';
export { formatPlan } from './format.js';
