import { DAY_MS, instantOf } from '@sluice/domain';
import type { OpportunityModel, SluiceEvent } from '@sluice/schemas';
import { RuleConfigSchema } from '@sluice/schemas';
import { type OpportunityState, isOpportunityEvent, opportunityHistories, stepsOf } from './opportunity.js';

/**
 * Opportunity analytics (issue 17, item 5): win rates, sales cycle, stage
 * durations and stage-to-stage conversion, sales velocity and deal sizes.
 *
 * Two layers. An opportunity's journey (its creation, its stays in stages,
 * how and when it closed, its money) is the revenue fold's reading of its
 * events; this file's `opportunityJourneys` is the reference, and
 * @sluice/analytics computes the same journeys in ClickHouse (a property test
 * holds them equal). The measures are then pure sums over journeys, written
 * once here, so both sources answer with the same arithmetic.
 *
 * Percentiles: the value at 0-based position floor(p x n) of the sorted
 * values (capped at n - 1), which is ClickHouse's quantileExact: no
 * interpolation, so the median of an even count is the upper middle value,
 * and every percentile is a value that occurred.
 */

/** One stay of an opportunity in a stage: from its entry to its leaving (the next stage's entry or the close; null while still in it). */
export interface StageStay {
  stage: string;
  enteredAtMs: number;
  leftAtMs: number | null;
}

export interface OpportunityJourney {
  opportunityId: string;
  accountId: string;
  /** the owner at the end (at its close, for a closed deal); null when none was named */
  ownerId: string | null;
  segment: string | null;
  /** the envelope `source` of the earliest event about a person that names the account (null: none, or it named no source) */
  firstTouchSource: string | null;
  createdAtMs: number;
  status: 'open' | 'won' | 'lost';
  closedAtMs: number | null;
  /** the last amount (for a win, the signed one) */
  amount: number;
  currency: string;
  stays: StageStay[];
}

/** The journeys of every opportunity created before `beforeMs`, as the events that occurred before it made them, sorted by id. */
export function opportunityJourneys(events: Iterable<SluiceEvent>, beforeMs: number): OpportunityJourney[] {
  const all = [...events];
  const firstTouch = firstTouchSources(all, beforeMs);
  const journeys: OpportunityJourney[] = [];
  for (const history of opportunityHistories(all).values()) {
    let state: OpportunityState | undefined;
    const stays: StageStay[] = [];
    for (const e of history) {
      if (e.atMs >= beforeMs) break;
      for (const next of stepsOf(state, e, JOURNEY_MODEL)) {
        const last = stays[stays.length - 1];
        if (last === undefined || next.stageEnteredAtMs !== last.enteredAtMs || next.stage !== last.stage) {
          if (last !== undefined) last.leftAtMs = next.stageEnteredAtMs;
          stays.push({ stage: next.stage, enteredAtMs: next.stageEnteredAtMs, leftAtMs: null });
        }
        if (next.status !== 'open') stays[stays.length - 1]!.leftAtMs = next.closedAtMs ?? null;
        state = next;
      }
    }
    if (state === undefined) continue;
    journeys.push({
      opportunityId: state.opportunityId,
      accountId: state.accountId,
      ownerId: state.ownerId ?? null,
      segment: state.segment ?? null,
      firstTouchSource: firstTouch.get(state.accountId)?.source ?? null,
      createdAtMs: state.createdAtMs,
      status: state.status,
      closedAtMs: state.closedAtMs ?? null,
      amount: state.amount,
      currency: state.currency,
      stays,
    });
  }
  return journeys.sort((a, b) => (a.opportunityId < b.opportunityId ? -1 : a.opportunityId > b.opportunityId ? 1 : 0));
}

/** Journeys need only stage names and times, not probabilities: any model folds them alike. */
const JOURNEY_MODEL: OpportunityModel = RuleConfigSchema.parse({ version: 'journeys' }).opportunities;

/** Each account's earliest event about a person (leadId or anonymousId) before `beforeMs`, by (occurredAt, id). */
function firstTouchSources(events: readonly SluiceEvent[], beforeMs: number): Map<string, { atMs: number; id: string; source: string | null }> {
  const first = new Map<string, { atMs: number; id: string; source: string | null }>();
  for (const e of events) {
    if (isOpportunityEvent(e) || e.accountId === undefined || e.accountId === '' || !(e.leadId || e.anonymousId)) continue;
    const atMs = instantOf(e.occurredAt);
    if (atMs >= beforeMs) continue;
    const known = first.get(e.accountId);
    if (known === undefined || atMs < known.atMs || (atMs === known.atMs && e.id < known.id)) first.set(e.accountId, { atMs, id: e.id, source: e.source || null });
  }
  return first;
}

// ---------------------------------------------------------------- measures

/** ClickHouse's quantileExact: the value at 0-based position floor(p x n) of the sorted values, capped at n - 1; null for no values. */
export function quantileExact(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(Math.floor(p * sorted.length), sorted.length - 1)]!;
}

export interface Distribution {
  count: number;
  mean: number | null;
  median: number | null;
  p90: number | null;
}

export function distributionOf(values: readonly number[]): Distribution {
  return {
    count: values.length,
    mean: values.length === 0 ? null : values.reduce((s, v) => s + v, 0) / values.length,
    median: quantileExact(values, 0.5),
    p90: quantileExact(values, 0.9),
  };
}

export interface Range {
  fromMs: number;
  toMs: number;
}
const inRange = (ms: number | null, r: Range): ms is number => ms !== null && ms >= r.fromMs && ms < r.toMs;
const closedIn = (j: OpportunityJourney, r: Range) => j.status !== 'open' && inRange(j.closedAtMs, r);
const wonIn = (j: OpportunityJourney, r: Range) => j.status === 'won' && inRange(j.closedAtMs, r);
const cycleDays = (j: OpportunityJourney) => (j.closedAtMs! - j.createdAtMs) / DAY_MS;
const byText = (a: string | null, b: string | null) => (a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1);

/** What win rates and sales cycles can be split by: each stage the deal was ever in, its owner at the close, its segment, the source of its account's first touch. */
export const OPPORTUNITY_GROUPS = ['stage', 'owner', 'segment', 'source'] as const;
export type OpportunityGroup = (typeof OPPORTUNITY_GROUPS)[number];

function groupsOf(j: OpportunityJourney, by: OpportunityGroup | null): (string | null)[] {
  switch (by) {
    case null:
      return [null];
    case 'stage':
      return [...new Set(j.stays.map((s) => s.stage))];
    case 'owner':
      return [j.ownerId];
    case 'segment':
      return [j.segment];
    case 'source':
      return [j.firstTouchSource];
  }
}

function grouped<T>(journeys: readonly OpportunityJourney[], by: OpportunityGroup | null, make: (group: string | null, members: OpportunityJourney[]) => T): T[] {
  const groups = new Map<string | null, OpportunityJourney[]>();
  for (const j of journeys)
    for (const g of groupsOf(j, by)) {
      // appended in place: copying the list per deal made 210k deals take two minutes
      const members = groups.get(g);
      if (members) members.push(j);
      else groups.set(g, [j]);
    }
  return [...groups.keys()].sort(byText).map((g) => make(g, groups.get(g)!));
}

export interface WinRateRow {
  group: string | null;
  closed: number;
  won: number;
  lost: number;
  /** won / closed */
  winRate: number;
}

/** Win rate = won / closed, over the opportunities closed in the range; by stage, a deal counts in every stage it was ever in. */
export function winRates(journeys: readonly OpportunityJourney[], range: Range, by: OpportunityGroup | null): WinRateRow[] {
  return grouped(
    journeys.filter((j) => closedIn(j, range)),
    by,
    (group, members) => {
      const won = members.filter((j) => j.status === 'won').length;
      return { group, closed: members.length, won, lost: members.length - won, winRate: won / members.length };
    },
  );
}

export interface SalesCycleRow extends Distribution {
  group: string | null;
}

/** Days from creation to the win, over the opportunities won in the range. */
export function salesCycles(journeys: readonly OpportunityJourney[], range: Range, by: OpportunityGroup | null): SalesCycleRow[] {
  return grouped(
    journeys.filter((j) => wonIn(j, range)),
    by,
    (group, members) => ({ group, ...distributionOf(members.map(cycleDays)) }),
  );
}

export interface StageFlowRow {
  stage: string;
  /** stays in the stage that ended in the range */
  exits: number;
  /** their days in the stage */
  days: Distribution;
  /** where they went: another stage, won or lost; share = count / exits */
  to: Array<{ next: string; count: number; share: number }>;
}

/** Outcomes a stay can end in, beside the next stage. */
export const WON = 'won';
export const LOST = 'lost';

/** Stage duration and stage-to-stage conversion: every stay that ended in the range, by stage, with where the deal went next. */
export function stageFlow(journeys: readonly OpportunityJourney[], range: Range): StageFlowRow[] {
  const byStage = new Map<string, { days: number[]; next: Map<string, number> }>();
  for (const j of journeys) {
    j.stays.forEach((stay, i) => {
      if (!inRange(stay.leftAtMs, range)) return;
      const next = j.stays[i + 1]?.stage ?? (j.status === 'won' ? WON : LOST);
      let row = byStage.get(stay.stage);
      if (row === undefined) byStage.set(stay.stage, (row = { days: [], next: new Map() }));
      row.days.push((stay.leftAtMs - stay.enteredAtMs) / DAY_MS);
      row.next.set(next, (row.next.get(next) ?? 0) + 1);
    });
  }
  return [...byStage.keys()].sort().map((stage) => {
    const { days, next } = byStage.get(stage)!;
    return {
      stage,
      exits: days.length,
      days: distributionOf(days),
      to: [...next.keys()].sort().map((n) => ({ next: n, count: next.get(n)!, share: next.get(n)! / days.length })),
    };
  });
}

export interface DealSizeRow {
  currency: string;
  won: number;
  total: number;
  average: number;
  median: number;
  p90: number;
}

/** The size of the deals won in the range, per currency (amounts in different currencies are never added). */
export function dealSizes(journeys: readonly OpportunityJourney[], range: Range): DealSizeRow[] {
  const byCurrency = new Map<string, number[]>();
  for (const j of journeys.filter((x) => wonIn(x, range))) byCurrency.set(j.currency, [...(byCurrency.get(j.currency) ?? []), j.amount]);
  return [...byCurrency.keys()].sort().map((currency) => {
    const amounts = byCurrency.get(currency)!;
    const total = amounts.reduce((s, v) => s + v, 0);
    return { currency, won: amounts.length, total, average: total / amounts.length, median: quantileExact(amounts, 0.5)!, p90: quantileExact(amounts, 0.9)! };
  });
}

export interface VelocityRow {
  currency: string;
  /** opportunities created in the range in this currency (their last currency) */
  opportunities: number;
  averageWonAmount: number | null;
  /** won / closed in the range, in this currency */
  winRate: number | null;
  /** mean days from creation to the win, over the deals won in the range */
  cycleDays: number | null;
  /** opportunities x average won amount x win rate / cycle days: revenue per day (null when a factor is unknown or the cycle is 0) */
  perDay: number | null;
}

/** Sales velocity per currency: opportunities x average won amount x win rate / cycle days, every factor measured over the range. */
export function salesVelocity(journeys: readonly OpportunityJourney[], range: Range): VelocityRow[] {
  const currencies = [...new Set(journeys.filter((j) => inRange(j.createdAtMs, range) || closedIn(j, range)).map((j) => j.currency))].sort();
  return currencies.map((currency) => {
    const mine = journeys.filter((j) => j.currency === currency);
    const opportunities = mine.filter((j) => inRange(j.createdAtMs, range)).length;
    const closed = mine.filter((j) => closedIn(j, range));
    const won = closed.filter((j) => j.status === 'won');
    const averageWonAmount = won.length === 0 ? null : won.reduce((s, j) => s + j.amount, 0) / won.length;
    const winRate = closed.length === 0 ? null : won.length / closed.length;
    const cycle = won.length === 0 ? null : won.reduce((s, j) => s + cycleDays(j), 0) / won.length;
    const perDay = averageWonAmount === null || winRate === null || cycle === null || cycle === 0 ? null : (opportunities * averageWonAmount * winRate) / cycle;
    return { currency, opportunities, averageWonAmount, winRate, cycleDays: cycle, perDay };
  });
}
