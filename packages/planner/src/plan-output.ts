import type { LagSummary } from './lag.js';
import type { PlanCountingUnit, PlanInput } from './plan-input.js';

/** The reverse plan: per business unit, per target period. Every number is finite. */
export interface ReversePlan {
  /** the validated input, defaults applied: with it the plan can be rebuilt exactly */
  input: PlanInput;
  /** asOf in the business zone */
  asOf: string;
  /** the stages planned, first stage to deal stage */
  stages: string[];
  /** what every volume, observation and pipeline count below counts: leads or accounts */
  unit: PlanCountingUnit;
  businessUnits: BusinessUnitPlan[];
}

export interface BusinessUnitPlan {
  id: string;
  dealSize: DealSizeEstimate;
  rates: RateEstimate[];
  /** in the order of the input's targets */
  targets: TargetPlan[];
  /** null when no SLA was asked for or no target of this unit is feasible */
  sla: SlaDraft | null;
  warnings: string[];
}

export type EstimateSource = 'given' | 'measured' | 'overridden';

export interface Quantiles {
  p10: number;
  p50: number;
  p90: number;
}

export interface RateEstimate {
  from: string;
  to: string;
  source: EstimateSource | 'missing';
  /** the rate the plan uses; null when there is none */
  rate: number | null;
  /** the measurement, also when a given rate overrides it */
  observations: { entered: number; converted: number } | null;
  /** Beta posterior P10/P50/P90 when the measurement drives the rate */
  interval: Quantiles | null;
  /** the measurement drives the rate but rests on too few entered leads or conversions */
  lowEvidence: boolean;
  lag: LagSummary;
}

export interface DealSizeEstimate {
  source: EstimateSource;
  /** average deal size the plan uses; null when no payments were measured */
  value: number | null;
  /** payments the measured average rests on */
  observations: number | null;
  /** standard error of the measured average, when the spread of payments is known */
  standardError: number | null;
  lowEvidence: boolean;
  /** the money of the deal size (and the targets), when the input names it or the measurement found it */
  currency: string | null;
}

export interface PlanPeriod {
  label: string;
  kind: 'month' | 'quarter';
  /** ISO instants in the business zone; end is exclusive */
  start: string;
  end: string;
}

interface TargetBase {
  businessUnit: string;
  period: PlanPeriod;
  revenue: number;
}

export interface PlannedTarget extends TargetBase {
  status: 'planned';
  dealSize: number;
  deals: number;
  /** per stage, first stage first: the volume needed at the plan's rates, and its Monte Carlo quantiles */
  volumes: StageVolume[];
  /** when each stage's volume must arrive */
  calendar: StageCalendar[];
  pipeline: PipelineGap;
  /** one entry per step of the funnel */
  sensitivity: StageImprovement[];
  warnings: string[];
}

export interface InfeasibleTarget extends TargetBase {
  status: 'infeasible';
  reasons: InfeasibleReason[];
}

export type TargetPlan = PlannedTarget | InfeasibleTarget;

export type InfeasibleCode =
  | 'period-in-past'
  | 'missing-rate'
  | 'no-observations'
  | 'zero-rate'
  | 'zero-deal-size'
  | 'no-deal-size-observations'
  | 'volume-overflow';

export interface InfeasibleReason {
  code: InfeasibleCode;
  /** "infeasible because ..." in words */
  message: string;
}

export interface StageVolume extends Quantiles {
  stage: string;
  /** whole leads (or accounts, by the plan's unit) needed at the rates the plan uses (point estimates) */
  required: number;
}

export interface StageCalendar {
  stage: string;
  /**
   * whole volumes per month (yyyy-MM, business zone) adding up to the stage's
   * required volume; `dueBeforeAsOf` is the part of a month's volume that should
   * have arrived before asOf
   */
  months: Array<{ month: string; volume: number; dueBeforeAsOf: number }>;
  /** all of the stage's volume that should have arrived before asOf */
  dueBeforeAsOf: number;
}

export interface PipelineGap {
  held: Array<{
    stage: string;
    count: number;
    /** chance one held lead (or account) becomes a deal inside the period: rates to the deal times the lag landing in the period */
    chanceToCloseInPeriod: number;
    expectedDeals: number;
  }>;
  expectedDeals: number;
  /** deals the pipeline is not expected to deliver, whole */
  remainingDeals: number;
  /** new volume each stage still needs for the remaining deals */
  newVolumes: Array<{ stage: string; volume: number }>;
}

export interface StageImprovement {
  from: string;
  to: string;
  baseRate: number;
  /** the rate plus `sensitivity.points` (capped at 1) */
  byPoints: Improvement;
  /** the rate times 1 + `sensitivity.relative` (capped at 1) */
  byRelative: Improvement;
}

export interface Improvement {
  rate: number;
  /** the improvement hit the ceiling of 100 % */
  capped: boolean;
  /** volume no longer needed, for every stage up to and including `from` */
  saved: Array<{ stage: string; volume: number }>;
}

export interface SlaDraft {
  marketingStage: string;
  salesStage: string;
  repMonthlyCap: number;
  /** from asOf's month on: volumes the unit's feasible targets need arriving each month */
  months: Array<{ month: string; marketing: number; sales: number; repsNeeded: number }>;
  peakRepsNeeded: number;
  /** volumes the targets needed before asOf: too late to commit to */
  dueBeforeAsOf: { marketing: number; sales: number };
  /** the unit's monthly commitment (sla.mqlsPerMonth) and the months that need more than it; null without one */
  marketingCommitment: { perMonth: number; monthsShort: string[] } | null;
}
