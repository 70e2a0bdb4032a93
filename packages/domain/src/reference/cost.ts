import { DateTime } from 'luxon';
import type { CurrencyRules } from '@sluice/schemas';
import type { LeadProfileFacts } from './segments.js';
import { type CohortPeriod, type StageFact, cohortPeriodOf } from './stage-conversion.js';
import { ANONYMOUS_ACTOR_PREFIX, type FunnelTouchpoint } from './touchpoint.js';

/**
 * Reference implementation of the cost report (spend and return): plain
 * TypeScript that `@sluice/analytics` computes in ClickHouse and is tested
 * against on hand-built logs.
 *
 * Semantics
 * - Periods: the calendar periods (day, ISO week, month, quarter, year) of
 *   the business zone that meet [fromMs, toMs), clipped to it; `all` is the
 *   range itself. A fact belongs to the period holding its instant.
 * - Spend: a spend row covers [startMs, endMs) evenly in time; a period gets
 *   amount x (overlap of the row with the period) / (row's length), in the
 *   row's currency. Its segment is its own source / channel / campaign /
 *   business unit (resolved like a lead's).
 * - Leads, MQLs, SQLs, customers: leads entering those stages (skipped
 *   stages count as passed through, as everywhere) in the period.
 * - Revenue: amounts of the revenue events (payment by default) of leads in
 *   the period, in their currencies.
 * - Attribution of a lead to a source, channel or campaign: `first_touch`
 *   (the default) is the lead profile's first-touch attribution, the one
 *   stage conversion segments by; `last_touch` is the last touchpoint of the
 *   lead (anonymous history it owns included) carrying a source, at or before
 *   the instant counted (the stage entry, the payment), ties broken by log
 *   position. No such touch: segment ''. The business unit is the lead's own
 *   under either model.
 * - Prices (see priceCost): per currency sums are converted with the
 *   configured rates; ratios whose denominator is 0 are null with a reason.
 *   Amounts that cannot be converted are left out and listed with the reason,
 *   so one payment in an unexpected currency never takes the report down.
 */

export const ATTRIBUTION_MODELS = ['first_touch', 'last_touch'] as const;
export type AttributionModel = (typeof ATTRIBUTION_MODELS)[number];
export const COST_GROUP_KEYS = ['source', 'channel', 'campaign', 'businessUnit'] as const;
export type CostGroupKey = (typeof COST_GROUP_KEYS)[number];
/** Event types whose amount is revenue. */
export const REVENUE_TYPES = ['payment', 'renewal', 'upsell'] as const;

/** The stages counted, by their role in the report. */
export interface CostStages {
  lead: string;
  mql: string;
  sql: string;
  customer: string;
}
export const COST_STAGE_ROLES = ['lead', 'mql', 'sql', 'customer'] as const;

export interface SpendFact {
  source: string;
  channel: string;
  campaign: string;
  /** the resolved business unit id */
  businessUnit: string;
  amount: number;
  currency: string;
  startMs: number;
  endMs: number;
}

export interface CostSpec {
  fromMs: number;
  toMs: number;
  period: CohortPeriod;
  timeZone: string;
  groupBy: CostGroupKey;
  attribution: AttributionModel;
  stages: CostStages;
  revenueTypes: readonly string[];
}

export interface CostPeriod {
  /** first local day (YYYY-MM-DD), '' for `all` */
  period: string;
  label: string;
  startMs: number;
  endMs: number;
}

/** The periods of the range, clipped to it, in order. */
export function costPeriods(fromMs: number, toMs: number, period: CohortPeriod, timeZone: string): CostPeriod[] {
  if (period === 'all') return [{ period: '', label: 'all', startMs: fromMs, endMs: toMs }];
  const out: CostPeriod[] = [];
  let start = DateTime.fromMillis(fromMs, { zone: timeZone }).startOf(period);
  while (start.toMillis() < toMs) {
    const next = start.plus({ [period]: 1 });
    const startMs = Math.max(start.toMillis(), fromMs);
    out.push({ ...cohortPeriodOf(startMs, period, timeZone), startMs, endMs: Math.min(next.toMillis(), toMs) });
    start = next;
  }
  return out;
}

/** The two kinds of amount a cost report sums. */
export const COST_MEASURES = ['spend', 'revenue'] as const;
export type CostMeasure = (typeof COST_MEASURES)[number];

/** Sums per (period, segment) before prices: amounts stay in their currencies. */
export interface CostTally {
  period: string;
  label: string;
  segment: string;
  spend: Record<string, number>;
  revenue: Record<string, number>;
  /** events behind the amounts, per currency: a spend row in the first period it meets, a revenue event in its own */
  events: Record<CostMeasure, Record<string, number>>;
  leads: number;
  mqls: number;
  sqls: number;
  customers: number;
}

export interface CostInput {
  spend: readonly SpendFact[];
  stageFacts: readonly StageFact[];
  /** touchpoints as funnels see them (actors resolved) */
  touchpoints: readonly FunnelTouchpoint[];
  profiles: ReadonlyMap<string, LeadProfileFacts>;
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** The tally field each stage role counts into. */
export const COST_COUNT_OF = { lead: 'leads', mql: 'mqls', sql: 'sqls', customer: 'customers' } as const;

const emptyTally = (period: string, label: string, segment: string): CostTally => ({ period, label, segment, spend: {}, revenue: {}, events: { spend: {}, revenue: {} }, leads: 0, mqls: 0, sqls: 0, customers: 0 });
export const addAmount = (amounts: Record<string, number>, currency: string, amount: number): void => {
  amounts[currency] = (amounts[currency] ?? 0) + amount;
};

/** Tallies by (period, segment), created on first use; `sorted()` orders them by period, then segment. */
export class CostTallyBook {
  readonly #tallies = new Map<string, CostTally>();
  at(p: Pick<CostPeriod, 'period' | 'label'>, segment: string): CostTally {
    const key = JSON.stringify([p.period, segment]);
    let t = this.#tallies.get(key);
    if (t === undefined) {
      t = emptyTally(p.period, p.label, segment);
      this.#tallies.set(key, t);
    }
    return t;
  }
  sorted(): CostTally[] {
    return [...this.#tallies.values()].sort((a, b) => compare(a.period, b.period) || compare(a.segment, b.segment));
  }
}

export function costTallies(input: CostInput, spec: CostSpec): CostTally[] {
  const periods = costPeriods(spec.fromMs, spec.toMs, spec.period, spec.timeZone);
  const book = new CostTallyBook();
  const tally = (p: CostPeriod, segment: string) => book.at(p, segment);
  const periodAt = (ms: number) => (ms >= spec.fromMs && ms < spec.toMs ? periods.find((p) => ms >= p.startMs && ms < p.endMs) : undefined);

  const sourced = new Map<string, FunnelTouchpoint[]>();
  for (const t of input.touchpoints) {
    if (t.fields.source === '' || t.actorId.startsWith(ANONYMOUS_ACTOR_PREFIX)) continue;
    const list = sourced.get(t.actorId) ?? [];
    list.push(t);
    sourced.set(t.actorId, list);
  }
  const segmentOf = (leadId: string, atMs: number): string => {
    const profile = input.profiles.get(leadId);
    if (spec.groupBy === 'businessUnit') return profile?.businessUnit ?? '';
    if (spec.attribution === 'first_touch') return profile?.[spec.groupBy] ?? '';
    let last: FunnelTouchpoint | undefined;
    for (const t of sourced.get(leadId) ?? []) {
      if (t.occurredAtMs > atMs) continue;
      if (last === undefined || t.occurredAtMs > last.occurredAtMs || (t.occurredAtMs === last.occurredAtMs && t.position > last.position)) last = t;
    }
    return last?.fields[spec.groupBy] ?? '';
  };

  for (const s of input.spend) {
    let counted = false;
    for (const p of periods) {
      const overlap = Math.min(s.endMs, p.endMs) - Math.max(s.startMs, p.startMs);
      if (overlap <= 0) continue;
      const t = tally(p, s[spec.groupBy]);
      addAmount(t.spend, s.currency, (s.amount * overlap) / (s.endMs - s.startMs));
      if (!counted) addAmount(t.events.spend, s.currency, 1);
      counted = true;
    }
  }
  for (const role of COST_STAGE_ROLES) {
    for (const f of input.stageFacts) {
      const p = f.stage === spec.stages[role] ? periodAt(f.enteredAtMs) : undefined;
      if (p !== undefined) tally(p, segmentOf(f.leadId, f.enteredAtMs))[COST_COUNT_OF[role]] += 1;
    }
  }
  for (const t of input.touchpoints) {
    const p = spec.revenueTypes.includes(t.type) && !t.actorId.startsWith(ANONYMOUS_ACTOR_PREFIX) ? periodAt(t.occurredAtMs) : undefined;
    if (p === undefined) continue;
    const into = tally(p, segmentOf(t.actorId, t.occurredAtMs));
    addAmount(into.revenue, t.properties.currency ?? '', Number(t.properties.amount));
    addAmount(into.events.revenue, t.properties.currency ?? '', 1);
  }
  return book.sorted();
}

export const COST_RATIOS = ['costPerLead', 'costPerMql', 'costPerSql', 'costPerAcquisition', 'roi', 'paybackPeriods'] as const;
export type CostRatio = (typeof COST_RATIOS)[number];

export interface CostRow {
  period: string;
  label: string;
  segment: string;
  /** in the report currency */
  spend: number;
  revenue: number;
  leads: number;
  mqls: number;
  sqls: number;
  customers: number;
  costPerLead: number | null;
  costPerMql: number | null;
  costPerSql: number | null;
  /** spend / customers */
  costPerAcquisition: number | null;
  /** (revenue - spend) / spend */
  roi: number | null;
  /** spend / revenue: how many periods of this row's revenue earn its spend back */
  paybackPeriods: number | null;
  /** why each null ratio is null */
  reasons: Partial<Record<CostRatio, string>>;
}

/** Amounts the report left out, per kind and currency, and why. */
export interface CostExclusion {
  measure: CostMeasure;
  currency: string;
  /** spend rows or revenue events left out */
  events: number;
  /** their sum in `currency` (spend: its share in the date range); null when the sum is too large to be a number */
  amount: number | null;
  reason: string;
}

export interface PricedCost {
  /** the currency every amount is in (null: no amounts at all), and the rates applied (only those used) */
  currency: { report: string | null; ratesUsed: Record<string, number> };
  rows: CostRow[];
  total: CostRow;
  /** what the rows and the total leave out, by currency then kind */
  excluded: CostExclusion[];
}

/**
 * Converts the tallies into the report currency and derives the ratios. A
 * currency other than the report's needs a rate: amounts are never summed
 * across currencies as if they were one. Without a rate table the report is
 * in the currency most amounts are in (spend rows and revenue events; ties:
 * the first code). What cannot be converted (no rate, or a sum too large for a
 * number, which only amounts stored before they were bounded can reach) is
 * left out of every row and listed in `excluded`, and the rest is answered.
 */
export function priceCost(tallies: readonly CostTally[], currencies: CurrencyRules | undefined): PricedCost {
  const total = emptyTally('', 'all', '');
  for (const t of tallies) {
    for (const m of COST_MEASURES) {
      for (const [c, a] of Object.entries(t[m])) addAmount(total[m], c, a);
      for (const [c, n] of Object.entries(t.events[m])) addAmount(total.events[m], c, n);
    }
    total.leads += t.leads;
    total.mqls += t.mqls;
    total.sqls += t.sqls;
    total.customers += t.customers;
  }
  const found = [...new Set([...Object.keys(total.spend), ...Object.keys(total.revenue)])].sort();
  const eventsIn = (c: string) => (total.events.spend[c] ?? 0) + (total.events.revenue[c] ?? 0);
  const report = currencies?.report ?? found.reduce<string | null>((best, c) => (best === null || eventsIn(c) > eventsIn(best) ? c : best), null);

  const rateOf = (c: string): number | undefined => (c === report ? 1 : currencies?.rates[c]);
  const ratesUsed: Record<string, number> = {};
  const excluded: CostExclusion[] = [];
  const left = new Set<string>();
  for (const c of found) {
    for (const measure of COST_MEASURES) {
      const amount = total[measure][c];
      if (amount === undefined) continue;
      const rate = rateOf(c);
      const reason =
        rate === undefined
          ? currencies === undefined
            ? `no rate table to convert ${c} to ${report}: set currencies.report and currencies.rates in the configuration`
            : `no rate from ${c} to ${report} in currencies.rates`
          : Number.isFinite(amount * rate)
            ? undefined
            : 'the amounts add up to more than a number holds';
      if (reason === undefined) {
        if (c !== report) ratesUsed[c] = rate!;
        continue;
      }
      left.add(`${measure} ${c}`);
      excluded.push({ measure, currency: c, events: total.events[measure][c] ?? 0, amount: Number.isFinite(amount) ? amount : null, reason });
    }
  }
  const convert = (amounts: Record<string, number>, measure: CostMeasure) =>
    Object.entries(amounts).reduce((sum, [c, amount]) => (left.has(`${measure} ${c}`) ? sum : sum + amount * rateOf(c)!), 0);

  const row = (t: CostTally): CostRow => {
    const spend = convert(t.spend, 'spend');
    const revenue = convert(t.revenue, 'revenue');
    const reasons: CostRow['reasons'] = {};
    const ratio = (name: CostRatio, numerator: number, denominator: number, reason: string): number | null => {
      const value = numerator / denominator;
      if (denominator !== 0 && Number.isFinite(value)) return value;
      // JSON writes Infinity as null: a ratio too large to be a number says so too
      reasons[name] = denominator === 0 ? reason : 'too large to be a number';
      return null;
    };
    return {
      period: t.period,
      label: t.label,
      segment: t.segment,
      spend,
      revenue,
      leads: t.leads,
      mqls: t.mqls,
      sqls: t.sqls,
      customers: t.customers,
      costPerLead: ratio('costPerLead', spend, t.leads, 'no leads'),
      costPerMql: ratio('costPerMql', spend, t.mqls, 'no MQLs'),
      costPerSql: ratio('costPerSql', spend, t.sqls, 'no SQLs'),
      costPerAcquisition: ratio('costPerAcquisition', spend, t.customers, 'no customers'),
      roi: ratio('roi', revenue - spend, spend, 'no spend'),
      paybackPeriods: ratio('paybackPeriods', spend, revenue, 'no revenue'),
      reasons,
    };
  };
  return { currency: { report, ratesUsed }, rows: tallies.map(row), total: row(total), excluded };
}
