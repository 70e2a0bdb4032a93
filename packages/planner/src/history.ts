import { DateTime } from 'luxon';
import type { PlanCountingUnit } from './plan-input.js';
/**
 * Filling a plan input with what history measured, before validation: for
 * every business unit, each step without a measurement gets the observed
 * counts (a given rate stays, as an override reported beside them), each step
 * without a lag gets the measured mean, a business unit without a pipeline
 * gets the leads (or accounts, by the plan's unit) held now, and a deal size
 * without a measurement gets the measured one
 * (a given size stays, as an override reported beside it). The measuring itself happens outside (read models, I/O);
 * this stays pure.
 */

export interface HistoryStep {
  from: string;
  to: string;
  entered: number;
  converted: number;
  meanLagDays: number | null;
}

export interface MeasuredDealSize {
  deals: number;
  revenue: number;
  stdDev?: number;
  /** the money the payments were in */
  currency: string;
}

export interface UnitHistory {
  steps: readonly HistoryStep[];
  pipeline: Readonly<Record<string, number>>;
  /** payments of the deals won in the lookback; absent when nothing was measured */
  dealSize?: MeasuredDealSize;
}

export interface HistoryRequest {
  businessUnit: string;
  stages: readonly string[];
  asOf: string;
  timeZone: string;
  /** the unit's deal-size currency, when the input names one: a measured size counts payments in it only */
  currency?: string;
  /** the input gives the deal size: a measurement is only reported beside it, so one that cannot be made (payments in several currencies, none named) is no error */
  dealSizeGiven: boolean;
  /** what the plan counts: the steps and the pipeline must be measured in it */
  unit: PlanCountingUnit;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

interface ReadableInput {
  raw: Json & { businessUnits: unknown[] };
  chain: string[];
  asOf: string;
  timeZone: string;
  unit: PlanCountingUnit;
}

/** What history needs from a raw plan input; undefined when the input cannot be read (the planner then names the problem). */
function readable(raw: unknown): ReadableInput | undefined {
  if (!isObject(raw) || !Array.isArray(raw.businessUnits) || !isObject(raw.stageModel) || !Array.isArray(raw.stageModel.stages)) return undefined;
  if (typeof raw.asOf !== 'string' || typeof raw.timeZone !== 'string') return undefined;
  const stages = raw.stageModel.stages.filter((s): s is string => typeof s === 'string');
  const dealStage = typeof raw.stageModel.dealStage === 'string' ? raw.stageModel.dealStage : undefined;
  const chain = dealStage !== undefined && stages.includes(dealStage) ? stages.slice(0, stages.indexOf(dealStage) + 1) : stages;
  // an unknown unit is measured as leads; the planner then names the field
  const unit = raw.unit === 'accounts' ? 'accounts' : 'leads';
  return { raw: raw as ReadableInput['raw'], chain, asOf: raw.asOf, timeZone: raw.timeZone, unit };
}

function requestOf(input: ReadableInput, unit: Json & { id: string }): HistoryRequest {
  const currency = isObject(unit.dealSize) && typeof unit.dealSize.currency === 'string' ? { currency: unit.dealSize.currency } : {};
  const dealSizeGiven = isObject(unit.dealSize) && unit.dealSize.given !== undefined;
  return { businessUnit: unit.id, stages: input.chain, asOf: input.asOf, timeZone: input.timeZone, unit: input.unit, dealSizeGiven, ...currency };
}

const isUnit = (unit: unknown): unit is Json & { id: string } => isObject(unit) && typeof unit.id === 'string';

/** The measurements a plan input asks for, one per business unit: for callers that measure asynchronously before filling. */
export function historyRequestsOf(raw: unknown): HistoryRequest[] {
  const input = readable(raw);
  return input === undefined ? [] : input.raw.businessUnits.filter(isUnit).map((unit) => requestOf(input, unit));
}

/**
 * [start, end) of the `months` before asOf's local day, as instants in the
 * business zone: the window history is measured over. Undefined when asOf or
 * the zone is not valid (the planner names that problem).
 */
export function lookbackRange(request: Pick<HistoryRequest, 'asOf' | 'timeZone'>, months: number): { from: string; to: string } | undefined {
  const end = DateTime.fromISO(request.asOf, { zone: request.timeZone }).startOf('day');
  const from = end.minus({ months }).toISO();
  const to = end.toISO();
  return from === null || to === null ? undefined : { from, to };
}

export function withMeasuredHistory(raw: unknown, measure: (request: HistoryRequest) => UnitHistory | undefined): unknown {
  const input = readable(raw);
  if (input === undefined) return raw;
  const { chain } = input;
  const businessUnits = input.raw.businessUnits.map((unit: unknown) => {
    if (!isUnit(unit)) return unit;
    const history = measure(requestOf(input, unit));
    if (history === undefined) return unit;
    const given = Array.isArray(unit.transitions) ? unit.transitions.filter(isObject) : [];
    const transitions = chain.slice(1).map((to, i) => {
      const from = chain[i]!;
      const existing = given.find((t) => t.from === from && t.to === to) ?? { from, to };
      const step = history.steps.find((s) => s.from === from && s.to === to);
      if (step === undefined) return existing;
      const rate = isObject(existing.rate) ? existing.rate : {};
      const measured = rate.measured === undefined && step.entered > 0 ? { measured: { entered: step.entered, converted: step.converted } } : {};
      const lag = existing.lag === undefined && step.meanLagDays !== null ? { lag: { kind: 'given', days: Math.round(step.meanLagDays) } } : {};
      const filledRate = { ...rate, ...measured };
      return { ...existing, ...(Object.keys(filledRate).length > 0 ? { rate: filledRate } : {}), ...lag };
    });
    const pipeline = unit.pipeline === undefined && Object.keys(history.pipeline).length > 0 ? { pipeline: history.pipeline } : {};
    const dealSize = isObject(unit.dealSize) ? unit.dealSize : {};
    const size = history.dealSize;
    const measuredDealSize =
      dealSize.measured === undefined && size !== undefined && size.deals > 0
        ? { dealSize: { currency: size.currency, ...dealSize, measured: { deals: size.deals, revenue: size.revenue, ...(size.stdDev === undefined ? {} : { stdDev: size.stdDev }) } } }
        : {};
    return { ...unit, transitions, ...pipeline, ...measuredDealSize };
  });
  return { ...input.raw, businessUnits };
}
