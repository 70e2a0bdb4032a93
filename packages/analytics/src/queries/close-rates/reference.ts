import type { FunnelTouchpoint, StageFact } from '@sluice/domain';

/**
 * Closed-loop calibration (docs/domain.md): for each activity, the share of the
 * leads who did it that became customers, against the average close rate.
 * `closeRateCounts` is the reference the ClickHouse query is tested against;
 * `closeRateReport` turns counts (from either) into rates, intervals, ranks
 * and suggestions, and is shared by both.
 *
 * Semantics of the counts
 * - Population: the actors with a fact for `populationStage` entered in
 *   [fromMs, toMs) (e.g. everyone who became a lead last year).
 * - Customer: a member of the population with a fact for `customerStage`.
 * - An activity is a touchpoint type, or with `property` a (type, value of that
 *   flattened property) pair ('' when the touchpoint lacks it), optionally
 *   restricted to `types`.
 * - A member did an activity when it has such a touchpoint BEFORE it became a
 *   customer (strictly: the payment that makes a customer does not predict
 *   itself); a member that never became one, at any time. Each member counts
 *   once per activity.
 * - asOf (optional): facts and touchpoints after it are ignored.
 * - Activities are listed by leads (desc), then type, then value; with a limit,
 *   the first `activityLimit` of that order.
 */

export interface CloseRateSpec {
  populationStage: string;
  customerStage: string;
  fromMs: number;
  toMs: number;
  asOfMs?: number | undefined;
  /** A flattened property path (e.g. `pageType`, `x.utm_campaign`) whose value splits each type. */
  property?: string | undefined;
  /** Only these touchpoint types; undefined: all. */
  types?: readonly string[] | undefined;
  activityLimit?: number | undefined;
}

export interface ActivityCounts {
  type: string;
  /** The property's value ('' without a property or when absent). */
  value: string;
  /** Population members who did it (before becoming customers). */
  leads: number;
  /** Of those, how many became customers. */
  customers: number;
}

export interface CloseRateCounts {
  /** Population size and its customers: the average close rate is customers / leads. */
  leads: number;
  customers: number;
  activities: ActivityCounts[];
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function closeRateCounts(touchpoints: readonly FunnelTouchpoint[], facts: readonly StageFact[], spec: CloseRateSpec): CloseRateCounts {
  const visible = (ms: number) => spec.asOfMs === undefined || ms <= spec.asOfMs;
  const members = new Set<string>();
  const customerAt = new Map<string, number>();
  for (const f of facts) {
    if (!visible(f.enteredAtMs)) continue;
    if (f.stage === spec.populationStage && f.enteredAtMs >= spec.fromMs && f.enteredAtMs < spec.toMs) members.add(f.leadId);
    if (f.stage === spec.customerStage) customerAt.set(f.leadId, f.enteredAtMs);
  }
  const types = spec.types === undefined ? undefined : new Set(spec.types);
  const did = new Map<string, { type: string; value: string; leads: Set<string> }>();
  for (const tp of touchpoints) {
    if (!members.has(tp.actorId) || !visible(tp.occurredAtMs) || (types && !types.has(tp.type))) continue;
    const wonAt = customerAt.get(tp.actorId);
    if (wonAt !== undefined && tp.occurredAtMs >= wonAt) continue;
    const value = spec.property === undefined ? '' : (tp.properties[spec.property] ?? '');
    const key = JSON.stringify([tp.type, value]);
    let a = did.get(key);
    if (!a) did.set(key, (a = { type: tp.type, value, leads: new Set() }));
    a.leads.add(tp.actorId);
  }
  const isCustomer = (lead: string) => customerAt.has(lead);
  let activities = [...did.values()]
    .map((a) => ({ type: a.type, value: a.value, leads: a.leads.size, customers: [...a.leads].filter(isCustomer).length }))
    .sort((x, y) => y.leads - x.leads || compare(x.type, y.type) || compare(x.value, y.value));
  if (spec.activityLimit !== undefined) activities = activities.slice(0, spec.activityLimit);
  return { leads: members.size, customers: [...members].filter(isCustomer).length, activities };
}

/** Two-sided normal quantiles for the confidence levels offered. */
export const CONFIDENCE_Z = { 0.9: 1.6448536269514722, 0.95: 1.959963984540054, 0.99: 2.5758293035489004 } as const;
export type ConfidenceLevel = keyof typeof CONFIDENCE_Z;

/**
 * Wilson score interval for a proportion: unlike p +- z*se it stays inside
 * [0, 1] and is honest for small n and rates near 0, which is exactly where
 * close rates live (a 1% average).
 */
export function wilsonInterval(successes: number, n: number, z: number): { low: number; high: number } {
  if (n <= 0) return { low: 0, high: 1 };
  const p = successes / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denominator;
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { low: Math.max(0, center - half), high: Math.min(1, center + half) };
}

export interface CloseRateOptions {
  confidence: ConfidenceLevel;
  /** Activities done by fewer leads get no suggestion (too little evidence). */
  minLeads: number;
  /** An MQL-rule candidate closes at least this many times the average (the literature: 3-5x). */
  mqlLiftAtLeast: number;
  /** Suggested score points per unit of lift above 1 (lift 3 -> 2 x this); negative below 1. */
  pointsPerLift: number;
  /** Suggested weights are clamped to [-maxWeight, maxWeight]. */
  maxWeight: number;
}

export const DEFAULT_CLOSE_RATE_OPTIONS: CloseRateOptions = { confidence: 0.95, minLeads: 30, mqlLiftAtLeast: 3, pointsPerLift: 10, maxWeight: 50 };

export interface ActivityCloseRate extends ActivityCounts {
  /** 1 = strongest evidence of closing well (highest lower confidence bound). */
  rank: number;
  closeRate: number;
  interval: { low: number; high: number };
  /** closeRate / average close rate; null when the average is 0. */
  lift: number | null;
  /** The interval's lower bound is above the average: better than average beyond chance. */
  aboveAverage: boolean;
  /** Suggestion: at least minLeads leads and closeRate >= mqlLiftAtLeast x average. */
  mqlCandidate: boolean;
  /** Suggestion: round(pointsPerLift x (lift - 1)), clamped; null below minLeads or without an average. */
  suggestedWeight: number | null;
}

export interface CloseRateReport {
  leads: number;
  customers: number;
  /** customers / leads; null for an empty population. */
  averageCloseRate: number | null;
  confidence: ConfidenceLevel;
  /** Ranked (see ActivityCloseRate.rank). */
  activities: ActivityCloseRate[];
  /** Suggestions only: history says these activities predict closing; a person decides the rules. */
  suggestions: {
    mqlRuleCandidates: Array<{ type: string; value: string; closeRate: number; lift: number; leads: number }>;
    scoreWeights: Array<{ type: string; value: string; points: number }>;
    note: string;
  };
}

export function closeRateReport(counts: CloseRateCounts, options: CloseRateOptions = DEFAULT_CLOSE_RATE_OPTIONS): CloseRateReport {
  const z = CONFIDENCE_Z[options.confidence];
  const average = counts.leads === 0 ? null : counts.customers / counts.leads;
  const activities = counts.activities
    .map((a) => {
      const closeRate = a.customers / a.leads;
      const interval = wilsonInterval(a.customers, a.leads, z);
      const lift = average === null || average === 0 ? null : closeRate / average;
      const enough = a.leads >= options.minLeads;
      // integer cross-multiplication: 0.03 >= 3 * 0.01 is false in floating point
      const mqlCandidate = enough && average !== null && counts.customers > 0 && a.customers * counts.leads >= options.mqlLiftAtLeast * counts.customers * a.leads;
      const suggestedWeight = enough && lift !== null ? Math.max(-options.maxWeight, Math.min(options.maxWeight, Math.round(options.pointsPerLift * (lift - 1)))) : null;
      return { ...a, rank: 0, closeRate, interval, lift, aboveAverage: average !== null && interval.low > average, mqlCandidate, suggestedWeight };
    })
    .sort((x, y) => y.interval.low - x.interval.low || y.closeRate - x.closeRate || y.leads - x.leads || compare(x.type, y.type) || compare(x.value, y.value))
    .map((a, i) => ({ ...a, rank: i + 1 }));
  return {
    leads: counts.leads,
    customers: counts.customers,
    averageCloseRate: average,
    confidence: options.confidence,
    activities,
    suggestions: {
      mqlRuleCandidates: activities.filter((a) => a.mqlCandidate).map((a) => ({ type: a.type, value: a.value, closeRate: a.closeRate, lift: a.lift!, leads: a.leads })),
      scoreWeights: activities.filter((a) => a.suggestedWeight !== null && a.suggestedWeight !== 0).map((a) => ({ type: a.type, value: a.value, points: a.suggestedWeight! })),
      note:
        `Suggestions from history, not rules. MQL-rule candidates close at least ${options.mqlLiftAtLeast}x the average with at least ${options.minLeads} leads; ` +
        `weights are ${options.pointsPerLift} points per unit of lift above 1 (negative below), clamped to +-${options.maxWeight}. ` +
        'Check aboveAverage (the confidence interval clears the average) before acting, and replay a candidate rule set side by side before adopting it.',
    },
  };
}
