import type { OpportunityModel, SluiceEvent } from '@sluice/schemas';
import { type OpportunityState, type TimedOpportunityEvent, opportunityAsOf, opportunityHistories, stepsOf } from './opportunity.js';

/**
 * The pipeline waterfall of a period [from, to), Clari's definition: the
 * pipeline of the period is every open opportunity whose close date falls in
 * [from, to); the waterfall explains how it went from its value at `from`
 * to its value at `to` (each "as of" as in pipelineAsOf: the events before
 * that instant), per currency:
 *
 *   start + created + pulledIn + amountUp - amountDown - pushedOut - lost - won = end
 *
 * walking each opportunity's events in [from, to):
 * - created: made during the period with a close date in it;
 * - pulledIn: an open deal's close date moved into the period from outside
 *   (also a deal won during the period while its close date lay outside:
 *   winning moves the close date to the win, so it is pulled in, then won);
 * - pushedOut: an open deal's close date moved out of the period (almost
 *   always later; earlier than `from` counts too);
 * - amountUp / amountDown: an amount change while in the period's pipeline
 *   (a change of currency is the old amount down and the new amount up);
 * - won / lost: closed while in the period's pipeline, at its last amount
 *   (a won deal's signed amount differing from it is an amount change first).
 * An opportunity counts in one group for the whole period: its group as of `to`.
 */
export const WATERFALL_GROUPS = ['owner', 'businessUnit', 'segment'] as const;
export type WaterfallGroup = (typeof WATERFALL_GROUPS)[number];

export const WATERFALL_TERMS = ['created', 'pulledIn', 'amountUp', 'amountDown', 'pushedOut', 'lost', 'won'] as const;
export type WaterfallTermName = (typeof WATERFALL_TERMS)[number];

/** One term of a group's waterfall: its total and the opportunities that make it (each once, with its share). */
export interface WaterfallTerm {
  amount: number;
  opportunities: Array<{ opportunityId: string; accountId: string; amount: number }>;
}
export interface WaterfallPoint {
  count: number;
  amount: number;
}
export type WaterfallRow = { group: string | null; currency: string; start: WaterfallPoint; end: WaterfallPoint } & Record<WaterfallTermName, WaterfallTerm>;

export interface Waterfall {
  fromMs: number;
  toMs: number;
  groupBy: WaterfallGroup | null;
  rows: WaterfallRow[];
}

/** Adds on the right side of the identity: the terms that grow the pipeline. */
export const INFLOWS: ReadonlySet<WaterfallTermName> = new Set(['created', 'pulledIn', 'amountUp']);

const inPeriod = (s: OpportunityState | undefined, fromMs: number, toMs: number): boolean =>
  s !== undefined && s.status === 'open' && s.closeDateMs >= fromMs && s.closeDateMs < toMs;

interface Movement {
  term: WaterfallTermName;
  currency: string;
  amount: number;
}

/** What moving from `prev` to `next` did to the period's pipeline. */
function movementsOf(prev: OpportunityState | undefined, next: OpportunityState, fromMs: number, toMs: number): Movement[] {
  const was = inPeriod(prev, fromMs, toMs);
  const is = inPeriod(next, fromMs, toMs);
  if (!was && is) return [{ term: prev === undefined ? 'created' : 'pulledIn', currency: next.currency, amount: next.amount }];
  if (prev === undefined || !was) return [];
  if (!is) return [{ term: next.status === 'won' ? 'won' : next.status === 'lost' ? 'lost' : 'pushedOut', currency: prev.currency, amount: prev.amount }];
  if (prev.currency !== next.currency) {
    return [
      { term: 'amountDown', currency: prev.currency, amount: prev.amount },
      { term: 'amountUp', currency: next.currency, amount: next.amount },
    ];
  }
  const delta = next.amount - prev.amount;
  if (delta === 0) return [];
  return [{ term: delta > 0 ? 'amountUp' : 'amountDown', currency: next.currency, amount: Math.abs(delta) }];
}


export function waterfall(events: Iterable<SluiceEvent> | Map<string, TimedOpportunityEvent[]>, fromMs: number, toMs: number, model: OpportunityModel, groupBy: WaterfallGroup | null = null): Waterfall {
  if (!(fromMs < toMs)) throw new RangeError('the waterfall period needs from before to');
  const histories = events instanceof Map ? events : opportunityHistories(events);
  const parts: WaterfallParts = { groups: new Map(), start: [], end: [], movements: [] };
  for (const history of histories.values()) {
    const start = opportunityAsOf(history, fromMs, model);
    let state = start;
    const movements: Movement[] = [];
    for (const e of history) {
      if (e.atMs < fromMs) continue;
      if (e.atMs >= toMs) break;
      for (const next of stepsOf(state, e, model)) {
        movements.push(...movementsOf(state, next, fromMs, toMs));
        state = next;
      }
    }
    if (state === undefined) continue; // not created before `to`
    const { opportunityId, accountId } = state;
    parts.groups.set(opportunityId, { ownerId: state.ownerId ?? null, businessUnit: state.businessUnit ?? null, segment: state.segment ?? null });
    if (start !== undefined && inPeriod(start, fromMs, toMs)) parts.start.push({ opportunityId, accountId, currency: start.currency, amount: start.amount });
    // the end is read from the fold as of `to`, not from the walk, so the identity checks the one against the other
    const end = opportunityAsOf(history, toMs, model);
    if (end !== undefined && inPeriod(end, fromMs, toMs)) parts.end.push({ opportunityId, accountId, currency: end.currency, amount: end.amount });
    for (const m of movements) parts.movements.push({ opportunityId, accountId, ...m });
  }
  return waterfallOf(parts, fromMs, toMs, groupBy);
}

/** A deal's share of a point or a term of the waterfall. */
export interface OpportunityAmount {
  opportunityId: string;
  accountId: string;
  currency: string;
  amount: number;
}
export type PipelineMovement = OpportunityAmount & { term: WaterfallTermName };
/** What a deal is grouped by: its values as of the end of the period. */
export interface WaterfallGroupValues {
  ownerId: string | null;
  businessUnit: string | null;
  segment: string | null;
}
/**
 * What a waterfall is made of, however walked (here, or by ClickHouse): each
 * deal's group values as of `to`, the deals in the period's pipeline at
 * `from` and at `to`, and the movements in between, in walking order.
 */
export interface WaterfallParts {
  groups: Map<string, WaterfallGroupValues>;
  start: OpportunityAmount[];
  end: OpportunityAmount[];
  movements: PipelineMovement[];
}

/** The waterfall rows from its parts: per group and currency, each term with the deals that make it. */
export function waterfallOf(parts: WaterfallParts, fromMs: number, toMs: number, groupBy: WaterfallGroup | null): Waterfall {
  const rows = new Map<string, WaterfallRow>();
  const rowOf = (opportunityId: string, currency: string) => {
    const values = parts.groups.get(opportunityId);
    const group = groupBy === null || values === undefined ? null : values[groupBy === 'owner' ? 'ownerId' : groupBy];
    const key = JSON.stringify([group, currency]);
    let row = rows.get(key);
    if (row === undefined) {
      const term = (): WaterfallTerm => ({ amount: 0, opportunities: [] });
      row = { group, currency, start: { count: 0, amount: 0 }, end: { count: 0, amount: 0 }, created: term(), pulledIn: term(), amountUp: term(), amountDown: term(), pushedOut: term(), lost: term(), won: term() };
      rows.set(key, row);
    }
    return row;
  };
  for (const [points, which] of [[parts.start, 'start'], [parts.end, 'end']] as const) {
    for (const p of points) {
      const point = rowOf(p.opportunityId, p.currency)[which];
      point.count++;
      point.amount += p.amount;
    }
  }
  for (const m of parts.movements) {
    const term = rowOf(m.opportunityId, m.currency)[m.term];
    term.amount += m.amount;
    const listed = term.opportunities.find((o) => o.opportunityId === m.opportunityId);
    if (listed === undefined) term.opportunities.push({ opportunityId: m.opportunityId, accountId: m.accountId, amount: m.amount });
    else listed.amount += m.amount;
  }
  const sorted = [...rows.values()].sort((a, b) => compareGroup(a.group, b.group) || (a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0));
  for (const row of sorted) for (const t of WATERFALL_TERMS) row[t].opportunities.sort((a, b) => (a.opportunityId < b.opportunityId ? -1 : 1));
  return { fromMs, toMs, groupBy, rows: sorted };
}

const compareGroup = (a: string | null, b: string | null) => (a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1);

/** The right side of the identity from a row's start and terms: equals `end.amount` (up to float rounding). */
export const identityEnd = (row: WaterfallRow): number =>
  WATERFALL_TERMS.reduce((sum, t) => (INFLOWS.has(t) ? sum + row[t].amount : sum - row[t].amount), row.start.amount);
