import { DAY_MS, instantOf } from '@sluice/domain';
import type { ForecastCategory, OpportunityModel, SluiceEvent } from '@sluice/schemas';
import { FORECAST_CATEGORIES } from '@sluice/schemas';
import { type OpportunityState, type TimedOpportunityEvent, categoryOf, opportunityAsOf, opportunityHistories, stageTerms } from './opportunity.js';

/** What the open pipeline can be grouped by (none: one group per currency). */
export const PIPELINE_GROUPS = ['stage', 'category', 'owner', 'businessUnit', 'segment'] as const;
export type PipelineGroup = (typeof PIPELINE_GROUPS)[number];

/** One open opportunity as of the instant, as the pipeline lists it. */
export interface OpenOpportunity {
  opportunityId: string;
  accountId: string;
  stage: string;
  category: ForecastCategory;
  ownerId: string | null;
  businessUnit: string | null;
  segment: string | null;
  amount: number;
  currency: string;
  probability: number;
  weightedAmount: number;
  closeDateMs: number;
  daysInStage: number;
}

/** The open pipeline of one group in one currency (amounts in different currencies are never added). */
export interface PipelineRow {
  /** the group's value; null when the opportunities have none (no owner, no segment) or when not grouped */
  group: string | null;
  currency: string;
  count: number;
  amount: number;
  weightedAmount: number;
  meanDaysInStage: number;
  maxDaysInStage: number;
}

export interface Pipeline {
  asOfMs: number;
  groupBy: PipelineGroup | null;
  rows: PipelineRow[];
  opportunities: OpenOpportunity[];
}

export function openOpportunity(s: OpportunityState, asOfMs: number, model: OpportunityModel): OpenOpportunity {
  return {
    opportunityId: s.opportunityId,
    accountId: s.accountId,
    stage: s.stage,
    category: categoryOf(s, model),
    ownerId: s.ownerId ?? null,
    businessUnit: s.businessUnit ?? null,
    segment: s.segment ?? null,
    amount: s.amount,
    currency: s.currency,
    probability: s.probability,
    weightedAmount: s.amount * s.probability,
    closeDateMs: s.closeDateMs,
    daysInStage: (asOfMs - s.stageEnteredAtMs) / DAY_MS,
  };
}

const groupValue = (o: OpenOpportunity, by: PipelineGroup | null): string | null => {
  if (by === null) return null;
  return by === 'owner' ? o.ownerId : o[by];
};

/**
 * The open pipeline as of an instant: every opportunity created before
 * `asOfMs` and not won or lost before it, each as the fold of its events
 * that occurred before `asOfMs` (so a past instant is answered exactly, as
 * the log then stood in event time), grouped and summed per currency.
 */
export function pipelineAsOf(events: Iterable<SluiceEvent> | Map<string, TimedOpportunityEvent[]>, asOfMs: number, model: OpportunityModel, groupBy: PipelineGroup | null = null): Pipeline {
  const histories = events instanceof Map ? events : opportunityHistories(events);
  const opportunities: OpenOpportunity[] = [];
  for (const history of histories.values()) {
    const state = opportunityAsOf(history, asOfMs, model);
    if (state?.status === 'open') opportunities.push(openOpportunity(state, asOfMs, model));
  }
  return pipelineOf(opportunities, asOfMs, model, groupBy);
}

/**
 * An open opportunity as another engine folds it (ClickHouse:
 * @sluice/analytics openOpportunitiesAsOf), before the model is applied.
 */
export interface FoldedOpenOpportunity {
  opportunityId: string;
  accountId: string;
  stage: string;
  /** when it entered its stage, epoch ms */
  enteredMs: number;
  /** the probability an event of its stage gave; null: the model's for the stage */
  probability: number | null;
  amount: number;
  currency: string;
  /** ISO 8601 */
  closeDate: string;
  ownerId: string | null;
  businessUnit: string | null;
  segment: string | null;
}

/** A folded open opportunity read the way this package reads its own fold's. */
export function openFromFolded(f: FoldedOpenOpportunity, asOfMs: number, model: OpportunityModel): OpenOpportunity {
  return openOpportunity(
    {
      opportunityId: f.opportunityId,
      accountId: f.accountId,
      name: undefined,
      status: 'open',
      stage: f.stage,
      stageEnteredAtMs: f.enteredMs,
      probability: f.probability ?? stageTerms(model, f.stage).probability,
      amount: f.amount,
      currency: f.currency,
      closeDateMs: instantOf(f.closeDate),
      ownerId: f.ownerId ?? undefined,
      businessUnit: f.businessUnit ?? undefined,
      segment: f.segment ?? undefined,
      createdAtMs: f.enteredMs,
      closedAtMs: undefined,
      lostReason: undefined,
      contacts: [],
    },
    asOfMs,
    model,
  );
}

/** The open deals as of an instant, however folded (here, or by ClickHouse), grouped and summed per currency. */
export function pipelineOf(open: readonly OpenOpportunity[], asOfMs: number, model: OpportunityModel, groupBy: PipelineGroup | null): Pipeline {
  const opportunities = [...open];
  opportunities.sort((a, b) => (a.opportunityId < b.opportunityId ? -1 : a.opportunityId > b.opportunityId ? 1 : 0));
  const rows = new Map<string, PipelineRow & { daysSum: number }>();
  for (const o of opportunities) {
    const group = groupValue(o, groupBy);
    const key = JSON.stringify([group, o.currency]);
    let row = rows.get(key);
    if (row === undefined) rows.set(key, (row = { group, currency: o.currency, count: 0, amount: 0, weightedAmount: 0, meanDaysInStage: 0, maxDaysInStage: 0, daysSum: 0 }));
    row.count++;
    row.amount += o.amount;
    row.weightedAmount += o.weightedAmount;
    row.daysSum += o.daysInStage;
    row.maxDaysInStage = Math.max(row.maxDaysInStage, o.daysInStage);
  }
  const rank = groupRank(groupBy, model);
  const sorted = [...rows.values()]
    .map(({ daysSum, ...row }) => ({ ...row, meanDaysInStage: daysSum / row.count }))
    .sort((a, b) => rank(a.group) - rank(b.group) || compareText(a.group ?? '', b.group ?? '') || compareText(a.currency, b.currency));
  return { asOfMs, groupBy, rows: sorted, opportunities };
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Stages in the model's order (unknown ones after), categories in forecast order, anything else by name with "none" last. */
function groupRank(groupBy: PipelineGroup | null, model: OpportunityModel): (group: string | null) => number {
  const order: readonly string[] = groupBy === 'stage' ? model.stages.map((s) => s.id) : groupBy === 'category' ? FORECAST_CATEGORIES : [];
  return (group) => {
    if (group === null) return Number.MAX_SAFE_INTEGER;
    const i = order.indexOf(group);
    return i === -1 ? order.length : i;
  };
}
